#pragma once
// The mapspace of one GEMM (Timeloop's term): every tiling the lowering can
// emit, as the product of a few per-dimension choice lists. Candidates are
// addressed by index so a search can walk, sample or skip them without
// materialising the space; whether a candidate fits the buffers is checked
// when it is evaluated.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mapper/gemm/gemm.h"
#include "mapper/machine_view.h"

namespace npusim::mapper {

class GemmMapspace {
 public:
  // `split_k_max`: the most K parts a tiling may have (1: K stays whole).
  GemmMapspace(const GemmProblem& problem, const MachineView& machine, std::uint32_t split_k_max = 1);

  std::size_t size() const { return size_; }
  GemmTiling at(std::size_t index) const;
  const GemmProblem& problem() const { return problem_; }
  const MachineView& machine() const { return machine_; }

 private:
  GemmProblem problem_;
  MachineView machine_;
  enum class Residency { none, a, b };
  std::vector<std::uint32_t> bm_, bn_, bk1_, bk0_, split_k_;
  std::vector<Residency> residency_;
  std::size_t size_ = 0;
};

}  // namespace npusim::mapper
