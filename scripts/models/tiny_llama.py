"""A Llama-style decoder (RMSNorm, RoPE, GQA attention, SwiGLU MLP).

Module names follow Hugging Face's LlamaForCausalLM (model.layers.N.self_attn.
q_proj, ...) because the exporter scopes ONNX node names by module path, and
npusim maps those scopes to op names that compression rules match.
"""
import math

import torch
from torch import nn


class Dims:
    vocab_size = 256
    hidden_size = 64
    num_layers = 2
    num_heads = 4
    num_kv_heads = 2
    head_dim = 16
    intermediate_size = 128
    rope_theta = 10000.0
    rms_eps = 1e-6


class RMSNorm(nn.Module):
    def __init__(self, width, eps):
        super().__init__()
        # Not all ones: the exporter merges bitwise-equal parameters into one
        # initializer plus Identity nodes, and distinct values keep the
        # exported graph as close to a trained model's as possible.
        self.weight = nn.Parameter(1.0 + 0.02 * torch.randn(width))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class RotaryEmbedding(nn.Module):
    """cos/sin computed in forward rather than held in a buffer: a buffer
    would be exported as an initializer and counted as a parameter."""

    def __init__(self, head_dim, theta):
        super().__init__()
        self.head_dim = head_dim
        self.theta = theta

    def forward(self, x, offset=0):
        seq = x.shape[-2]
        exponents = torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim
        inv_freq = 1.0 / (self.theta ** exponents)
        positions = torch.arange(offset, offset + seq, dtype=torch.float32)
        freqs = positions.unsqueeze(-1) * inv_freq.unsqueeze(0)
        angles = torch.cat((freqs, freqs), dim=-1)
        return angles.cos(), angles.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.num_heads = d.num_heads
        self.num_kv_heads = d.num_kv_heads
        self.head_dim = d.head_dim
        self.q_proj = nn.Linear(d.hidden_size, d.num_heads * d.head_dim, bias=False)
        self.k_proj = nn.Linear(d.hidden_size, d.num_kv_heads * d.head_dim, bias=False)
        self.v_proj = nn.Linear(d.hidden_size, d.num_kv_heads * d.head_dim, bias=False)
        self.o_proj = nn.Linear(d.num_heads * d.head_dim, d.hidden_size, bias=False)
        self.rotary_emb = RotaryEmbedding(d.head_dim, d.rope_theta)

    def _heads(self, x, heads):
        b, s, _ = x.shape
        return x.view(b, s, heads, self.head_dim).transpose(1, 2)

    @staticmethod
    def _repeat_kv(x, groups):
        # expand + reshape as in HF's repeat_kv; repeat_interleave would
        # export as an ONNX Loop over sequence ops.
        b, kv_heads, s, d = x.shape
        return x[:, :, None, :, :].expand(b, kv_heads, groups, s, d).reshape(b, kv_heads * groups, s, d)

    def forward(self, x, past=None):
        """past: None or this layer's cached (key, value), each
        [batch, kv_heads, cached, head_dim]. Returns the output and the
        cache after this step (past with this step's keys and values
        appended), as Hugging Face attention does."""
        b, s, _ = x.shape
        q = self._heads(self.q_proj(x), self.num_heads)
        k = self._heads(self.k_proj(x), self.num_kv_heads)
        v = self._heads(self.v_proj(x), self.num_kv_heads)
        cached = 0 if past is None else past[0].shape[-2]
        cos, sin = self.rotary_emb(q, cached)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        # GQA: each KV head serves num_heads / num_kv_heads query heads.
        groups = self.num_heads // self.num_kv_heads
        k = self._repeat_kv(k, groups)
        v = self._repeat_kv(v, groups)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        if past is None:
            positions = torch.arange(s)
            future = positions.unsqueeze(0) > positions.unsqueeze(1)
            scores = scores.masked_fill(future, float("-inf"))
        # With a cache, trace_model.py exports one new token per sequence,
        # which sees the whole cache: no mask.
        probs = torch.softmax(scores, dim=-1)
        context = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, -1)
        return self.o_proj(context), present


class MLP(nn.Module):
    def __init__(self, hidden, intermediate):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.input_layernorm = RMSNorm(d.hidden_size, d.rms_eps)
        self.self_attn = Attention(d)
        self.post_attention_layernorm = RMSNorm(d.hidden_size, d.rms_eps)
        self.mlp = mlp

    def forward(self, x, past=None):
        attended, present = self.self_attn(self.input_layernorm(x), past)
        x = x + attended
        return x + self.mlp(self.post_attention_layernorm(x)), present


class Model(nn.Module):
    def __init__(self, d, make_mlp):
        super().__init__()
        self.embed_tokens = nn.Embedding(d.vocab_size, d.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(d, make_mlp(layer)) for layer in range(d.num_layers))
        self.norm = RMSNorm(d.hidden_size, d.rms_eps)

    def forward(self, input_ids, past_key_values=None):
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, present = layer(x, None if past_key_values is None else past_key_values[i])
            presents.append(present)
        return self.norm(x), presents


class CausalLM(nn.Module):
    def __init__(self, d, make_mlp):
        super().__init__()
        self.vocab_size = d.vocab_size
        self.model = Model(d, make_mlp)
        self.lm_head = nn.Linear(d.hidden_size, d.vocab_size, bias=False)

    def forward(self, input_ids):
        return self.lm_head(self.model(input_ids)[0])

    def forward_with_cache(self, input_ids, past_key_values):
        """One step with a KV cache, the contract trace_model.py exports a
        decode graph through: past_key_values is None (a prompt) or one
        (key, value) pair per layer; returns logits and the pairs after
        this step."""
        hidden, presents = self.model(input_ids, past_key_values)
        return self.lm_head(hidden), presents


def example_inputs(vocab_size, batch, seq):
    generator = torch.Generator().manual_seed(1234)
    return (torch.randint(0, vocab_size, (batch, seq), generator=generator, dtype=torch.long),)


def build(batch, seq):
    d = Dims()
    model = CausalLM(d, lambda layer: MLP(d.hidden_size, d.intermediate_size))
    return model, example_inputs(d.vocab_size, batch, seq)
