#include "mapper/search/gemm_mapspace.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/address_map.h"
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

GemmMapspace::GemmMapspace(const GemmProblem& p, const MachineView& machine, std::uint32_t split_k_max)
    : problem_(p), machine_(machine) {
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
  // Split-K parts. Slowest in the index order, so a budget-bound search
  // has walked every unsplit tiling before any split one.
  split_k_ = {1};
  for (std::uint32_t parts : {2u, 3u, 4u}) {
    if (parts <= split_k_max && ceil_div(p.k, static_cast<std::uint64_t>(bk1_.front())) >= parts) {
      split_k_.push_back(parts);
    }
  }
  // Which operand stays in L1: neither, A, or B. B-resident exists to fetch
  // a weight once from a tier the L2 does not cache (host DDR), where every
  // fetch is a slow one; elsewhere the L2 serves repeats and it is not offered.
  residency_ = {Residency::none, Residency::a};
  if (arch::tier_of(p.b_address) == arch::Tier::ddr && !machine.l2_caches_ddr) residency_.push_back(Residency::b);
  size_ = bm_.size() * bn_.size() * bk1_.size() * bk0_.size() * 2 * residency_.size() * split_k_.size();
}

GemmTiling GemmMapspace::at(std::size_t i) const {
  GemmTiling t;
  const Residency r = residency_[i % residency_.size()];
  t.a_resident = r == Residency::a;
  t.b_resident = r == Residency::b;
  i /= residency_.size();
  t.l0c_double_buffer = (i % 2) == 0;
  i /= 2;
  t.bk0 = bk0_[i % bk0_.size()];
  i /= bk0_.size();
  t.bk1 = bk1_[i % bk1_.size()];
  i /= bk1_.size();
  t.bn = bn_[i % bn_.size()];
  i /= bn_.size();
  t.bm = bm_[i % bm_.size()];
  i /= bm_.size();
  t.split_k = split_k_[i % split_k_.size()];
  return t;
}

}  // namespace npusim::mapper
