"""The portable action's setup: install the pinned dependencies once per job, ``python -I install.py``.

They go into ``$RUNNER_TEMP/build-status-deps-<digest>``, where the digest covers requirements.txt and the
interpreter (version, build, platform, ABI): a second use of the action in the same job, with the same
Python, finds that directory complete and installs nothing.  The runner empties ``RUNNER_TEMP`` after each
job.  pip installs into a temporary sibling, which gets the marker file and only then is renamed into
place, so a directory without the marker (an install that was cut short) is never used.

``pip install --target`` with ``--require-hashes --only-binary=:all: --no-deps`` installs exactly the locked
wheels (requirements.txt lists every platform's hashes) and nothing else; ``--target`` also keeps pip away
from the interpreter's own site-packages, so PEP 668's "externally-managed-environment" refusal of Debian's
and Homebrew's Pythons does not apply.  pip honours the job's ``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, proxies.

Writes ``deps=<directory>`` to ``$GITHUB_OUTPUT``.  Exit codes: 0, 1 when pip fails (PyPI unreachable, no
wheel for this platform), 2 when this Python has no pip.  Nothing here reads an input.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.normpath(os.path.join(HERE, os.pardir, "requirements.txt"))
#: Written into the install directory once pip has finished; its absence means "not usable".
MARKER = ".build-status-complete"
TITLE = "build-status (portable)"


def interpreter() -> str:
    """What makes wheels fit: implementation, version and build, platform, extension suffix (ABI)."""
    return "\n".join(
        [
            sys.implementation.name,
            sys.version,
            sysconfig.get_platform(),
            str(sysconfig.get_config_var("EXT_SUFFIX") or ""),
        ]
    )


def deps_dir(root: str, requirements: bytes) -> str:
    digest = hashlib.sha256(requirements + b"\0" + interpreter().encode("utf-8")).hexdigest()[:16]
    return os.path.join(root, f"build-status-deps-{digest}")


def is_complete(path: str) -> bool:
    return os.path.isfile(os.path.join(path, MARKER))


def pip_command(target: str) -> list[str]:
    return [
        sys.executable,
        "-I",
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "--only-binary=:all:",
        "--no-deps",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--target",
        target,
        "-r",
        REQUIREMENTS,
    ]


def error(message: str) -> None:
    print(f"::error title={TITLE}::{message}", flush=True)


def install(final: str) -> int:
    """pip into a fresh sibling of ``final``, then mark it complete and rename it into place."""
    if importlib.util.find_spec("pip") is None:
        error(f"Python {platform_python()} ({sys.executable}) has no pip: add actions/setup-python before this step.")
        return 2
    # What an earlier, interrupted attempt left behind (the runner runs one step at a time).
    for leftover in [final, *glob.glob(glob.escape(final) + ".partial-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    partial = tempfile.mkdtemp(prefix=os.path.basename(final) + ".partial-", dir=os.path.dirname(final))
    print(f"build-status: installing the pinned dependencies for Python {platform_python()} into {final}", flush=True)
    started = time.monotonic()
    proc = subprocess.run(pip_command(partial), stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        error(
            f"pip could not install the pinned dependencies (requirements.txt) for Python {platform_python()}: "
            "see its message above. Where PyPI cannot be reached, set PIP_INDEX_URL to a mirror in the job's env."
        )
        return 1
    with open(os.path.join(partial, MARKER), "w", encoding="utf-8") as handle:
        handle.write(interpreter() + "\n")
    os.replace(partial, final)
    print(f"build-status: installed in {time.monotonic() - started:.1f} s", flush=True)
    return 0


def platform_python() -> str:
    return f"{'.'.join(map(str, sys.version_info[:3]))} ({sysconfig.get_platform()})"


def main() -> int:
    root = os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()
    with open(REQUIREMENTS, "rb") as handle:
        final = deps_dir(root, handle.read())
    if is_complete(final):
        print(f"build-status: using the dependencies installed earlier in this job ({final})", flush=True)
    else:
        code = install(final)
        if code:
            return code
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(f"deps={final}\n")
    else:
        print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
