// scripts/sweep.py end to end: the cartesian product of its axes becomes one
// stored run per point, and a second sweep over the same points runs none.
#include <gtest/gtest.h>

#include "support/test_paths.h"

namespace npusim::test {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Sweep, RunsEveryPointOnceAndResumes) {
  const std::string dir = scratch_dir();
  const std::string sweep = "/usr/bin/python3 " + source_path("scripts/sweep.py") + " --npusim " + npusim_binary() +
                            " --db " + dir + "/sweep.db --jobs 2 --hw " + source_path("configs/hw/ascend-910b2.yaml") +
                            " " + source_path("configs/hw/ascend-910.yaml") + " --model " +
                            source_path("configs/workloads/mlp.yaml") + " --phase prefill --batch 1 2" +
                            " --columns hw,batch,status,sim_events --markdown " + dir + "/table.md";
  const auto first = run_command(sweep);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("(4 of 4 runs)"), std::string::npos) << first.out;  // 2 machines x 2 batches
  EXPECT_EQ(count(first.err, ": ok"), 4u) << first.err;

  const auto second = run_command(sweep);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("(4 of 4 runs)"), std::string::npos) << second.out;
  EXPECT_EQ(count(second.err, ": already stored"), 4u) << second.err;

  const auto missing = run_command("/usr/bin/python3 " + source_path("scripts/sweep.py") + " --npusim " +
                                   npusim_binary() + " --db " + dir + "/x.db --hw " + dir + "/absent.yaml --model m");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("absent.yaml: no such file"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace npusim::test
