#pragma once
// The KV cache of a decode-step export.
//
// Convention (Hugging Face Optimum's decoder exports and
// scripts/trace_model.py's decode.onnx): layer N's cache before the step
// enters as graph inputs
//     past_key_values.N.key, past_key_values.N.value
//     [batch, kv_heads, cached tokens, head_dim]
// and the graph appends the step's keys/values with a Concat along the
// token axis (its result, present.N.key/value, is usually a graph output).
//
// What the importer makes of them:
// - each such input is a kv_cache tensor of layer N (placement, compression
//   plans and summaries treat it as the cache), at the activation precision;
// - the Concat that appends to it is a KvCacheWrite op that reads the new
//   entries and writes only those (the cache is extended in place, as a
//   serving runtime does, not copied);
// - views of the extended cache (Unsqueeze/Expand/Reshape of HF's
//   repeat_kv for GQA, the Transpose of K) are the cache itself, read in
//   place; a matmul reading it reads the cached entries (kv_cache bytes)
//   plus the step's new ones (activation bytes), and is the attention score
//   (keys) or context (values) matmul. Query heads that share a KV head are
//   rows of one matmul, as in the generated models, so the cache is read
//   once per KV head, not once per query head;
// - the graph is a decode graph whose context is the cached token count.
#include <optional>
#include <string>

namespace npusim::workloads::onnx_import {

struct PastKvName {
  int layer = -1;
  bool key = true;  // false: the value cache
};

// The layer and half of a graph input named by the convention above.
std::optional<PastKvName> parse_past_kv_name(const std::string& input_name);

}  // namespace npusim::workloads::onnx_import
