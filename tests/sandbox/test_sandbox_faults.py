"""Fault rules: answer N times with a status, Retry-After, close, hang, delay; all bounded."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sandbox_helpers import SHA, Client, builds_path, legacy_path, status

from build_status_sandbox import FaultRule, Sandbox
from build_status_sandbox.faults import MAX_DELAY


def test_status_n_times_then_normal(sandbox, client):
    sandbox.add_fault(status=503, times=2, retry_after="1")
    for _ in range(2):
        response = client.post(legacy_path(), json=status())
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json()["errors"][0]["message"]
        assert sandbox.bitbucket.statuses(SHA) == []  # a faulted request changes nothing
    assert client.post(legacy_path(), json=status()).status_code == 204
    assert len(sandbox.bitbucket.statuses(SHA)) == 1
    assert sandbox.faults.rules() == []
    log = sandbox.requests()
    assert [(entry["status"], entry["fault"]) for entry in log] == [(503, "respond"), (503, "respond"), (204, None)]


def test_rule_matches_path_and_method(sandbox, client):
    sandbox.add_fault(status=500, times=None, path=r"/builds$", method="post", body="boom")
    response = client.post(builds_path(), json=status())
    assert (response.status_code, response.text) == (500, "boom")
    assert client.get(builds_path(), params={"key": "x"}).status_code == 404  # GET not faulted
    assert client.post(legacy_path(), json=status()).status_code == 204  # other path not faulted
    assert client.post(builds_path(), json=status()).status_code == 500  # times=None: never used up
    assert sandbox.faults.rules()[0]["hits"] == 2


def test_rules_are_a_queue(sandbox, client):
    sandbox.add_fault(status=429, retry_after="2")
    sandbox.add_fault(status=502, body={"custom": True})
    first = client.post(legacy_path(), json=status())
    second = client.post(legacy_path(), json=status())
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert (second.status_code, second.json()) == (502, {"custom": True})
    assert client.post(legacy_path(), json=status()).status_code == 204


def test_faults_over_http(sandbox, client):
    response = client.post("/_sandbox/faults", json={"status": 503, "times": 1, "retry_after": 3})
    assert response.status_code == 200
    assert response.json()["rules"][0]["retry_after"] == "3"
    client.post("/_sandbox/faults", json=[{"status": 500}, {"action": "close", "method": "GET"}])
    assert len(client.get("/_sandbox/faults").json()["rules"]) == 3
    assert client.delete("/_sandbox/faults").status_code == 204
    assert client.get("/_sandbox/faults").json() == {"rules": [], "rate_limit": None}
    assert client.post(legacy_path(), json=status()).status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {"status": 99},
        {"status": 503, "times": 0},
        {"action": "explode"},
        {"delay": -1},
        {"path": "("},
        {"status": 503, "colour": "red"},
        {"rules": {}},
        {"rate": 0},
        {"rate": 5, "burst": 0},
        {"burst": 5},
        "text",
    ],
)
def test_bad_fault_requests(sandbox, client, body):
    response = client.post("/_sandbox/faults", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]
    assert sandbox.faults.to_json() == {"rules": [], "rate_limit": None}


def test_close_answers_nothing(sandbox, client):
    sandbox.add_fault(action="close")
    with pytest.raises(requests.ConnectionError):
        client.post(legacy_path(), json=status())
    assert sandbox.bitbucket.statuses(SHA) == []
    assert client.post(legacy_path(), json=status()).status_code == 204
    assert [(entry["status"], entry["fault"]) for entry in sandbox.requests()] == [(None, "close"), (204, None)]


def test_truncate_carries_the_request_out_then_breaks_the_answer(sandbox, client):
    sandbox.add_fault(action="truncate", method="POST")
    with pytest.raises(requests.ConnectionError):
        client.post(legacy_path(), json=status())
    assert [item["state"] for item in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]  # it landed all the same
    (entry,) = sandbox.requests()
    assert (entry["status"], entry["fault"]) == (204, "truncate")


def test_truncate_a_json_answer_cuts_its_body(sandbox, client):
    client.post(legacy_path(), json=status())
    sandbox.add_fault(action="truncate", method="GET")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # urllib3: "Connection broken"
        client.get(legacy_path()).json()


def test_hang_ends_after_its_delay(sandbox, client):
    sandbox.add_fault(action="hang", delay=0.2)
    started = time.monotonic()
    # The server closes the connection (ConnectionError); a hang that did not end would be cut by the
    # client's own read timeout instead (ReadTimeout, which is not a ConnectionError).
    with pytest.raises(requests.ConnectionError) as info:
        client.post(legacy_path(), json=status())
    assert not isinstance(info.value, requests.Timeout)
    assert time.monotonic() - started >= 0.15  # it did hang
    assert sandbox.bitbucket.statuses(SHA) == []
    assert sandbox.requests()[0]["fault"] == "hang"


def test_hang_is_ended_by_stop():
    before = set(threading.enumerate())
    sandbox = Sandbox().start()
    try:
        sandbox.add_fault(action="hang")  # bounded only by MAX_DELAY and stop()
        with pytest.raises(requests.ReadTimeout):
            Client(sandbox.url).get(legacy_path(), timeout=0.2)
        threads = [thread for thread in threading.enumerate() if thread not in before]
        assert len(threads) >= 2  # the server's, and the handler's that hangs
    finally:
        started = time.monotonic()
        sandbox.stop()
        stopping = time.monotonic() - started
    # The sandbox's threads, the hanging handler among them, end with stop(), not after the hang's
    # MAX_DELAY (60 s): a quarter of it is a margin no loaded machine needs.
    for thread in threads:
        thread.join(MAX_DELAY / 4)
    assert not [thread for thread in threads if thread.is_alive()]
    assert stopping < MAX_DELAY / 4


def test_delay_then_respond(sandbox, client):
    sandbox.add_fault(status=504, delay=0.2)
    started = time.monotonic()
    response = client.get("/rest/api/latest/build/capabilities")
    assert response.status_code == 504
    assert time.monotonic() - started >= 0.15


def test_delays_are_capped():
    assert FaultRule(delay=3600).delay == MAX_DELAY
    assert FaultRule(action="hang").delay == 0.0


def test_admin_calls_are_never_faulted(sandbox, client):
    sandbox.add_fault(status=500, times=None)
    assert client.get("/_sandbox/state").status_code == 200
    assert client.get("/").status_code == 200
    assert client.post("/_sandbox/reset").status_code == 204
    assert client.get("/rest/api/latest/build/capabilities").status_code == 200


def test_a_rule_can_name_the_emulation_that_owns_the_path(sandbox, client):
    sandbox.add_fault(status=502, times=None, emulation="coveralls")
    assert client.post(legacy_path(), json=status()).status_code == 204  # Bitbucket's path: not faulted
    assert client.post(builds_path(), json=status()).status_code == 204
    assert client.post("/api/v1/jobs", json={}).status_code == 502  # Coveralls' path
    assert client.post("/webhook", json={}).status_code == 502
    assert client.get("/nowhere").status_code == 404  # a path no emulation owns
    assert sandbox.faults.rules()[0]["emulation"] == "coveralls"
    assert sandbox.faults.rules()[0]["hits"] == 2


def test_a_rule_naming_an_unknown_emulation_is_refused(sandbox, client):
    with pytest.raises(ValueError, match="no emulation named 'bitbuket'"):
        sandbox.add_fault(status=503, emulation="bitbuket")
    response = client.post("/_sandbox/faults", json=[{"status": 500}, {"status": 503, "emulation": "nope"}])
    assert response.status_code == 400
    assert "no emulation named 'nope'" in response.json()["errors"][0]["message"]
    assert sandbox.faults.rules() == []  # all or nothing
    with pytest.raises(ValueError, match="emulation must be"):
        FaultRule(emulation="")
