"""Train a model on next-token prediction for an HMM, with exact validation and checkpoints.

::

    from beliefcourse.train import PRESETS, train
    result = train(PRESETS["mess3-tiny"], out_dir="runs/tiny")
    result.history[-1]["relative_loss"]        # 1.0 would be optimal

Each step draws a fresh batch from :class:`beliefcourse.data.ExactData` (there is no fixed
training set: every batch is new data from the process). Every ``eval_every`` steps, and at
each checkpoint, the exact expected loss per position is computed over all contexts and
divided by the myopic entropy to give the relative loss (1 is the Bayes-optimal predictor).

Checkpoints are saved at ``n_checkpoints`` log-spaced token counts (plus the untrained model
if ``save_initial``) with :func:`beliefcourse.checkpoints.save`. The optimizer and random
state go to a separate ``resume.ckpt`` in the same directory (never shipped; removed when
the run finishes), from which ``train(..., resume=True)`` continues bit for bit.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import __version__, processes
from . import checkpoints as ckpt
from .data import TARGETS, ExactData, MixtureData
from .devices import pick_device
from .hmm import _positive_int
from .model import GRUConfig, LSTMConfig, TransformerConfig, build_model, config_from_dict

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("constant", "cosine")
RESUME_FILE = "resume.ckpt"
MIXTURE_PROCESSES = ("mixture", "mixture-grid")
"""Process names whose ``process_params`` describe a :class:`~beliefcourse.mixture.Mixture`."""


@dataclass
class TrainConfig:
    """Everything that determines a training run (JSON round-trip: ``to_dict``/``from_dict``).

    ``n_tokens`` counts training tokens, ``steps * batch_size * model.n_ctx``. The learning
    rate warms up linearly over ``warmup_steps``, then stays constant (``"constant"``) or
    follows a cosine from ``lr`` down to ``lr * final_lr_fraction`` (``"cosine"``).
    ``targets`` is ``"sampled"`` (next tokens, the paper) or ``"expected"`` (exact next-token
    distributions; see :mod:`beliefcourse.data`). Checkpoints: ``n_checkpoints`` log-spaced
    token counts from ``first_checkpoint_tokens`` to the end, plus step 0 if
    ``save_initial``. ``eval_every`` is in steps (0: only at checkpoints and the end).
    """

    name: str = "custom"
    process: str = "mess3"
    process_params: dict = field(default_factory=lambda: {"x": 0.05, "alpha": 0.85})
    model: TransformerConfig | GRUConfig | LSTMConfig = field(default_factory=TransformerConfig)
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 512
    n_tokens: int = 10_000_000
    schedule: str = "cosine"
    warmup_steps: int = 100
    final_lr_fraction: float = 0.0
    targets: str = "expected"
    seed: int = 0
    n_checkpoints: int = 8
    first_checkpoint_tokens: int = 10_000
    save_initial: bool = True
    eval_every: int = 500

    def __post_init__(self):
        if isinstance(self.model, dict):
            self.model = config_from_dict(self.model)
        self.betas = tuple(self.betas)
        for name, allowed in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                              ("targets", TARGETS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("batch_size", "n_tokens", "n_checkpoints", "first_checkpoint_tokens",
                     "warmup_steps", "eval_every", "seed"):
            setattr(self, name, _positive_int(getattr(self, name), name, allow_zero=name in (
                "warmup_steps", "eval_every", "seed")))
        if not (self.lr > 0 and self.weight_decay >= 0 and 0 <= self.final_lr_fraction <= 1):
            raise ValueError("need lr > 0, weight_decay >= 0 and 0 <= final_lr_fraction <= 1; "
                             f"got {self.lr}, {self.weight_decay}, {self.final_lr_fraction}")
        if self.n_steps < 1:
            raise ValueError(f"n_tokens = {self.n_tokens:,} is less than one step "
                             f"({self.tokens_per_step:,} tokens = batch_size x n_ctx)")
        n_tokens = self.hmm().n_tokens
        if self.model.d_vocab != n_tokens:
            raise ValueError(f"model d_vocab = {self.model.d_vocab} but process "
                             f"{self.process!r} has {n_tokens} tokens")

    def hmm(self):
        """The training process, ``processes.get(process, **process_params)`` (for a mixture
        process, the block HMM of :meth:`mixture`)."""
        mix = self.mixture()
        if mix is not None:
            return mix.hmm
        return processes.get(self.process, **self.process_params)

    def mixture(self):
        """The :class:`~beliefcourse.mixture.Mixture` when ``process`` is one of
        ``MIXTURE_PROCESSES`` (see :func:`make_mixture`), else ``None``."""
        if self.process not in MIXTURE_PROCESSES:
            return None
        return make_mixture(self.process, self.process_params)

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.model.n_ctx

    @property
    def n_steps(self) -> int:
        return self.n_tokens // self.tokens_per_step

    def checkpoint_steps(self) -> list[int]:
        """Steps at which checkpoints are saved: log-spaced, the last one is ``n_steps``."""
        first = min(self.n_steps, max(1.0, self.first_checkpoint_tokens / self.tokens_per_step))
        raw = np.geomspace(first, self.n_steps, self.n_checkpoints)[:-1]
        steps = sorted({max(1, round(s)) for s in raw} | {self.n_steps})
        return ([0] if self.save_initial else []) + steps

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - valid)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown}; valid: {sorted(valid)}")
        return cls(**copy.deepcopy(d))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return TrainConfig.from_dict({**self.to_dict(), **changes})


@dataclass
class TrainResult:
    """What :func:`train` returns.

    ``history`` has one dict per evaluation: ``step``, ``tokens``, ``val_loss`` (mean, nats),
    ``relative_loss`` (mean), their per-position lists, ``train_loss`` (mean since the last
    evaluation), ``lr`` and ``wall_seconds``. ``record`` is the final JSON record.
    """

    model: torch.nn.Module
    history: list[dict]
    record: dict
    checkpoints: list[Path]


def lr_factor(config: TrainConfig, step: int) -> float:
    """Learning-rate multiplier for the update that takes ``step`` to ``step + 1``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return 1.0
    span = max(1, config.n_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    low = config.final_lr_fraction
    return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(config: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """AdamW (``lr``, ``betas``, ``weight_decay``) or plain SGD (``lr``, ``weight_decay``)."""
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas,
                                 weight_decay=config.weight_decay)
    return torch.optim.SGD(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def batch_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy in nats over batch and positions.

    ``logits (B, L, X)``; ``targets`` int64 ``(B, L)`` (sampled tokens) or float
    ``(B, L, X)`` (next-token distributions).
    """
    if targets.is_floating_point():
        return -(targets * logits.log_softmax(-1)).sum(-1).mean()
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _evaluate(data: ExactData, model, step: int, config: TrainConfig, train_loss: float | None,
              lr: float, wall: float) -> dict:
    loss = (data.held_out_loss(model) if isinstance(data, MixtureData)
            else data.exact_loss(model))
    rel = data.relative_loss(loss)
    return {"step": step, "tokens": step * config.tokens_per_step,
            "val_loss": float(loss.mean()), "relative_loss": float(rel.mean()),
            "val_loss_per_position": [float(v) for v in loss],
            "relative_loss_per_position": [float(v) for v in rel],
            "train_loss": train_loss, "lr": lr, "wall_seconds": wall}


def make_record(config: TrainConfig, data: ExactData, history: list[dict],
                command: str | None) -> dict:
    """The JSON record saved beside a checkpoint (state after ``history[-1]``)."""
    last = history[-1]
    record = {
        "name": config.name,
        "preset": config.name if config.name in PRESETS else None,
        "process": config.process,
        "process_params": config.process_params,
        "model_config": config.model.to_dict(),
        "train_config": config.to_dict(),
        "seed": config.seed,
        "step": last["step"],
        "tokens_seen": last["tokens"],
        "val_loss": last["val_loss"],
        "val_loss_per_position": last["val_loss_per_position"],
        "optimal_loss": [float(v) for v in data.optimal_loss],
        "relative_loss": last["relative_loss"],
        "relative_loss_per_position": last["relative_loss_per_position"],
        "history": {key: [h[key] for h in history]
                    for key in ("tokens", "val_loss", "relative_loss")},
        "probe": None,
        "beliefcourse_version": __version__,
        "command": command,
        "wall_seconds": last["wall_seconds"],
        "torch_version": torch.__version__,
        "num_threads": torch.get_num_threads(),
    }
    if isinstance(data, MixtureData):
        record["evaluation"] = mixture_evaluation(data)
    return record


def mixture_evaluation(data: MixtureData) -> dict:
    """How a mixture run was validated (stored in its record under ``"evaluation"``):
    held-out sampled sequences against the exact Bayes predictor, with per-position
    standard errors (``optimal_loss`` is then the held-out Bayes loss, not an exact one)."""
    ev = data.last_eval or {}

    def floats(a):
        return None if a is None else [float(v) for v in a]

    return {"method": "held-out sampled sequences, exact Bayes filter along each "
                      "(Rao-Blackwellised over the next token and the component)",
            "n_sequences": data.n_eval, "seed": MIXTURE_EVAL_SEED,
            "optimal_se": floats(data.optimal_se),
            "oracle_loss": floats(data.oracle_loss), "oracle_se": floats(data.oracle_se),
            "val_loss_se": floats(ev.get("loss_se")),
            "excess": floats(ev.get("excess")), "excess_se": floats(ev.get("excess_se"))}


def _load_resume(path: Path, config: TrainConfig) -> dict:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["train_config"] != config.to_dict():
        saved = state["train_config"]
        diff = {k: (saved.get(k), v) for k, v in config.to_dict().items() if saved.get(k) != v}
        raise ValueError(f"cannot resume from {path}: it was made with a different "
                         f"TrainConfig (field: (saved, now)) {diff}; use the same config or "
                         "a fresh out_dir")
    return state


def _finished_run(final: Path, config: TrainConfig, device) -> TrainResult:
    """The result of a run that already completed, from its final checkpoint."""
    model, record = ckpt.load_file(final, device=device)
    if record["train_config"] != config.to_dict():
        raise ValueError(f"{final.parent} holds a finished run with a different TrainConfig; "
                         "use a fresh out_dir")
    compact = record["history"]
    history = [dict(zip(compact, values)) for values in zip(*compact.values())]
    return TrainResult(model=model, history=history, record=record,
                       checkpoints=ckpt.list_checkpoints(final.parent))


def train(config: TrainConfig, out_dir=None, resume: bool = False, device=None,
          progress: bool = True, callback: Callable[[dict, torch.nn.Module], bool | None]
          | None = None, command: str | None = None) -> TrainResult:
    """Train ``build_model(config.model, seed=config.seed)`` as ``config`` says.

    Parameters
    ----------
    config : TrainConfig
    out_dir : path, optional
        Where checkpoints go (``tokens_*.pt`` + ``.json``, and ``resume.ckpt`` while the run
        is unfinished). ``None``: nothing is written.
    resume : bool
        Continue from ``out_dir/resume.ckpt`` (the latest checkpoint) with the same config;
        the result is identical to an uninterrupted run. If the run already finished, its
        final checkpoint is loaded and returned (``history`` then holds only ``tokens``,
        ``val_loss`` and ``relative_loss``); with neither, training starts from scratch.
    device : str or torch.device, optional
        Default: CUDA, then MPS, then CPU (:func:`beliefcourse.devices.pick_device`).
    progress : bool
        Show a ``tqdm.auto`` bar (train loss and last relative loss in its postfix).
    callback : callable, optional
        ``callback(entry, model)`` after every evaluation (``entry`` as in
        ``TrainResult.history``); returning ``True`` stops training there.
    command : str, optional
        The command line that started the run, stored in the records.

    Same config, machine and thread count give identical numbers.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    device = pick_device(device)
    out = Path(out_dir) if out_dir is not None else None
    resume_path = out / RESUME_FILE if out is not None else None
    if resume and out is None:
        raise ValueError("resume=True needs out_dir (where the run's checkpoints are)")

    if resume and not resume_path.is_file():
        final = ckpt.checkpoint_path(out, config.n_steps * config.tokens_per_step)
        if final.is_file():
            return _finished_run(final, config, device)
    if not resume and out is not None and (ckpt.list_checkpoints(out) or resume_path.exists()):
        raise ValueError(f"{out} already holds checkpoints; pass resume=True (--resume) to "
                         "continue that run, or delete them / choose an empty directory")

    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    mix = config.mixture()
    data = (MixtureData(mix, config.model.n_ctx, n_eval=MIXTURE_EVAL_SEQUENCES,
                        eval_seed=MIXTURE_EVAL_SEED) if mix is not None
            else ExactData(config.hmm(), config.model.n_ctx))
    model = build_model(config.model, seed=config.seed).to(device)
    optimizer = make_optimizer(config, model)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(config, s))
    generator = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    saved: list[Path] = []
    start, wall_before = 0, 0.0
    if resume and resume_path.is_file():
        state = _load_resume(resume_path, config)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        history, start, wall_before = state["history"], state["step"], state["wall_seconds"]
        saved = ckpt.list_checkpoints(out)

    ckpt_steps = set(config.checkpoint_steps())
    t0 = time.perf_counter()
    loss_sum, loss_count = 0.0, 0

    def evaluate_and_save(step: int) -> bool:
        nonlocal loss_sum, loss_count
        train_loss = loss_sum / loss_count if loss_count else None
        entry = _evaluate(data, model, step, config, train_loss,
                          optimizer.param_groups[0]["lr"],
                          wall_before + time.perf_counter() - t0)
        history.append(entry)
        loss_sum, loss_count = 0.0, 0
        if out is not None and step in ckpt_steps:
            record = make_record(config, data, history, command)
            saved.append(ckpt.save(ckpt.checkpoint_path(out, entry["tokens"]), model, record))
            if step < config.n_steps:
                torch.save({"train_config": config.to_dict(), "step": step,
                            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(),
                            "generator": generator.get_state(), "history": history,
                            "wall_seconds": entry["wall_seconds"]}, resume_path)
        return bool(callback(entry, model)) if callback is not None else False

    bar = tqdm(total=config.n_steps, initial=start, disable=not progress, unit="step",
               desc=config.name)
    stopped = False
    if start == 0:
        stopped = evaluate_and_save(0)
    model.train()
    step = start
    while step < config.n_steps and not stopped:
        inputs, targets = data.sample_batch(config.batch_size, generator, config.targets,
                                            device=device)
        loss = batch_loss(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        step += 1
        loss_sum += loss.item()
        loss_count += 1
        bar.update(1)
        if step in ckpt_steps or (config.eval_every and step % config.eval_every == 0) \
                or step == config.n_steps:
            stopped = evaluate_and_save(step)
            bar.set_postfix(loss=f"{history[-1]['train_loss']:.4f}",
                            rel=f"{history[-1]['relative_loss']:.5f}")
    bar.close()
    if out is not None and step == config.n_steps and resume_path.is_file():
        resume_path.unlink()
    return TrainResult(model=model.eval(), history=history,
                       record=make_record(config, data, history, command), checkpoints=saved)


# ---------------------------------------------------------------------------- presets
_MESS3 = {"process": "mess3", "process_params": {"x": 0.05, "alpha": 0.85}}
_RRXOR = {"process": "rrxor", "process_params": {"p1": 0.5, "p2": 0.5}}
_RNN = {"lr": 3e-3, "batch_size": 512, "n_tokens": 10_240_000, "warmup_steps": 100, "seed": 42,
        "n_checkpoints": 6, "first_checkpoint_tokens": 20_000, "eval_every": 250}


def _preset(name: str, **kw) -> TrainConfig:
    return TrainConfig(name=name, **kw)


PRESETS: dict[str, TrainConfig] = {
    # The paper's Mess3 architecture (4 layers, d_model 64, 1 head x 8, d_mlp 256, n_ctx 10),
    # trained with AdamW, exact next-token distributions as targets and a cosine schedule.
    # Chosen by experiment (seed 0, 1 thread): lr 1e-3 -> probe MSE 7.3e-4, 3e-3 -> 5.3e-4,
    # 1e-2 -> 2.1e-4 (batch 512, 20 M tokens; relative loss 1.00005 .. 1.00001). Batch 256 at
    # lr 1e-2 gave a lower loss sooner but a worse probe (3.7e-4 at 10 M tokens).
    "mess3": _preset("mess3", **_MESS3, model=TransformerConfig(), lr=1e-2, batch_size=512,
                     n_tokens=20_480_000, warmup_steps=100, seed=42, eval_every=500),
    # The paper's own recipe: SGD, lr 0.01, batch 64, sampled next tokens, constant rate,
    # 629.2 M tokens (about 983k steps; cut it short with --tokens).
    "mess3-paper-sgd": _preset("mess3-paper-sgd", **_MESS3, model=TransformerConfig(),
                               optimizer="sgd", lr=0.01, batch_size=64,
                               n_tokens=629_209_600, schedule="constant", warmup_steps=0,
                               targets="sampled", seed=42, eval_every=10_000),
    # The paper's RRXOR architecture: d_model 128, 4 heads x 16, d_mlp 512, vocabulary 2.
    # lr 3e-3 reaches relative loss 1.00001 by 4 M tokens.
    "rrxor": _preset("rrxor", process="rrxor", process_params={"p1": 0.5, "p2": 0.5},
                     model=TransformerConfig(d_model=128, n_heads=4, d_head=16, d_mlp=512,
                                             d_vocab=2),
                     lr=3e-3, batch_size=512, n_tokens=5_120_000, warmup_steps=100, seed=42,
                     n_checkpoints=3, first_checkpoint_tokens=200_000, save_initial=False,
                     eval_every=250),
    # Recurrent baselines for chapter 06, on the same data as "mess3" and "rrxor": two stacked
    # GRU or LSTM layers, widths chosen so that GRU and LSTM have nearly equal parameter
    # counts (Mess3: 112,515 and 114,915, against the transformer's 143,075; RRXOR: 198,914
    # and 203,170, against 663,298). Six log-spaced checkpoints plus the untrained model.
    # GRUs train on 10.24 M tokens, LSTMs (slower per step on a CPU) on 5.12 M. The shipped
    # GRU checkpoints stop at 2,938,880 tokens (relative loss 1.00023 / 1.00011): the runs
    # were cut there on a shared CPU; the same command reproduces them up to that point.
    "mess3-gru": _preset("mess3-gru", **_MESS3, model=GRUConfig(n_layers=2, d_hidden=96),
                         **_RNN),
    "mess3-lstm": _preset("mess3-lstm", **_MESS3, model=LSTMConfig(n_layers=2, d_hidden=84),
                          **{**_RNN, "n_tokens": 5_120_000}),
    "rrxor-gru": _preset("rrxor-gru", **_RRXOR,
                         model=GRUConfig(n_layers=2, d_hidden=128, d_vocab=2), **_RNN),
    "rrxor-lstm": _preset("rrxor-lstm", **_RRXOR,
                          model=LSTMConfig(n_layers=2, d_hidden=112, d_vocab=2),
                          **{**_RNN, "n_tokens": 5_120_000}),
    # Small and quick (about 20 s on one core): for live notebook runs.
    "mess3-tiny": _preset("mess3-tiny", **_MESS3,
                          model=TransformerConfig(n_layers=2, d_model=32, n_heads=1, d_head=8,
                                                  d_mlp=64),
                          lr=3e-3, batch_size=256, n_tokens=2_560_000, warmup_steps=50, seed=0,
                          n_checkpoints=4, eval_every=0),
}


# ---------------------------------------------------------------------------- chapter 07 grid
GRID_POINTS = ((0.15, 0.2), (0.15, 0.6), (0.5, 0.2), (0.5, 0.6))
"""Paper (b)'s Mess3 ``(x, alpha)`` grid; chapter 07 adds (0.05, 0.85) and a control (0.25, 0.6)."""


def grid_preset_name(x: float, alpha: float, n_heads: int) -> str:
    """``"grid-x15-a60-h1"`` for Mess3(x=0.15, alpha=0.6) with one head."""
    return f"grid-x{round(100 * x):02d}-a{round(100 * alpha):02d}-h{n_heads}"


def grid_preset(x: float, alpha: float, n_heads: int) -> TrainConfig:
    """One-layer transformer (attention + MLP, paper b's architecture, narrowed for a CPU) on
    Mess3(x, alpha): d_model 32, ``n_heads`` heads of 16, d_mlp 128, n_ctx 10; AdamW 3e-3,
    batch 256, exact targets, cosine schedule; only the final checkpoint is saved.
    5.12 M tokens (2,000 steps) reach relative loss ~1.00001, but two heads at x > 1/3 need
    longer to split even and odd distances: 25.6 M tokens (10,000 steps) there.
    """
    long = n_heads > 1 and x > 1 / 3
    return _preset(grid_preset_name(x, alpha, n_heads), process="mess3",
                   process_params={"x": x, "alpha": alpha},
                   model=TransformerConfig(n_layers=1, d_model=32, n_heads=n_heads, d_head=16,
                                           d_mlp=128),
                   lr=3e-3, batch_size=256, n_tokens=25_600_000 if long else 5_120_000,
                   warmup_steps=100, seed=0, n_checkpoints=1, save_initial=False,
                   eval_every=1000)


PRESETS.update({grid_preset_name(x, a, h): grid_preset(x, a, h)
                for x, a, h in [(x, a, h) for x, a in GRID_POINTS for h in (1, 2)]
                + [(0.05, 0.85, 1), (0.25, 0.6, 1)]})


# ---------------------------------------------------------------------------- chapter 08 mixtures
MIXTURE_EVAL_SEQUENCES = 4096
"""Held-out sequences a mixture run is validated on (the same set for every run)."""
MIXTURE_EVAL_SEED = 20_250_518
"""Their seed: a stream no training batch uses (batches take seeds from the run's generator)."""


def make_mixture(process: str, params: dict):
    """The mixture a ``TrainConfig`` names.

    * ``process="mixture"``: ``params = {"components": [{"process": NAME, "params": {..}},
      ..], "weights": [..] or None}``, components built by ``processes.get``;
    * ``process="mixture-grid"``: ``params = {"process": NAME, "fixed": {..}, "parameter":
      P, "low": a, "high": b, "n_grid": n}``, a one-parameter family with a uniform prior on
      ``[a, b]`` as ``n`` grid components (:func:`beliefcourse.mixture.parameter_grid`).
    """
    from . import mixture as mx

    if process not in MIXTURE_PROCESSES:
        raise ValueError(f"mixture process must be one of {MIXTURE_PROCESSES}, got {process!r}")
    params = dict(params)
    try:
        if process == "mixture":
            comps = [processes.get(c["process"], **c.get("params", {}))
                     for c in params["components"]]
            return mx.mixture(comps, params.get("weights"))
        fixed, name, parameter = params.get("fixed", {}), params["process"], params["parameter"]
        mix, _ = mx.parameter_grid(lambda v: processes.get(name, **fixed, **{parameter: v}),
                                   params["low"], params["high"], params["n_grid"])
        return mix
    except KeyError as err:
        raise ValueError(f"{process!r} process_params lack {err}; see make_mixture's "
                         "docstring for the fields") from None


_PAIR = {"process": "mixture",
         "process_params": {"components": [{"process": "mess3",
                                            "params": {"x": 0.05, "alpha": 0.85}},
                                           {"process": "mess3",
                                            "params": {"x": 0.15, "alpha": 0.6}}],
                            "weights": [0.5, 0.5]}}
_FAMILY = {"process": "mixture-grid",
           "process_params": {"process": "mess3", "fixed": {"x": 0.05}, "parameter": "alpha",
                              "low": 0.4, "high": 1.0, "n_grid": 32}}
_MIX_TF = TransformerConfig(n_layers=3, d_model=64, n_heads=2, d_head=16, d_mlp=128, n_ctx=32)
_MIX_GRU = GRUConfig(n_layers=2, d_hidden=64, n_ctx=32)
_MIX_RUN = {"lr": 3e-3, "batch_size": 256, "warmup_steps": 100, "seed": 0, "n_checkpoints": 4,
            "first_checkpoint_tokens": 100_000, "save_initial": True, "eval_every": 250}

PRESETS.update({
    # Chapter 08. (a) Two Mess3 worlds, uniform weights: neither the first token nor (much)
    # the second tells them apart; the in-context gap falls from 0.040 to 0.006 nats by
    # token 33. (b) Mess3(0.05, alpha), alpha uniform on [0.4, 1] as 32 grid components: a
    # one-parameter family whose gap follows (1/2)/t. Both at n_ctx 32, evaluated on 4,096
    # held-out sequences against the exact Bayes filter. 16.4 M tokens (2,000 steps), 8.2 M for
    # the family's transformer; all four reach relative loss <= 1.001 (the records; 1.0012 for
    # the two-world transformer already at 3 M tokens).
    "mix2": _preset("mix2", **_PAIR, model=_MIX_TF, n_tokens=16_384_000, **_MIX_RUN),
    "mix2-gru": _preset("mix2-gru", **_PAIR, model=_MIX_GRU, n_tokens=16_384_000, **_MIX_RUN),
    "mess3-alpha": _preset("mess3-alpha", **_FAMILY, model=_MIX_TF, n_tokens=8_192_000,
                           **_MIX_RUN),
    "mess3-alpha-gru": _preset("mess3-alpha-gru", **_FAMILY, model=_MIX_GRU,
                               n_tokens=16_384_000, **_MIX_RUN),
})
