#include "arch/stream/stream_queues.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/address_map.h"
#include "arch/noc/sim_time.h"
#include "common/error.h"

namespace npusim::arch {

StreamQueues::StreamQueues(const sc_core::sc_module_name& name, const StreamTiming& timing)
    : sc_module(name),
      socket("socket"),
      timing_(timing),
      stats_("streams", "bounded stage-to-stage queues of layer-pipelined dataflow"),
      bytes_written_(stats_.add_counter("bytes_written", "bytes stored into stream queues", "B")),
      bytes_read_(stats_.add_counter("bytes_read", "bytes loaded from stream queues", "B")),
      writer_wait_ps_(stats_.add_counter("writer_wait_ps", "time producers waited for a free entry (back-pressure)", "ps")),
      reader_wait_ps_(stats_.add_counter("reader_wait_ps", "time consumers waited for a full entry", "ps")),
      peak_entries_(stats_.add_counter("peak_entries", "most entries live at once in any queue", "1")),
      barrier_arrivals_(stats_.add_counter("barrier_arrivals", "arrivals counted at cross-core barriers", "1")),
      barrier_wait_ps_(stats_.add_counter("barrier_wait_ps", "time waiters spent at cross-core barriers", "ps")) {
  socket.register_b_transport(this, &StreamQueues::b_transport);
}

void StreamQueues::configure(const std::vector<StreamQueueSpec>& specs) {
  if (specs.size() > kStreamQueues) {
    throw SimulationError(fmt::format("{}: {} stream queues requested, the address map has {}", name(), specs.size(),
                                      kStreamQueues));
  }
  queues_.clear();
  arrivals_.assign(kBarriers, 0);
  for (const auto& s : specs) {
    if (s.entry_bytes == 0 || s.entries == 0 || s.read_bytes_per_entry == 0) {
      throw SimulationError(fmt::format("{}: a stream queue needs positive entry size, entries and reads", name()));
    }
    auto q = std::make_unique<Queue>();
    q->spec = s;
    queues_.push_back(std::move(q));
  }
}

std::uint64_t StreamQueues::live_entries() const {
  std::uint64_t n = 0;
  for (const auto& q : queues_) n += q->live;
  return n;
}

void StreamQueues::grow(Queue& q, std::uint64_t entry) {
  if (entry >= q.written.size()) {
    q.written.resize(entry + 1, 0);
    q.read.resize(entry + 1, 0);
    q.freed.resize(entry + 1, false);
  }
}

void StreamQueues::barrier(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const std::uint64_t offset = payload.get_address() - kBarrierBase;
  const auto id = static_cast<std::size_t>(offset / kBarrierSpan);
  const std::uint64_t needed = offset % kBarrierSpan;
  if (arrivals_.size() != kBarriers) arrivals_.assign(kBarriers, 0);
  // An arrival is counted without synchronising the initiator (its pipe may
  // run ahead in local time): the flag write is posted. A waiter only
  // synchronises when it must block, so a barrier already passed costs its
  // latency and nothing else.
  if (payload.get_command() == tlm::TLM_WRITE_COMMAND) {
    ++arrivals_[id];
    barrier_arrivals_ += 1;
    arrived_.notify(sc_core::SC_ZERO_TIME);
  } else if (arrivals_[id] < needed) {
    if (delay != sc_core::SC_ZERO_TIME) {
      sc_core::wait(delay);
      delay = sc_core::SC_ZERO_TIME;
    }
    const Tick asked = now_tick();
    while (arrivals_[id] < needed) sc_core::wait(arrived_);
    barrier_wait_ps_ += now_tick() - asked;
  }
  delay += to_sc_time(timing_.clock.to_ticks(static_cast<double>(timing_.latency_cycles)));
  payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

void StreamQueues::b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const std::uint64_t address = payload.get_address();
  if (is_barrier_address(address)) {
    barrier(payload, delay);
    return;
  }
  const std::uint64_t q_index = (address - kStreamBase) / kStreamQueueSpan;
  if (!is_stream_address(address) || q_index >= queues_.size()) {
    throw SimulationError(fmt::format("{}: address {:#x} is not in a configured stream queue ({} configured)", name(),
                                      address, queues_.size()));
  }
  Queue& q = *queues_[q_index];
  const Bytes bytes = payload.get_data_length();
  const std::uint64_t offset = address - stream_address(static_cast<std::uint32_t>(q_index), 0);
  const std::uint64_t entry = offset / q.spec.entry_bytes;
  if ((offset + bytes - 1) / q.spec.entry_bytes != entry) {
    throw SimulationError(fmt::format("{}: a {} B transfer at offset {} of queue {} crosses an entry boundary ({} B "
                                      "entries)", name(), bytes, offset, q_index, q.spec.entry_bytes));
  }
  grow(q, entry);
  // Time already owed by the initiator is spent before the queue is looked at.
  if (delay != sc_core::SC_ZERO_TIME) {
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
  }
  const Tick asked = now_tick();
  const bool write = payload.get_command() == tlm::TLM_WRITE_COMMAND;
  if (write) {
    // Back-pressure: the slot this entry reuses must have been drained.
    while (entry >= q.spec.entries && !q.freed[entry - q.spec.entries]) sc_core::wait(q.changed);
    writer_wait_ps_ += now_tick() - asked;
    if (q.written[entry] == 0) {
      ++q.live;
      if (q.live > peak_entries_.value) peak_entries_.value = q.live;
    }
    q.written[entry] += bytes;
    if (q.written[entry] > q.spec.entry_bytes) {
      throw SimulationError(fmt::format("{}: queue {} entry {} written with {} B, more than its {} B", name(), q_index,
                                        entry, q.written[entry], q.spec.entry_bytes));
    }
    bytes_written_ += bytes;
  } else {
    while (q.written[entry] < q.spec.entry_bytes) sc_core::wait(q.changed);
    reader_wait_ps_ += now_tick() - asked;
    q.read[entry] += bytes;
    bytes_read_ += bytes;
    if (q.read[entry] >= q.spec.read_bytes_per_entry && !q.freed[entry]) {
      q.freed[entry] = true;
      --q.live;
    }
  }
  const Tick now = now_tick();
  const Tick start = std::max(now, q.port_free);
  q.port_free = start + timing_.clock.to_ticks(static_cast<double>(bytes) / timing_.bytes_per_cycle);
  const Tick done = q.port_free + timing_.clock.to_ticks(static_cast<double>(timing_.latency_cycles));
  // A write's bytes count as stored, and a read's space as free, at once:
  // waiters re-check after the port time has been reserved, in order.
  q.changed.notify(sc_core::SC_ZERO_TIME);
  delay = to_sc_time(done - now);
  payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace npusim::arch
