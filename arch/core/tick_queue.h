#pragma once
// A FIFO of times, as a ring buffer that keeps its storage: a flag that is
// set and consumed millions of times allocates only while its backlog grows
// past anything seen before.
#include <cstddef>
#include <vector>

#include "common/units.h"

namespace npusim::arch {

class TickQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(Tick t) {
    if (size_ == ring_.size()) grow();
    ring_[(head_ + size_) & (ring_.size() - 1)] = t;
    ++size_;
  }
  Tick pop() {  // precondition: !empty()
    const Tick t = ring_[head_];
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
    return t;
  }
  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  // Capacity stays a power of two so that wrapping is a mask.
  void grow() {
    std::vector<Tick> bigger(ring_.empty() ? 4 : 2 * ring_.size());
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    head_ = 0;
  }

  std::vector<Tick> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace npusim::arch
