#include "arch/core/cross_core_flags.h"

#include <stdexcept>

#include <fmt/format.h>

namespace npusim::arch {

CrossCoreFlags::CrossCoreFlags(int group_size, std::uint32_t event_ids)
    : group_size_(group_size), event_ids_(event_ids) {
  if (group_size < 1 || event_ids < 1) {
    throw std::invalid_argument(fmt::format("CrossCoreFlags: group of {} cores with {} ids", group_size, event_ids));
  }
  const std::size_t count = static_cast<std::size_t>(group_size) * group_size * event_ids;
  for (std::size_t i = 0; i < count; ++i) slots_.emplace_back();
}

FlagSlot& CrossCoreFlags::slot(int from, int to, std::uint32_t id) {
  const std::size_t g = static_cast<std::size_t>(group_size_);
  return slots_[(static_cast<std::size_t>(from) * g + static_cast<std::size_t>(to)) * event_ids_ + id];
}

void CrossCoreFlags::reset_incoming(int to) {
  for (int from = 0; from < group_size_; ++from) {
    for (std::uint32_t id = 0; id < event_ids_; ++id) slot(from, to, id).reset();
  }
}

}  // namespace npusim::arch
