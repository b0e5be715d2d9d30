"""Stoplight Prism serving the official Bitbucket build-status contract on loopback."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PRISM = HERE / "node_modules" / ".bin" / "prism"
SPEC = HERE.parent / "data" / "bitbucket-dc-build-status.openapi.json"
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def prism_url():
    if not PRISM.exists():
        if os.environ.get("CI"):
            pytest.fail("Prism is not installed: scripts/setup test installs it (npm ci --prefix tests/contract)")
        pytest.skip("Prism is not installed: run scripts/setup test")
    port = _free_port()
    proc = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen = []
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                pytest.fail("Prism exited before listening:\n" + "".join(seen))
            seen.append(line)
            if "Prism is listening" in line:
                break
        yield f"http://127.0.0.1:{port}"
    except queue.Empty:
        pytest.fail("Prism did not start in time:\n" + "".join(seen))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
