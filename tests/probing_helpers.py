"""Shared test data for the tests of beliefcourse.probing (tests/probing/).

``TinyModel`` is a stand-in module with the course models' hook interface; ``planted`` makes
synthetic features with targets that are an exact (or noisy) affine function of them.
"""

from __future__ import annotations

import numpy as np
import torch

from beliefcourse.model import TransformerConfig

TINY = TransformerConfig(n_layers=2, d_model=8, n_heads=2, d_head=4, d_mlp=16, n_ctx=6)


class TinyModel(torch.nn.Module):
    """Stand-in with the course models' hook interface: embed -> 2 residual blocks -> LN."""

    def __init__(self, d_vocab=3, d_model=5, n_ctx=6, n_layers=2, seed=0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embed = torch.nn.Embedding(d_vocab, d_model)
            self.pos = torch.nn.Parameter(torch.randn(n_ctx, d_model))
            self.mlps = torch.nn.ModuleList(torch.nn.Linear(d_model, d_model)
                                            for _ in range(n_layers))
            self.ln = torch.nn.LayerNorm(d_model)
            self.unembed = torch.nn.Linear(d_model, d_vocab)
        self.hook_names = ["hook_embed"] + [
            f"blocks.{layer}.hook_resid_{k}" for layer in range(n_layers)
            for k in ("pre", "mid", "post")] + ["ln_final.hook_normalized"]

    def run_with_cache(self, tokens, names=None):
        cache = {}
        x = self.embed(tokens)
        cache["hook_embed"] = x
        x = x + self.pos[: tokens.shape[1]]
        for layer, mlp in enumerate(self.mlps):
            cache[f"blocks.{layer}.hook_resid_pre"] = x
            x = x + torch.cumsum(x, dim=1) / 10          # causal mixing
            cache[f"blocks.{layer}.hook_resid_mid"] = x
            x = x + torch.relu(mlp(x))
            cache[f"blocks.{layer}.hook_resid_post"] = x
        x = self.ln(x)
        cache["ln_final.hook_normalized"] = x
        keep = self.hook_names if names is None else names
        return self.unembed(x), {n: cache[n] for n in keep}

    def forward(self, tokens):
        return self.run_with_cache(tokens)[0]


def planted(n=400, length=5, d=6, s=3, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length, d))
    W = rng.normal(size=(s, d))
    b = rng.normal(size=s)
    y = X @ W.T + b + noise * rng.normal(size=(n, length, s))
    probs = rng.dirichlet(np.ones(n))
    return X, y, W, b, probs
