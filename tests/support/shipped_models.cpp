#include "support/shipped_models.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "support/test_paths.h"

namespace npusim::test {

std::vector<std::string> shipped_models() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("configs/models"))) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string model_test_name(const std::string& model_file) {
  std::string name = model_file.substr(0, model_file.find('.'));
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

}  // namespace npusim::test
