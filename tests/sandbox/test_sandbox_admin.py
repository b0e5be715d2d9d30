"""Admin endpoints: JSON state, request log (without credentials), reset, run-time config."""

from __future__ import annotations

import json

from sandbox_helpers import PERSONAL_TOKEN, REPO_TOKEN, SHA, Client, builds_path, legacy_path, status


def test_json_state(sandbox, client):
    client.post(legacy_path(), json=status("a", "FAILED")).raise_for_status()
    state = client.get("/_sandbox/state").json()
    assert set(state) == {"emulations", "faults", "requests"}
    bitbucket = state["emulations"]["bitbucket"]
    (stored,) = bitbucket["commits"][SHA]
    assert (stored["key"], stored["state"]) == ("a", "FAILED")
    assert bitbucket["config"] == {
        "context_path": "",
        "version": "9.2",
        "capabilities": ["richBuildStatus", "cancelledStatus"],
        "users": ["sandbox"],
        "tokens": {"personal": 1, "http-access": 1},
        "repositories": None,
        "allow_anonymous_read": False,
        "annotation_limit": 1000,
    }
    assert bitbucket["insights"] == []
    assert state == sandbox.state()
    assert client.get("/_sandbox/health").json() == {"status": "ok"}


def test_request_log(sandbox):
    basic = Client(sandbox.url)
    bearer = Client(sandbox.url, auth=None)
    basic.post(legacy_path(), json=status("a")).raise_for_status()
    bearer.get(
        builds_path(),
        params={"key": "a", "private_token": "hush"},
        headers={"Authorization": f"Bearer {REPO_TOKEN}", "Cookie": "session=hush", "X-Trace": "t1"},
    ).raise_for_status()
    bearer.post(legacy_path(), data=b"plain text", headers={"Content-Type": "text/plain"})
    bearer.get("/_sandbox/state")  # admin calls are not logged

    log = sandbox.requests()
    assert [(entry["method"], entry["status"]) for entry in log] == [("POST", 204), ("GET", 200), ("POST", 401)]
    first, second, third = log
    assert first["path"] == legacy_path()
    assert first["headers"]["Authorization"] == "Basic"
    assert first["body"] == status("a")
    assert second["headers"]["Authorization"] == "Bearer"
    assert second["headers"]["X-Trace"] == "t1"
    assert second["query"] == {"key": "a", "private_token": "<redacted>"}
    assert second["body"] is None
    assert third["body"] == "plain text"
    assert first["time"] <= second["time"] <= third["time"]

    dumped = json.dumps(log) + json.dumps(bearer.get("/_sandbox/requests").json())
    for secret in ("sandbox-password", "c2FuZGJveDpzYW5kYm94LXBhc3N3b3Jk", REPO_TOKEN, PERSONAL_TOKEN, "hush"):
        assert secret not in dumped
    assert bearer.get("/_sandbox/requests").json() == log

    log[0]["path"] = "changed"  # a copy
    assert sandbox.requests()[0]["path"] == legacy_path()
    sandbox.clear_requests()
    assert sandbox.requests() == []
    basic.get(legacy_path())
    assert bearer.delete("/_sandbox/requests").status_code == 204
    assert bearer.get("/_sandbox/requests").json() == []


def test_unknown_paths_and_methods_are_logged(sandbox, client):
    response = client.get("/nothing/here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"]
    response = client.request("PUT", legacy_path(), json=status())
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert [entry["status"] for entry in sandbox.requests()] == [404, 405]
    assert client.get("/_sandbox/nothing").status_code == 404
    assert client.get("/_sandbox/reset").status_code == 405


def test_reset(sandbox, client):
    client.post(legacy_path(), json=status()).raise_for_status()
    sandbox.add_fault(status=500, path="never-matches")
    response = client.post("/_sandbox/reset")
    assert response.status_code == 204
    assert sandbox.bitbucket.statuses(SHA) == []
    assert sandbox.requests() == []
    assert sandbox.faults.rules() == []
    assert client.get("/_sandbox/state").json()["emulations"]["bitbucket"]["commits"] == {}


def test_config_endpoint(sandbox, client):
    response = client.post(
        "/_sandbox/config/bitbucket",
        json={"version": "8.5", "repositories": ["A/b"], "users": {"ci": "pw"}, "allow_anonymous_read": True},
    )
    assert response.status_code == 200
    config = response.json()
    assert config["version"] == "8.5" and config["repositories"] == ["A/b"] and config["users"] == ["ci"]
    assert "pw" not in response.text
    assert client.get("/_sandbox/config/bitbucket").json() == config
    assert sandbox.bitbucket.config.repositories == frozenset({"A/b"})
    assert client.post(builds_path(project="A", slug="c"), json=status()).status_code == 401  # old user gone
    assert Client(sandbox.url, auth=("ci", "pw")).post(builds_path(project="A", slug="b"), json=status()).ok

    for bad in ({"version": "nine"}, {"colour": "red"}, {"tokens": {"t": "admin"}}, {"repositories": "A/b"}, []):
        response = client.post("/_sandbox/config/bitbucket", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["message"]
    assert client.get("/_sandbox/config/bitbucket").json() == config
    assert client.post("/_sandbox/config/nothing", json={}).status_code == 404
