"""beliefcourse.train: configs, learning, determinism, checkpoints during training, resume."""

import json

import numpy as np
import pytest
import torch

from beliefcourse import checkpoints
from beliefcourse.model import TransformerConfig
from beliefcourse.train import PRESETS, TrainConfig, lr_factor, train

TINY_MODEL = TransformerConfig(n_layers=1, d_model=16, n_heads=1, d_head=8, d_mlp=32, n_ctx=6,
                               d_vocab=2)


def tiny(**changes) -> TrainConfig:
    base = dict(name="test", process="golden_mean", process_params={"p": 0.5}, model=TINY_MODEL,
                lr=1e-2, batch_size=32, n_tokens=32 * 6 * 60, warmup_steps=5, eval_every=20,
                n_checkpoints=3, first_checkpoint_tokens=32 * 6 * 5, seed=0)
    base.update(changes)
    return TrainConfig(**base)


def strip_wall(history):
    return [{k: v for k, v in h.items() if k != "wall_seconds"} for h in history]


def test_config_json_round_trip_and_validation():
    cfg = tiny(targets="sampled", schedule="constant", betas=(0.8, 0.95))
    again = TrainConfig.from_json(cfg.to_json())
    assert again == cfg and again.to_dict() == cfg.to_dict()
    for preset in PRESETS.values():
        assert TrainConfig.from_dict(json.loads(preset.to_json())) == preset
    with pytest.raises(ValueError, match="optimizer"):
        tiny(optimizer="adam")
    with pytest.raises(ValueError, match="d_vocab"):
        tiny(process="mess3", process_params={"x": 0.1})
    with pytest.raises(ValueError, match="less than one step"):
        tiny(n_tokens=10)
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({"learning_rate": 1.0})


def test_schedule_and_checkpoint_steps():
    cfg = tiny(n_tokens=32 * 6 * 1000, warmup_steps=10, n_checkpoints=5)
    assert lr_factor(cfg, 0) == pytest.approx(0.1)
    assert lr_factor(cfg, 10) == pytest.approx(1.0)
    assert lr_factor(cfg, 505) == pytest.approx(0.5)
    assert lr_factor(cfg, 999) == pytest.approx(0.0, abs=1e-4)
    assert lr_factor(tiny(schedule="constant"), 50) == 1.0
    steps = cfg.checkpoint_steps()
    assert steps[0] == 0 and steps[1] == 5 and steps[-1] == 1000 and len(steps) == 6
    ratios = np.diff(np.log(steps[1:]))
    assert np.allclose(ratios, ratios[0], atol=0.1)


@pytest.mark.parametrize("targets", ["expected", "sampled"])
def test_loss_falls_toward_optimum(targets):
    result = train(tiny(targets=targets, n_tokens=32 * 6 * 150), progress=False)
    first, last = result.history[0], result.history[-1]
    assert first["step"] == 0 and last["step"] == 150
    assert last["relative_loss"] < 1.01 < 1.2 < first["relative_loss"]
    assert len(last["relative_loss_per_position"]) == 6


def test_same_seed_same_numbers():
    a = train(tiny(), progress=False)
    b = train(tiny(), progress=False)
    assert strip_wall(a.history) == strip_wall(b.history)
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    c = train(tiny(seed=1), progress=False)
    assert strip_wall(c.history) != strip_wall(a.history)


def test_checkpoints_and_records(tmp_path):
    cfg = tiny()
    result = train(cfg, out_dir=tmp_path, progress=False, command="pytest")
    found = checkpoints.list_checkpoints(tmp_path)
    tokens = [s * cfg.tokens_per_step for s in cfg.checkpoint_steps()]
    assert [p.name for p in found] == [f"tokens_{t:09d}.pt" for t in tokens]
    assert result.checkpoints == found
    assert not (tmp_path / "resume.ckpt").exists()
    model, rec = checkpoints.load_file(found[-1])
    for p, q in zip(model.parameters(), result.model.parameters()):
        assert torch.equal(p, q)
    assert rec["tokens_seen"] == tokens[-1] and rec["command"] == "pytest"
    assert rec["train_config"] == cfg.to_dict() and rec["probe"] is None
    assert rec["relative_loss"] == pytest.approx(np.mean(rec["relative_loss_per_position"]))
    assert rec["history"]["tokens"][0] == 0 and rec["history"]["tokens"][-1] == tokens[-1]
    for key in ("optimal_loss", "val_loss", "torch_version", "num_threads", "wall_seconds",
                "beliefcourse_version", "model_config", "seed"):
        assert key in rec


def test_resume_continues_identically(tmp_path):
    cfg = tiny()
    full = train(cfg, progress=False)

    def stop_after_40(entry, model):
        return entry["step"] >= 40

    part = train(cfg, out_dir=tmp_path, progress=False, callback=stop_after_40)
    assert part.history[-1]["step"] == 40 and (tmp_path / "resume.ckpt").exists()
    resumed = train(cfg, out_dir=tmp_path, resume=True, progress=False)
    assert strip_wall(resumed.history) == strip_wall(full.history)
    for p, q in zip(resumed.model.parameters(), full.model.parameters()):
        assert torch.equal(p, q)
    assert not (tmp_path / "resume.ckpt").exists()
    # resuming a finished run loads its final checkpoint instead of training again
    again = train(cfg, out_dir=tmp_path, resume=True, progress=False)
    assert again.history[-1]["relative_loss"] == full.history[-1]["relative_loss"]
    with pytest.raises(ValueError, match="different TrainConfig"):
        train(cfg.replace(lr=0.5), out_dir=tmp_path, resume=True, progress=False)


def test_fresh_run_refuses_a_used_directory(tmp_path):
    train(tiny(n_tokens=32 * 6 * 10), out_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="already holds checkpoints"):
        train(tiny(n_tokens=32 * 6 * 10), out_dir=tmp_path, progress=False)
