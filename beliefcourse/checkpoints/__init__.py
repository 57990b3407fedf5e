"""Saving and loading trained models, and the checkpoints shipped with the course.

A checkpoint is two files side by side::

    mess3/tokens_000640000.pt     the model's state dict (fp32 tensors only)
    mess3/tokens_000640000.json   its record: configs, losses, history, probe metrics, ...

The ``.pt`` file holds nothing but tensors, so it is read with
``torch.load(..., weights_only=True)``; the model is rebuilt from ``record["model_config"]``.
The number in the name is how many training tokens the model had seen.

Shipped checkpoints live in ``beliefcourse/checkpoints/data/<name>/``::

    from beliefcourse import checkpoints
    checkpoints.available()                       # ['mess3', ...]
    model, record = checkpoints.load("mess3")     # the final one
    checkpoints.tokens("mess3")                   # every saved token count
"""

from __future__ import annotations

import json
import os
import pickle
import re
import zipfile
from pathlib import Path

import torch

DATA_DIR = Path(__file__).resolve().parent / "data"
_NAME = re.compile(r"^tokens_(\d+)\.pt$")

__all__ = ["DATA_DIR", "available", "checkpoint_path", "list_checkpoints", "load",
           "load_file", "read_record", "record", "resolve", "save", "tokens", "update_record"]


def checkpoint_path(directory: str | os.PathLike, tokens_seen: int) -> Path:
    """``directory / f"tokens_{tokens_seen:09d}.pt"``."""
    return Path(directory) / f"tokens_{int(tokens_seen):09d}.pt"


def _json_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _write_atomic(path: Path, write) -> None:
    """Write via a temporary file and rename, so an interrupted save leaves no half file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save(path: str | os.PathLike, model: torch.nn.Module, record: dict) -> Path:
    """Save ``model``'s state dict to ``path`` (``.pt``) and ``record`` next to it (``.json``).

    ``record`` must contain ``"model_config"`` (the model config's ``to_dict()``), which is
    how :func:`load_file` rebuilds the model. Returns the ``.pt`` path.
    """
    path = Path(path)
    if path.suffix != ".pt":
        raise ValueError(f"checkpoint path must end in .pt, got {path}")
    if "model_config" not in record:
        raise ValueError("record must contain 'model_config' (the model config's to_dict())")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", copy=True).contiguous()
             for k, v in model.state_dict().items()}
    _write_atomic(path, lambda p: torch.save(state, p))
    text = json.dumps(record, indent=1, allow_nan=False) + "\n"
    _write_atomic(_json_path(path), lambda p: p.write_text(text))
    return path


def read_record(path: str | os.PathLike) -> dict:
    """The JSON record of the checkpoint at ``path`` (the ``.pt`` or the ``.json`` path)."""
    json_path = _json_path(Path(path))
    if not json_path.is_file():
        raise FileNotFoundError(f"no checkpoint record at {json_path}; a checkpoint is a .pt "
                                "file with a .json record beside it, as written by "
                                "beliefcourse.checkpoints.save (or `python -m beliefcourse train`)")
    try:
        return json.loads(json_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"checkpoint record {json_path} is not valid JSON ({err}); the file "
                         "is corrupted: regenerate it with `python -m beliefcourse train`, or "
                         "reinstall beliefcourse for a shipped checkpoint") from err


def update_record(path: str | os.PathLike, updates: dict) -> dict:
    """Merge ``updates`` into the checkpoint's JSON record, write it back, return it."""
    rec = read_record(path)
    rec.update(updates)
    text = json.dumps(rec, indent=1, allow_nan=False) + "\n"
    _write_atomic(_json_path(Path(path)), lambda p: p.write_text(text))
    return rec


def load_file(path: str | os.PathLike, device: str | torch.device = "cpu"
              ) -> tuple[torch.nn.Module, dict]:
    """Load the checkpoint at ``path``: ``(model in eval mode on device, record)``.

    Raises ``FileNotFoundError`` if the ``.pt`` or its ``.json`` is missing, and
    ``ValueError`` if either file is corrupted or the state dict does not fit the model
    the record describes; each message says what to do.
    """
    from ..model import build_model

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; shipped ones are listed by "
                                "beliefcourse.checkpoints.available(), and "
                                "`python -m beliefcourse train PRESET --out DIR` makes new ones")
    rec = read_record(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile,
            ValueError) as err:
        raise ValueError(f"checkpoint {path} is corrupted or is not a state dict saved by "
                         f"beliefcourse.checkpoints.save ({type(err).__name__}: {err}); "
                         "regenerate it with `python -m beliefcourse train`, or reinstall "
                         "beliefcourse for a shipped checkpoint") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise ValueError(f"checkpoint {path} does not hold a state dict (a dict of tensors)")
    try:
        model = build_model(rec["model_config"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"record {_json_path(path)} has no valid 'model_config' ({err})") from err
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
                   for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        raise ValueError(f"checkpoint {path} does not match the model config in its record "
                         f"({rec['model_config']}): missing {missing}, unexpected {unexpected}, "
                         f"wrong shapes {wrong}. The .pt and .json belong to different models; "
                         "save them together with beliefcourse.checkpoints.save")
    model.load_state_dict(state)
    return model.to(device).eval(), rec


# ---------------------------------------------------------------------------- directories
def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """The ``tokens_*.pt`` files in ``directory``, sorted by token count."""
    found = [p for p in Path(directory).glob("tokens_*.pt") if _NAME.match(p.name)]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))


def available() -> list[str]:
    """Names of the shipped checkpoint sets, e.g. ``['mess3', 'rrxor']``."""
    if not DATA_DIR.is_dir():
        return []
    return sorted(d.name for d in DATA_DIR.iterdir() if d.is_dir() and list_checkpoints(d))


def _shipped_dir(name: str) -> Path:
    if name not in available():
        raise ValueError(f"no shipped checkpoints named {name!r}; available: {available()}")
    return DATA_DIR / name


def tokens(name: str) -> list[int]:
    """Token counts of the shipped checkpoints of ``name``, ascending."""
    return [int(_NAME.match(p.name).group(1)) for p in list_checkpoints(_shipped_dir(name))]


def resolve(name_or_path: str | os.PathLike, tokens_seen: int | None = None) -> Path:
    """Path of a checkpoint's ``.pt`` file.

    ``name_or_path`` is a shipped name (``"mess3"``), a directory of checkpoints, or a
    ``.pt``/``.json`` file. For a name or directory, ``tokens_seen`` picks the checkpoint
    (default: the last one).
    """
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and name_or_path in available():
        path = DATA_DIR / name_or_path
    if path.suffix in (".pt", ".json"):
        if tokens_seen is not None:
            raise ValueError("give tokens_seen only with a name or directory, not a file")
        return path.with_suffix(".pt")
    if not path.is_dir():
        raise FileNotFoundError(f"{name_or_path!s} is neither a shipped checkpoint name "
                                f"({available()}) nor a directory or .pt file")
    found = list_checkpoints(path)
    if not found:
        raise FileNotFoundError(f"no tokens_*.pt checkpoints in {path}")
    if tokens_seen is None:
        return found[-1]
    counts = [int(_NAME.match(p.name).group(1)) for p in found]
    if tokens_seen not in counts:
        raise ValueError(f"no checkpoint at {tokens_seen} tokens in {path}; available: {counts}")
    return found[counts.index(tokens_seen)]


def load(name: str = "mess3", tokens: int | None = None, device: str | torch.device = "cpu"
         ) -> tuple[torch.nn.Module, dict]:
    """Load a shipped checkpoint: ``(model in eval mode, record)``; final one by default."""
    return load_file(resolve(_shipped_dir(name), tokens), device=device)


def record(name: str, tokens: int | None = None) -> dict:
    """The JSON record of a shipped checkpoint (final one by default), without the model."""
    return read_record(resolve(_shipped_dir(name), tokens))
