#pragma once
// The busy intervals of one pipe, as slices on its own timeline track.
// Back-to-back intervals with the same label merge into one slice, so a
// GEMM that keeps the cube busy for 10,000 mmads is one slice, not 10,000.
#include "common/trace_sink.h"
#include "common/units.h"

namespace npusim::arch {

class PipeTrace {
 public:
  // The sink and the track this pipe writes to; drops any unfinished slice.
  void attach(TraceSink* sink, int track) {
    sink_ = sink;
    track_ = track;
    label_ = nullptr;
  }

  // `label` must stay valid until flush(); equal labels are equal pointers.
  void add(const char* label, Tick begin, Tick end) {
    if (end <= begin) return;
    if (label == label_ && begin == end_) {
      end_ = end;
      return;
    }
    flush();
    label_ = label;
    begin_ = begin;
    end_ = end;
  }

  void flush() {
    if (label_ != nullptr) sink_->slice(track_, label_, begin_, end_);
    label_ = nullptr;
  }

 private:
  TraceSink* sink_ = nullptr;
  int track_ = -1;
  const char* label_ = nullptr;  // the open slice, null when there is none
  Tick begin_ = 0;
  Tick end_ = 0;
};

}  // namespace npusim::arch
