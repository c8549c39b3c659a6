"""A Mixtral-style MoE decoder: the tiny Llama with its MLPs replaced by a
router and top-k of E SwiGLU experts (Hugging Face names: model.layers.N.
block_sparse_moe is called mlp here, with mlp.gate and mlp.experts.E.*).

Routing is data-dependent, which a static ONNX graph cannot express. So every
expert runs on every token and its output is scaled by the token's routing
weight (zero where the expert was not chosen): the export then holds each
expert's matmuls with M = all tokens, and the routing trace recorded from
the real router decisions tells npusim how many tokens each expert really
receives. The numerics equal a sparse dispatch.
"""
import torch
from torch import nn

from . import tiny_llama


class MoeDims(tiny_llama.Dims):
    num_experts = 4
    top_k = 2
    expert_intermediate_size = 64


class SparseMoeBlock(nn.Module):
    # trace_model.py finds routers by these attribute names (num_experts,
    # top_k, gate), the ones HF's Mixtral and Qwen2-MoE blocks carry.
    def __init__(self, d):
        super().__init__()
        self.num_experts = d.num_experts
        self.top_k = d.top_k
        self.gate = nn.Linear(d.hidden_size, d.num_experts, bias=False)
        self.experts = nn.ModuleList(
            tiny_llama.MLP(d.hidden_size, d.expert_intermediate_size) for _ in range(d.num_experts))

    def forward(self, x):
        logits = self.gate(x)
        probs = torch.softmax(logits, dim=-1)
        top_weights, top_index = torch.topk(probs, self.top_k, dim=-1)
        top_weights = top_weights / top_weights.sum(dim=-1, keepdim=True)
        # Dense routing weights: zero for experts a token did not choose.
        weights = torch.zeros_like(probs).scatter(-1, top_index, top_weights)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            out = out + expert(x) * weights[..., e:e + 1]
        return out


def build(batch, seq):
    d = MoeDims()
    model = tiny_llama.CausalLM(d, lambda layer: SparseMoeBlock(d))
    return model, tiny_llama.example_inputs(d.vocab_size, batch, seq)
