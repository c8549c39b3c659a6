#include "mapper/search/gemm_mapspace.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::mapper {
namespace {

// Base sizes rounded up to the cube's unit, deduplicated, stopping at the
// first one that covers the whole dimension (larger only pads).
std::vector<std::uint32_t> multiples(std::uint32_t unit, std::uint64_t cover, const std::vector<std::uint32_t>& base) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t v : base) {
    const auto r = static_cast<std::uint32_t>(round_up(v, unit));
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    if (r >= cover) break;
  }
  return out;
}

}  // namespace

GemmMapspace::GemmMapspace(const GemmProblem& p, const MachineView& machine) : problem_(p), machine_(machine) {
  auto it = machine.cube_shape.find(p.a_dtype);
  if (it == machine.cube_shape.end()) {
    throw InputError(fmt::format("the cube has no {} mode for a {}x{}x{} matmul", dtype_name(p.a_dtype), p.m, p.k, p.n));
  }
  const std::uint32_t m0 = it->second[0], k0 = it->second[1], n0 = it->second[2];
  bm_ = multiples(m0, p.m, {16, 32, 48, 64, 96, 112, 128, 160, 176, 192, 256});
  // Balanced block widths spread a skinny product (a decode GEMV) over every
  // core: N / (cores x split) columns per block.
  std::vector<std::uint32_t> bn_base = {16, 32, 64, 96, 128, 160, 176, 192, 256, 384, 512};
  for (std::uint64_t split = 1; split <= 4; ++split) {
    const std::uint64_t per_core = ceil_div(p.n, static_cast<std::uint64_t>(machine.cube_cores) * split);
    if (per_core > 0 && per_core <= 1024) bn_base.push_back(static_cast<std::uint32_t>(per_core));
  }
  std::sort(bn_base.begin(), bn_base.end());
  bn_ = multiples(n0, p.n, bn_base);
  bk1_ = multiples(k0, p.k, {32, 64, 128, 256, 512, 1024});
  for (std::uint32_t v : {32u, 64u, 128u, 256u}) {
    const auto r = static_cast<std::uint32_t>(round_up(v, k0));
    if (std::find(bk0_.begin(), bk0_.end(), r) == bk0_.end()) bk0_.push_back(r);
  }
  size_ = bm_.size() * bn_.size() * bk1_.size() * bk0_.size() * 2 * 2;
}

GemmTiling GemmMapspace::at(std::size_t i) const {
  GemmTiling t;
  t.a_resident = (i % 2) == 1;
  i /= 2;
  t.l0c_double_buffer = (i % 2) == 0;
  i /= 2;
  t.bk0 = bk0_[i % bk0_.size()];
  i /= bk0_.size();
  t.bk1 = bk1_[i % bk1_.size()];
  i /= bk1_.size();
  t.bn = bn_[i % bn_.size()];
  i /= bn_.size();
  t.bm = bm_[i % bm_.size()];
  return t;
}

}  // namespace npusim::mapper
