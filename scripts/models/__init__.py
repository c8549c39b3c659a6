"""Small models shipped with scripts/trace_model.py.

Each module exposes build(batch, seq) -> (nn.Module, example_inputs), the
same contract a user factory given as --model package.module:callable follows.
"""
