"""beliefcourse.checkpoints: round trip, clear errors, shipped checkpoints, and the CLI."""

import importlib.util
import json

import numpy as np
import pytest
import torch

from beliefcourse import checkpoints, processes
from beliefcourse.__main__ import main
from beliefcourse.data import ExactData
from beliefcourse.model import TransformerConfig, build_model

CFG = TransformerConfig(n_layers=1, d_model=8, n_heads=1, d_head=4, d_mlp=16, n_ctx=4)


def saved(tmp_path, cfg=CFG):
    model = build_model(cfg, seed=0)
    path = checkpoints.save(checkpoints.checkpoint_path(tmp_path, 1234), model,
                            {"model_config": cfg.to_dict(), "tokens_seen": 1234})
    return model, path


def test_round_trip(tmp_path):
    model, path = saved(tmp_path)
    assert path.name == "tokens_000001234.pt" and path.with_suffix(".json").is_file()
    loaded, rec = checkpoints.load_file(path)
    assert rec["tokens_seen"] == 1234 and not loaded.training
    x = torch.randint(0, 3, (5, 4))
    assert torch.equal(loaded(x), model(x))
    assert checkpoints.resolve(tmp_path) == path
    assert checkpoints.resolve(tmp_path, 1234) == path
    rec = checkpoints.update_record(path, {"probe": {"mse": 0.5}})
    assert checkpoints.read_record(path)["probe"] == {"mse": 0.5} and rec["tokens_seen"] == 1234


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        checkpoints.load_file(tmp_path / "tokens_000000001.pt")
    _, path = saved(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match="record"):
        checkpoints.load_file(path)
    with pytest.raises(FileNotFoundError):
        checkpoints.resolve(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="available"):
        checkpoints.load("no-such-model")


def test_corrupted_files(tmp_path):
    _, path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted"):
        checkpoints.load_file(path)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupted"):
        checkpoints.load_file(path)
    _, path = saved(tmp_path)
    path.with_suffix(".json").write_text("{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        checkpoints.load_file(path)


def test_state_dict_that_does_not_match_the_record(tmp_path):
    _, path = saved(tmp_path)
    rec = json.loads(path.with_suffix(".json").read_text())
    rec["model_config"]["d_model"] = 12
    path.with_suffix(".json").write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="does not match"):
        checkpoints.load_file(path)


def test_cli_train_list_and_probe(tmp_path, capsys, monkeypatch):
    from beliefcourse.train import PRESETS, TrainConfig

    quick = TrainConfig(name="quick", process="golden_mean", process_params={"p": 0.5},
                        model=TransformerConfig(n_layers=1, d_model=8, d_head=4, d_mlp=16,
                                                n_ctx=5, d_vocab=2),
                        batch_size=16, n_tokens=16 * 5 * 30, n_checkpoints=2, eval_every=0,
                        first_checkpoint_tokens=400)
    monkeypatch.setitem(PRESETS, "quick", quick)
    out = tmp_path / "quick"
    assert main(["train", "quick", "--out", str(out), "--tokens", "1600", "--no-progress"]) == 0
    found = checkpoints.list_checkpoints(out)
    assert len(found) == 3 and "relative loss" in capsys.readouterr().out
    rec = checkpoints.read_record(found[-1])
    assert rec["command"] == (f"python -m beliefcourse train quick --out {out} "
                              "--tokens 1600 --no-progress")
    assert rec["preset"] == "quick" and rec["tokens_seen"] == 1600
    assert main(["list"]) == 0
    assert main(["train", "quick", "--out", str(out), "--device", "tpu"]) == 2
    assert "available" in capsys.readouterr().err
    if importlib.util.find_spec("beliefcourse.probing") is not None:
        assert main(["probe", str(found[-1]), "--write"]) == 0
        assert checkpoints.read_record(found[-1])["probe"] is not None


# ---------------------------------------------------------------------------- shipped
def test_shipped_checkpoints_exist_and_fit_the_budget():
    assert "mess3" in checkpoints.available()
    total = sum(p.stat().st_size for p in checkpoints.DATA_DIR.rglob("*") if p.is_file())
    assert total <= 24 * 2**20
    assert not list(checkpoints.DATA_DIR.rglob("resume.ckpt"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mess3", "rrxor"])
def test_shipped_final_checkpoint(name):
    if name not in checkpoints.available():
        pytest.skip(f"{name} checkpoints not shipped")
    counts = checkpoints.tokens(name)
    assert counts == sorted(counts) and len(counts) >= 3
    model, rec = checkpoints.load(name)
    assert rec == checkpoints.record(name) and rec["tokens_seen"] == counts[-1]
    assert rec["command"].startswith(f"python -m beliefcourse train {name}")
    limit = 1.001 if name == "mess3" else 1.01
    assert rec["relative_loss"] <= limit and rec["probe"] is not None
    # the shipped weights reproduce the recorded validation loss
    data = ExactData(processes.get(rec["process"], **rec["process_params"]),
                     model.cfg.n_ctx)
    np.testing.assert_allclose(data.exact_loss(model), rec["val_loss_per_position"],
                               rtol=1e-5)
    early, _ = checkpoints.load(name, tokens=counts[0])
    assert early.cfg == model.cfg
