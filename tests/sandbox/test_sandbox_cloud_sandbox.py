"""Bitbucket Cloud within the sandbox: fault rules, the sandbox's rate limit, the request log, the JSON state
and reset."""

from __future__ import annotations

import io
import json

import pytest
import requests
from sandbox_helpers import OTHER_SHA, SHA, Client, cloud_path, cloud_status, legacy_path, status

from build_status_sandbox import Sandbox
from build_status_sandbox.bitbucket_cloud_config import DEFAULT_ACCESS_TOKEN, DEFAULT_API_TOKEN, DEFAULT_EMAIL


def test_a_fault_rule_on_the_cloud_routes(sandbox, cloud, client):
    sandbox.add_fault(status=503, times=2, emulation="bitbucket-cloud", retry_after="2")
    assert client.post(legacy_path(), json=status()).status_code == 204  # Data Center: not faulted
    for _ in range(2):
        response = cloud.post(cloud_path(), json=cloud_status())
        assert (response.status_code, response.headers["Retry-After"]) == (503, "2")
        assert response.json() == {"type": "error", "error": {"message": "Sandbox fault: HTTP 503."}}  # Cloud's shape
    assert sandbox.bitbucket_cloud.statuses("acme", "app", SHA) == []  # a faulted request changes nothing
    assert cloud.post(cloud_path(), json=cloud_status()).status_code == 201
    faults = [(entry["path"], entry["status"], entry["fault"]) for entry in sandbox.requests()]
    assert faults[1:] == [(cloud_path(), 503, "respond")] * 2 + [(cloud_path(), 201, None)]


def test_a_fault_rule_by_path_and_an_action(sandbox, cloud):
    sandbox.add_fault(action="truncate", path=r"^/2\.0/repositories/.*/statuses/build$", method="POST")
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        cloud.post(cloud_path(), json=cloud_status())
    assert len(sandbox.bitbucket_cloud.statuses("acme", "app", SHA)) == 1  # carried out all the same


def test_the_sandbox_rate_limit_answers_in_cloud_s_shape(sandbox, cloud):
    sandbox.set_rate_limit(0.01, 1)
    assert cloud.get(cloud_path(tail="/statuses")).status_code == 200
    limited = cloud.get(cloud_path(tail="/statuses"))
    assert limited.status_code == 429
    assert limited.json() == {"type": "error", "error": {"message": "Rate limit for this resource has been exceeded"}}
    assert int(limited.headers["Retry-After"]) >= 1


def test_the_request_log_has_the_cloud_requests_without_credentials(sandbox, anonymous):
    token = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}
    anonymous.post(cloud_path(), json=cloud_status("a"), headers=token).raise_for_status()
    user = Client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_API_TOKEN))
    try:
        user.get(cloud_path(tail="/statuses"), params={"refname": "main"}).raise_for_status()
    finally:
        user.close()
    first, second = sandbox.requests()
    assert (first["method"], first["path"], first["status"], first["body"]) == (
        "POST",
        cloud_path(),
        201,
        cloud_status("a"),
    )
    assert first["headers"]["Authorization"] == "Bearer"
    assert (second["method"], second["query"], second["status"]) == ("GET", {"refname": "main"}, 200)
    assert second["headers"]["Authorization"] == "Basic"
    dumped = json.dumps(sandbox.requests())
    for secret in (DEFAULT_ACCESS_TOKEN, DEFAULT_API_TOKEN):
        assert secret not in dumped


def test_the_state_has_the_cloud_statuses_and_reset_forgets_them(sandbox, cloud, anonymous):
    cloud.post(cloud_path(), json=cloud_status("a", "FAILED", refname="main")).raise_for_status()
    cloud.post(cloud_path(OTHER_SHA, repo="other"), json=cloud_status("b")).raise_for_status()
    state = anonymous.get("/_sandbox/state").json()["emulations"]["bitbucket-cloud"]
    assert list(state["repositories"]) == ["acme/other", "acme/app"]  # most recently updated first
    (stored,) = state["repositories"]["acme/app"][SHA]
    assert (stored["key"], stored["state"], stored["refname"]) == ("a", "FAILED", "main")
    assert stored["creator"]["display_name"] == "sandbox-access-token"
    assert state["config"]["users"] == [DEFAULT_EMAIL]
    assert DEFAULT_ACCESS_TOKEN not in json.dumps(state) and DEFAULT_API_TOKEN not in json.dumps(state)
    assert anonymous.post("/_sandbox/reset").status_code == 204
    assert sandbox.state()["emulations"]["bitbucket-cloud"]["repositories"] == {}
    assert cloud.get(cloud_path(tail="/statuses/build/a")).status_code == 404


def test_serve_announces_the_cloud_base_url_and_credentials():
    from build_status_sandbox.command import _announce

    sandbox = Sandbox()  # bound, not serving: announcing needs only its addresses
    try:
        out = io.StringIO()
        _announce(sandbox, sandbox.bitbucket.config, False, False, out)
    finally:
        sandbox.stop()
    text = out.getvalue()
    assert f"Bitbucket Cloud base URL: {sandbox.url} (/2.0/repositories/<workspace>/<repo>/commit/<sha>/…)" in text
    assert (
        f"access token {DEFAULT_ACCESS_TOKEN} (Bearer), or {DEFAULT_EMAIL} with API token {DEFAULT_API_TOKEN}" in text
    )
