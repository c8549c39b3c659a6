#pragma once
// Extension point: the shared on-chip memory tier's timing and state, free of
// SystemC. Implementations live in impl/ and register by name; `l2.impl`
// picks one. The L2 module (l2.h) wraps a model in TLM sockets.
#include <cstdint>

#include "arch/l2/l2_config.h"
#include "common/registry.h"
#include "common/stat_group.h"

namespace npusim::arch {

// The tier below (HBM behind a cache), as the model sees it.
class Backing {
 public:
  virtual ~Backing() = default;
  // Reads from below, issued at `now`; returns when the last byte arrives.
  virtual Tick fetch(Tick now, std::uint64_t address, Bytes bytes) = 0;
  // Posted write of dirty data: its bandwidth is booked below, nobody waits.
  virtual void write_back(Tick now, std::uint64_t address, Bytes bytes) = 0;
};

class L2Model {
 public:
  virtual ~L2Model() = default;
  // One request arriving at `now`; returns when its last byte is delivered
  // (read) or accepted (write).
  virtual Tick access(Tick now, bool write, std::uint64_t address, Bytes bytes, Backing& below) = 0;
  // Whether the model calls `below` at all, so an unbound memory socket can be
  // reported at elaboration rather than at the first miss.
  virtual bool needs_backing() const = 0;
  virtual StatGroup& stats() = 0;
};

using L2Registry = Registry<L2Model, const L2Config&>;
using L2Registration = Registration<L2Model, const L2Config&>;

}  // namespace npusim::arch
