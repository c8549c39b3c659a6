#pragma once
// Where blocks report timeline activity. Blocks hold a pointer that is null
// unless the user asked for a trace, so tracing costs one branch when off.
// stats/ implements the sink (Chrome/Perfetto JSON).
#include <cstdint>
#include <string>

#include "common/units.h"

namespace npusim {

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // A track is a row in the timeline, e.g. "core3.cube" or "hbm.ch5".
  // Returns an id to use in later calls; the same name gives the same id.
  virtual int track(const std::string& process, const std::string& thread) = 0;
  // A busy interval on a track. `label` is usually the graph op's name.
  virtual void slice(int track, const char* label, Tick begin, Tick end) = 0;
  // A sampled value, e.g. bandwidth in GB/s, on a counter track.
  virtual void counter(const std::string& name, Tick at, double value) = 0;
};

}  // namespace npusim
