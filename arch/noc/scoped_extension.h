#pragma once
// Attaches an extension owned by the caller to a payload owned by someone
// else for the duration of one call. A payload frees the extensions it still
// holds when destroyed, so the detach must happen even when the call below
// throws (a SimulationError from a scratchpad, an unrouted address).
#include <tlm>

namespace npusim::arch {

template <typename Extension>
class ScopedExtension {
 public:
  ScopedExtension(tlm::tlm_generic_payload& payload, Extension& extension) : payload_(payload) {
    Extension* present = nullptr;
    payload.get_extension(present);
    if (!present) {
      payload.set_extension(&extension);
      attached_ = &extension;
    }
  }
  ~ScopedExtension() {
    if (attached_) payload_.clear_extension(attached_);
  }
  ScopedExtension(const ScopedExtension&) = delete;
  ScopedExtension& operator=(const ScopedExtension&) = delete;

 private:
  tlm::tlm_generic_payload& payload_;
  Extension* attached_ = nullptr;
};

}  // namespace npusim::arch
