"""Pick the torch device to train on: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return ``torch.device(device)``, or the best available one when ``device`` is None.

    Raises ``ValueError`` if the requested device is not usable here, saying which are.
    """
    available = ["cpu"]
    if torch.backends.mps.is_available():
        available.insert(0, "mps")
    if torch.cuda.is_available():
        available.insert(0, "cuda")
    if device is None:
        return torch.device(available[0])
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}; available here: {available}") from err
    if dev.type not in available:
        raise ValueError(f"device {device!r} is not available here; available: {available}")
    return dev
