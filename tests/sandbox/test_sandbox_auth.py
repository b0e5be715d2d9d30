"""Authentication: Basic user, personal token (Bearer or Basic), HTTP access token (Bearer only)."""

from __future__ import annotations

import base64

import pytest
from sandbox_helpers import PERSONAL_TOKEN, REPO_TOKEN, SHA, Client, builds_path, legacy_path, status

AUTH_FAILED = {
    "errors": [
        {
            "context": None,
            "message": "Authentication failed. Please check your credentials and try again.",
            "exceptionName": "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException",
        }
    ]
}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(basic("sandbox", "sandbox-password"), id="basic-user"),
        pytest.param(bearer(PERSONAL_TOKEN), id="bearer-personal-token"),
        pytest.param(bearer(REPO_TOKEN), id="bearer-http-access-token"),
        pytest.param(basic("sandbox", PERSONAL_TOKEN), id="personal-token-as-basic-password"),
    ],
)
def test_accepted_credentials(sandbox, anonymous, headers):
    for path in (legacy_path(), builds_path()):
        response = anonymous.post(path, json=status(key=path[-8:]), headers=headers)
        assert response.status_code == 204, response.text
    assert len(sandbox.bitbucket.statuses(SHA)) == 2


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param(basic("sandbox", REPO_TOKEN), id="http-access-token-as-basic-password"),
        pytest.param(basic("sandbox", "wrong"), id="wrong-password"),
        pytest.param(basic("nobody", "sandbox-password"), id="unknown-user"),
        pytest.param(basic("other", PERSONAL_TOKEN), id="personal-token-of-another-user"),
        pytest.param({"Authorization": "Basic not*base64"}, id="garbage-basic"),
        pytest.param({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, id="basic-no-colon"),
        pytest.param(bearer("sandbox-password"), id="password-as-bearer"),
        pytest.param(bearer("unknown-token"), id="unknown-token"),
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
        pytest.param({"Authorization": f"Token {PERSONAL_TOKEN}"}, id="unknown-scheme"),
    ],
)
def test_rejected_credentials(sandbox, anonymous, headers):
    for method, path in (
        ("POST", legacy_path()),
        ("GET", legacy_path()),
        ("POST", builds_path()),
        ("GET", builds_path() + "?key=k"),
        ("GET", f"/rest/build-status/latest/commits/stats/{SHA}"),
    ):
        response = anonymous.request(method, path, json=status(), headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json() == AUTH_FAILED
    assert sandbox.bitbucket.statuses(SHA) == []


def test_capabilities_need_no_credentials(anonymous):
    response = anonymous.get("/rest/api/latest/build/capabilities")
    assert response.status_code == 200
    assert response.json() == {"buildStatus": ["richBuildStatus", "cancelledStatus"]}


def test_anonymous_read_when_allowed(make_sandbox):
    sandbox = make_sandbox(bitbucket={"allow_anonymous_read": True})
    http = Client(sandbox.url, auth=None)
    assert http.get(legacy_path()).status_code == 200
    assert http.get(f"/rest/build-status/latest/commits/stats/{SHA}").status_code == 200
    assert http.post(legacy_path(), json=status()).status_code == 401
    assert http.get(legacy_path(), headers=basic("sandbox", "wrong")).status_code == 401
    http.close()


def test_configured_users_and_tokens(make_sandbox):
    sandbox = make_sandbox(bitbucket={"users": {"ci": "s3cret"}, "tokens": {"tok": "http-access"}})
    http = Client(sandbox.url, auth=None)
    assert http.post(legacy_path(), json=status(), headers=basic("ci", "s3cret")).status_code == 204
    assert http.post(legacy_path(), json=status(), headers=bearer("tok")).status_code == 204
    assert http.post(legacy_path(), json=status(), headers=basic("sandbox", "sandbox-password")).status_code == 401
    assert http.post(legacy_path(), json=status(), headers=bearer(PERSONAL_TOKEN)).status_code == 401
    http.close()
