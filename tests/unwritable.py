"""Paths a runner file command cannot be written to, of every kind the tests try."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

KINDS = ("missing-directory", "directory", "read-only", "disk-full")


def unwritable(kind: str, where: Path) -> str:
    """A path under ``where`` (made if needed) that cannot be appended to, for the reason ``kind`` names."""
    where.mkdir(parents=True, exist_ok=True)
    if kind == "missing-directory":
        return str(where / "no-such-directory" / "file")
    if kind == "directory":
        (where / "a-directory").mkdir(exist_ok=True)
        return str(where / "a-directory")
    if kind == "read-only":
        if os.geteuid() == 0:  # root writes through file modes: a file no one may append to
            return "/proc/version"
        path = where / "read-only"
        path.write_text("", encoding="utf-8")
        path.chmod(0o444)
        return str(path)
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    return "/dev/full"  # disk full
