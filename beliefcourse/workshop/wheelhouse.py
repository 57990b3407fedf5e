"""``./course wheelhouse DIR``: every wheel the course needs, for installing a room offline.

::

    ./course wheelhouse /media/usb/wheels                       # for laptops like this one
    ./course wheelhouse DIR --torch-index https://download.pytorch.org/whl/cpu   # CPU torch
    ./course wheelhouse --check DIR                             # is DIR made for this laptop?

downloads, with ``pip download``, the course's dependencies and its ``test`` extra (what
``./course setup`` installs) and the build backend that installs the course itself from its
folder, into DIR, for *this* machine's operating system, processor and Python version. It
records them in ``DIR/course-wheelhouse.json`` (one entry per build). For a room of other
laptops, run it on one machine of each kind (a Mac for the Macs, with the Python the room
installs), into the same DIR: ``pip download --platform`` cannot do it from here, because
pip evaluates the dependencies' environment markers for the machine it runs on (a Linux
machine asking for macOS wheels gets torch's Linux-only CUDA packages).

On each laptop, with the course folder and DIR copied over: ``./course setup --from DIR``
first runs ``--check`` (the laptop's system, processor and Python against the record; on a
mismatch it says what to do instead of pip's "No matching distribution"), then
``pip install --no-index --find-links DIR -e ".[test]"`` (no network at all).

Only the standard library is used: this runs before the course's .venv exists.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTRA = "test"
RECORD = "course-wheelhouse.json"


def this_machine() -> dict:
    """What a wheelhouse is made for, and what a laptop needs: operating system, processor
    and Python version (major.minor)."""
    return {"system": platform.system(), "machine": platform.machine().lower(),
            "python": "{}.{}".format(*sys.version_info[:2])}


def _label(build: dict) -> str:
    return f"{build['system']} {build['machine']} with Python {build['python']}"


def record_build(dest: Path, torch_index: str | None = None, machine: dict | None = None
                 ) -> dict:
    """Add this build to ``dest``'s record (one entry per system, processor and Python)."""
    path = Path(dest) / RECORD
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"builds": []}
    build = dict(machine or this_machine(), made=datetime.date.today().isoformat(),
                 torch_index=torch_index or "")
    key = ("system", "machine", "python")
    data["builds"] = [b for b in data["builds"] if any(b[k] != build[k] for k in key)]
    data["builds"].append(build)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data


def check(dest: Path, here: dict | None = None) -> tuple[bool, str]:
    """Is the wheelhouse ``dest`` made for this laptop (``here``: :func:`this_machine`)?
    Returns ``(ok, message)``; the message of a mismatch says what to do."""
    dest, here = Path(dest), here or this_machine()
    path = dest / RECORD
    if not path.exists():
        return True, (f"{dest} has no {RECORD} (made by an older ./course wheelhouse?): "
                      "trying it anyway")
    builds = json.loads(path.read_text(encoding="utf-8")).get("builds", [])
    for b in builds:
        if (b["system"], b["machine"].lower(), b["python"]) == (
                here["system"], here["machine"], here["python"]):
            return True, f"wheelhouse made for {_label(b)} on {b.get('made', '?')}: matches"
    made = "; ".join(_label(b) for b in builds) or "nothing"
    same_os = [b for b in builds if (b["system"], b["machine"].lower()) ==
               (here["system"], here["machine"])]
    lines = [f"the wheelhouse {dest} was made for {made}; this laptop is {_label(here)}, so "
             "pip would find no matching wheels. What to do:"]
    if same_os:
        py = same_os[0]["python"]
        lines.append(f"  - install Python {py} on this laptop, then: "
                     f"rm -rf .venv && PYTHON=python{py} ./course setup --from {dest}")
    lines.append(f"  - or make a wheelhouse for this laptop: on a {here['system']} "
                 f"{here['machine']} machine with Python {here['python']} and internet, "
                 f"`./course wheelhouse {dest}` (the same folder can hold several)")
    lines.append("  - or, with internet here: ./course setup (no wheelhouse needed)")
    return False, "\n".join(lines)


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


def download_command(dest: Path, reqs_file: Path, torch_index: str | None = None,
                     python: str = sys.executable) -> list[str]:
    """``pip download`` of the requirements for this machine (no ``--platform``: see the
    module's docstring)."""
    cmd = [python, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar",
           "off", "--dest", str(dest), "-r", str(reqs_file)]
    if torch_index:
        cmd += ["--extra-index-url", torch_index]
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./course wheelhouse",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", help="folder to fill with wheels (created if missing)")
    parser.add_argument("--torch-index", help="an extra index for torch, e.g. PyTorch's CPU "
                        "wheels (much smaller than PyPI's CUDA build on Linux)")
    parser.add_argument("--check", action="store_true", help="only check that DIR was made "
                        "for this machine (./course setup --from runs this)")
    args = parser.parse_args(argv)
    dest = Path(os.environ.get("COURSE_CALLER_DIR", ".")) / args.dest
    if args.check:
        ok, message = check(dest)
        print(f"course: {message}", file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    reqs = dest / "course-requirements.txt"
    reqs.write_text("\n".join(requirements()) + "\n", encoding="utf-8")
    cmd = download_command(dest, reqs, torch_index=args.torch_index)
    print("wheelhouse: " + " ".join(cmd[1:]), flush=True)
    result = subprocess.run(cmd)
    if result.returncode != 0:
        print("wheelhouse: pip download failed (see above)", file=sys.stderr)
        return result.returncode
    data = record_build(dest, args.torch_index)
    n = len(list(dest.glob("*.whl"))) + len(list(dest.glob("*.tar.gz")))
    size = sum(p.stat().st_size for p in dest.iterdir() if p.is_file()) / 1024**2
    print(f"wheelhouse: {n} files, {size:.0f} MB in {dest}, for "
          + "; ".join(_label(b) for b in data["builds"])
          + f" ({RECORD})\nOn each such laptop, in the course folder: "
          f"./course setup --from {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
