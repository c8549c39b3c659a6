#pragma once
// A TraceSink that writes the Chrome / Perfetto JSON trace format
// (chrome://tracing, ui.perfetto.dev):
//   {"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}
// - every track(process, thread) becomes one pid/tid pair, named by "M"
//   (metadata) events "process_name" and "thread_name" and kept in creation
//   order by "process_sort_index" / "thread_sort_index";
// - slice() is an "X" (complete) event, counter() a "C" event on a process
//   named "counters";
// - timestamps are microseconds with picosecond digits ("ts": 12.345678).
//
// Bounded size: slices and counters outside the window [window_begin,
// window_end) are dropped, slices crossing its edges are clipped, and after
// max_events events every further one is dropped. "otherData" records the
// bound and whether it cut anything ("truncated", "events_dropped").
// Metadata events do not count toward the bound.
//
// Events stream to the file as they arrive, so memory stays constant; the
// closing part is written by close() or the destructor, so the file is valid
// JSON whenever the writer is gone. Tracing off costs nothing here: blocks
// hold a null TraceSink pointer and never call in.
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <utility>

#include "common/trace_sink.h"
#include "common/units.h"

namespace npusim::stats {

struct TraceLimits {
  std::uint64_t max_events = 2'000'000;  // ~150 MB of JSON at the most
  Tick window_begin = 0;
  Tick window_end = kNever;
};

class ChromeTraceWriter : public TraceSink {
 public:
  // Throws InputError when `path` cannot be written.
  ChromeTraceWriter(const std::string& path, TraceLimits limits = {});
  ~ChromeTraceWriter() override;
  ChromeTraceWriter(const ChromeTraceWriter&) = delete;
  ChromeTraceWriter& operator=(const ChromeTraceWriter&) = delete;

  int track(const std::string& process, const std::string& thread) override;
  void slice(int track, const char* label, Tick begin, Tick end) override;
  void counter(const std::string& name, Tick at, double value) override;

  // Writes the closing part; later events are ignored. Idempotent.
  void close();

  std::uint64_t events_written() const { return written_; }
  std::uint64_t events_dropped() const { return dropped_; }

 private:
  int process_id(const std::string& process);
  bool admit();  // counts an in-window event against the bound
  void emit(const std::string& event);

  std::ofstream out_;
  TraceLimits limits_;
  bool closed_ = false;
  bool first_ = true;
  std::uint64_t written_ = 0;
  std::uint64_t dropped_ = 0;
  std::map<std::string, int> pids_;
  std::map<std::pair<std::string, std::string>, int> tracks_;
  std::map<int, std::pair<int, int>> track_ids_;  // track -> (pid, tid)
  std::map<int, int> threads_per_pid_;
  int counter_pid_ = -1;
};

// JSON string literal (with quotes) of arbitrary bytes: escapes what JSON
// requires and replaces bytes that are not valid UTF-8 with U+FFFD, so the
// trace parses whatever a block names its ops.
std::string json_string(const std::string& text);

// "12.345678": ticks (ps) as microseconds, exact.
std::string ticks_as_us(Tick t);

}  // namespace npusim::stats
