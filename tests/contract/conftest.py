"""Stoplight Prism serving the official Bitbucket contracts on loopback.

- ``prism_url``: Prism mocking Bitbucket Data Center's build-status contract;
- ``prism_cloud_url``: Prism mocking Bitbucket Cloud's commit-status contract (paths under ``/2.0``);
- ``prism_dc_insights_url``: Prism mocking Bitbucket Data Center's Code Insights (and deployments) contract
  (paths under ``/rest/insights/{1.0|latest}``);
- ``prism_cloud_proxy``: Prism *validating* Bitbucket Cloud's contract in front of a stand-in that answers as
  Bitbucket does (the status object sent comes back): requests and answers that break the contract are
  refused (``--errors``), the rest pass through. A mock answers the contract's canned object, never the
  status sent, so only this way can a post count as landed.
"""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .cloud_standin import CloudStandIn

HERE = Path(__file__).parent
PRISM = HERE / "node_modules" / ".bin" / "prism"
SPEC = HERE.parent / "data" / "bitbucket-dc-build-status.openapi.json"
CLOUD_SPEC = HERE.parent / "data" / "bitbucket-cloud-statuses-reports.openapi.json"
DC_INSIGHTS_SPEC = HERE.parent / "data" / "bitbucket-dc-insights-deployments.openapi.json"
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(command: str, spec: Path, *args: str) -> Iterator[str]:
    """``prism <command> -h 127.0.0.1 -p PORT <spec> [args]`` until the block ends; yields its base URL."""
    if not PRISM.exists():
        if os.environ.get("CI"):
            pytest.fail("Prism is not installed: scripts/setup test installs it (npm ci --prefix tests/contract)")
        pytest.skip("Prism is not installed: run scripts/setup test")
    port = _free_port()
    proc = subprocess.Popen(
        [str(PRISM), command, "-h", "127.0.0.1", "-p", str(port), str(spec), *args],
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


@pytest.fixture(scope="session")
def prism_url():
    with serve("mock", SPEC) as url:
        yield url


@pytest.fixture(scope="session")
def prism_cloud_url():
    with serve("mock", CLOUD_SPEC) as url:
        yield url


@pytest.fixture(scope="session")
def prism_dc_insights_url():
    with serve("mock", DC_INSIGHTS_SPEC) as url:
        yield url


@pytest.fixture(scope="session")
def cloud_standin():
    with CloudStandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def prism_cloud_proxy(cloud_standin):
    """Prism validating the Cloud contract both ways in front of ``cloud_standin``; yields Prism's URL (the
    stand-in names its next pages under it, as Bitbucket names its own)."""
    with serve("proxy", CLOUD_SPEC, cloud_standin.url, "--errors") as url:
        cloud_standin.public_url = url
        yield url
