#include "common/file_paths.h"

#include <filesystem>

namespace npusim {

std::string relative_to(const std::string& base_file, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (p.is_absolute()) return p.string();
  return (fs::path(base_file).parent_path() / p).lexically_normal().string();
}

}  // namespace npusim
