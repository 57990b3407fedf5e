"""environment.yml (the conda path) agrees with pyproject.toml (the pip path).

conda itself cannot be installed on the reference machine, so the file is checked by parsing
it: conda-forge only, python and pip present, and the same packages with the same version
bounds as pyproject's dependencies plus its ``test`` extra (conda names mapped to PyPI names).
Its ``pip:`` section is then resolved by pip for real (``--dry-run``, marked slow).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from conftest import REPO_ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

# tomllib is standard from Python 3.11 (the course supports 3.10, where this file is skipped)
tomllib = pytest.importorskip("tomllib")

# conda-forge name -> PyPI name, where they differ (keep in sync with environment.yml's comment)
CONDA_TO_PYPI = {"pytorch": "torch"}
CONDA_ONLY = {"python", "pip"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def env():
    return yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pyproject():
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _conda_and_pip(env):
    conda, pip_sections = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"unexpected mapping in dependencies: {dep}"
            pip_sections.append(dep["pip"])
        else:
            conda.append(dep)
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return conda, pip_sections[0]


def _as_requirements(env) -> dict[str, str]:
    """{normalised PyPI name: specifier} for every package environment.yml installs."""
    conda, pip = _conda_and_pip(env)
    out = {}
    for dep in conda:
        name = re.match(r"[A-Za-z0-9_.\-]+", dep).group(0)
        if name in CONDA_ONLY:
            continue
        req = Requirement(CONDA_TO_PYPI.get(name, name) + dep[len(name):])
        out[_norm(req.name)] = str(req.specifier)
    for line in pip:
        if line.startswith("-"):
            continue
        req = Requirement(line)
        out[_norm(req.name)] = str(req.specifier)
    return out


def test_channels_python_and_pip(env, pyproject):
    assert env["channels"] == ["conda-forge"]
    conda, pip = _conda_and_pip(env)
    assert "pip" in conda
    pythons = [d for d in conda if re.match(r"python\b", d)]
    assert len(pythons) == 1
    version = pythons[0].split("=", 1)[1]
    requires = pyproject["project"]["requires-python"]
    assert SpecifierSet(requires).contains(version + ".0"), (pythons[0], requires)
    assert "-e ." in pip, "the pip: section must install the course package itself (-e .)"


def test_same_dependencies_and_bounds_as_pyproject(env, pyproject):
    project = pyproject["project"]
    wanted = {}
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        req = Requirement(line)
        wanted[_norm(req.name)] = str(req.specifier)
    have = _as_requirements(env)
    assert set(have) == set(wanted), (
        f"only in environment.yml: {sorted(set(have) - set(wanted))}; "
        f"only in pyproject.toml: {sorted(set(wanted) - set(have))}")
    differ = {n: (have[n], wanted[n]) for n in wanted
              if SpecifierSet(have[n]) != SpecifierSet(wanted[n])}
    assert not differ, f"version bounds differ (environment.yml, pyproject.toml): {differ}"


@pytest.mark.slow
def test_pip_section_resolves(env, tmp_path):
    """pip resolves the pip: section (as conda would run it, from the repository root)."""
    _, pip = _conda_and_pip(env)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("\n".join(pip) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
         "--disable-pip-version-check", "-r", str(reqs)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
