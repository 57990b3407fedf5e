"""``./course doctor``: the pre-workshop check a learner runs on their own machine.

Each check returns a :class:`Verdict` (``ok``, ``warn`` or ``fail``, a one-line detail and,
unless ok, the fix). :func:`run` prints one line per check and the fix under each failure,
and returns the exit status (1 if any check failed). Every check takes the facts it tests as
arguments with real defaults, so that each failure can be faked in a test
(``tests/workshop/test_doctor.py``).

This module imports only the standard library at import time: it must run before the course
is installed (``./course doctor`` falls back to the system ``python3`` without ``.venv``).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import ROOT
from .timings import TIMINGS_FILE
from .timings import read as read_timings

SETUP_FIX = "run `./course setup` in the course folder (it creates .venv and installs the course)"
NEED_FREE_BYTES = 2 * 1024**3        # the venv with torch (~1.5 GB) plus room for runs
SLOW_CHAPTER_S = 300                 # chapter 05 slower than this: warn, with what to do
STORED_NOTEBOOK = "chapters/03_mixed_state_presentation.ipynb"  # figures + a widget
BENCH_BATCH, BENCH_WARMUP, BENCH_STEPS = 512, 3, 10
STATUSES = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Verdict:
    """One check's outcome: ``status`` in ``STATUSES``; ``fix`` is empty when ok."""

    name: str
    status: str
    detail: str
    fix: str = ""
    data: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.status != "ok" and not self.fix:
            raise ValueError(f"a {self.status!r} verdict needs a fix ({self.name})")

    def lines(self) -> list[str]:
        tag = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}[self.status]
        out = [f"{tag} {self.name:<15} {self.detail}"]
        if self.fix:
            out.append(f"       fix: {self.fix}")
        return out


def _ok(name, detail, **data):
    return Verdict(name, "ok", detail, data=data)


# ------------------------------------------------------------------------------------- python
def required_python(root: Path = ROOT) -> tuple[int, int]:
    """The minimum (major, minor) from pyproject.toml's ``requires-python = ">=X.Y"``."""
    text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'requires-python\s*=\s*">=\s*(\d+)\.(\d+)"', text)
    if not m:
        raise ValueError("pyproject.toml has no requires-python = \">=X.Y\"")
    return int(m.group(1)), int(m.group(2))


def _setup_with(root: Path, python: str = "python3.11") -> str:
    """The setup command that starts from a fresh .venv made with ``python``."""
    fresh = "rm -rf .venv && " if (Path(root) / ".venv").exists() else ""
    return f"`{fresh}PYTHON={python} ./course setup`"


def check_python(version=None, root: Path = ROOT) -> Verdict:
    version = tuple(sys.version_info[:3] if version is None else version)
    need = required_python(root)
    shown = ".".join(map(str, version))
    if version[:2] < need:
        return Verdict("python", "fail", f"Python {shown} is too old (need >= {need[0]}.{need[1]})",
                       f"install Python 3.11 (python.org, your package manager, or conda), "
                       f"then {_setup_with(root)}")
    return _ok("python", f"Python {shown} (need >= {need[0]}.{need[1]}), {sys.executable}")


def venv_version(venv: Path) -> tuple | None:
    """The Python version a venv was made with, from its ``pyvenv.cfg`` (None if unknown)."""
    try:
        text = (Path(venv) / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"^(?:version|version_info)\s*=\s*(\d+)\.(\d+)(?:\.(\d+))?", text, re.M)
    return tuple(int(g) for g in m.groups() if g is not None) if m else None


def check_venv(root: Path = ROOT, executable: str | None = None) -> Verdict:
    """The course's ``.venv``: absent (fine before setup or with conda), or made with a Python
    that still exists and is new enough. ``./course setup`` refuses a bad one the same way."""
    venv = Path(root) / ".venv"
    py = venv / "bin" / "python"
    need = required_python(root)
    executable = sys.executable if executable is None else executable
    if not venv.exists() and not py.is_symlink():
        return _ok("venv", f"no .venv in the course folder; checking this Python ({executable})")
    if py.is_symlink() and not py.exists():
        return Verdict("venv", "fail", f".venv's Python is gone ({py.relative_to(root)} -> "
                       f"{os.readlink(py)} no longer exists: that Python was upgraded or "
                       "removed)", "`rm -rf .venv && ./course setup`")
    if not py.exists():
        return Verdict("venv", "fail", ".venv has no bin/python (an interrupted setup?)",
                       "`rm -rf .venv && ./course setup`")
    version = venv_version(venv)
    if version is not None and version[:2] < need:
        shown = ".".join(map(str, version))
        return Verdict("venv", "fail", f".venv was made with Python {shown}; the course needs "
                       f">= {need[0]}.{need[1]}",
                       "install Python 3.11 if you have none, then "
                       "`rm -rf .venv && PYTHON=python3.11 ./course setup`")
    shown = ".".join(map(str, version)) if version else "unknown version"
    return _ok("venv", f".venv with Python {shown}")


def check_writable(root: Path = ROOT, writable=None) -> Verdict:
    """The course folder (and its git metadata) can be written: setup puts .venv there,
    JupyterLab saves notebooks there, ``./course`` writes git's config."""
    root = Path(root)
    writable = writable or (lambda p: os.access(p, os.W_OK))
    bad = [p for p in (root, root / ".git", root / ".git" / "config", root / "chapters")
           if p.exists() and not writable(p)]
    if bad:
        try:
            owner = bad[0].owner()
        except (KeyError, NotImplementedError, OSError):
            owner = "?"
        try:
            me = Path.home().owner() if owner == "?" else __import__("getpass").getuser()
        except Exception:  # noqa: BLE001
            me = "$USER"
        fix = (f"`chmod -R u+w '{root}'`" if owner == me else
               f"`sudo chown -R {me} '{root}'`")
        return Verdict("folder", "fail", f"{bad[0]} is not writable (owner {owner}): setup, "
                       "JupyterLab's saves and ./course need to write in the course folder",
                       f"{fix}, or copy the course into your home folder: "
                       f"`cp -r '{root}' ~/beliefcourse && cd ~/beliefcourse`")
    return _ok("folder", f"{root} is writable")


# ------------------------------------------------------------------------------------ package
def _requirement_problems(dist, version_of) -> list[str]:
    """Runtime requirements of ``dist`` that are missing or out of range."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return ["the `packaging` library"]
    problems = []
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        have = version_of(req.name)
        if have is None:
            problems.append(f"{req.name} (not installed)")
        elif have not in req.specifier and not req.specifier.contains(have, prereleases=True):
            problems.append(f"{req.name} {have} (need {req.specifier})")
    return problems


def _installed_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_package(root: Path = ROOT, find_distribution=None, import_module=None,
                  version_of=_installed_version) -> Verdict:
    from importlib import metadata

    find_distribution = find_distribution or metadata.distribution
    import_module = import_module or importlib.import_module
    try:
        dist = find_distribution("beliefcourse")
    except metadata.PackageNotFoundError:
        return Verdict("package", "fail", "the course package `beliefcourse` is not installed "
                       "in this Python", SETUP_FIX)
    try:
        module = import_module("beliefcourse")
    except Exception as exc:  # noqa: BLE001  (any import failure is the verdict)
        return Verdict("package", "fail", f"`import beliefcourse` fails: "
                       f"{type(exc).__name__}: {exc}", SETUP_FIX)
    location = Path(module.__file__).resolve().parent
    if location != (Path(root) / "beliefcourse").resolve():
        return Verdict("package", "fail", f"`beliefcourse` is imported from {location}, not from "
                       f"this course folder {Path(root).resolve()}",
                       "run `./course setup` here (it installs this folder in editable mode), "
                       "or `pip uninstall beliefcourse` the other copy")
    problems = _requirement_problems(dist, version_of)
    if problems:
        return Verdict("package", "fail", "missing or wrong dependencies: " + "; ".join(problems),
                       SETUP_FIX)
    shipped = sorted((Path(root) / "beliefcourse/checkpoints/data").glob("*/*.pt"))
    if not shipped:
        return Verdict("package", "fail", "the shipped checkpoints "
                       "(beliefcourse/checkpoints/data/*/*.pt) are missing",
                       "download the course again (a complete clone or archive); the "
                       "checkpoints are part of the repository")
    return _ok("package", f"beliefcourse {dist.version} from {location}, dependencies satisfied, "
                          f"{len(shipped)} checkpoints")


# -------------------------------------------------------------------------------------- torch
def torch_step(batch: int = 8, steps: int = 1, warmup: int = 0) -> dict:
    """Forward + backward + AdamW on the course's Mess3 transformer (chapter 04's model).

    Returns ``{"loss": float, "finite": bool, "step_s": median seconds per step,
    "step_cpu_s": median CPU seconds per step,
    "torch": version, "threads": torch threads}``.
    """
    import torch

    from beliefcourse.model import Transformer, TransformerConfig
    from beliefcourse.train import batch_loss

    torch.manual_seed(0)
    cfg = TransformerConfig()
    model = Transformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, cfg.d_vocab, (batch, cfg.n_ctx), generator=torch.Generator()
                           .manual_seed(0))
    targets = torch.roll(tokens, -1, dims=1)
    times, cpu_times, loss = [], [], None
    for k in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss = batch_loss(model(tokens), targets)
        loss.backward()
        opt.step()
        if k >= warmup:
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    finite = bool(torch.isfinite(loss)) and all(
        bool(torch.isfinite(p.grad).all()) for p in model.parameters() if p.grad is not None)
    return {"loss": float(loss.detach()), "finite": finite, "step_s": statistics.median(times),
            "step_cpu_s": statistics.median(cpu_times),
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def _torch_range(root: Path) -> str:
    text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(r'"torch\s*([^"]+)"', text)
    return m.group(1).strip() if m else ""


CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


# pip of the course's Python (the doctor may run under another Python, whose pip would
# install elsewhere)
COURSE_PIP = ".venv/bin/python -m pip"


def _in_course_venv(root: Path, executable: str | None = None) -> bool:
    exe = Path(sys.executable if executable is None else executable)
    venv = (Path(root) / ".venv").resolve()
    return Path(os.path.abspath(exe)).parent.parent == venv or exe.resolve() == (
        venv / "bin" / "python").resolve()


def check_torch(root: Path = ROOT, step=torch_step, executable: str | None = None) -> Verdict:
    pip = COURSE_PIP
    try:
        result = step()
    except ImportError as exc:
        if _in_course_venv(root, executable):
            fix = (f"install it into the course's Python (.venv): `./course setup`; on Linux "
                   f"without a GPU, first `{pip} install torch --index-url {CPU_TORCH_INDEX}` "
                   "(the CPU build; saves ~2 GB)")
        else:
            fix = (f"this is {executable or sys.executable}, not the course's .venv: "
                   "`./course setup` installs torch into .venv; on Linux without a GPU, first "
                   f"`python3.11 -m venv .venv && {pip} install torch --index-url "
                   f"{CPU_TORCH_INDEX}` (the CPU build; saves ~2 GB)")
        return Verdict("torch", "fail", f"cannot import torch or the course model ({exc})", fix)
    except Exception as exc:  # noqa: BLE001
        return Verdict("torch", "fail", f"a training step of the course model failed: "
                       f"{type(exc).__name__}: {exc}",
                       f"reinstall torch into the course's Python: `{pip} install "
                       f"--force-reinstall 'torch{_torch_range(root)}'`; if it persists, "
                       "report it with this line")
    spec = _torch_range(root)
    try:
        from packaging.specifiers import SpecifierSet
        in_range = not spec or SpecifierSet(spec).contains(result["torch"].split("+")[0])
    except ImportError:
        in_range = True
    if not in_range:
        return Verdict("torch", "fail", f"torch {result['torch']} is outside the course's range "
                       f"{spec}", f"`{pip} install 'torch{spec}'` (the course's Python; or "
                       "./course setup)")
    if not result["finite"]:
        return Verdict("torch", "fail", f"a training step gave a non-finite loss or gradient "
                       f"(loss {result['loss']})",
                       "reinstall torch; a broken BLAS/MKL build is the usual cause")
    return _ok("torch", f"torch {result['torch']}: forward + backward + AdamW step of the "
                        f"Mess3 transformer, loss {result['loss']:.3f}")


# ------------------------------------------------------------------------------------- kernel
KERNEL_PROBE = ("import sys, beliefcourse, ipywidgets; "
                "print(sys.executable); print(beliefcourse.__file__)")


def run_in_kernel(code: str, kernel_name: str = "python3", timeout: float = 120) -> str:
    """Start the Jupyter kernel ``kernel_name`` as JupyterLab would, run ``code``, return its
    stdout. Raises ``RuntimeError`` with the kernel's error."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=timeout,
                              stderr=subprocess.DEVNULL)  # no TCP warning for learners
    out, err = [], []

    def collect(msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            err.append(f"{content['ename']}: {content['evalue']}")
    try:
        kc.execute_interactive(code, timeout=timeout, output_hook=collect)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    if err:
        raise RuntimeError(err[0])
    return "".join(out)


def check_kernel(root: Path = ROOT, run=run_in_kernel, kernel_specs=None) -> Verdict:
    if kernel_specs is None:
        try:
            from jupyter_client.kernelspec import KernelSpecManager
        except ImportError:
            return Verdict("kernel", "fail", "Jupyter is not installed in this Python",
                           SETUP_FIX)
        kernel_specs = KernelSpecManager().find_kernel_specs()
    if "python3" not in kernel_specs:
        return Verdict("kernel", "fail", "no `python3` Jupyter kernel is installed",
                       "`.venv/bin/python -m ipykernel install --sys-prefix` (./course setup "
                       "installs ipykernel)")
    try:
        lines = run(KERNEL_PROBE).split()
    except Exception as exc:  # noqa: BLE001
        return Verdict("kernel", "fail", f"the `python3` kernel cannot run the course: {exc}",
                       "the kernel runs another Python than the course's: start JupyterLab "
                       "with `./course`, or `.venv/bin/python -m ipykernel install "
                       "--sys-prefix`")
    where = Path(lines[-1]).resolve().parent if lines else None
    if where != (Path(root) / "beliefcourse").resolve():
        return Verdict("kernel", "fail", f"the kernel imports beliefcourse from {where}",
                       "start JupyterLab with `./course` so the kernel is the course's .venv")
    return _ok("kernel", f"the python3 kernel starts and imports the course ({lines[0]})")


# ------------------------------------------------------------------------------------ widgets
def labextension_version(name: str = "@jupyter-widgets/jupyterlab-manager") -> str | None:
    """Version of JupyterLab front-end extension ``name`` found in Jupyter's data paths."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return None
    for base in jupyter_path("labextensions"):
        pkg = Path(base, *name.split("/"), "package.json")
        if pkg.exists():
            return json.loads(pkg.read_text(encoding="utf-8")).get("version")
    return None


def check_widgets(version_of=_installed_version, requires_of=None,
                  frontend_version=labextension_version) -> Verdict:
    from importlib import metadata

    requires_of = requires_of or metadata.requires
    kernel_side = version_of("ipywidgets")
    if kernel_side is None:
        return Verdict("widgets", "fail", "ipywidgets (the kernel side of the widgets) is not "
                       "installed", SETUP_FIX)
    frontend = frontend_version()
    if frontend is None:
        return Verdict("widgets", "fail", f"ipywidgets {kernel_side} is installed but JupyterLab's "
                       "widget front end (@jupyter-widgets/jupyterlab-manager) is not; sliders "
                       "would show as text", "`.venv/bin/pip install --force-reinstall "
                       "jupyterlab_widgets` and restart JupyterLab (./course)")
    wanted = [r for r in (requires_of("ipywidgets") or [])
              if re.match(r"jupyterlab[_-]widgets\b", r)]
    package = version_of("jupyterlab_widgets")
    problem = ""
    if wanted:
        try:
            from packaging.requirements import Requirement
            spec = Requirement(wanted[0]).specifier
            if package is None or package not in spec:
                problem = (f"ipywidgets {kernel_side} needs jupyterlab_widgets{spec}, "
                           f"found {package or 'none'}")
        except ImportError:
            pass
    major = int(kernel_side.split(".")[0])
    if not problem and major >= 8 and int(frontend.split(".")[0]) < 5:
        problem = (f"ipywidgets {kernel_side} needs front end 5.x, "
                   f"found jupyterlab-manager {frontend}")
    if problem:
        return Verdict("widgets", "fail", f"widget front end and kernel side do not match: "
                       f"{problem}", "`.venv/bin/pip install --upgrade ipywidgets "
                       "jupyterlab_widgets` (they must be upgraded together), then restart "
                       "JupyterLab")
    return _ok("widgets", f"ipywidgets {kernel_side} (kernel) and jupyterlab-manager {frontend} "
                          "(front end) match")


# ------------------------------------------------------------------------------ stored outputs
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_stored_outputs(root: Path = ROOT, path: str = STORED_NOTEBOOK) -> Verdict:
    nb_path = Path(root) / path
    restore = (f"restore the notebook with its outputs: `git checkout -- {path}` (or download "
               "the course again); do not strip outputs (no nbstripout filter on this clone)")
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Verdict("stored outputs", "fail", f"{path} is missing", restore)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Verdict("stored outputs", "fail", f"{path} is not a readable notebook ({exc})",
                       restore)
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    with_output = [c for c in code if c.get("outputs")]
    pngs = [o["data"]["image/png"] for c in with_output for o in c["outputs"]
            if "image/png" in o.get("data", {})]
    if not with_output or not pngs:
        return Verdict("stored outputs", "fail", f"{path} has no stored outputs or figures "
                       f"({len(with_output)} of {len(code)} code cells with output)", restore)
    try:
        ok = [base64.b64decode("".join(p) if isinstance(p, list) else p)[:8] == PNG_MAGIC
              for p in pngs]
    except ValueError:
        ok = [False]
    if not all(ok):
        return Verdict("stored outputs", "fail", f"{path}: a stored figure is not a valid PNG",
                       restore)
    return _ok("stored outputs", f"{path}: {len(with_output)} of {len(code)} code cells with "
                                 f"stored output, {len(pngs)} figures load")


# --------------------------------------------------------------------------------------- disk
def check_disk(root: Path = ROOT, usage=shutil.disk_usage, need: int = NEED_FREE_BYTES
               ) -> Verdict:
    free = usage(root).free
    shown = f"{free / 1024**3:.1f} GB free in {root}"
    if free < need:
        return Verdict("disk", "fail", f"{shown}; the course needs {need / 1024**3:.0f} GB "
                       "(torch alone is ~1.5 GB installed)",
                       "free some disk space, or put the course on a larger disk")
    return _ok("disk", f"{shown} (need {need / 1024**3:.0f} GB)")


# -------------------------------------------------------------------------------------- speed
def estimate_seconds(step_s: float, timings: dict, notebook: str) -> float:
    """``notebook``'s run time here: its measured time on the reference machine scaled by
    this machine's training-step time over the reference's (same benchmark, one thread)."""
    ref_step = timings["benchmark"]["step_s"]
    return timings["notebooks"][notebook] * step_s / ref_step


def bench_step() -> float:
    """Median CPU seconds of one AdamW step at batch 512 on the Mess3 model, one thread: what
    an idle core takes, whatever else the machine runs (the notebook timings are the kernels'
    CPU seconds too)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch_step(batch=BENCH_BATCH, steps=BENCH_STEPS,
                          warmup=BENCH_WARMUP)["step_cpu_s"]
    finally:
        torch.set_num_threads(threads)


def check_speed(root: Path = ROOT, step=bench_step, timings=None,
                chapter: str = "chapters/05_probing.ipynb", slow_s: float = SLOW_CHAPTER_S
                ) -> Verdict:
    timings = read_timings(root) if timings is None else timings
    if chapter not in timings.get("notebooks", {}) or "benchmark" not in timings:
        return Verdict("chapter 05 time", "warn", f"no reference time for {chapter} in "
                       f"{TIMINGS_FILE}", "`python -m beliefcourse.workshop measure` on the "
                       "reference machine records it")
    try:
        step_s = step()
    except Exception as exc:  # noqa: BLE001  (the torch check reports the cause)
        return Verdict("chapter 05 time", "fail", f"cannot time a training step "
                       f"({type(exc).__name__}: {exc})", "fix the torch check first")
    est = estimate_seconds(step_s, timings, chapter)
    ref = timings["notebooks"][chapter]
    detail = (f"about {est / 60:.1f} min on one idle core here (reference machine: "
              f"{ref / 60:.1f} min; a training step takes {step_s * 1000:.0f} ms of CPU here, "
              f"{timings['benchmark']['step_s'] * 1000:.0f} ms there)")
    if est > slow_s:
        return Verdict("chapter 05 time", "warn", detail,
                       "this machine is slow: read chapter 05 with its stored outputs (or in the "
                       "book) and run only the cells you change; in the workshop, pair with a "
                       "faster laptop")
    return _ok("chapter 05 time", detail, estimate_s=est)


# ------------------------------------------------------------------------------------ browser
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """A Chromium executable for the browser tests (``./course test`` warns when there is
    none): ``$BELIEFCOURSE_CHROMIUM``, /usr/bin/chromium, or one on PATH."""
    explicit = os.environ.get("BELIEFCOURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


# ---------------------------------------------------------------------------------------- run
# The checks of the installed course: pointless (each would say "run setup") while the
# Python or the .venv is wrong, so they wait until those lines are fixed.
NEEDS_COURSE_PYTHON = ("package", "torch", "kernel", "widgets", "chapter 05 time")
GATES = ("python", "venv")


def all_checks(root: Path = ROOT):
    """The checks in the order they are printed, as ``(name, zero-argument callable)``."""
    return [("python", lambda: check_python(root=root)), ("venv", lambda: check_venv(root)),
            ("folder", lambda: check_writable(root)),
            ("package", lambda: check_package(root)), ("torch", lambda: check_torch(root)),
            ("kernel", lambda: check_kernel(root)), ("widgets", check_widgets),
            ("stored outputs", lambda: check_stored_outputs(root)),
            ("disk", lambda: check_disk(root)), ("chapter 05 time", lambda: check_speed(root))]


def run(checks=None, out=sys.stdout) -> int:
    """Run ``checks`` (default :func:`all_checks`; callables or ``(name, callable)`` pairs),
    print verdicts; 1 if any failed. After a failed ``python`` or ``venv`` line the checks of
    the installed course are not run (one line says so)."""
    checks = all_checks() if checks is None else checks
    verdicts, skipped = [], []
    for check in checks:
        name, check = check if isinstance(check, tuple) else (None, check)
        if name in NEEDS_COURSE_PYTHON and any(v.name in GATES and v.status == "fail"
                                               for v in verdicts):
            skipped.append(name)
            continue
        try:
            verdict = check()
        except Exception as exc:  # noqa: BLE001  (a broken check must not hide the others)
            verdict = Verdict(name or getattr(check, "__name__", "check"), "fail",
                              f"the check itself crashed: {type(exc).__name__}: {exc}",
                              SETUP_FIX)
        verdicts.append(verdict)
        print("\n".join(verdict.lines()), file=out, flush=True)
    if skipped:
        print(f"[skip] {', '.join(skipped)}: these check the course installed in .venv; "
              "first apply the fix of the python or venv line above", file=out)
    failed = sum(v.status == "fail" for v in verdicts)
    warned = sum(v.status == "warn" for v in verdicts)
    if failed:
        print(f"doctor: {failed} check(s) failed: apply the fixes above, then run "
              "`./course doctor` again.", file=out)
    else:
        print(f"doctor: ready for the workshop ({warned} warning(s)).", file=out)
    return 1 if failed else 0
