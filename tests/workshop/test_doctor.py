"""``./course doctor``: every check passes here, and every failure path, faked, gives a
failing (or warning) verdict that names the problem and carries its fix."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import types
from collections import namedtuple
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from beliefcourse.workshop import doctor
from beliefcourse.workshop.doctor import Verdict


def _failed(verdict: Verdict, *phrases: str, status: str = "fail") -> None:
    assert verdict.status == status, verdict
    assert verdict.fix, "a failure must say how to fix it"
    text = verdict.detail + " " + verdict.fix
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {text!r}"


# ------------------------------------------------------------------------------------ python
def test_python_ok_here():
    assert doctor.check_python().status == "ok"


def test_python_too_old():
    _failed(doctor.check_python(version=(3, 8, 10)), "3.8.10 is too old", ">= 3.10",
            "install Python")


# ----------------------------------------------------------------------------------- package
def test_package_ok_here():
    v = doctor.check_package()
    assert v.status == "ok", v
    assert "checkpoints" in v.detail


def test_package_not_installed():
    def missing(name):
        raise metadata.PackageNotFoundError(name)
    _failed(doctor.check_package(find_distribution=missing), "not installed", "./course setup")


def test_package_import_fails():
    def broken(name):
        raise ImportError("No module named 'numpy'")
    _failed(doctor.check_package(import_module=broken), "import beliefcourse", "numpy",
            "./course setup")


def test_package_from_another_folder(tmp_path):
    other = types.SimpleNamespace(__file__=str(tmp_path / "beliefcourse" / "__init__.py"))
    _failed(doctor.check_package(import_module=lambda name: other), str(tmp_path),
            "editable")


def test_package_missing_dependency():
    def version_of(name):
        return None if name == "scipy" else metadata.version(name)
    _failed(doctor.check_package(version_of=version_of), "scipy (not installed)",
            "./course setup")


def test_package_dependency_out_of_range():
    def version_of(name):
        return "1.0.0" if name == "scikit-learn" else metadata.version(name)
    _failed(doctor.check_package(version_of=version_of), "scikit-learn 1.0.0 (need >=1.6)")


def test_package_without_checkpoints(tmp_path):
    (tmp_path / "beliefcourse").mkdir()
    fake = types.SimpleNamespace(__file__=str(tmp_path / "beliefcourse" / "__init__.py"))
    _failed(doctor.check_package(root=tmp_path, import_module=lambda name: fake),
            "checkpoints", "download the course again")


# ------------------------------------------------------------------------------------- torch
def test_torch_ok_here():
    v = doctor.check_torch()
    assert v.status == "ok", v
    assert "forward + backward" in v.detail


def _step(**changes):
    result = {"loss": 1.1, "finite": True, "step_s": 0.01, "torch": "2.13.0+cpu", "threads": 1}
    return lambda: {**result, **changes}


def test_torch_missing():
    def step():
        raise ImportError("No module named 'torch'")
    _failed(doctor.check_torch(step=step), "cannot import torch", "./course setup",
            "whl/cpu")


def test_torch_step_crashes():
    def step():
        raise RuntimeError("Illegal instruction in addmm")
    _failed(doctor.check_torch(step=step), "training step", "RuntimeError", "addmm",
            "--force-reinstall")


def test_torch_version_out_of_range():
    _failed(doctor.check_torch(step=_step(torch="2.1.0")), "2.1.0 is outside", "<2.14")


def test_torch_nonfinite():
    _failed(doctor.check_torch(step=_step(finite=False, loss=float("nan"))), "non-finite",
            "reinstall torch")


# ------------------------------------------------------------------------------------ kernel
@pytest.mark.slow
def test_kernel_ok_here():
    v = doctor.check_kernel()
    assert v.status == "ok", v


def test_kernel_missing():
    _failed(doctor.check_kernel(kernel_specs={"ir": "/x"}), "no `python3` Jupyter kernel",
            "ipykernel install")


def test_kernel_cannot_import_course():
    def run(code):
        raise RuntimeError("ModuleNotFoundError: No module named 'beliefcourse'")
    _failed(doctor.check_kernel(run=run, kernel_specs={"python3": "/k"}),
            "No module named 'beliefcourse'", "./course")


def test_kernel_imports_another_copy():
    def run(code):
        return "/usr/bin/python3\n/usr/lib/python3/dist-packages/beliefcourse/__init__.py\n"
    _failed(doctor.check_kernel(run=run, kernel_specs={"python3": "/k"}), "dist-packages",
            "./course")


# ----------------------------------------------------------------------------------- widgets
def test_widgets_ok_here():
    v = doctor.check_widgets()
    assert v.status == "ok", v


def test_widgets_kernel_side_missing():
    _failed(doctor.check_widgets(version_of=lambda name: None), "ipywidgets", "not installed")


def test_widgets_front_end_missing():
    _failed(doctor.check_widgets(frontend_version=lambda: None), "front end",
            "jupyterlab_widgets")


def test_widgets_front_end_does_not_match_kernel_side():
    def version_of(name):
        return "1.1.7" if name == "jupyterlab_widgets" else metadata.version(name)
    _failed(doctor.check_widgets(version_of=version_of), "do not match", "1.1.7",
            "--upgrade ipywidgets jupyterlab_widgets")


def test_widgets_old_front_end_extension():
    _failed(doctor.check_widgets(frontend_version=lambda: "3.1.0",
                                 requires_of=lambda name: []), "front end 5.x", "3.1.0")


# ---------------------------------------------------------------------------- stored outputs
def test_stored_outputs_ok_here():
    v = doctor.check_stored_outputs()
    assert v.status == "ok", v
    assert "figures load" in v.detail


def _course_copy(tmp_path, nb: dict | str) -> Path:
    path = tmp_path / doctor.STORED_NOTEBOOK
    path.parent.mkdir(parents=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return tmp_path


def test_stored_outputs_missing(tmp_path):
    _failed(doctor.check_stored_outputs(root=tmp_path), "missing", "git checkout")


def test_stored_outputs_unreadable(tmp_path):
    _failed(doctor.check_stored_outputs(root=_course_copy(tmp_path, "{not json")),
            "not a readable notebook")


def test_stored_outputs_stripped(tmp_path):
    nb = json.loads((REPO_ROOT / doctor.STORED_NOTEBOOK).read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
    _failed(doctor.check_stored_outputs(root=_course_copy(tmp_path, nb)), "no stored outputs",
            "nbstripout")


def test_stored_outputs_corrupt_figure(tmp_path):
    nb = json.loads((REPO_ROOT / doctor.STORED_NOTEBOOK).read_text())
    bad = base64.b64encode(b"GIF89a not a png").decode()
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                out["data"]["image/png"] = bad
    _failed(doctor.check_stored_outputs(root=_course_copy(tmp_path, nb)), "not a valid PNG")


# -------------------------------------------------------------------------------------- disk
Usage = namedtuple("Usage", "total used free")


def test_disk_ok_here():
    assert doctor.check_disk(usage=lambda p: Usage(10**12, 0, 10 * 1024**3)).status == "ok"


def test_disk_full():
    _failed(doctor.check_disk(usage=lambda p: Usage(10**12, 0, 300 * 1024**2)), "0.3 GB free",
            "free some disk space")


# ------------------------------------------------------------------------------------- speed
TIMINGS = {"notebooks": {"chapters/05_probing.ipynb": 100.0},
           "benchmark": {"step_s": 0.1}}


def test_speed_estimate_scales_the_reference():
    v = doctor.check_speed(step=lambda: 0.2, timings=TIMINGS)
    assert v.status == "ok", v
    assert v.data["estimate_s"] == pytest.approx(200.0)
    assert "3.3 min" in v.detail


def test_speed_slow_machine_warns():
    _failed(doctor.check_speed(step=lambda: 0.5, timings=TIMINGS), "8.3 min",
            "stored outputs", status="warn")


def test_speed_without_reference_warns():
    _failed(doctor.check_speed(step=lambda: 0.1, timings={"notebooks": {}}),
            "no reference time", "measure", status="warn")


def test_speed_benchmark_crashes():
    def step():
        raise ImportError("torch")
    _failed(doctor.check_speed(step=step, timings=TIMINGS), "cannot time", "torch check")


def test_reference_timings_are_recorded():
    """The shipped timings hold chapter 05 and the benchmark the estimate divides by."""
    timings = doctor.read_timings()
    assert "chapters/05_probing.ipynb" in timings["notebooks"]
    assert timings["benchmark"]["step_s"] > 0


# --------------------------------------------------------------------------------------- run
def test_run_prints_one_line_per_check_and_fixes():
    checks = [lambda: Verdict("a", "ok", "fine"),
              lambda: Verdict("b", "fail", "broken", "do this"),
              lambda: 1 / 0]
    out = io.StringIO()
    assert doctor.run(checks, out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[ ok ] a")
    assert lines[1].startswith("[FAIL] b") and lines[2].strip() == "fix: do this"
    assert "ZeroDivisionError" in lines[3]
    assert "2 check(s) failed" in lines[-1]


def test_run_all_ok_exit_zero():
    out = io.StringIO()
    assert doctor.run([lambda: Verdict("a", "warn", "slow", "wait")], out=out) == 0
    assert "ready for the workshop (1 warning(s))" in out.getvalue()


def test_verdict_needs_a_fix_when_not_ok():
    with pytest.raises(ValueError, match="needs a fix"):
        Verdict("x", "fail", "broken")
    with pytest.raises(ValueError, match="status must be"):
        Verdict("x", "bad", "?", "fix")


@pytest.mark.slow
def test_course_doctor_command():
    """The real thing, through the bash entry point: every check ok or warn, exit 0."""
    result = subprocess.run(["bash", str(REPO_ROOT / "course"), "doctor"], capture_output=True,
                            text=True, timeout=600, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert not [line for line in lines if line.startswith("[FAIL]")], result.stdout
    names = {"python", "package", "torch", "kernel", "widgets", "stored outputs", "disk",
             "chapter 05 time"}
    assert all(any(line[7:].startswith(n) for line in lines) for n in names), result.stdout


def test_course_doctor_without_venv(tmp_path):
    """Before setup, the doctor still runs (system Python) and says to run setup."""
    if shutil.which("python3") is None:
        pytest.skip("no system python3")
    for name in ("course", "pyproject.toml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "beliefcourse" / "workshop", tmp_path / "beliefcourse" /
                    "workshop", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "beliefcourse" / "__init__.py").write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(tmp_path / "course"), "doctor"], capture_output=True,
                            text=True, timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no .venv" in result.stdout + result.stderr
    assert "[FAIL] package" in result.stdout


def test_timings_from_the_notebook_bench(tmp_path):
    """`measure --from-bench` keeps the notebooks that ran cleanly and records the benchmark
    the doctor's estimate divides by."""
    from beliefcourse.workshop import timings

    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"results": [
        {"notebook": "chapters/05_probing.ipynb", "seconds": 150.0, "cpu_seconds": 111.0,
         "status": "ok"},
        {"notebook": "chapters/04_training.ipynb", "seconds": 9.0, "cpu_seconds": 8.0,
         "status": "KeyError: x"}]}))
    data = timings.import_bench(bench, step=lambda: 0.25, root=tmp_path)
    assert data["notebooks"] == {"chapters/05_probing.ipynb": 111.0}
    assert data["benchmark"]["step_s"] == 0.25
    stored = json.loads((tmp_path / timings.TIMINGS_FILE).read_text())
    assert stored["notebooks"] == data["notebooks"] and stored["machine"]["cpus"] >= 1
    v = doctor.check_speed(root=tmp_path, step=lambda: 0.5)
    assert v.data["estimate_s"] == pytest.approx(222.0)


# ------------------------------------------------- the Python, the .venv, the folder (issue 20)
def _venv(root: Path, version: str | None = "3.11.7", link_to: str | None = None) -> Path:
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    if link_to:
        (bin_dir / "python").symlink_to(link_to)
    else:
        (bin_dir / "python").write_text("")
    if version:
        (root / ".venv" / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version}\n")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_python_too_old_with_a_venv_removes_it_in_the_fix(tmp_path):
    """`PYTHON=python3.11 ./course setup` alone keeps an existing .venv."""
    _venv(tmp_path)
    _failed(doctor.check_python(version=(3, 9, 18), root=tmp_path),
            "rm -rf .venv && PYTHON=python3.11 ./course setup")


def test_venv_ok_here_and_absent(tmp_path):
    assert doctor.check_venv().status == "ok"
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    v = doctor.check_venv(tmp_path)
    assert v.status == "ok" and "no .venv" in v.detail


def test_venv_made_with_an_old_python(tmp_path):
    _failed(doctor.check_venv(_venv(tmp_path, "3.9.18")), ".venv was made with Python 3.9.18",
            "rm -rf .venv && PYTHON=python3.11 ./course setup")


def test_venv_interpreter_link_dangles(tmp_path):
    v = doctor.check_venv(_venv(tmp_path, link_to="/nonexistent/python3.10"))
    _failed(v, "is gone", "/nonexistent/python3.10", "rm -rf .venv && ./course setup")
    assert "no .venv" not in v.detail


def test_folder_not_writable(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("")
    ro = {tmp_path / ".git" / "config"}
    v = doctor.check_writable(tmp_path, writable=lambda p: p not in ro)
    _failed(v, ".git/config is not writable", "cp -r", "~/beliefcourse")
    assert "chmod -R u+w" in v.fix or "chown -R" in v.fix
    assert doctor.check_writable(tmp_path).status == "ok"


def test_torch_fix_names_the_python(tmp_path):
    def step():
        raise ImportError("No module named 'torch'")
    here = doctor.check_torch(step=step, executable=str(REPO_ROOT / ".venv" / "bin" / "python"))
    _failed(here, "course's Python (.venv)", ".venv/bin/python -m pip install torch")
    system = doctor.check_torch(step=step, executable="/usr/bin/python3")
    _failed(system, "/usr/bin/python3, not the course's .venv", "python3.11 -m venv .venv",
            ".venv/bin/python -m pip install torch")


def test_run_skips_the_course_checks_after_a_bad_python():
    ran = []
    checks = [("python", lambda: Verdict("python", "fail", "3.9 is too old", "install 3.11")),
              ("disk", lambda: Verdict("disk", "ok", "fine")),
              ("package", lambda: ran.append("package")),
              ("torch", lambda: ran.append("torch"))]
    out = io.StringIO()
    assert doctor.run(checks, out=out) == 1
    assert not ran
    text = out.getvalue()
    assert "[skip] package, torch" in text and "1 check(s) failed" in text
