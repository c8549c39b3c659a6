#!/usr/bin/python3
"""Trace a PyTorch model into what npusim imports: an ONNX graph and, for
MoE models, a routing trace of the router's real decisions.

    scripts/trace_model.py --model tiny-llama --out DIR [--batch B] [--seq S] [--ctx C]
    scripts/trace_model.py --model package.module:factory --out DIR

Writes DIR/model.onnx (the prefill graph: batch x seq tokens), DIR/meta.json
(parameter count, shapes, MoE layers) and, when the model has MoE layers,
DIR/routing.json in the npusim-routing-v1 format of workloads/routing.h:
step 0 holds, per MoE layer, the tokens each expert received in one forward
pass over batch x seq tokens (the prefill graph model.onnx describes).

Decode: when the module has forward_with_cache (below), it also writes
DIR/decode.onnx, one decode step: one new token per sequence attending over
a KV cache of C = --ctx tokens (default --seq) per sequence, the cache
entering as graph inputs, as Hugging Face / Optimum decoder exports do:
    inputs  input_ids [B, 1], past_key_values.N.key and past_key_values.N.value
            [B, kv_heads, C, head_dim] for every decoder layer N
    outputs logits [B, 1, vocab], present.N.key and present.N.value
            [B, kv_heads, C + 1, head_dim]
npusim treats inputs named past_key_values.N.key/value as layer N's KV cache
(workloads/onnx/onnx_import.h). The cache holds the keys and values of a
real prompt of C tokens run through the model first, and for MoE models
DIR/decode-routing.json records, as its step 0, the router decisions of the
decode step (B tokens per MoE layer).

A module supports decode export with a method
    forward_with_cache(input_ids, past_key_values) -> (logits, presents)
where past_key_values is None (a prompt) or a list with one (key, value)
pair per decoder layer, and presents is that list after the step. Modules
without it get no decode.onnx (meta.json says "decode": null).

A factory is called as factory(batch=B, seq=S) and returns either
(module, example_inputs) or a module with a `vocab_size` attribute, which
then gets random token ids of shape [B, S]. MoE layers are found as modules
with `num_experts`, `top_k` and a `gate` child (as in Hugging Face's Mixtral
and Qwen2-MoE blocks) under a `layers.N` path; a forward hook on each gate
records top-k of its logits. For npusim to see every expert's matmuls, the
module must run its experts in a way the exporter can trace statically (see
scripts/models/tiny_moe.py); the routing trace then sets each expert's M.

Deterministic: every random draw is seeded by --seed. Exit codes: 0 ok,
2 bad arguments or model, 1 export failure.
"""
import argparse
import importlib
import importlib.util
import json
import os
import re
import sys

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
SHIPPED = {"tiny-llama": "tiny_llama", "tiny-moe": "tiny_moe"}
ROUTING_FORMAT = "npusim-routing-v1"
LAYER_RE = re.compile(r"(?:^|\.)layers\.(\d+)(?:\.|$)")


class UsageError(Exception):
    """Bad arguments or a model that does not follow the factory contract."""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Export a PyTorch model to ONNX (+ MoE routing trace) for npusim.")
    parser.add_argument("--model", required=True,
                        help="tiny-llama | tiny-moe | package.module:callable")
    parser.add_argument("--out", required=True, help="output directory (created if missing)")
    parser.add_argument("--batch", type=int, default=1, help="sequences (default 1)")
    parser.add_argument("--seq", type=int, default=16, help="tokens per sequence (default 16)")
    parser.add_argument("--ctx", type=int, default=None,
                        help="cached tokens per sequence in decode.onnx (default: --seq)")
    parser.add_argument("--opset", type=int, default=14, choices=range(14, 18), metavar="{14..17}",
                        help="ONNX opset (default 14)")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and inputs (default 0)")
    args = parser.parse_args(argv)
    if args.ctx is None:
        args.ctx = args.seq
    for name in ("batch", "seq", "ctx"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: expected a positive integer, got {getattr(args, name)}")
    return args


def load_shipped(key):
    # Loaded under a private package name so a user's own `models` package
    # on sys.path can neither shadow nor be shadowed by ours.
    package = "npusim_shipped_models"
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package, os.path.join(SCRIPT_DIR, "models", "__init__.py"),
            submodule_search_locations=[os.path.join(SCRIPT_DIR, "models")])
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.{SHIPPED[key]}").build


def load_factory(spec):
    if spec in SHIPPED:
        return load_shipped(spec)
    if spec.count(":") != 1:
        raise UsageError(f"--model: expected tiny-llama, tiny-moe or package.module:callable, got '{spec}'")
    module_name, attr_path = spec.split(":")
    if not module_name or not attr_path:
        raise UsageError(f"--model: expected package.module:callable, got '{spec}'")
    sys.path.insert(0, os.getcwd())
    try:
        target = importlib.import_module(module_name)
    except ImportError as e:
        raise UsageError(f"--model: cannot import module '{module_name}': {e}") from e
    for part in attr_path.split("."):
        if not hasattr(target, part):
            raise UsageError(f"--model: module '{module_name}' has no attribute '{attr_path}'")
        target = getattr(target, part)
    if not callable(target):
        raise UsageError(f"--model: '{spec}' is not callable")
    return target


def instantiate(factory, spec, batch, seq):
    import torch
    built = factory(batch=batch, seq=seq)
    if isinstance(built, torch.nn.Module):
        vocab = getattr(built, "vocab_size", None)
        if not isinstance(vocab, int) or vocab < 1:
            raise UsageError(f"--model: '{spec}' returned a module without an int `vocab_size`; "
                             "return (module, example_inputs) instead")
        ids = torch.randint(0, vocab, (batch, seq), dtype=torch.long)
        return built, (ids,)
    if (isinstance(built, tuple) and len(built) == 2 and isinstance(built[0], torch.nn.Module)):
        inputs = built[1] if isinstance(built[1], tuple) else (built[1],)
        return built[0], inputs
    raise UsageError(f"--model: '{spec}' must return an nn.Module or (nn.Module, example_inputs), "
                     f"got {type(built).__name__}")


def find_moe_blocks(model):
    blocks = []
    for name, module in model.named_modules():
        if not all(hasattr(module, a) for a in ("num_experts", "top_k", "gate")):
            continue
        match = LAYER_RE.search(name)
        if not match:
            raise UsageError(f"MoE block '{name}' is not under a layers.N module; npusim needs the "
                             "decoder layer index to match routing to ops")
        blocks.append((int(match.group(1)), name, module))
    layers = [b[0] for b in blocks]
    if len(set(layers)) != len(layers):
        raise UsageError(f"more than one MoE block in a decoder layer: {[b[1] for b in blocks]}")
    return sorted(blocks, key=lambda b: b[0])


def record_routing(model, inputs, blocks):
    """Runs one forward pass of model(*inputs) with a hook on every router;
    returns {layer: tokens per expert}."""
    import torch
    counts = {}
    handles = []
    for layer, _, block in blocks:
        def hook(module, args, logits, layer=layer, block=block):
            flat = logits.reshape(-1, block.num_experts)
            chosen = torch.topk(flat, block.top_k, dim=-1).indices
            counts[layer] = torch.bincount(chosen.reshape(-1), minlength=block.num_experts).tolist()
        handles.append(block.gate.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    missing = [layer for layer, _, _ in blocks if layer not in counts]
    if missing:
        raise UsageError(f"the routers of MoE layers {missing} did not run in a forward pass")
    return counts


def input_names(model_spec, count):
    return ["input_ids"] if count == 1 and model_spec in SHIPPED else [f"input_{i}" for i in range(count)]


def write_routing(path, blocks, counts):
    routing = {"format": ROUTING_FORMAT,
               "layers": [{"layer": layer, "steps": [counts[layer]]} for layer, _, _ in blocks]}
    with open(path, "w") as f:
        json.dump(routing, f, indent=1)


def decode_step_module(model):
    """model's forward_with_cache as a module whose positional inputs are
    input_ids then every layer's key and value, and whose outputs are the
    logits then every layer's new key and value: flat tensors, which is
    what the exporter can name one by one."""
    import torch

    class DecodeStep(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            # The model's own children, under their own names, so weights
            # and node scopes are named exactly as in model.onnx.
            for name, child in inner.named_children():
                self.add_module(name, child)
            self.step = inner.forward_with_cache

        def forward(self, input_ids, *flat_past):
            past = [(flat_past[i], flat_past[i + 1]) for i in range(0, len(flat_past), 2)]
            logits, presents = self.step(input_ids, past)
            return (logits, *[t for pair in presents for t in pair])

    return DecodeStep(model)


def export_decode(args, model, inputs, blocks, meta):
    """Writes decode.onnx (and decode-routing.json for MoE models): the step
    after a prompt of --ctx tokens."""
    import torch
    vocab = getattr(model, "vocab_size", None)
    if not isinstance(vocab, int) or vocab < 1:
        raise UsageError(f"--model: '{args.model}' has forward_with_cache but no int `vocab_size` to draw "
                         "decode token ids from")
    prompt = torch.randint(0, vocab, (args.batch, args.ctx), dtype=torch.long)
    with torch.no_grad():
        _, past = model.forward_with_cache(prompt, None)
    if not isinstance(past, (list, tuple)) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in past):
        raise UsageError(f"--model: forward_with_cache of '{args.model}' must return (logits, [(key, value) per layer])")
    next_ids = torch.randint(0, vocab, (args.batch, 1), dtype=torch.long)
    flat_past = tuple(t for pair in past for t in pair)
    step = decode_step_module(model)
    step.eval()
    names = ["input_ids"]
    outputs = ["logits"]
    for layer in range(len(past)):
        names += [f"past_key_values.{layer}.key", f"past_key_values.{layer}.value"]
        outputs += [f"present.{layer}.key", f"present.{layer}.value"]
    decode_inputs = (next_ids, *flat_past)
    if blocks:
        counts = record_routing(step, decode_inputs, blocks)
        write_routing(os.path.join(args.out, "decode-routing.json"), blocks, counts)
        meta["decode_routing"] = "decode-routing.json"
    torch.onnx.export(step, decode_inputs, os.path.join(args.out, "decode.onnx"), input_names=names,
                      output_names=outputs, opset_version=args.opset, do_constant_folding=False)
    meta["decode"] = "decode.onnx"
    meta["kv_shape"] = list(past[0][0].shape)


def export(args, factory):
    import torch
    torch.manual_seed(args.seed)
    model, inputs = instantiate(factory, args.model, args.batch, args.seq)
    model.eval()
    blocks = find_moe_blocks(model)
    os.makedirs(args.out, exist_ok=True)

    meta = {
        "model": args.model,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch": args.batch,
        "seq": args.seq,
        "ctx": args.ctx,
        "opset": args.opset,
        "seed": args.seed,
        "onnx": "model.onnx",
        "routing": None,
        "decode": None,
        "decode_routing": None,
        "moe_layers": [{"layer": layer, "name": name, "experts": b.num_experts, "top_k": b.top_k}
                       for layer, name, b in blocks],
    }
    if blocks:
        counts = record_routing(model, inputs, blocks)
        write_routing(os.path.join(args.out, "routing.json"), blocks, counts)
        meta["routing"] = "routing.json"

    # No constant folding: folded subgraphs (RoPE tables, transposed weights)
    # would become initializers, and npusim counts initializers as
    # parameters; unfolded, weights also keep their module names.
    torch.onnx.export(model, inputs, os.path.join(args.out, "model.onnx"),
                      input_names=input_names(args.model, len(inputs)), output_names=["output"],
                      opset_version=args.opset, do_constant_folding=False)
    if callable(getattr(model, "forward_with_cache", None)):
        export_decode(args, model, inputs, blocks, meta)
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({"out": args.out, "parameters": meta["parameters"],
                      "moe_layers": len(blocks), "decode": meta["decode"]}))


def main(argv):
    args = parse_args(argv)
    try:
        # The model spec first: a typo should not wait for torch to load.
        factory = load_factory(args.model)
        import torch  # noqa: F401
        import onnx  # noqa: F401  (torch.onnx.export needs it)
    except UsageError as e:
        print(f"trace_model.py: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"trace_model.py: needs PyTorch and onnx ({e}); run it with /usr/bin/python3", file=sys.stderr)
        return 2
    try:
        export(args, factory)
    except UsageError as e:
        print(f"trace_model.py: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # an exporter failure is not the user's typo
        print(f"trace_model.py: export of '{args.model}' failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
