#include "support/test_paths.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace npusim::test {

std::string source_path(const std::string& relative) {
  return std::string(NPUSIM_SOURCE_DIR) + "/" + relative;
}

std::string npusim_binary() { return NPUSIM_BINARY; }

std::string scratch_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "scratch";
  auto dir = std::filesystem::current_path() / "test-scratch" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

CommandResult run_command(const std::string& command) {
  char err_template[] = "/tmp/npusim-test-stderr-XXXXXX";
  const int fd = mkstemp(err_template);
  if (fd >= 0) close(fd);
  const std::string err_file = err_template;
  CommandResult result;
  FILE* pipe = popen((command + " 2>" + err_file).c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  std::stringstream ss;
  ss << err.rdbuf();
  result.err = ss.str();
  std::remove(err_file.c_str());
  return result;
}

}  // namespace npusim::test
