#include "mapper/mode_choice.h"

#include <fmt/format.h>

#include "common/error.h"

namespace npusim::mapper {

ModeChoice choose_mode(const std::string& requested, double kernel_seconds, const DataflowMapping& d) {
  ModeChoice c;
  if (requested == "kernel") {
    c.reason = "kernel-by-kernel execution was requested";
    return c;
  }
  if (requested == "dataflow") {
    if (!d.applies) throw InputError("--mapping dataflow: layer-pipelined dataflow does not apply: " + d.reason);
    c.dataflow = true;
    c.reason = fmt::format("dataflow was requested: {}; estimated {:.2f} us (kernel-by-kernel {:.2f} us)", d.reason,
                           d.estimated_seconds * 1e6, kernel_seconds * 1e6);
    return c;
  }
  if (!d.applies) {
    c.reason = fmt::format("auto: kernel-by-kernel, because dataflow does not apply: {}", d.reason);
    return c;
  }
  c.dataflow = d.estimated_seconds < kernel_seconds;
  c.reason = fmt::format("auto: {} by the cost model: dataflow {:.2f} us ({}) vs kernel-by-kernel {:.2f} us",
                         c.dataflow ? "dataflow" : "kernel-by-kernel", d.estimated_seconds * 1e6, d.reason,
                         kernel_seconds * 1e6);
  if (!d.chunk_graphs.empty()) {
    // What decides between them: the chunks overlap on the stages, but
    // each re-reads its stage's weights and runs GEMMs of a chunk's rows on
    // a stage's share of the cores, where kernel-by-kernel reads each
    // weight once for all the step's rows on every core.
    c.reason += c.dataflow
                    ? fmt::format("; the {} chunks' overlap on {} stages outweighs re-reading each stage's weights "
                                  "once per chunk",
                                  d.micro_batches, d.pipeline_stages)
                    : fmt::format("; kernel-by-kernel is {:.2f}x faster: it reads each weight once for all the "
                                  "step's rows on every core, where each of the {} chunks re-reads its stage's "
                                  "weights for {} rows on {} of the cores",
                                  d.estimated_seconds / kernel_seconds, d.micro_batches, d.rows_per_micro_batch,
                                  d.pipeline_stages == 1 ? std::string("all") : fmt::format("1/{}", d.pipeline_stages));
  }
  return c;
}

}  // namespace npusim::mapper
