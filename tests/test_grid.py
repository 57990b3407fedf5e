"""Chapter 07's grid: names, the theory at a grid point, and one shipped model measured."""

import numpy as np
import pytest

from beliefcourse import checkpoints, grid
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
    """The README's grid rows come from the records: re-measuring reproduces them exactly."""
    stored = checkpoints.record(name)["mechanism"]
    row = grid.analyse_shipped(name, n_sequences=stored["n_sequences"]).row()
    assert {**row, "n_sequences": stored["n_sequences"]} == stored
