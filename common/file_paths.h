#pragma once
#include <string>

namespace npusim {

// A path written inside a config file, resolved against that file's folder
// (absolute paths are kept), so configs can name their neighbours portably.
std::string relative_to(const std::string& base_file, const std::string& path);

}  // namespace npusim
