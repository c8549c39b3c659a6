#pragma once
// Cross-core flags (FFTS on A2) of one core group: the AIC (index 0) and its
// AIVs (1..N). The Machine creates one per group and passes it by reference
// to every core of the group; a flag is (from core, to core, event id).
#include <cstdint>
#include <deque>

#include "arch/core/flag_slot.h"

namespace npusim::arch {

class CrossCoreFlags {
 public:
  CrossCoreFlags(int group_size, std::uint32_t event_ids);
  CrossCoreFlags(const CrossCoreFlags&) = delete;
  CrossCoreFlags& operator=(const CrossCoreFlags&) = delete;

  int group_size() const { return group_size_; }
  std::uint32_t event_ids() const { return event_ids_; }

  FlagSlot& slot(int from, int to, std::uint32_t id);
  // A core clears the flags addressed to it when it loads a new job.
  void reset_incoming(int to);

 private:
  int group_size_;
  std::uint32_t event_ids_;
  std::deque<FlagSlot> slots_;  // deque: sc_event is neither copyable nor movable
};

}  // namespace npusim::arch
