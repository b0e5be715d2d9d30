"""64 job processes at once post to the same commit against a rate-limited sandbox: all land, exactly.

The sandbox's token bucket is Data Center's per-user limit in small: ``BURST`` requests at once, refilled
at ``RATE`` per second, answering 429 with ``Retry-After`` (whole seconds).  The ideal: the first
``BURST`` posts go at once, the other ``JOBS - BURST`` drain at ``RATE`` per second.  On top of that each
process has to start (measured first, with no limit), and a client told ``Retry-After: 1`` waits a
whole second (plus jitter) even when a token comes back sooner.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from build_status_sandbox.runner import Job, run_step

from .conftest import SHA, TOKEN, assert_clean
from .report import record

JOBS = 64
RATE = 16.0
BURST = 8
#: A client told to retry after 1 s waits that second plus up to 0.5 s of jitter.
RETRY_AFTER_GRANULARITY = 1.5


def _fan_out(sandbox, tmp_path, label: str) -> tuple[float, list]:
    """Start JOBS steps at once (each its own process) and wait for all; returns (seconds, results)."""
    barrier = threading.Barrier(JOBS)

    def one(index: int):
        workdir = tmp_path / f"{label}{index}"
        workdir.mkdir()
        inputs = {
            "bitbucket-url": sandbox.url,
            "bitbucket-token": TOKEN,
            "state": "SUCCESSFUL",
            "key": f"load/job-{index:02d}",
            "timeout": "120",
        }
        barrier.wait(timeout=30)
        result = run_step(Job(sha=SHA, job=f"job-{index}"), inputs, workdir=workdir, timeout=180)
        assert_clean(result, workdir)
        return result

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        results = list(pool.map(one, range(JOBS)))
    return time.monotonic() - started, results


def test_64_jobs_against_a_rate_limit_all_land_exactly(sandbox, tmp_path):
    # The floor: the same fan-out with no limit (process start-up on this machine).
    baseline, results = _fan_out(sandbox, tmp_path, "free")
    assert [result.returncode for result in results] == [0] * JOBS
    sandbox.reset()

    sandbox.set_rate_limit(RATE, BURST)
    seconds, results = _fan_out(sandbox, tmp_path, "limited")
    failures = [result.stdout + result.stderr for result in results if result.returncode != 0]
    assert failures == []

    statuses = sandbox.bitbucket.statuses(SHA)
    assert sorted(status["key"] for status in statuses) == [f"load/job-{index:02d}" for index in range(JOBS)]
    assert {status["state"] for status in statuses} == {"SUCCESSFUL"}
    sandbox.set_rate_limit(None)
    answer = requests.get(
        f"{sandbox.url}/rest/build-status/latest/commits/stats/{SHA}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    stats = answer.json()  # the tally as Bitbucket shows it
    assert (stats["successful"], stats["failed"], stats["inProgress"]) == (JOBS, 0, 0)

    log = sandbox.requests()
    limited = sum(1 for entry in log if entry["status"] == 429)
    landed = sum(1 for entry in log if entry["status"] == 204)
    assert landed == JOBS  # every status posted exactly once: no post landed twice, none was lost

    drain = (JOBS - BURST) / RATE
    ideal = max(baseline, drain)
    bound = baseline + drain + RETRY_AFTER_GRANULARITY + 5.0  # 5 s for a busy CI machine
    assert seconds <= bound, f"{seconds:.1f} s > bound {bound:.1f} s"
    record(
        "Load",
        f"{JOBS} job processes at once, one commit, token bucket {RATE:g}/s with burst {BURST} (429 + Retry-After)",
        f"all {JOBS} land; the commit's tally is exactly {JOBS} successful; done within start-up + "
        f"({JOBS}-{BURST})/{RATE:g} s + {RETRY_AFTER_GRANULARITY:g} s + 5 s",
        f"{JOBS}/{JOBS} landed, each exactly once; tally {JOBS} successful, 0 failed, 0 in progress; within the bound",
        f"{seconds:.1f} s (ideal {ideal:.1f} s: drain {drain:.1f} s, start-up alone {baseline:.1f} s; bound "
        f"{bound:.1f} s); {limited} answers were 429",
    )
