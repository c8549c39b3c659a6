#include "workloads/transformer.h"

#include <fmt/format.h>

#include "workloads/graph_builder.h"

namespace npusim::workloads {
namespace {

using u64 = std::uint64_t;

struct Dims {
  u64 batch;   // sequences
  u64 fresh;   // new tokens per sequence
  u64 cached;  // KV entries per sequence before this step
  u64 tokens;  // batch x fresh
  u64 keys;    // cached + fresh
};

OpKind norm_kind(const ModelConfig& c) { return c.norm == NormKind::layernorm ? OpKind::LayerNorm : OpKind::RMSNorm; }

class Builder {
 public:
  Builder(const ModelConfig& c, const StepSpec& s, const RoutingSource& routing, Graph& g)
      : c_(c), s_(s), routing_(routing), b_(g, s.weight_dtype, s.activation_dtype, s.kv_dtype) {
    const GraphContext& ctx = s.context;
    d_ = Dims{ctx.batch, ctx.new_tokens, ctx.context, ctx.batch * ctx.new_tokens, ctx.context + ctx.new_tokens};
  }

  void build() {
    TensorId x = embedding();
    for (u64 layer = 0; layer < c_.num_layers; ++layer) x = decoder_layer(static_cast<int>(layer), x);
    head(x);
  }

 private:
  TensorId embedding() {
    const TensorId ids = b_.activation("input_ids", {d_.tokens}, -1, DType::int32);
    const TensorId table = b_.weight("embed_tokens.weight", {c_.vocab_size, c_.hidden_size}, -1);
    const TensorId out = b_.activation("embed_tokens:out", {d_.tokens, c_.hidden_size}, -1);
    Op op;
    op.name = "embed_tokens";
    op.kind = OpKind::Embedding;
    op.inputs = {ids, table};
    op.outputs = {out};
    // A gather reads only the rows of the tokens present, not the table.
    const Tensor& row_source = b_.graph().tensor(table);
    op.bytes_read.weight = d_.tokens * c_.hidden_size * static_cast<u64>(dtype_bits(row_source.dtype)) / 8;
    op.bytes_read.activation = b_.graph().tensor(ids).bytes();
    op.bytes_written.activation = b_.graph().tensor(out).bytes();
    b_.add_with_bytes(std::move(op));
    return out;
  }

  TensorId decoder_layer(int l, TensorId x) {
    const std::string p = fmt::format("layers.{}.", l);
    const TensorId h1 = b_.norm(norm_kind(c_), p + "input_layernorm", l, x, d_.tokens, c_.hidden_size);
    const TensorId attn = c_.attention == AttentionKind::mla ? attention_mla(l, h1) : attention_mha(l, h1);
    const TensorId x2 =
        b_.vector_op(OpKind::ElementwiseAdd, p + "attn_residual_add", l, {x, attn}, {d_.tokens, c_.hidden_size});
    const TensorId h2 = b_.norm(norm_kind(c_), p + "post_attention_layernorm", l, x2, d_.tokens, c_.hidden_size);
    const TensorId ffn = c_.is_moe_layer(static_cast<u64>(l))
                             ? moe(l, h2)
                             : swiglu_mlp(p + "mlp.", l, h2, d_.tokens, c_.intermediate_size, -1);
    return b_.vector_op(OpKind::ElementwiseAdd, p + "mlp_residual_add", l, {x2, ffn}, {d_.tokens, c_.hidden_size});
  }

  // Score, softmax and context over `groups` KV heads per sequence, each
  // shared by `q_per_group` query heads. `score_inputs`/`context_inputs` are
  // this step's on-chip operands; the cache tensors are appended when the
  // step has cached context.
  TensorId attention_core(int l, std::vector<TensorId> score_inputs, std::vector<std::optional<TensorId>> score_cache,
                          std::vector<TensorId> context_inputs, std::optional<TensorId> context_cache, u64 groups,
                          u64 q_per_group, u64 score_k, u64 context_n) {
    const std::string p = fmt::format("layers.{}.self_attn.", l);
    const bool causal = d_.fresh > 1;
    const u64 heads = groups * q_per_group;
    Op score;
    score.name = p + "qk_matmul";
    score.kind = OpKind::AttentionScore;
    score.layer = l;
    score.causal = causal;
    score.inputs = std::move(score_inputs);
    for (const auto& t : score_cache) {
      if (t) score.inputs.push_back(*t);
    }
    score.matmul = MatmulShape{d_.batch * groups, q_per_group * d_.fresh, score_k, d_.keys};
    const TensorId scores = b_.activation(score.name + ":out", {d_.batch, heads, d_.fresh, d_.keys}, l);
    score.outputs = {scores};
    b_.add(std::move(score));

    const TensorId probs =
        b_.vector_op(OpKind::Softmax, p + "softmax", l, {scores}, {d_.batch, heads, d_.fresh, d_.keys});

    Op ctx;
    ctx.name = p + "pv_matmul";
    ctx.kind = OpKind::AttentionContext;
    ctx.layer = l;
    ctx.causal = causal;
    ctx.inputs = {probs};
    for (TensorId t : context_inputs) ctx.inputs.push_back(t);
    if (context_cache) ctx.inputs.push_back(*context_cache);
    ctx.matmul = MatmulShape{d_.batch * groups, q_per_group * d_.fresh, d_.keys, context_n};
    const TensorId out = b_.activation(ctx.name + ":out", {d_.tokens, heads * context_n}, l);
    ctx.outputs = {out};
    b_.add(std::move(ctx));
    return out;
  }

  std::optional<TensorId> cache(const std::string& name, int l, u64 heads, u64 width) {
    if (d_.cached == 0) return std::nullopt;
    return b_.kv_cache(name, {d_.batch, heads, d_.cached, width}, l);
  }

  void cache_write(int l, std::vector<TensorId> inputs, const std::vector<std::string>& caches, u64 heads,
                   const std::vector<u64>& widths) {
    const std::string p = fmt::format("layers.{}.self_attn.", l);
    Op op;
    op.name = p + "kv_cache_write";
    op.kind = OpKind::KvCacheWrite;
    op.layer = l;
    op.inputs = std::move(inputs);
    for (std::size_t i = 0; i < caches.size(); ++i) {
      op.outputs.push_back(b_.kv_cache(p + caches[i] + ".append", {d_.batch, heads, d_.fresh, widths[i]}, l));
    }
    b_.add(std::move(op));
  }

  TensorId attention_mha(int l, TensorId h) {
    const std::string p = fmt::format("layers.{}.self_attn.", l);
    const u64 hd = c_.head_dim;
    const u64 qw = c_.num_heads * hd;
    const u64 kvw = c_.num_kv_heads * hd;
    const TensorId q = b_.linear(p + "q_proj", l, h, d_.tokens, c_.hidden_size, qw, c_.attention_bias);
    const TensorId k = b_.linear(p + "k_proj", l, h, d_.tokens, c_.hidden_size, kvw, c_.attention_bias);
    const TensorId v = b_.linear(p + "v_proj", l, h, d_.tokens, c_.hidden_size, kvw, c_.attention_bias);

    Op rope;
    rope.name = p + "rotary_emb";
    rope.kind = OpKind::RoPE;
    rope.layer = l;
    rope.inputs = {q, k};
    const TensorId q_rot = b_.activation(rope.name + ":q", {d_.tokens, qw}, l);
    const TensorId k_rot = b_.activation(rope.name + ":k", {d_.tokens, kvw}, l);
    rope.outputs = {q_rot, k_rot};
    rope.vector_ops = static_cast<u64>(vector_ops_per_element(OpKind::RoPE)) * d_.tokens * (qw + kvw);
    b_.add(std::move(rope));

    cache_write(l, {k_rot, v}, {"k_cache", "v_cache"}, c_.num_kv_heads, {hd, hd});
    const auto k_cache = cache(p + "k_cache", l, c_.num_kv_heads, hd);
    const auto v_cache = cache(p + "v_cache", l, c_.num_kv_heads, hd);
    const TensorId ctx = attention_core(l, {q_rot, k_rot}, {k_cache}, {v}, v_cache, c_.num_kv_heads,
                                        c_.num_heads / c_.num_kv_heads, hd, hd);
    return b_.linear(p + "o_proj", l, ctx, d_.tokens, qw, c_.hidden_size);
  }

  TensorId attention_mla(int l, TensorId h) {
    const std::string p = fmt::format("layers.{}.self_attn.", l);
    const MlaConfig& m = *c_.mla;
    const u64 heads = c_.num_heads;
    const u64 qw = heads * (m.qk_nope_head_dim + m.qk_rope_head_dim);
    TensorId q;
    if (m.q_lora_rank == 0) {
      q = b_.linear(p + "q_proj", l, h, d_.tokens, c_.hidden_size, qw);
    } else {
      const TensorId qa = b_.linear(p + "q_a_proj", l, h, d_.tokens, c_.hidden_size, m.q_lora_rank);
      const TensorId qn = b_.norm(norm_kind(c_), p + "q_a_layernorm", l, qa, d_.tokens, m.q_lora_rank);
      q = b_.linear(p + "q_b_proj", l, qn, d_.tokens, m.q_lora_rank, qw);
    }
    const TensorId kva =
        b_.linear(p + "kv_a_proj_with_mqa", l, h, d_.tokens, c_.hidden_size, m.kv_lora_rank + m.qk_rope_head_dim);
    // The norm reads the whole projection output; only its c_kv columns are normalised.
    const TensorId ckv = b_.norm(norm_kind(c_), p + "kv_a_layernorm", l, kva, d_.tokens, m.kv_lora_rank);

    Op rope;
    rope.name = p + "rotary_emb";
    rope.kind = OpKind::RoPE;
    rope.layer = l;
    rope.inputs = {q, kva};
    const TensorId q_rot = b_.activation(rope.name + ":q", {d_.tokens, qw}, l);
    const TensorId k_pe = b_.activation(rope.name + ":k_pe", {d_.tokens, m.qk_rope_head_dim}, l);
    rope.outputs = {q_rot, k_pe};
    // Only the rotary slices turn: heads x rope of the query, rope of the key.
    rope.vector_ops = static_cast<u64>(vector_ops_per_element(OpKind::RoPE)) * d_.tokens * (heads + 1) *
                      m.qk_rope_head_dim;
    b_.add(std::move(rope));

    // W_UK absorbed into the query: per head [nope] x [nope, kv_lora].
    Op uk;
    uk.name = p + "kv_b_proj.uk";
    uk.kind = OpKind::BatchMatMul;
    uk.layer = l;
    const TensorId w_uk = b_.weight(uk.name + ".weight", {heads, m.qk_nope_head_dim, m.kv_lora_rank}, l);
    uk.weight = w_uk;
    uk.inputs = {q_rot, w_uk};
    uk.matmul = MatmulShape{heads, d_.tokens, m.qk_nope_head_dim, m.kv_lora_rank};
    const TensorId q_lat = b_.activation(uk.name + ":out", {d_.tokens, heads * m.kv_lora_rank}, l);
    uk.outputs = {q_lat};
    b_.add(std::move(uk));

    cache_write(l, {ckv, k_pe}, {"ckv_cache", "kpe_cache"}, 1, {m.kv_lora_rank, m.qk_rope_head_dim});
    const auto ckv_cache = cache(p + "ckv_cache", l, 1, m.kv_lora_rank);
    const auto kpe_cache = cache(p + "kpe_cache", l, 1, m.qk_rope_head_dim);
    const TensorId ctx_lat = attention_core(l, {q_lat, q_rot, ckv, k_pe}, {ckv_cache, kpe_cache}, {ckv}, ckv_cache, 1,
                                            heads, m.kv_lora_rank + m.qk_rope_head_dim, m.kv_lora_rank);

    // W_UV applied to the latent context: per head [kv_lora] x [kv_lora, v].
    Op uv;
    uv.name = p + "kv_b_proj.uv";
    uv.kind = OpKind::BatchMatMul;
    uv.layer = l;
    const TensorId w_uv = b_.weight(uv.name + ".weight", {heads, m.kv_lora_rank, m.v_head_dim}, l);
    uv.weight = w_uv;
    uv.inputs = {ctx_lat, w_uv};
    uv.matmul = MatmulShape{heads, d_.tokens, m.kv_lora_rank, m.v_head_dim};
    const TensorId ctx = b_.activation(uv.name + ":out", {d_.tokens, heads * m.v_head_dim}, l);
    uv.outputs = {ctx};
    b_.add(std::move(uv));
    return b_.linear(p + "o_proj", l, ctx, d_.tokens, heads * m.v_head_dim, c_.hidden_size);
  }

  TensorId swiglu_mlp(const std::string& p, int l, TensorId x, u64 rows, u64 width, int expert) {
    const TensorId gate = b_.linear(p + "gate_proj", l, x, rows, c_.hidden_size, width, false, expert);
    const TensorId up = b_.linear(p + "up_proj", l, x, rows, c_.hidden_size, width, false, expert);
    const TensorId act = b_.vector_op(OpKind::SwiGLU, p + "act_fn", l, {gate, up}, {rows, width}, expert);
    return b_.linear(p + "down_proj", l, act, rows, width, c_.hidden_size, false, expert);
  }

  TensorId moe(int l, TensorId h) {
    const MoeConfig& m = *c_.moe;
    const std::string p = fmt::format("layers.{}.mlp.", l);
    const TensorId logits = b_.linear(p + "gate", l, h, d_.tokens, c_.hidden_size, m.num_experts, false, -1,
                                      OpKind::Router);
    Op topk;
    topk.name = p + "topk";
    topk.kind = OpKind::TopK;
    topk.layer = l;
    topk.inputs = {logits};
    const TensorId weights = b_.activation(topk.name + ":weights", {d_.tokens, m.top_k}, l);
    const TensorId ids = b_.activation(topk.name + ":ids", {d_.tokens, m.top_k}, l, DType::int32);
    topk.outputs = {weights, ids};
    b_.add(std::move(topk));

    const std::vector<u64> counts = routing_.route(static_cast<u64>(l), s_.context.step, d_.tokens, m);
    check_conservation(counts, d_.tokens, m, fmt::format("routing of layer {} step {}", l, s_.context.step));
    b_.graph().moe_layers.push_back(MoeLayerInfo{l, m.num_experts, m.top_k});

    Op dispatch;
    dispatch.name = p + "dispatch";
    dispatch.kind = OpKind::ExpertDispatch;
    dispatch.layer = l;
    dispatch.inputs = {h, ids};
    std::vector<TensorId> expert_in;
    for (u64 e = 0; e < m.num_experts; ++e) {
      expert_in.push_back(b_.activation(fmt::format("{}experts.{}:in", p, e), {counts[e], c_.hidden_size}, l));
    }
    dispatch.outputs = expert_in;
    b_.add(std::move(dispatch));

    Op combine;
    combine.name = p + "combine";
    combine.kind = OpKind::ExpertCombine;
    combine.layer = l;
    for (u64 e = 0; e < m.num_experts; ++e) {
      const int ei = static_cast<int>(e);
      combine.inputs.push_back(swiglu_mlp(fmt::format("{}experts.{}.", p, e), l, expert_in[e], counts[e],
                                          m.expert_intermediate_size, ei));
    }
    combine.inputs.push_back(weights);
    TensorId out = b_.activation(combine.name + ":out", {d_.tokens, c_.hidden_size}, l);
    combine.outputs = {out};
    // The combine scales and accumulates tokens x top_k rows of `hidden`.
    combine.vector_ops = static_cast<u64>(vector_ops_per_element(OpKind::ExpertCombine)) * d_.tokens * m.top_k *
                         c_.hidden_size;
    b_.add(std::move(combine));

    if (m.shared_intermediate_size == 0) return out;
    TensorId shared = swiglu_mlp(p + "shared_experts.", l, h, d_.tokens, m.shared_intermediate_size, -1);
    if (m.shared_expert_gate) {
      const TensorId g = b_.linear(p + "shared_expert_gate", l, h, d_.tokens, c_.hidden_size, 1);
      shared = b_.vector_op(OpKind::ElementwiseMul, p + "shared_expert_scale", l, {shared, g},
                            {d_.tokens, c_.hidden_size});
    }
    return b_.vector_op(OpKind::ElementwiseAdd, p + "shared_add", l, {out, shared}, {d_.tokens, c_.hidden_size});
  }

  void head(TensorId x) {
    TensorId last = x;
    if (d_.fresh > 1) {
      // Only each sequence's last position produces a next-token logit.
      Op view;
      view.name = "last_token";
      view.kind = OpKind::Reshape;
      view.inputs = {x};
      last = b_.activation("last_token:out", {d_.batch, c_.hidden_size}, -1);
      view.outputs = {last};
      b_.add_with_bytes(std::move(view));
    }
    const TensorId normed = b_.norm(norm_kind(c_), "norm", -1, last, d_.batch, c_.hidden_size);
    if (!c_.tie_word_embeddings) {
      b_.linear("lm_head", -1, normed, d_.batch, c_.hidden_size, c_.vocab_size);
      return;
    }
    Op op;
    op.name = "lm_head";
    op.kind = OpKind::MatMul;
    op.matmul = MatmulShape{1, d_.batch, c_.hidden_size, c_.vocab_size};
    const TensorId table = *b_.graph().find_tensor("embed_tokens.weight");
    op.weight = table;
    op.inputs = {normed, table};
    op.outputs = {b_.activation("lm_head:out", {d_.batch, c_.vocab_size}, -1)};
    b_.add(std::move(op));
  }

  const ModelConfig& c_;
  const StepSpec& s_;
  const RoutingSource& routing_;
  GraphBuilder b_;
  Dims d_{};
};

}  // namespace

Graph build_transformer(const ModelConfig& config, const StepSpec& step, const RoutingSource& routing) {
  Graph g(fmt::format("{}:{}:step{}", config.name, phase_name(step.context.phase), step.context.step));
  g.context = step.context;
  Builder(config, step, routing, g).build();
  return g;
}

ModelConfig TransformerFamily::resolve(const ConfigNode& root) const {
  ModelConfig c = resolve_transformer_config(root);
  validate(c, root.file());
  return c;
}

Graph TransformerFamily::build(const ModelConfig& config, const StepSpec& step, const RoutingSource& routing) const {
  return build_transformer(config, step, routing);
}

}  // namespace npusim::workloads
