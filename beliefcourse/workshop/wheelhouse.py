"""``./course wheelhouse DIR``: every wheel the course needs, for installing a room offline.

::

    ./course wheelhouse /media/usb/wheels                       # for machines like this one
    ./course wheelhouse DIR --platform manylinux_2_28_x86_64 --python-version 3.11
    ./course wheelhouse DIR --platform macosx_11_0_arm64 --python-version 3.12
    ./course wheelhouse DIR --torch-index https://download.pytorch.org/whl/cpu   # CPU torch

downloads, with ``pip download``, the course's dependencies and its ``test`` extra (what
``./course setup`` installs) and the build backend that installs the course itself from its
folder, into DIR. Run it once per platform of the room into the same DIR. On each laptop,
with the course folder and DIR copied over: ``./course setup --from DIR``, which runs
``pip install --no-index --find-links DIR -e ".[test]"`` (no network at all).

Only the standard library is used: this runs before the course's .venv exists.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRA = "test"


def _uncomment(line: str) -> str:
    return line.split("#", 1)[0]


def _toml_list(text: str, key: str) -> list[str]:
    """The strings of the first TOML array ``key = [...]`` in ``text`` (a line-based reader
    for pyproject.toml, since Python 3.10 has no tomllib)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"{re.escape(key)}\s*=\s*\[(.*)$", line)
        if not m:
            continue
        body = [_uncomment(m.group(1))]
        if "]" not in body[0]:
            for following in lines[i + 1:]:
                body.append(_uncomment(following))
                if body[-1].strip().startswith("]"):
                    break
        return re.findall(r'"([^"]+)"', "\n".join(body))
    raise ValueError(f"pyproject.toml has no array {key!r}")


def requirements(root: Path = ROOT) -> list[str]:
    """What ``./course setup`` installs: the build backend, ``dependencies`` and the
    ``test`` extra of pyproject.toml."""
    text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    return (_toml_list(text, "requires") + _toml_list(text, "dependencies")
            + _toml_list(text, EXTRA))


def download_command(dest: Path, reqs_file: Path, platforms: list[str] | None = None,
                     python_version: str | None = None, torch_index: str | None = None,
                     python: str = sys.executable) -> list[str]:
    cmd = [python, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar",
           "off", "--dest", str(dest), "-r", str(reqs_file)]
    if platforms:
        cmd += ["--only-binary=:all:", "--implementation", "cp"]
        for tag in platforms:
            cmd += ["--platform", tag]
    if python_version:
        cmd += ["--python-version", python_version]
    if torch_index:
        cmd += ["--extra-index-url", torch_index]
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./course wheelhouse",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", help="folder to fill with wheels (created if missing)")
    parser.add_argument("--platform", action="append", help="pip platform tag of the room's "
                        "laptops, e.g. manylinux_2_28_x86_64, macosx_11_0_arm64, win_amd64 "
                        "(repeatable; default: this machine)")
    parser.add_argument("--python-version", help="the laptops' Python, e.g. 3.11 (default: "
                        "this one)")
    parser.add_argument("--torch-index", help="an extra index for torch, e.g. PyTorch's CPU "
                        "wheels (much smaller than PyPI's CUDA build on Linux)")
    args = parser.parse_args(argv)
    if args.platform and not args.python_version:
        parser.error("--platform needs --python-version (the laptops' Python, e.g. 3.11)")
    dest = Path(args.dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    reqs = dest / "course-requirements.txt"
    reqs.write_text("\n".join(requirements()) + "\n", encoding="utf-8")
    cmd = download_command(dest, reqs, args.platform, args.python_version, args.torch_index)
    print("wheelhouse: " + " ".join(cmd[1:]), flush=True)
    result = subprocess.run(cmd)
    if result.returncode != 0:
        print("wheelhouse: pip download failed (see above)", file=sys.stderr)
        return result.returncode
    n = len(list(dest.glob("*.whl"))) + len(list(dest.glob("*.tar.gz")))
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file()) / 1024**2
    print(f"wheelhouse: {n} files, {size:.0f} MB in {dest}\n"
          f"On each laptop, in the course folder: ./course setup --from {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
