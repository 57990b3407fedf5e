"""Tests for beliefcourse.probe: the affine probe, its metrics, splits, controls and reports.

Everything runs in seconds on synthetic data, short exact Mess3/RRXOR enumerations, a stand-in
module with the hook interface, and tiny course models. The shipped-checkpoint test re-probes
each shipped checkpoint and compares with the "probe" section of its JSON record.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from beliefcourse import checkpoints, probe, processes
from beliefcourse import enumerate as enum
from beliefcourse.data import ExactData
from beliefcourse.model import GRUConfig, TransformerConfig, build_model

TINY = TransformerConfig(n_layers=2, d_model=8, n_heads=2, d_head=4, d_mlp=16, n_ctx=6)


# ---------------------------------------------------------------------------- fixtures
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


@pytest.fixture(scope="module")
def tiny_data():
    """Every Mess3 sequence of length 6 (729), beliefs aligned to positions."""
    return ExactData(processes.mess3(), 6)


def planted(n=400, length=5, d=6, s=3, seed=0, noise=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length, d))
    W = rng.normal(size=(s, d))
    b = rng.normal(size=s)
    y = X @ W.T + b + noise * rng.normal(size=(n, length, s))
    probs = rng.dirichlet(np.ones(n))
    return X, y, W, b, probs


# ---------------------------------------------------------------------------- the probe
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_probe_recovers_planted_affine_map(fit_intercept, weighted):
    X, y, W, b, probs = planted()
    if not fit_intercept:
        y = y - b
    w = probs if weighted else None
    est = probe.AffineProbe(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(est.coef_, W, atol=1e-10)
    np.testing.assert_allclose(est.intercept_, b if fit_intercept else 0.0, atol=1e-10)
    pred = est.predict(X)
    assert pred.shape == y.shape
    assert est.score(X, y, w) == pytest.approx(1.0, abs=1e-12)
    assert probe.mse(y, pred, w) == pytest.approx(0.0, abs=1e-20)


def test_probe_flat_and_3d_inputs_agree():
    X, y, *_ = planted(noise=0.5)
    a = probe.AffineProbe().fit(X, y)
    b = probe.AffineProbe().fit(X.reshape(-1, X.shape[-1]), y.reshape(-1, y.shape[-1]))
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_allclose(a.predict(X).reshape(-1, 3), b.predict(X.reshape(-1, 6)))
    single = probe.AffineProbe().fit(X, y[..., 0])
    assert single.coef_.shape == (6,) and single.predict(X).shape == X.shape[:2]


def test_ridge_shrinks_towards_zero():
    X, y, *_ = planted(noise=0.5)
    ols = probe.AffineProbe().fit(X, y)
    ridge = probe.AffineProbe(alpha=1e4).fit(X, y)
    assert np.linalg.norm(ridge.coef_) < 0.5 * np.linalg.norm(ols.coef_)


def test_sklearn_estimator_protocol():
    est = probe.AffineProbe(fit_intercept=False, alpha=0.5)
    assert est.get_params() == {"fit_intercept": False, "alpha": 0.5}
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert not hasattr(copy, "coef_")
    assert est.set_params(alpha=0.0).alpha == 0.0
    X, y, *_ = planted()
    assert copy.fit(X, y).n_features_in_ == 6


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_passes_sklearn_check_estimator():
    check_estimator(probe.AffineProbe())
    check_estimator(probe.AffineProbe(alpha=1.0, fit_intercept=False))


def test_probe_errors():
    X, y, *_ = planted()
    with pytest.raises(NotFittedError):
        probe.AffineProbe().predict(X)
    with pytest.raises(ValueError, match="y has shape"):
        probe.AffineProbe().fit(X, y[:10])
    with pytest.raises(ValueError, match="Expected 2D array"):
        probe.AffineProbe().fit(X[0, 0], y[0, 0])
    with pytest.raises(ValueError, match="alpha"):
        probe.AffineProbe(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        probe.AffineProbe().fit(X, y, sample_weight=np.ones(7))
    with pytest.raises(ValueError):
        probe.AffineProbe().fit(np.where(X > 2, np.nan, X), y)
    fitted = probe.AffineProbe().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[..., :4])


# ---------------------------------------------------------------------------- metrics
def test_weighted_metrics_match_hand_computation():
    y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    p = np.array([[0.8, 0.1], [0.1, 0.7], [0.5, 0.5]])
    w = np.array([1.0, 2.0, 5.0])
    sq = (y - p) ** 2
    assert probe.mse(y, p) == pytest.approx(sq.mean())
    assert probe.mse(y, p, w) == pytest.approx((w[:, None] * sq).sum() / (2 * w.sum()))
    ybar = (w[:, None] * y).sum(0) / w.sum()
    r2_k = 1 - (w[:, None] * sq).sum(0) / (w[:, None] * (y - ybar) ** 2).sum(0)
    assert probe.r2(y, p, w) == pytest.approx(r2_k.mean())
    r2_u = 1 - sq.sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    assert probe.r2(y, p) == pytest.approx(r2_u.mean())


def test_per_sequence_weights_broadcast_over_positions():
    X, y, *_ , probs = planted(noise=0.3)
    pred = probe.AffineProbe().fit(X, y).predict(X)
    per_point = np.repeat(probs[:, None], y.shape[1], axis=1)
    assert probe.mse(y, pred, probs) == pytest.approx(probe.mse(y, pred, per_point))
    assert probe.r2(y, pred, probs) == pytest.approx(probe.r2(y, pred, per_point))


def test_metric_errors():
    y = np.zeros((4, 3))
    with pytest.raises(ValueError, match="shape"):
        probe.mse(y, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        probe.r2(y, np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="non-negative"):
        probe.mse(y, y, sample_weight=-np.ones(4))


# ---------------------------------------------------------------------------- splits
def test_split_sequences_paper_sizes_and_seeding():
    train, test = probe.split_sequences(59_049, 0.2, seed=0)
    assert (len(train), len(test)) == (11_809, 47_240)          # sklearn test_size=0.8
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(59_049))
    again, _ = probe.split_sequences(59_049, 0.2, seed=0)
    other, _ = probe.split_sequences(59_049, 0.2, seed=1)
    np.testing.assert_array_equal(train, again)
    assert not np.array_equal(train, other)
    full, empty = probe.split_sequences(10, 1.0)
    assert len(full) == 10 and len(empty) == 0


@pytest.mark.parametrize("frac", [0.0, -0.1, 1.5, 0.01])
def test_split_sequences_rejects_bad_fractions(frac):
    with pytest.raises(ValueError, match="train_fraction"):
        probe.split_sequences(20, frac)


def test_evaluate_keeps_sequences_whole_and_reports_both_weightings():
    X, y, W, b, probs = planted(noise=0.2)
    res = probe.evaluate(X, y, probs, train_fraction=0.25, seed=3)
    assert len(res.train_idx) == 100 and len(res.test_idx) == 300
    assert res.in_sample.n_points == 100 * 5 and res.held_out.n_points == 300 * 5
    # the probe saw only the fit-set sequences: refitting on them alone gives the same map
    ref = probe.AffineProbe().fit(X[res.train_idx], y[res.train_idx])
    np.testing.assert_allclose(res.probe.coef_, ref.coef_)
    pred = res.predictions
    assert pred.shape == y.shape
    t = res.test_idx
    assert res.held_out.mse == pytest.approx(probe.mse(y[t], pred[t]))
    assert res.held_out.r2_weighted == pytest.approx(probe.r2(y[t], pred[t], probs[t]))
    assert res.held_out.r2 > 0.95


def test_weighted_fit_uses_probabilities():
    X, y, W, b, probs = planted(noise=1.0)
    plain = probe.evaluate(X, y, probs, train_fraction=1.0)
    weighted = probe.evaluate(X, y, probs, train_fraction=1.0, weighted_fit=True)
    assert plain.held_out is None and weighted.weighted_fit
    # each fit is optimal for its own weighting
    assert weighted.in_sample.mse_weighted <= plain.in_sample.mse_weighted
    assert plain.in_sample.mse <= weighted.in_sample.mse


def test_evaluate_shape_errors():
    X, y, *_, probs = planted()
    with pytest.raises(ValueError, match="disagree"):
        probe.evaluate(X[:, :4], y, probs)
    with pytest.raises(ValueError, match="probs"):
        probe.evaluate(X, y, probs[:-1])
    with pytest.raises(ValueError, match=r"\(N, L, D\)"):
        probe.evaluate(X[:, 0], y, probs)


# ---------------------------------------------------------------------------- controls
def test_shuffle_control_scores_chance():
    X, y, *_, probs = planted(n=2000, noise=0.1)
    real = probe.evaluate(X, y, probs, seed=0)
    res = probe.shuffle_control(X, y, probs, seed=0)
    np.testing.assert_array_equal(res.train_idx, real.train_idx)       # same split
    t = res.test_idx
    assert abs(res.held_out.r2) < 0.02
    variance = y[t].reshape(-1, 3).var(axis=0).mean()
    assert res.held_out.mse == pytest.approx(variance, rel=0.03)


def test_shuffle_control_on_mess3_beliefs_matches_paper_baseline():
    data = ExactData(processes.mess3(), 8)
    feats = probe.input_only_features(data.inputs, 3)
    res = probe.shuffle_control(feats, data.beliefs, data.probs)
    # predicting the mean belief: 0.111 unweighted at length 10 (papers.md §3.2)
    assert res.held_out.mse == pytest.approx(0.111, abs=0.005)
    assert abs(res.held_out.r2) < 0.03


def test_input_only_features_one_hot():
    tokens = np.array([[0, 2, 1], [1, 1, 0]])
    f = probe.input_only_features(tokens, n_tokens=3, n_lags=2)
    assert f.shape == (2, 3, 2 * 3 + 3) and f.dtype == np.float32
    for n in range(2):
        for p in range(3):
            want = np.zeros(9)
            for lag in range(2):
                if p - lag >= 0:
                    want[3 * lag + tokens[n, p - lag]] = 1
            want[6 + p] = 1
            np.testing.assert_array_equal(f[n, p], want)
    full = probe.input_only_features(tokens, 3)
    assert full.shape == (2, 3, 3 * 3 + 3)
    assert full[:, :, :9].sum() == tokens.size * (tokens.shape[1] + 1) / 2   # one per lag seen
    assert probe.input_only_features(tokens, 3, n_lags=5).shape == (2, 3, 18)


def test_input_only_features_errors():
    with pytest.raises(ValueError, match="0..1"):
        probe.input_only_features(np.array([[0, 2]]), 2)
    with pytest.raises(TypeError):
        probe.input_only_features(np.array([[0.0, 1.0]]), 2)
    with pytest.raises(ValueError, match="shape"):
        probe.input_only_features(np.array([0, 1]), 2)


def test_input_only_baseline_on_mess3(tiny_data):
    one = probe.evaluate(probe.input_only_features(tiny_data.inputs, 3, 1),
                         tiny_data.beliefs, tiny_data.probs)
    full = probe.evaluate(probe.input_only_features(tiny_data.inputs, 3),
                          tiny_data.beliefs, tiny_data.probs)
    # papers.md §6 at length 10: 1 lag R² 0.72, full history 0.945 (length 6 here)
    assert 0.70 < one.held_out.r2 < 0.78
    assert 0.93 < full.held_out.r2 < 0.96


# ---------------------------------------------------------------------------- activations
def test_collect_activations_concatenates_in_order():
    model = TinyModel()
    tokens = torch.randint(0, 3, (37, 6), generator=torch.Generator().manual_seed(0))
    hooks = ["ln_final.hook_normalized", "hook_embed", "blocks.1.hook_resid_mid"]
    model.train()
    acts = probe.collect_activations(model, tokens, hooks, batch_size=10)
    assert model.training                                   # mode restored
    assert acts.shape == (37, 6, 15) and acts.dtype == np.float32
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    want = torch.cat([cache[h] for h in hooks], dim=-1).numpy()
    np.testing.assert_allclose(acts, want, rtol=1e-6, atol=1e-6)
    single = probe.collect_activations(model, tokens.numpy(), "hook_embed")
    np.testing.assert_array_equal(single, acts[..., 5:10])


def test_collect_activations_errors():
    model = TinyModel()
    tokens = np.zeros((4, 6), dtype=np.int64)
    with pytest.raises(ValueError, match="unknown hook.*available|this model has"):
        probe.collect_activations(model, tokens, "blocks.7.hook_resid_post")
    with pytest.raises(ValueError, match="more than once"):
        probe.collect_activations(model, tokens, ["hook_embed", "hook_embed"])
    with pytest.raises(TypeError, match="hook"):
        probe.collect_activations(model, tokens, [])
    with pytest.raises(ValueError, match="shape"):
        probe.collect_activations(model, tokens[0], "hook_embed")
    with pytest.raises(TypeError, match="integers"):
        probe.collect_activations(model, tokens.astype(float), "hook_embed")
    with pytest.raises(TypeError, match="hook_names"):
        probe.collect_activations(torch.nn.Linear(2, 2), tokens, "hook_embed")


def test_hook_helpers():
    model = TinyModel()
    resid = probe.layer_hooks(model)
    assert resid == [f"blocks.{layer}.hook_resid_{k}" for layer in range(2)
                     for k in ("pre", "mid", "post")]
    assert probe.default_hook_sets(model, "mess3") == {
        "final layer (pre-LN)": ["blocks.1.hook_resid_post"],
        "ln_final (post-LN)": ["ln_final.hook_normalized"]}
    rr = probe.default_hook_sets(model, "rrxor")
    assert rr == {"final layer (pre-LN)": ["blocks.1.hook_resid_post"],
                  "all 6 residual hooks": resid}
    gru = build_model(GRUConfig(n_layers=3, d_hidden=4, n_ctx=6), seed=0)
    assert probe.default_hook_sets(gru, "rrxor")["all 3 residual hooks"] == [
        "gru.0.hook_hidden", "gru.1.hook_hidden", "gru.2.hook_hidden"]
    with pytest.raises(TypeError, match="hook_names"):
        probe.layer_hooks(torch.nn.Module())


# ---------------------------------------------------------------------------- reports
def test_layer_sweep_report_table_and_dict(tiny_data):
    model = TinyModel()
    report = probe.layer_sweep(model, tiny_data, ["hook_embed", "ln_final.hook_normalized"])
    assert [r.label for r in report.rows] == ["hook_embed", "ln_final.hook_normalized"]
    res = report.get("hook_embed")
    assert res.n_features == 5 and res.held_out.n_points == len(res.test_idx) * 6
    text = report.table()
    for needle in ("hook_embed", "held-out (80%)", "in-sample", "MSE(p)", "R2(p)",
                   "prefix probability"):
        assert needle in text
    d = json.loads(json.dumps(report.to_dict()))
    assert d["rows"][1]["held_out"]["mse"] == pytest.approx(
        report.get("ln_final.hook_normalized").held_out.mse, rel=1e-5)
    assert d["meta"]["train_fraction"] == 0.2
    with pytest.raises(KeyError, match="no row"):
        report.get("hook_embed", "untrained")
    # deterministic given the seed
    assert probe.layer_sweep(model, tiny_data, ["hook_embed"]).to_dict()["rows"][0] == \
        d["rows"][0]


def test_belief_distance_test_rrxor_ceiling():
    hmm = processes.rrxor()
    seqs = enum.all_sequences(hmm, 10)
    beliefs = seqs.beliefs[:, 1:]
    nxt = np.einsum("nls,xst->nlx", beliefs, hmm.T)
    res = probe.belief_distance_test(beliefs, beliefs, nxt, n_pairs=50_000)
    # a perfect belief representation: R² 1 against beliefs, ≈ 0.28 against next tokens
    assert res.r2_belief == pytest.approx(1.0)
    assert res.r2_next_token == pytest.approx(0.28, abs=0.03)
    assert res.point_distance.shape == (50_000,)
    with pytest.raises(ValueError, match="leading shape"):
        probe.belief_distance_test(beliefs[:5], beliefs, nxt)


# ---------------------------------------------------------------------------- real models
def test_compare_layers_with_controls_at_same_dimension(tiny_data):
    model = build_model(TINY, seed=1)
    sets = {"final": ["blocks.1.hook_resid_post"],
            "mixed": ["ln_final.hook_normalized", "hook_embed"]}
    report = probe.compare_layers(model, tiny_data, sets, init_seed=3)
    assert [(r.label, r.kind) for r in report.rows] == [
        (label, kind) for label in sets for kind in ("trained", "shuffled", "untrained")]
    for label in sets:
        dims = {r.result.n_features for r in report.rows if r.label == label}
        assert dims == {8 * len(sets[label])}
    # the untrained row is untrained_control with the same seeds
    ref = probe.untrained_control(TINY, tiny_data, sets["mixed"], init_seed=3)
    assert report.get("mixed", "untrained").held_out == ref.held_out
    assert report.get("final", "shuffled").held_out.r2 < 0.05
    # non-contiguous, reordered hooks equal a direct collection
    feats = probe.collect_activations(model, tiny_data.inputs, sets["mixed"])
    direct = probe.evaluate(feats, tiny_data.beliefs, tiny_data.probs)
    assert report.get("mixed").held_out == direct.held_out


def test_layer_sweep_defaults_skip_attention_patterns(tiny_data):
    model = build_model(TINY, seed=0)
    report = probe.layer_sweep(model, tiny_data)
    labels = [r.label for r in report.rows]
    assert "blocks.0.attn.hook_pattern" not in labels
    assert labels[0] == "hook_embed" and labels[-1] == "ln_final.hook_normalized"
    assert all(r.kind == "trained" for r in report.rows)


def _save_tiny_checkpoint(directory, process="mess3", params=None):
    params = {"x": 0.05, "alpha": 0.85} if params is None else params
    hmm = processes.get(process, **params)
    cfg = TransformerConfig(n_layers=2, d_model=8, n_heads=1, d_head=4, d_mlp=16, n_ctx=5,
                            d_vocab=hmm.n_tokens)
    record = {"name": f"tiny-{process}", "process": process, "process_params": params,
              "model_config": cfg.to_dict(), "tokens_seen": 1234, "probe": None}
    return checkpoints.save(directory / "tokens_000001234.pt", build_model(cfg, seed=7), record)


@pytest.mark.parametrize("process,params", [("mess3", None), ("rrxor", {"p1": 0.5, "p2": 0.5})])
def test_probe_checkpoint_writes_and_reproduces_record(tmp_path, process, params):
    path = _save_tiny_checkpoint(tmp_path, process, params)
    report = probe.probe_checkpoint(tmp_path, write=True)
    stored = checkpoints.read_record(path)["probe"]
    assert stored == json.loads(json.dumps(report.to_dict()))
    labels = list(probe.default_hook_sets(build_model(
        checkpoints.read_record(path)["model_config"]), process))
    kinds = [(r["label"], r["kind"]) for r in stored["rows"]]
    assert kinds == [(label, kind) for label in labels
                     for kind in ("trained", "shuffled", "untrained")] + [
        ("token history + position", "input only")]
    again = probe.probe_checkpoint(path)                 # deterministic given the seeds
    assert again.to_dict() == stored
    assert "tiny-" + process in again.table()
    one = probe.probe_checkpoint(path, hook=["hook_embed", "blocks.0.hook_resid_mid"],
                                 controls=False)
    assert [r.label for r in one.rows] == ["hook_embed + blocks.0.hook_resid_mid"]
    assert one.rows[0].result.n_features == 16


def _close(a, b, path=""):
    """Recursive comparison of two probe records: numbers to 1e-4 relative (or 1e-6 abs)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-6), path
    else:
        assert a == b, path


SHIPPED = checkpoints.available()


@pytest.mark.skipif(not SHIPPED, reason="no checkpoints shipped yet in "
                                        "beliefcourse/checkpoints/data")
@pytest.mark.parametrize("controls", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_reproduces_its_probe_record(name, controls):
    """Re-probe the final shipped checkpoint; the trained rows (and, slow, all rows) match."""
    stored = checkpoints.record(name)["probe"]
    if stored is None:
        pytest.skip(f"checkpoint {name!r} has no probe record yet: run "
                    f"`python -m beliefcourse probe {name} --write`")
    meta = stored["meta"]
    report = probe.probe_checkpoint(name, controls=controls,
                                    train_fraction=meta["train_fraction"], seed=meta["seed"],
                                    init_seed=meta["init_seed"]).to_dict()
    if controls:
        _close(report, stored)
    else:
        _close(report["rows"], [r for r in stored["rows"] if r["kind"] == "trained"])
