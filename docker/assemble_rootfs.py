"""Copy what the action needs to run out of a Debian build stage into an empty root file system.

Run inside the Dockerfile's build stage with Debian's python3.11 installed:

    python3 docker/assemble_rootfs.py /rootfs

It copies the interpreter, the standard library (without the parts a command-line HTTP client never
imports), every shared library the interpreter and the copied extension modules link against (as ``ldd``
lists them, loader included), and the few files of ``/etc`` a process expects. The dependencies installed
into ``/rootfs/usr/local/lib/python3.11/dist-packages`` beforehand are scanned for libraries too. The
image's final stage is ``FROM scratch`` plus this tree: no shell, no package manager, nothing to patch that
the action does not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

#: Standard-library packages and modules the action never imports: development tools, GUIs, test suites,
#: databases, terminals (and ``config-3.*``, the static library for embedding).
DROP = {
    "__phello__",
    "curses",
    "dbm",
    "distutils",
    "ensurepip",
    "idlelib",
    "lib2to3",
    "pydoc_data",
    "sqlite3",
    "test",
    "tkinter",
    "turtledemo",
    "venv",
}
#: Extension modules left out with them (so their libraries, ncurses, sqlite, gdbm, readline, are too).
DROP_EXTENSIONS = re.compile(r"^(_curses|_curses_panel|_dbm|_gdbm|_sqlite3|_tkinter|readline|_test\w*|xxlimited\w*)\.")
#: Merged /usr, as in Debian bookworm: these top-level names are links into /usr.
MERGED = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}


def copy_path(source: str, root: Path) -> None:
    """Copy ``source`` to the same place under ``root``, recreating each symbolic link on the way."""
    path = source
    for _ in range(40):
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(path):
            link = os.readlink(path)
            if not os.path.lexists(target):
                os.symlink(link, target)
            path = os.path.normpath(os.path.join(os.path.dirname(path), link))
            continue
        if not target.exists():
            shutil.copy2(path, target)
        return
    raise RuntimeError(f"too many links from {source}")


def libraries(files: list[Path]) -> set[str]:
    """Every shared library (and the loader) that ``files`` need, as ``ldd`` resolves them."""
    needed: set[str] = set()
    for file in files:
        out = subprocess.run(["ldd", str(file)], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            match = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if match:
                needed.add(match.group(1))
    return needed


def copy_stdlib(stdlib: Path, root: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name in DROP or name == "__pycache__" or name.startswith("config-3.")}
        if Path(directory).name == "lib-dynload":
            skipped |= {name for name in names if DROP_EXTENSIONS.match(name)}
        if Path(directory) == stdlib:
            skipped |= {"site-packages", "dist-packages"}
        return skipped

    shutil.copytree(stdlib, root / str(stdlib).lstrip("/"), ignore=ignore, symlinks=True, dirs_exist_ok=True)


def write_etc(root: Path) -> None:
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/sbin/nologin\n")
    (etc / "group").write_text("root:x:0:\n")
    (etc / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    (root / "tmp").mkdir(exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "root").mkdir(mode=0o700, exist_ok=True)


def main(root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    for name, target in MERGED.items():
        (root / target).mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(root / name):
            os.symlink(target, root / name)
    executable = os.path.realpath(sys.executable)
    copy_path(executable, root)
    os.symlink(os.path.basename(executable), root / "usr/bin/python3")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    copy_stdlib(stdlib, root)
    extensions = [p for p in root.rglob("*.so") if p.is_file()] + [Path(executable)]
    for library in sorted(libraries(extensions)):
        copy_path(library, root)
    write_etc(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
