"""The authors' checkpoints: conversion (synthetic, no network), cache, verification, and a
numerical check against the real files when they are in the cache."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import USER_PAPER_CACHE

from beliefcourse import paper_weights as pw
from beliefcourse.model import TransformerConfig

TRAIN_CONFIG = {"seed": 42, "n_ctx": 10, "act_fn": "relu", "d_head": 8, "d_model": 64,
                "d_vocab": 3, "n_heads": 1, "n_iters": 10, "n_layers": 4, "attn_only": False,
                "optimizer": "sgd", "batch_size": 64, "num_epochs": 1000000,
                "init_weights": True, "weight_decay": 0, "attention_dir": "causal",
                "learning_rate": 0.01, "use_attn_scale": True, "normalization_type": "LN"}
"""examples/models/mess3/train_config.json at the pinned commit."""


def synthetic_tl_state(cfg: TransformerConfig, seed: int = 0) -> dict:
    """A random state dict in TransformerLens's HookedTransformer layout, buffers included."""
    g = torch.Generator().manual_seed(seed)
    H, dh, D, M, V, C = (cfg.n_heads, cfg.d_head, cfg.d_model, cfg.d_mlp, cfg.d_vocab,
                         cfg.n_ctx)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.3

    sd = {"embed.W_E": r(V, D), "pos_embed.W_pos": r(C, D)}
    for l in range(cfg.n_layers):
        b = f"blocks.{l}"
        sd |= {f"{b}.ln1.w": 1 + r(D), f"{b}.ln1.b": r(D), f"{b}.ln2.w": 1 + r(D),
               f"{b}.ln2.b": r(D)}
        for m in "QKV":
            sd[f"{b}.attn.W_{m}"] = r(H, D, dh)
            sd[f"{b}.attn.b_{m}"] = r(H, dh)
        sd |= {f"{b}.attn.W_O": r(H, dh, D), f"{b}.attn.b_O": r(D),
               f"{b}.attn.mask": torch.ones(C, C, dtype=torch.bool).tril(),
               f"{b}.attn.IGNORE": torch.tensor(-1e5),
               f"{b}.mlp.W_in": r(D, M), f"{b}.mlp.b_in": r(M), f"{b}.mlp.W_out": r(M, D),
               f"{b}.mlp.b_out": r(D)}
    sd |= {"ln_final.w": 1 + r(D), "ln_final.b": r(D), "unembed.W_U": r(D, V),
           "unembed.b_U": r(V)}
    return sd


def tl_reference_forward(sd: dict, cfg: TransformerConfig, tokens: np.ndarray):
    """TransformerLens's HookedTransformer forward, written out in float64 numpy from its
    definitions (einsums over the per-head weights); returns (logits, resid_post per layer)."""
    w = {k: v.double().numpy() for k, v in sd.items()}

    def ln(x, g, b):
        x = x - x.mean(-1, keepdims=True)
        return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-5) * g + b

    L = tokens.shape[1]
    resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:L]
    posts = []
    for l in range(cfg.n_layers):
        b = f"blocks.{l}"
        x = ln(resid, w[f"{b}.ln1.w"], w[f"{b}.ln1.b"])
        q = np.einsum("npd,hde->nphe", x, w[f"{b}.attn.W_Q"]) + w[f"{b}.attn.b_Q"]
        k = np.einsum("npd,hde->nphe", x, w[f"{b}.attn.W_K"]) + w[f"{b}.attn.b_K"]
        v = np.einsum("npd,hde->nphe", x, w[f"{b}.attn.W_V"]) + w[f"{b}.attn.b_V"]
        scores = np.einsum("nqhe,nkhe->nhqk", q, k) / np.sqrt(cfg.d_head)
        scores = np.where(np.tril(np.ones((L, L), bool)), scores, -1e5)
        pattern = np.exp(scores - scores.max(-1, keepdims=True))
        pattern /= pattern.sum(-1, keepdims=True)
        z = np.einsum("nhqk,nkhe->nqhe", pattern, v)
        resid = resid + np.einsum("nqhe,hed->nqd", z, w[f"{b}.attn.W_O"]) + w[f"{b}.attn.b_O"]
        x = ln(resid, w[f"{b}.ln2.w"], w[f"{b}.ln2.b"])
        hidden = np.maximum(x @ w[f"{b}.mlp.W_in"] + w[f"{b}.mlp.b_in"], 0)
        resid = resid + hidden @ w[f"{b}.mlp.W_out"] + w[f"{b}.mlp.b_out"]
        posts.append(resid)
    x = ln(resid, w["ln_final.w"], w["ln_final.b"])
    return x @ w["unembed.W_U"] + w["unembed.b_U"], posts


@pytest.mark.parametrize("shape", [dict(n_layers=2, d_model=16, n_heads=1, d_head=8, d_mlp=32),
                                   dict(n_layers=2, d_model=24, n_heads=3, d_head=4, d_mlp=40,
                                        d_vocab=2)])
def test_conversion_matches_transformerlens_semantics(shape):
    cfg = TransformerConfig(n_ctx=10, **{"d_vocab": 3, **shape})
    sd = synthetic_tl_state(cfg)
    from beliefcourse.model import build_model

    model = build_model(cfg, seed=1)
    model.load_state_dict(pw.convert_state_dict(sd, cfg))
    model = model.double().eval()
    tokens = np.random.default_rng(0).integers(0, cfg.d_vocab, size=(7, 10))
    ref_logits, ref_posts = tl_reference_forward(sd, cfg, tokens)
    with torch.no_grad():
        logits, cache = model.run_with_cache(torch.from_numpy(tokens),
                                             [f"blocks.{l}.hook_resid_post"
                                              for l in range(cfg.n_layers)])
    np.testing.assert_allclose(logits.numpy(), ref_logits, rtol=0, atol=1e-10)
    for l, ref in enumerate(ref_posts):
        np.testing.assert_allclose(cache[f"blocks.{l}.hook_resid_post"].numpy(), ref,
                                   rtol=0, atol=1e-10)


def test_conversion_refuses_missing_extra_and_misshapen_keys():
    cfg = TransformerConfig(n_layers=1, d_model=16, n_heads=2, d_head=4, d_mlp=32)
    sd = synthetic_tl_state(cfg)
    with pytest.raises(ValueError, match="lacks 'blocks.0.attn.W_V'"):
        pw.convert_state_dict({k: v for k, v in sd.items() if k != "blocks.0.attn.W_V"}, cfg)
    with pytest.raises(ValueError, match="does not use.*blocks.0.attn.W_extra"):
        pw.convert_state_dict({**sd, "blocks.0.attn.W_extra": torch.zeros(1)}, cfg)
    with pytest.raises(ValueError, match="unembed.W_U has shape"):
        pw.convert_state_dict({**sd, "unembed.W_U": torch.zeros(3, 16)}, cfg)


def test_config_from_the_authors_train_config():
    cfg = pw.config_from_train_config(TRAIN_CONFIG)
    assert cfg == TransformerConfig()        # the course's default is the paper's Mess3 model
    with pytest.raises(ValueError, match="attn_only"):
        pw.config_from_train_config({**TRAIN_CONFIG, "attn_only": True})
    with pytest.raises(ValueError, match="normalization_type"):
        pw.config_from_train_config({**TRAIN_CONFIG, "normalization_type": "LNPre"})


def test_file_table_is_complete_and_pinned():
    assert len(pw.COMMIT) == 40 and pw.COMMIT in pw.RAW_URL
    for name, final in pw.FINAL_TOKENS.items():
        assert f"{name}/train_config.json" in pw.FILES
        assert pw.checkpoint_tokens(name)[-1] == final
    assert pw.checkpoint_tokens("mess3") == [6400, 64000, 640000, 915200, 3187200, 629209600]
    for f in pw.FILES.values():
        assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.size > 0
        assert f.url.startswith("https://raw.githubusercontent.com/adamimos/"
                                "epsilon-transformers/5c318cdf9f23f017879e0a94187f046686ca39f1/")


def test_cache_is_outside_the_checkout_and_overridable(tmp_path, monkeypatch):
    from beliefcourse.scorecard import ROOT

    monkeypatch.delenv(pw.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pw.cache_dir().is_relative_to(tmp_path / "xdg" / "beliefcourse")
    monkeypatch.setenv(pw.ENV_VAR, str(tmp_path / "mine"))
    assert pw.cache_dir().is_relative_to(tmp_path / "mine")
    assert not pw.cache_dir().is_relative_to(ROOT)


def test_offline_says_what_to_download_and_where(tmp_path):
    lines = []
    assert pw.fetch(root=tmp_path, offline=True, log=lines.append) is False
    text = "\n".join(lines)
    for f in pw.FILES.values():
        assert f.url in text and f.sha256 in text
    assert str(tmp_path / "raw") in text
    assert not (tmp_path / "raw").exists()           # nothing written, nothing fetched


def test_no_network_falls_back_to_the_instructions(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    lines = []
    assert pw.fetch(root=tmp_path, log=lines.append) is False
    assert "download failed" in lines[1] and pw.FILES["mess3/629209600.pt"].url in lines[-1]


def test_a_wrong_download_is_rejected_and_not_kept(tmp_path, monkeypatch):
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda *a, **k: io.BytesIO(b"version https://git-lfs.github.com/spec"))
    f = pw.FILES["mess3/train_config.json"]
    with pytest.raises(ValueError, match="LFS pointer"):
        pw._download(f, pw.raw_path(f.path, tmp_path))
    assert not list((tmp_path / "raw").rglob("*"))[1:]   # only the folder, no file


def test_verify_checks_the_sha256(tmp_path):
    f = pw.FILES["mess3/train_config.json"]
    p = tmp_path / "train_config.json"
    p.write_text(json.dumps(TRAIN_CONFIG))       # byte for byte the authors' file
    pw.verify(p, f)
    p.write_text(json.dumps({**TRAIN_CONFIG, "learning_rate": 0.02}))
    with pytest.raises(ValueError, match="SHA-256"):
        pw.verify(p, f)


def test_missing_weights_raise_with_instructions(tmp_path):
    assert not pw.is_available("mess3", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="Download these files"):
        pw.load("mess3", root=tmp_path)


def test_module_does_not_import_torch():
    code = ("import sys, beliefcourse.paper_weights, beliefcourse.scorecard; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


# ---------------------------------------------------------------------------- real files
@pytest.mark.slow
@pytest.mark.skipif(not pw.is_available("mess3", root=USER_PAPER_CACHE),
                    reason="the authors' weights are not in the cache (`./course paper-weights`"
                           " fetches them); the conversion is tested on a synthetic state dict")
def test_authors_mess3_model_gives_the_published_probe_mse():
    """The course's probe on the authors' final Mess3 model, in-sample as in their Figure 6
    notebook: MSE 0.000386 (printed to 3 figures); and the shipped measurements agree."""
    from beliefcourse import processes
    from beliefcourse.data import ExactData
    from beliefcourse.probing import collect_activations, evaluate

    model, record = pw.load("mess3", root=USER_PAPER_CACHE)
    assert record["source"]["sha256"] == pw.FILES["mess3/629209600.pt"].sha256
    data = ExactData(processes.mess3(0.05, 0.85), 10)
    feats = collect_activations(model, data.inputs, "blocks.3.hook_resid_post")
    mse = evaluate(feats, data.beliefs, data.probs, train_fraction=1.0).in_sample.mse
    assert abs(mse - 0.000386) <= 0.01 * 0.000386
    shipped = pw.read_measurements()
    assert shipped is not None
    ref = shipped["mess3"]["629209600"]["final layer (pre-LN)"]["in_sample_all"]["mse"]
    assert abs(mse - ref) <= 0.01 * ref
    rel = float(data.relative_loss(data.exact_loss(model)).mean())
    assert abs(rel - shipped["mess3"]["629209600"]["relative_loss"]) <= 2e-6


def test_course_script_runs_paper_weights_offline(tmp_path):
    """`./course paper-weights --offline` with an empty cache: exit 1 and the instructions."""
    import os

    from conftest import REPO_ROOT

    env = dict(os.environ, COURSE_SKIP_SETUP="1", BELIEFCOURSE_CACHE=str(tmp_path))
    result = subprocess.run(["bash", str(REPO_ROOT / "course"), "paper-weights", "--offline"],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Download these files" in result.stdout and str(tmp_path) in result.stdout
