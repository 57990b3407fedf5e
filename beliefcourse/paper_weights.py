"""The authors' own trained transformers of paper (a), fetched on demand and converted.

Shai et al. (2024) published their trained checkpoints in the public repository
``adamimos/epsilon-transformers``, branch ``lucas/neurips-submission``, folder
``examples/models/``: the Mess3 (x = 0.05, α = 0.85) model after 6,400 … 629,209,600 training
tokens and the RRXOR model after 509,376,000, each folder with its ``train_config.json``. The
repository has no licence file, so the course does **not** ship these files: this module
downloads them from the pinned commit :data:`COMMIT`, checks each file's SHA-256 against
:data:`FILES`, and converts them into the course's :class:`beliefcourse.model.Transformer`.

Layout. The files are TransformerLens ``HookedTransformer`` state dicts (plain PyTorch zip
files, not Git LFS pointers): ``embed.W_E (d_vocab, d_model)``, ``pos_embed.W_pos``, per block
``ln1.w/b``, ``attn.W_Q/W_K/W_V (n_heads, d_model, d_head)``, ``attn.b_Q/b_K/b_V (n_heads,
d_head)``, ``attn.W_O (n_heads, d_head, d_model)``, ``attn.b_O``, ``ln2.w/b``, ``mlp.W_in
(d_model, d_mlp)``, ``mlp.b_in``, ``mlp.W_out (d_mlp, d_model)``, ``mlp.b_out``, then
``ln_final.w/b`` and ``unembed.W_U (d_model, d_vocab)``, ``unembed.b_U``; plus two buffers per
block (``attn.mask``, ``attn.IGNORE``) that carry no weights. TransformerLens multiplies
``x @ W``; ``torch.nn.Linear`` stores ``W.T``. :func:`convert_state_dict` does that mapping
(and fuses Q, K, V into the course's ``attn.qkv``); the forward passes then agree to float
rounding (``tests/test_paper_weights.py`` checks it against a TransformerLens-semantics
reference on a synthetic state dict, and on the real file when it is present).

Where the files go: :func:`cache_dir` (``$BELIEFCOURSE_CACHE``, else
``$XDG_CACHE_HOME/beliefcourse``, else ``~/.cache/beliefcourse``), sub-folder
``paper-weights/<commit>/``, outside the checkout. The converted checkpoints are ordinary
course checkpoints (``converted/<name>/tokens_*.pt`` + ``.json``), so
:func:`beliefcourse.checkpoints.load_file` and :func:`beliefcourse.probing.probe_checkpoint`
read them.

Command line: ``./course paper-weights`` (``python -m beliefcourse paper-weights``) downloads,
verifies and converts; ``--offline`` (or no network) prints what to download and where to put
it; ``--status`` says what is there. In Python::

    from beliefcourse import paper_weights
    model, record = paper_weights.load("mess3")        # FileNotFoundError with instructions
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

REPO = "adamimos/epsilon-transformers"
BRANCH = "lucas/neurips-submission"
COMMIT = "5c318cdf9f23f017879e0a94187f046686ca39f1"
FOLDER = "examples/models"
RAW_URL = f"https://raw.githubusercontent.com/{REPO}/{COMMIT}/{FOLDER}"
PAGE_URL = f"https://github.com/{REPO}/tree/{COMMIT}/{FOLDER}"

ENV_VAR = "BELIEFCOURSE_CACHE"


@dataclass(frozen=True)
class PaperFile:
    """One published file: its path under ``examples/models/``, size and SHA-256."""

    path: str
    size: int
    sha256: str

    @property
    def url(self) -> str:
        return f"{RAW_URL}/{self.path}"


# Sizes and SHA-256 of the files at COMMIT (read from a snapshot of the repository; the .pt
# files are real PyTorch zip files, not LFS pointers).
FILES: dict[str, PaperFile] = {f.path: f for f in (
    PaperFile("mess3/train_config.json", 353,
              "cb525be610dda76f543b53f8a6294fe12a73ae411499ef0a42f75d8c687dff34"),
    PaperFile("mess3/6400.pt", 596406,
              "4bdb389b3f6d790b6520c1056a0eae1dead782ded3da951214b4d43c79b8faa1"),
    PaperFile("mess3/64000.pt", 596488,
              "4c59db3a11cfea2f998e53555afd55d2984e0630b14d3cf23c47a31caca1e77a"),
    PaperFile("mess3/640000.pt", 596570,
              "7ad7234324acf22b888b209542e24995eca663c4e9a8dc25728f5a410731a13c"),
    PaperFile("mess3/915200.pt", 596570,
              "41f363dffc356cc6744ead86c20156cd8df5a165311e84adf2da2de8660aeb2e"),
    PaperFile("mess3/3187200.pt", 599980,
              "4fba2c9a8178bea8fdc2f1a826d438da4f9c59608b77307e42667ec816ffaf3d"),
    PaperFile("mess3/629209600.pt", 600464,
              "01bd4fb62f6b15b7f58d2416840d6bff1f1eb7653d8bdd1cf1dd956262acd13a"),
    PaperFile("rrxor/train_config.json", 357,
              "0a80cd28724dabb65a4ee379cf3f3839842c5bd69765de4298460b5e25a29eee"),
    PaperFile("rrxor/509376000.pt", 2681808,
              "186059dd848a425f42b10fd53e70f6e42a5833aaca74dd89d944f800d793d484"),
)}

MODELS = {"mess3": ("mess3", {"x": 0.05, "alpha": 0.85}),
          "rrxor": ("rrxor", {"p1": 0.5, "p2": 0.5})}
"""Name -> (course process name, its parameters), as in the paper and its notebooks."""

FINAL_TOKENS = {"mess3": 629_209_600, "rrxor": 509_376_000}


def cache_dir() -> Path:
    """Where the authors' files are kept: ``$BELIEFCOURSE_CACHE`` or the user cache folder."""
    root = os.environ.get(ENV_VAR)
    if root:
        base = Path(root).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "beliefcourse"
    return base / "paper-weights" / COMMIT[:12]


def raw_path(path: str, root: Path | None = None) -> Path:
    """Local path of a published file (``path`` as in :data:`FILES`, e.g. ``mess3/6400.pt``)."""
    return (cache_dir() if root is None else Path(root)) / "raw" / path


def converted_path(name: str, tokens: int, root: Path | None = None) -> Path:
    """Local path of the converted course checkpoint of ``name`` at ``tokens``."""
    return (cache_dir() if root is None else Path(root)) / "converted" / name / \
        f"tokens_{int(tokens):09d}.pt"


def checkpoint_tokens(name: str) -> list[int]:
    """Token counts of the published checkpoints of ``name``, ascending."""
    _check_name(name)
    return sorted(int(Path(p).stem) for p in FILES
                  if p.startswith(name + "/") and p.endswith(".pt"))


def _check_name(name: str) -> None:
    if name not in MODELS:
        raise ValueError(f"no published model named {name!r}; the authors published "
                         f"{sorted(MODELS)}")


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: str | os.PathLike, expected: PaperFile) -> None:
    """Raise ``ValueError`` unless the file at ``path`` is the published one."""
    path = Path(path)
    head = path.read_bytes()[:200]
    if head.startswith(b"version https://git-lfs"):
        raise ValueError(f"{path} is a Git LFS pointer, not the file; download it from "
                         f"{expected.url}")
    digest = sha256(path)
    if digest != expected.sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, expected {expected.sha256} (the file "
                         f"at commit {COMMIT[:12]}); delete it and download {expected.url}")


# ---------------------------------------------------------------------------- conversion
def config_from_train_config(train_config: dict):
    """The course's :class:`~beliefcourse.model.TransformerConfig` for an authors' config.

    Refuses settings the course's model does not implement (attention-only, no attention
    scale, non-causal attention, another normalisation), rather than converting silently.
    """
    from .model import TransformerConfig

    need = {"attn_only": False, "use_attn_scale": True, "attention_dir": "causal",
            "normalization_type": "LN"}
    wrong = {k: train_config.get(k) for k, v in need.items() if train_config.get(k, v) != v}
    if wrong:
        raise ValueError(f"the course's transformer cannot represent {wrong} "
                         f"(it implements {need})")
    return TransformerConfig(
        n_layers=int(train_config["n_layers"]), d_model=int(train_config["d_model"]),
        n_heads=int(train_config["n_heads"]), d_head=int(train_config["d_head"]),
        d_mlp=int(train_config.get("d_mlp", 4 * int(train_config["d_model"]))),
        n_ctx=int(train_config["n_ctx"]), d_vocab=int(train_config["d_vocab"]),
        act_fn=str(train_config["act_fn"]), normalization="LN")


_BUFFERS = ("attn.mask", "attn.IGNORE")


def convert_state_dict(tl_state: dict, cfg) -> dict:
    """TransformerLens ``HookedTransformer`` state dict -> the course's ``Transformer``'s.

    ``cfg`` is the course's :class:`~beliefcourse.model.TransformerConfig`. Every weight of
    the source is used exactly once (the causal-mask buffers are dropped); a missing key, a
    key left over or a wrong shape raises ``ValueError`` naming it.
    """
    import torch

    H, dh, D, M = cfg.n_heads, cfg.d_head, cfg.d_model, cfg.d_mlp
    src = {k: v for k, v in tl_state.items() if not k.endswith(_BUFFERS)}
    used: set[str] = set()

    def take(key: str, shape: tuple[int, ...]):
        if key not in src:
            raise ValueError(f"TransformerLens state dict lacks {key!r}")
        t = src[key]
        if tuple(t.shape) != shape:
            raise ValueError(f"{key} has shape {tuple(t.shape)}, expected {shape} for {cfg}")
        used.add(key)
        return t.detach().to(torch.float32)

    out = {"embed.weight": take("embed.W_E", (cfg.d_vocab, D)),
           "pos_embed.weight": take("pos_embed.W_pos", (cfg.n_ctx, D))}
    for l in range(cfg.n_layers):
        b = f"blocks.{l}"
        for ln in ("ln1", "ln2"):
            out[f"{b}.{ln}.weight"] = take(f"{b}.{ln}.w", (D,))
            out[f"{b}.{ln}.bias"] = take(f"{b}.{ln}.b", (D,))
        # qkv rows: [Q head 0..H-1, K heads, V heads], each head's d_head rows in order,
        # matching Attention.forward's view(B, L, 3, H, d_head)
        w = [take(f"{b}.attn.W_{m}", (H, D, dh)).permute(0, 2, 1).reshape(H * dh, D)
             for m in "QKV"]
        bias = [take(f"{b}.attn.b_{m}", (H, dh)).reshape(H * dh) for m in "QKV"]
        out[f"{b}.attn.qkv.weight"] = torch.cat(w, 0)
        out[f"{b}.attn.qkv.bias"] = torch.cat(bias, 0)
        out[f"{b}.attn.out.weight"] = take(f"{b}.attn.W_O", (H, dh, D)).reshape(H * dh, D).T
        out[f"{b}.attn.out.bias"] = take(f"{b}.attn.b_O", (D,))
        out[f"{b}.mlp.fc_in.weight"] = take(f"{b}.mlp.W_in", (D, M)).T
        out[f"{b}.mlp.fc_in.bias"] = take(f"{b}.mlp.b_in", (M,))
        out[f"{b}.mlp.fc_out.weight"] = take(f"{b}.mlp.W_out", (M, D)).T
        out[f"{b}.mlp.fc_out.bias"] = take(f"{b}.mlp.b_out", (D,))
    out["ln_final.weight"] = take("ln_final.w", (D,))
    out["ln_final.bias"] = take("ln_final.b", (D,))
    out["unembed.weight"] = take("unembed.W_U", (D, cfg.d_vocab)).T
    out["unembed.bias"] = take("unembed.b_U", (cfg.d_vocab,))
    left = sorted(set(src) - used)
    if left:
        raise ValueError(f"TransformerLens state dict has keys the conversion does not use: "
                         f"{left}")
    return {k: v.contiguous().clone() for k, v in out.items()}


def convert_file(pt_path: str | os.PathLike, train_config: dict):
    """Load an authors' ``.pt`` file and return the course model (eval mode) it describes."""
    import torch

    from .model import build_model

    cfg = config_from_train_config(train_config)
    state = torch.load(pt_path, map_location="cpu", weights_only=True)
    model = build_model(cfg, seed=0)
    model.load_state_dict(convert_state_dict(state, cfg))
    return model.eval()


# ---------------------------------------------------------------------------- cache
def missing(root: Path | None = None) -> list[PaperFile]:
    """The published files not (or not correctly) in the cache."""
    out = []
    for f in FILES.values():
        p = raw_path(f.path, root)
        if not p.is_file() or p.stat().st_size != f.size:
            out.append(f)
    return out


def instructions(root: Path | None = None) -> str:
    """What to download and where to put it, for a machine without network access."""
    root = cache_dir() if root is None else Path(root)
    lines = [f"The authors' checkpoints are not in {root / 'raw'}.",
             f"Download these files (from {PAGE_URL}, or the raw URLs below) on any machine",
             f"and put each at {root / 'raw'}/<path>, keeping the folder names:", ""]
    for f in FILES.values():
        lines.append(f"  {f.path:26s} {f.size:>9,} bytes  sha256 {f.sha256}")
        lines.append(f"      {f.url}")
    lines += ["", f"(set {ENV_VAR}=DIR to use DIR/paper-weights/{COMMIT[:12]} instead), then run "
              "`./course paper-weights` again: it checks every SHA-256 and converts the models."]
    return "\n".join(lines)


def _download(f: PaperFile, dest: Path, timeout: float = 60.0) -> None:
    import urllib.request

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(f.url, timeout=timeout) as resp, open(tmp, "wb") as out:
        while chunk := resp.read(1 << 16):
            out.write(chunk)
    try:
        verify(tmp, f)
    except ValueError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)


def fetch(root: Path | None = None, offline: bool = False, log=print) -> bool:
    """Download what is missing, verify every file, convert. True when all is in place.

    Offline (or when a download fails) it prints :func:`instructions` and returns False.
    """
    root = cache_dir() if root is None else Path(root)
    todo = missing(root)
    if todo and offline:
        log(instructions(root))
        return False
    for f in todo:
        log(f"downloading {f.path} ({f.size:,} bytes) from {REPO}@{COMMIT[:12]}")
        try:
            _download(f, raw_path(f.path, root))
        except OSError as err:      # URLError, timeouts, DNS: no network here
            log(f"download failed ({err}).\n")
            log(instructions(root))
            return False
    for f in FILES.values():
        verify(raw_path(f.path, root), f)
    log(f"all {len(FILES)} files verified (SHA-256) in {root / 'raw'}")
    for name in MODELS:
        for t in checkpoint_tokens(name):
            path = convert(name, t, root)
            log(f"converted {name} @ {t:,} tokens -> {path}")
    return True


def convert(name: str, tokens: int, root: Path | None = None) -> Path:
    """Convert one verified published checkpoint into a course checkpoint; return its path.

    The record carries the model config, the process, the source (repository, commit, file,
    SHA-256) and the authors' training config; no losses or probes (those are measured by
    whoever loads it).
    """
    from . import checkpoints

    _check_name(name)
    src = FILES.get(f"{name}/{int(tokens)}.pt")
    if src is None:
        raise ValueError(f"no published {name} checkpoint at {tokens} tokens; published: "
                         f"{checkpoint_tokens(name)}")
    cfg_file = FILES[f"{name}/train_config.json"]
    for f in (src, cfg_file):
        p = raw_path(f.path, root)
        if not p.is_file():
            raise FileNotFoundError(instructions(root))
        verify(p, f)
    train_config = json.loads(raw_path(cfg_file.path, root).read_text())
    model = convert_file(raw_path(src.path, root), train_config)
    process, params = MODELS[name]
    record = {"name": f"paper-{name}", "process": process, "process_params": params,
              "model_config": model.cfg.to_dict(), "tokens_seen": int(tokens),
              "source": {"repository": REPO, "branch": BRANCH, "commit": COMMIT,
                         "file": f"{FOLDER}/{src.path}", "sha256": src.sha256},
              "authors_train_config": train_config}
    return checkpoints.save(converted_path(name, tokens, root), model, record)


def load(name: str = "mess3", tokens: int | None = None, root: Path | None = None,
         device="cpu"):
    """``(model, record)`` of the authors' ``name`` model (final checkpoint by default).

    Converts from the verified download if needed. Raises ``FileNotFoundError`` whose
    message says what to download and where, when the files are absent.
    """
    from . import checkpoints

    _check_name(name)
    tokens = FINAL_TOKENS[name] if tokens is None else int(tokens)
    path = converted_path(name, tokens, root)
    if not path.is_file():
        path = convert(name, tokens, root)
    return checkpoints.load_file(path, device=device)


def is_available(name: str = "mess3", tokens: int | None = None,
                 root: Path | None = None) -> bool:
    """Whether :func:`load` can work without the network (files present, unverified)."""
    _check_name(name)
    tokens = FINAL_TOKENS[name] if tokens is None else int(tokens)
    return converted_path(name, tokens, root).is_file() or all(
        raw_path(p, root).is_file() for p in (f"{name}/{tokens}.pt", f"{name}/train_config.json"))


def status(root: Path | None = None) -> str:
    """One line per published file: present and verified, present but wrong, or missing."""
    lines = [f"cache: {cache_dir() if root is None else root}"]
    for f in FILES.values():
        p = raw_path(f.path, root)
        if not p.is_file():
            state = "missing"
        else:
            try:
                verify(p, f)
                state = "verified"
            except ValueError:
                state = "WRONG CONTENT (SHA-256 differs)"
        lines.append(f"  {f.path:26s} {state}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- measurements
MEASUREMENTS = (Path(__file__).resolve().parent / "checkpoints" / "data" / "paper-weights"
                / "measurements.json")
"""The course's measurements on the authors' weights (numbers only, no weights), shipped so
that the scorecard can quote them on a machine without the files; rewritten by
``./course paper-weights --measure --write``; ``tests/test_paper_weights.py`` re-measures
them when the files are present."""

RRXOR_LAYERS = {"embed": ["blocks.0.hook_resid_pre"],
                **{f"block {l}": [f"blocks.{l}.hook_resid_post"] for l in range(4)},
                "ln_final": ["ln_final.hook_normalized"]}
"""The per-layer panel of the authors' Figure 7E (their six hooks)."""


def _probe_scores(features, data, fractions=(1.0, 0.2)) -> dict:
    from .probing import evaluate

    out = {}
    for frac in fractions:
        res = evaluate(features, data.beliefs, data.probs, train_fraction=frac, seed=0)
        key = "in_sample_all" if frac == 1.0 else "held_out_20"
        out[key] = (res.in_sample if frac == 1.0 else res.held_out).to_dict()
    return out


def measure(root: Path | None = None, mess3_tokens=None, log=print) -> dict:
    """Measure the authors' models with the course's tools, the way the paper's notebooks did.

    Mess3 (every published checkpoint, or ``mess3_tokens``): exact validation loss and
    relative loss (:meth:`ExactData.exact_loss`), the affine probe from
    ``blocks.3.hook_resid_post`` fitted on **all** 59,049 × 10 points unweighted and scored on
    them (the authors' in-sample MSE), the same probe fitted on 20 % of the sequences and
    scored on the rest (their cross-validation), and for the final checkpoint the probe from
    ``ln_final.hook_normalized`` (Fig. S1). RRXOR: loss, the per-layer probes of Fig. 7E, the
    12-hook concatenation of Fig. 7C, and the distance test of Fig. 7D on the in-sample probe
    outputs of that concatenation (200,000 random pairs of the 4,360 points, seed 0).
    """
    from . import processes
    from .data import ExactData
    from .probing import belief_distance_test, collect_activations, evaluate

    out: dict = {"source": {"repository": REPO, "commit": COMMIT},
                 "probe": "AffineProbe (OLS with intercept), unweighted fit; MSE = mean over "
                          "points and belief coordinates; split over sequences, seed 0",
                 "mess3": {}, "rrxor": {}}
    data = ExactData(processes.mess3(0.05, 0.85), 10)
    for t in (checkpoint_tokens("mess3") if mess3_tokens is None else mess3_tokens):
        model, _ = load("mess3", t, root)
        loss = data.exact_loss(model)
        row = {"val_loss": float(loss.mean()),
               "relative_loss": float(data.relative_loss(loss).mean())}
        feats = collect_activations(model, data.inputs, "blocks.3.hook_resid_post")
        row["final layer (pre-LN)"] = _probe_scores(feats, data)
        if t == FINAL_TOKENS["mess3"]:
            feats = collect_activations(model, data.inputs, "ln_final.hook_normalized")
            row["ln_final (post-LN)"] = _probe_scores(feats, data, fractions=(1.0,))
        out["mess3"][str(t)] = row
        log(f"mess3 @ {t:,}: relative loss {row['relative_loss']:.6f}, in-sample MSE "
            f"{row['final layer (pre-LN)']['in_sample_all']['mse']:.4g}")
    rdata = ExactData(processes.rrxor(0.5, 0.5), 10)
    model, _ = load("rrxor", None, root)
    loss = rdata.exact_loss(model)
    row = {"val_loss": float(loss.mean()), "relative_loss": float(rdata.relative_loss(loss).mean())}
    sets = dict(RRXOR_LAYERS)
    sets["six hooks concatenated"] = [h for hs in RRXOR_LAYERS.values() for h in hs]
    sets["all 12 residual hooks"] = [f"blocks.{l}.hook_resid_{k}" for l in range(4)
                                     for k in ("pre", "mid", "post")]
    for label, hooks in sets.items():
        feats = collect_activations(model, rdata.inputs, hooks)
        row[label] = _probe_scores(feats, rdata)
        if label == "all 12 residual hooks":
            res = evaluate(feats, rdata.beliefs, rdata.probs, train_fraction=1.0, seed=0)
            dt = belief_distance_test(res.predictions, rdata.beliefs, rdata.next_token_probs,
                                      seed=0)
            row["distance test (in-sample probe outputs)"] = {
                "r2_belief": round(dt.r2_belief, 4), "r2_next_token": round(dt.r2_next_token, 4),
                "n_pairs": dt.n_pairs}
    out["rrxor"][str(FINAL_TOKENS["rrxor"])] = row
    log(f"rrxor @ {FINAL_TOKENS['rrxor']:,}: relative loss {row['relative_loss']:.6f}")
    return out


def write_measurements(measurements: dict, path: Path = MEASUREMENTS) -> Path:
    """Store :func:`measure`'s result (numbers only) where the scorecard reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(measurements, indent=1, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path


def read_measurements(path: Path = MEASUREMENTS) -> dict | None:
    """The shipped measurements of the authors' weights, or None if there are none."""
    return json.loads(path.read_text()) if path.is_file() else None
