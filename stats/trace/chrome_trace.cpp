#include "stats/trace/chrome_trace.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::stats {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      // Length of a well-formed UTF-8 sequence (no overlongs, surrogates or > U+10FFFF).
      std::size_t len = 0;
      if (c >= 0xc2 && c <= 0xdf) len = 2;
      else if (c >= 0xe0 && c <= 0xef) len = 3;
      else if (c >= 0xf0 && c <= 0xf4) len = 4;
      bool ok = len > 0 && i + len <= n;
      for (std::size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xc0) == 0x80;
      if (ok && len == 3) {
        ok = !(c == 0xe0 && s[i + 1] < 0xa0) && !(c == 0xed && s[i + 1] >= 0xa0);
      }
      if (ok && len == 4) {
        ok = !(c == 0xf0 && s[i + 1] < 0x90) && !(c == 0xf4 && s[i + 1] >= 0x90);
      }
      if (ok) {
        out.append(text, i, len);
        i += len;
      } else {
        out += "\xef\xbf\xbd";
        ++i;
      }
    }
  }
  return out + "\"";
}

std::string ticks_as_us(Tick t) { return fmt::format("{}.{:06}", t / 1'000'000, t % 1'000'000); }

ChromeTraceWriter::ChromeTraceWriter(const std::string& path, TraceLimits limits)
    : out_(path, std::ios::binary | std::ios::trunc), limits_(limits) {
  if (!out_) throw InputError(fmt::format("{}: cannot write the trace", path));
  out_ << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
}

ChromeTraceWriter::~ChromeTraceWriter() { close(); }

void ChromeTraceWriter::emit(const std::string& event) {
  if (!first_) out_ << ",\n";
  first_ = false;
  out_ << event;
}

int ChromeTraceWriter::process_id(const std::string& process) {
  auto it = pids_.find(process);
  if (it != pids_.end()) return it->second;
  const int pid = static_cast<int>(pids_.size()) + 1;
  pids_[process] = pid;
  if (!closed_) {
    emit(fmt::format(R"({{"ph":"M","pid":{},"tid":0,"name":"process_name","args":{{"name":{}}}}})", pid,
                     json_string(process)));
    emit(fmt::format(R"({{"ph":"M","pid":{},"tid":0,"name":"process_sort_index","args":{{"sort_index":{}}}}})", pid,
                     pid));
  }
  return pid;
}

int ChromeTraceWriter::track(const std::string& process, const std::string& thread) {
  const auto key = std::make_pair(process, thread);
  auto it = tracks_.find(key);
  if (it != tracks_.end()) return it->second;
  const int pid = process_id(process);
  const int tid = ++threads_per_pid_[pid];
  const int id = static_cast<int>(tracks_.size());
  tracks_[key] = id;
  track_ids_[id] = {pid, tid};
  if (!closed_) {
    emit(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"thread_name","args":{{"name":{}}}}})", pid, tid,
                     json_string(thread)));
    emit(fmt::format(R"({{"ph":"M","pid":{},"tid":{},"name":"thread_sort_index","args":{{"sort_index":{}}}}})", pid,
                     tid, tid));
  }
  return id;
}

bool ChromeTraceWriter::admit() {
  if (closed_) return false;
  if (written_ >= limits_.max_events) {
    ++dropped_;
    return false;
  }
  ++written_;
  return true;
}

void ChromeTraceWriter::slice(int track, const char* label, Tick begin, Tick end) {
  auto it = track_ids_.find(track);
  if (it == track_ids_.end()) throw std::invalid_argument(fmt::format("trace: slice on unknown track {}", track));
  if (end < begin) std::swap(begin, end);
  // Outside the window is not truncation: the window was asked for.
  const bool outside = begin >= limits_.window_end || end < limits_.window_begin ||
                       (end == limits_.window_begin && begin != end);
  if (outside) return;
  const Tick b = std::max(begin, limits_.window_begin);
  const Tick e = std::min(end, limits_.window_end);
  if (!admit()) return;
  emit(fmt::format(R"({{"ph":"X","pid":{},"tid":{},"ts":{},"dur":{},"name":{}}})", it->second.first,
                   it->second.second, ticks_as_us(b), ticks_as_us(e - b), json_string(label ? label : "")));
}

void ChromeTraceWriter::counter(const std::string& name, Tick at, double value) {
  if (at < limits_.window_begin || at >= limits_.window_end) return;
  if (counter_pid_ < 0) counter_pid_ = process_id("counters");
  if (!admit()) return;
  // JSON has no NaN or infinity; such a sample carries no value to plot.
  const std::string v = std::isfinite(value) ? fmt::format("{}", value) : "null";
  emit(fmt::format(R"({{"ph":"C","pid":{},"tid":0,"ts":{},"name":{},"args":{{"value":{}}}}})", counter_pid_,
                   ticks_as_us(at), json_string(name), v));
}

void ChromeTraceWriter::close() {
  if (closed_) return;
  closed_ = true;
  const std::string window_end = limits_.window_end == kNever ? "null" : ticks_as_us(limits_.window_end);
  out_ << "\n],\"otherData\":{"
       << fmt::format(R"("producer":"npusim","truncated":{},"max_events":{},"events_written":{},)",
                      dropped_ > 0 ? "true" : "false", limits_.max_events, written_)
       << fmt::format(R"("events_dropped":{},"window":{{"begin_us":{},"end_us":{}}}}}}})", dropped_,
                      ticks_as_us(limits_.window_begin), window_end)
       << "\n";
  out_.flush();
}

}  // namespace npusim::stats
