"""Chapter 07's grid: names, the theory at a grid point, and one shipped model measured."""

import json
import re

import numpy as np
import pytest

from beliefcourse import checkpoints, grid
from beliefcourse.grid import main, sweep
from beliefcourse.train import PRESETS, grid_preset, grid_preset_name


def test_names_round_trip():
    assert grid.parse_name("grid-x15-a60-h2-s1") == {"x": 0.15, "alpha": 0.6, "n_heads": 2,
                                                     "seed": 1}
    assert grid_preset_name(0.05, 0.85, 1) == "grid-x05-a85-h1"
    with pytest.raises(ValueError):
        grid.parse_name("mess3")


def test_presets_are_one_layer_and_longer_for_two_heads_at_negative_zeta():
    for name in ("grid-x15-a60-h1", "grid-x50-a60-h2", "grid-x05-a85-h1", "grid-x25-a60-h1"):
        assert name in PRESETS and PRESETS[name].model.n_layers == 1
    assert grid_preset(0.5, 0.6, 2).n_tokens > grid_preset(0.5, 0.6, 1).n_tokens
    assert grid_preset(0.15, 0.6, 2).n_tokens == grid_preset(0.15, 0.6, 1).n_tokens


def test_shipped_grid_names_are_checkpoints():
    names = grid.grid_names()
    assert "grid-x15-a60-h1-s0" in names
    for name in names:
        rec = checkpoints.record(name)
        info = grid.parse_name(name)
        assert rec["process_params"] == {"x": info["x"], "alpha": info["alpha"]}
        assert rec["model_config"]["n_heads"] == info["n_heads"] and rec["seed"] == info["seed"]
        assert rec["preset"] == name.rsplit("-s", 1)[0]
        assert rec["relative_loss"] < 1.001


def test_theory_at_paper_a_point_separates_zeta_and_r_star():
    t = grid.theory(0.05, 0.85)
    assert t.zeta == pytest.approx(0.85) and t.heads == 1
    assert t.r2_zeta == pytest.approx(0.734, abs=5e-4)
    assert 0.5 < t.rate_star < 0.56 and t.r2_star > t.r2_zeta


def test_analyse_shipped_model():
    rep = grid.analyse_shipped("grid-x15-a60-h1-s0", n_sequences=600)
    assert rep.decomposition_error < 1e-5
    assert len(rep.heads) == 1 and 0.3 < rep.heads[0].fit.rate < 0.7
    assert abs(rep.heads[0].ov_angle - 120) < 5
    assert np.sign(rep.heads[0].orientation) == np.sign(3 * 0.6 - 1)
    assert rep.r2_to_eta_post > rep.r2_to_eta - 0.05
    assert rep.closest_rate() in ("|zeta|", "r*", "r*_norm")
    row = rep.row()
    assert row["model"] == "grid-x15-a60-h1-s0" and "fitted rate" in row


@pytest.mark.parametrize("name", ["grid-x05-a85-h1-s0", "grid-x50-a60-h2-s0",
                                  "grid-x25-a60-h1-s1"])
def test_shipped_record_reproduces_its_mechanism_entry(name):
    """The README's grid rows come from the records: re-measuring reproduces them, up to one
    unit in the last printed digit (another CPU's kernels may round the other way)."""
    stored = checkpoints.record(name)["mechanism"]
    row = grid.analyse_shipped(name, n_sequences=stored["n_sequences"]).row()
    row = {**row, "n_sequences": stored["n_sequences"]}
    assert row.keys() == stored.keys()
    for key, value in stored.items():
        assert _close(row[key], value), (key, row[key], value)


_NUMBER = re.compile(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?")


def _close(a, b) -> bool:
    """Equal, except that each number may differ by one unit in its last printed digit."""
    sa, sb = str(a), str(b)
    na, nb = _NUMBER.findall(sa), _NUMBER.findall(sb)
    if _NUMBER.sub("#", sa) != _NUMBER.sub("#", sb) or len(na) != len(nb):
        return False
    for x, y in zip(na, nb):
        digits = len(y.split(".")[1].split("e")[0]) if "." in y else 0
        if abs(float(x) - float(y)) > 1.01 * 10.0 ** -digits:
            return False
    return True


def test_sampled_contexts_are_distinct_and_split_without_sharing():
    """Repeats are merged into counts, so a held-out split shares no context with the fit."""
    from beliefcourse.probing import split_sequences
    from beliefcourse.processes import mess3

    ctx = grid.sample_contexts(mess3(0.05, 0.85), 1500, seed=0)
    assert ctx.counts.sum() == 1500 and len(ctx.tokens) < 1500
    assert len(np.unique(ctx.tokens, axis=0)) == len(ctx.tokens)
    fit, test = split_sequences(len(ctx.tokens), 0.2, seed=0)
    fit_rows = {tuple(t) for t in ctx.tokens[fit]}
    assert not any(tuple(t) in fit_rows for t in ctx.tokens[test])
    assert ctx.beliefs.shape == (len(ctx.tokens), 10, 3)


def test_parity_split_labels():
    from beliefcourse.mechanism import DecayFit

    fit = DecayFit(0.5, 0.4, 0.6, 10, None)

    def head(mean, low, high):
        return grid.HeadReport(fit=fit, odd_share=mean, odd_share_low=low, odd_share_high=high,
                               ov_angle=120, angle_deviation=0, angle_deviation_belief=0,
                               orientation=1, attention_last=np.zeros(10))

    def label(*heads):
        rep = grid.ModelReport(name="", x=0.5, alpha=0.6, n_heads=len(heads), seed=0,
                               relative_loss=1, theory=grid.theory(0.5, 0.6), heads=list(heads),
                               decomposition_error=0, pc3_variance=0, pc3_variance_centred=0,
                               r2_to_r=0, r2_to_r_star=0, r2_to_eta=0, r2_to_eta_post=0)
        return rep.parity_split()

    assert label(head(0.9, 0.85, 0.95), head(0.1, 0.05, 0.2)) == "split at every query"
    assert label(head(0.9, 0.85, 0.95), head(0.2, 0.05, 0.4)) == "split"
    assert label(head(0.9, 0.85, 0.95), head(0.3, 0.1, 0.5)) == "odd head only"
    assert label(head(0.5, 0.4, 0.6), head(0.5, 0.4, 0.6)) == "none"


def test_decomposition_error_is_printed_as_a_bound():
    assert grid._bound(8.9e-16) == grid._bound(6.7e-16) == "< 1e-12"
    assert grid._bound(3e-7) == "< 1e-06" and grid._bound(3e-5) == "3.0e-05"


# ---------------------------------------------------------------------------- the train command
# ``python -m beliefcourse.grid train``: seeds, names, idempotent runs, joblib processes and a
# Dask cluster (tiny token budgets: this tests the plumbing, not the models).
TINY = 2560                                   # one step of 256 contexts x 10 tokens


def test_parse_seeds():
    assert sweep.parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    assert sweep.parse_seeds(None) is None
    with pytest.raises(ValueError, match="seeds"):
        sweep.parse_seeds("a-b")


def test_expand_names():
    assert sweep.expand(["grid-x50-a60-h2"], [2, 3]) == ["grid-x50-a60-h2-s2", "grid-x50-a60-h2-s3"]
    assert sweep.expand(["x15-a60-h1-s4"]) == ["grid-x15-a60-h1-s4"]
    assert sweep.expand(["grid-x15-a60-h1"]) == ["grid-x15-a60-h1-s0", "grid-x15-a60-h1-s1"]
    assert len(sweep.expand()) == 20
    with pytest.raises(ValueError, match="not a grid preset"):
        sweep.expand(["mess3"])


def test_train_writes_skips_and_refuses_a_different_config(tmp_path, capsys):
    argv = ["train", "grid-x15-a60-h1-s0", "--tokens", str(TINY), "--out", str(tmp_path)]
    assert main(argv) == 0
    pt = checkpoints.list_checkpoints(tmp_path / "grid-x15-a60-h1-s0")
    assert [p.name for p in pt] == [f"tokens_{TINY:09d}.pt"]
    rec = checkpoints.read_record(pt[0])
    assert rec["train_config"]["seed"] == 0 and rec["train_config"]["n_tokens"] == TINY
    assert rec["command"].startswith("python -m beliefcourse.grid train grid-x15-a60-h1-s0")
    assert main(argv) == 0                                          # idempotent
    assert "skip  grid-x15-a60-h1-s0" in capsys.readouterr().out
    js = pt[0].with_suffix(".json")
    rec["train_config"]["lr"] = 1.0
    js.write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="different training configuration"):
        main(argv)


def test_local_processes_match_a_sequential_run(tmp_path):
    """Two loky workers, one thread each, give the weights a sequential run gives."""
    import torch

    names = ["grid-x15-a60-h1-s0", "grid-x15-a60-h1-s1"]
    rep = sweep.run(names, tmp_path / "par", jobs=2, n_tokens=TINY, log=lambda *_: None)
    assert sorted(rep["trained"]) == names
    seq = sweep.train_job(names[1], TINY)
    par = torch.load(tmp_path / "par" / names[1] / f"tokens_{TINY:09d}.pt")
    assert all(torch.equal(seq["state"][k], par[k]) for k in par)


def test_dask_local_cluster(tmp_path):
    """The same command on a dask.distributed cluster started here (joblib's dask backend)."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(["train", "grid-x15-a60-h1-s3", "--tokens", str(TINY), "--out",
                     str(tmp_path), "--scheduler", cluster.scheduler_address]) == 0
    assert checkpoints.list_checkpoints(tmp_path / "grid-x15-a60-h1-s3")


def test_device_cuda(tmp_path):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine: --device cuda is tested only where one is")
    assert main(["train", "grid-x15-a60-h1-s0", "--tokens", str(TINY), "--out", str(tmp_path),
                 "--device", "cuda"]) == 0
    assert checkpoints.list_checkpoints(tmp_path / "grid-x15-a60-h1-s0")


def test_unavailable_device_fails_before_training(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="not available"):
        main(["train", "grid-x15-a60-h1-s0", "--tokens", str(TINY), "--out", str(tmp_path),
              "--device", "cuda"])
