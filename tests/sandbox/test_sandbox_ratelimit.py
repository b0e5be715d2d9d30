"""The per-credential token bucket: exact under concurrency, Retry-After, switching on and off."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sandbox_helpers import SHA, TIMEOUT, Client, legacy_path, status

from build_status_sandbox.ratelimit import RateLimiter, WindowLimiter

CAPABILITIES = "/rest/api/latest/build/capabilities"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_arithmetic():
    clock = FakeClock()
    limiter = RateLimiter(2.0, 3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert limiter.acquire("b") == 0.0  # each credential has its own bucket
    clock.now += 0.5
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 100
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0  # refills to burst, no more


def test_rolling_window_arithmetic():
    clock = FakeClock()
    limiter = WindowLimiter(3, 60, clock=clock)
    assert [limiter.acquire("a") for _ in range(2)] == [0.0, 0.0]
    clock.now += 20
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") == pytest.approx(40.0)  # until the first request leaves the window
    assert limiter.acquire("b") == 0.0  # each credential is counted on its own
    clock.now += 30
    assert limiter.acquire("a") == pytest.approx(10.0)  # refused requests are not counted
    clock.now += 10
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(20.0)]  # two left the window
    limiter.clear()
    assert limiter.acquire("a") == 0.0


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (True, 60), (1.5, 60), (3, 0), (3, -1), (3, float("inf"))])
def test_rolling_window_settings_are_checked(limit, window):
    with pytest.raises(ValueError):
        WindowLimiter(limit, window)


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (0.5, "1"), (1.0, "1"), (1.2, "2"), (10.0, "10")])
def test_retry_after_is_whole_seconds_at_least_one(wait, header):
    assert RateLimiter.retry_after(wait) == header


def _burst_of_requests(url: str, count: int, headers: dict | None = None) -> list[requests.Response]:
    barrier = threading.Barrier(count, timeout=TIMEOUT)

    def one(_: int) -> requests.Response:
        barrier.wait()
        return requests.get(url, headers=headers, timeout=TIMEOUT)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_exact_under_64_concurrent_clients(make_sandbox):
    # One token per 1000 s: no refill can happen during the test, so exactly `burst` requests pass.
    sandbox = make_sandbox(rate=0.001, burst=5)
    responses = _burst_of_requests(sandbox.url + CAPABILITIES, 64)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [429] * 59
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["Retry-After"]) <= 1000
            assert response.json()["errors"][0]["message"]
    assert sum(entry["fault"] == "rate-limit" for entry in sandbox.requests()) == 59
    # another credential has a full bucket of its own
    other = requests.get(sandbox.url + CAPABILITIES, headers={"Authorization": "Bearer x"}, timeout=TIMEOUT)
    assert other.status_code == 200


def test_rate_limited_request_changes_nothing(make_sandbox):
    sandbox = make_sandbox(rate=0.001, burst=1)
    http = Client(sandbox.url)
    assert http.post(legacy_path(), json=status("a")).status_code == 204
    limited = http.post(legacy_path(), json=status("b"))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1000"
    assert [stored["key"] for stored in sandbox.bitbucket.statuses(SHA)] == ["a"]


def test_switching_the_rate_limit(sandbox, client):
    sandbox.set_rate_limit(0.001, 2)
    assert [client.get(CAPABILITIES).status_code for _ in range(3)] == [200, 200, 429]
    sandbox.set_rate_limit(None)
    assert client.get(CAPABILITIES).status_code == 200

    response = client.post("/_sandbox/faults", json={"rate": 0.001, "burst": 1})
    assert response.json()["rate_limit"] == {"rate": 0.001, "burst": 1}
    assert [client.get(CAPABILITIES).status_code for _ in range(2)] == [200, 429]
    client.post("/_sandbox/faults", json={"rate": None})
    assert client.get(CAPABILITIES).status_code == 200

    client.post("/_sandbox/faults", json={"rate": 5})
    assert client.get("/_sandbox/faults").json()["rate_limit"] == {"rate": 5.0, "burst": 60}
    client.delete("/_sandbox/faults")
    assert client.get("/_sandbox/faults").json()["rate_limit"] is None


def test_reset_restores_the_initial_rate_limit(make_sandbox):
    sandbox = make_sandbox(rate=0.001, burst=1)
    http = Client(sandbox.url)
    assert [http.get(CAPABILITIES).status_code for _ in range(2)] == [200, 429]
    sandbox.clear_faults()
    assert http.get(CAPABILITIES).status_code == 200
    assert http.post("/_sandbox/reset").status_code == 204
    assert [http.get(CAPABILITIES).status_code for _ in range(2)] == [200, 429]
