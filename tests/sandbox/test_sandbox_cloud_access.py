"""Bitbucket Cloud access: access tokens (Bearer) and user API tokens (Basic e-mail:token), each its own
identity; only a status's creator (or a repository admin) may overwrite it; a per-identity rolling rate limit."""

from __future__ import annotations

import base64

import pytest
from sandbox_helpers import SHA, Client, bearer, cloud_path, cloud_status

from build_status_sandbox import BitbucketCloudConfig
from build_status_sandbox.bitbucket_cloud import NOT_CREATOR, RATE_LIMITED
from build_status_sandbox.bitbucket_cloud_config import (
    AUTHENTICATION_REQUIRED,
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_ACCESS_TOKEN_NAME,
    DEFAULT_API_TOKEN,
    DEFAULT_EMAIL,
    TOKEN_NOT_SUPPORTED,
)

OTHER_TOKEN = "other-access-token"
ADMIN_EMAIL = "admin@example.com"
ADMIN_API_TOKEN = "admin-api-token"
TWO_TOKENS = BitbucketCloudConfig(
    access_tokens={DEFAULT_ACCESS_TOKEN: DEFAULT_ACCESS_TOKEN_NAME, OTHER_TOKEN: "other token"},
    users={DEFAULT_EMAIL: DEFAULT_API_TOKEN, ADMIN_EMAIL: ADMIN_API_TOKEN},
    admins={ADMIN_EMAIL},
)


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def error(message: str) -> dict:
    return {"type": "error", "error": {"message": message}}


@pytest.mark.parametrize(
    ("headers", "creator"),
    [
        pytest.param({"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}, DEFAULT_ACCESS_TOKEN_NAME, id="access-token"),
        pytest.param(basic(DEFAULT_EMAIL, DEFAULT_API_TOKEN), DEFAULT_EMAIL, id="email-and-api-token"),
        pytest.param(basic(DEFAULT_EMAIL.upper(), DEFAULT_API_TOKEN), DEFAULT_EMAIL, id="email-any-case"),
    ],
)
def test_accepted_credentials(anonymous, headers, creator):
    response = anonymous.post(cloud_path(), json=cloud_status(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["creator"]["display_name"] == creator
    assert anonymous.get(cloud_path(tail="/statuses"), headers=headers).status_code == 200


def test_a_user_api_token_sent_as_bearer_is_refused(sandbox, anonymous):
    response = anonymous.post(
        cloud_path(), json=cloud_status(), headers={"Authorization": f"Bearer {DEFAULT_API_TOKEN}"}
    )
    assert response.status_code == 401
    assert response.json() == error("Token is invalid, expired, or not supported for this endpoint.")
    assert TOKEN_NOT_SUPPORTED == "Token is invalid, expired, or not supported for this endpoint."
    assert sandbox.bitbucket_cloud.statuses("acme", "app", SHA) == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param({}, AUTHENTICATION_REQUIRED, id="missing"),
        pytest.param({"Authorization": "Bearer unknown"}, TOKEN_NOT_SUPPORTED, id="unknown-token"),
        pytest.param({"Authorization": "Bearer"}, AUTHENTICATION_REQUIRED, id="bearer-without-token"),
        pytest.param(basic(DEFAULT_EMAIL, "wrong"), AUTHENTICATION_REQUIRED, id="wrong-api-token"),
        pytest.param(basic("nobody@example.com", DEFAULT_API_TOKEN), AUTHENTICATION_REQUIRED, id="unknown-email"),
        pytest.param(basic("sandbox", DEFAULT_API_TOKEN), AUTHENTICATION_REQUIRED, id="user-name-not-email"),
        pytest.param(basic(DEFAULT_EMAIL, DEFAULT_ACCESS_TOKEN), AUTHENTICATION_REQUIRED, id="access-token-as-basic"),
        pytest.param({"Authorization": "Basic not*base64"}, AUTHENTICATION_REQUIRED, id="garbage-basic"),
        pytest.param({"Authorization": f"Token {DEFAULT_ACCESS_TOKEN}"}, AUTHENTICATION_REQUIRED, id="unknown-scheme"),
        pytest.param(basic("sandbox", "sandbox-password"), AUTHENTICATION_REQUIRED, id="data-center-user"),
        pytest.param({"Authorization": "Bearer sandbox-token"}, TOKEN_NOT_SUPPORTED, id="data-center-token"),
    ],
)
def test_refused_credentials(sandbox, anonymous, headers, message):
    for method, path in (
        ("POST", cloud_path()),
        ("GET", cloud_path(tail="/statuses")),
        ("GET", cloud_path(tail="/statuses/build/k")),
        ("PUT", cloud_path(tail="/statuses/build/k")),
    ):
        response = anonymous.request(method, path, json=cloud_status("k"), headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.json() == error(message)
    assert sandbox.bitbucket_cloud.statuses("acme", "app", SHA) == []


def test_only_the_creator_may_overwrite_a_status(make_sandbox):
    sandbox = make_sandbox(bitbucket_cloud=TWO_TOKENS)
    creator, other = Client(sandbox.url, auth=bearer()), Client(sandbox.url, auth=bearer(OTHER_TOKEN))
    user = Client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_API_TOKEN))
    try:
        assert creator.post(cloud_path(), json=cloud_status("k", "INPROGRESS")).status_code == 201
        for http in (other, user):  # another access token, a user: identities of their own
            for response in (
                http.post(cloud_path(), json=cloud_status("k", "FAILED")),
                http.put(cloud_path(tail="/statuses/build/k"), json={"state": "FAILED"}),
            ):
                assert response.status_code == 403
                assert response.json() == error(NOT_CREATOR)
            assert http.get(cloud_path(tail="/statuses/build/k")).json()["state"] == "INPROGRESS"  # reading is fine
            assert http.post(cloud_path(), json=cloud_status(f"own-{id(http)}")).status_code == 201  # other keys too
        assert creator.put(cloud_path(tail="/statuses/build/k"), json={"state": "SUCCESSFUL"}).status_code == 200
        assert creator.post(cloud_path(), json=cloud_status("k", "FAILED")).status_code == 201
        assert other.post(cloud_path(tail="/statuses/build", repo="other"), json=cloud_status("k")).status_code == 201
    finally:
        for http in (creator, other, user):
            http.close()


def test_a_repository_admin_may_overwrite_anyone_s_status(make_sandbox):
    sandbox = make_sandbox(bitbucket_cloud=TWO_TOKENS)
    creator, admin = Client(sandbox.url, auth=bearer()), Client(sandbox.url, auth=(ADMIN_EMAIL, ADMIN_API_TOKEN))
    try:
        created = creator.post(cloud_path(), json=cloud_status("k", "INPROGRESS")).json()
        assert admin.put(cloud_path(tail="/statuses/build/k"), json={"state": "STOPPED"}).status_code == 200
        overwritten = admin.post(cloud_path(), json=cloud_status("k", "FAILED"))
        assert overwritten.status_code == 201
        assert overwritten.json()["creator"] == created["creator"]  # still the creator's status
        assert creator.put(cloud_path(tail="/statuses/build/k"), json={"state": "SUCCESSFUL"}).status_code == 200
    finally:
        creator.close()
        admin.close()


def test_the_rate_limit_counts_each_identity_in_a_rolling_window(make_sandbox):
    sandbox = make_sandbox(bitbucket_cloud={"rate_limit": 3})
    token, user = Client(sandbox.url, auth=bearer()), Client(sandbox.url, auth=(DEFAULT_EMAIL, DEFAULT_API_TOKEN))
    try:
        answers = [token.post(cloud_path(), json=cloud_status(f"k{n}")) for n in range(3)]
        assert [response.status_code for response in answers] == [201] * 3
        assert answers[0].headers["X-RateLimit-Limit"] == "3"
        limited = token.get(cloud_path(tail="/statuses"))
        assert limited.status_code == 429
        assert limited.json() == error("Rate limit for this resource has been exceeded")
        assert RATE_LIMITED == "Rate limit for this resource has been exceeded"
        assert limited.headers["X-RateLimit-Limit"] == "3"
        assert "Retry-After" not in limited.headers  # unverified on Bitbucket Cloud: off by default
        assert token.post(cloud_path(), json=cloud_status("late")).status_code == 429
        assert user.get(cloud_path(tail="/statuses")).status_code == 200  # the user has its own allowance
        assert len(sandbox.bitbucket_cloud.statuses("acme", "app", SHA)) == 3
        sandbox.reset()
        assert token.get(cloud_path(tail="/statuses")).status_code == 200  # reset empties the window
    finally:
        token.close()
        user.close()


def test_retry_after_when_configured(make_sandbox):
    sandbox = make_sandbox(bitbucket_cloud={"rate_limit": 1, "rate_window": 30, "retry_after": True})
    http = Client(sandbox.url, auth=bearer())
    try:
        assert http.get(cloud_path(tail="/statuses")).status_code == 200
        limited = http.get(cloud_path(tail="/statuses"))
        assert limited.status_code == 429
        assert 29 <= int(limited.headers["Retry-After"]) <= 30
        assert limited.headers["X-RateLimit-Limit"] == "1"
    finally:
        http.close()


def test_configuration_at_run_time(sandbox, cloud, anonymous):
    config = anonymous.get("/_sandbox/config/bitbucket-cloud").json()
    assert config == {
        "access_tokens": [DEFAULT_ACCESS_TOKEN_NAME],
        "users": [DEFAULT_EMAIL],
        "repositories": None,
        "admins": [],
        "rate_limit": None,
        "rate_window": 3600.0,
        "retry_after": False,
    }
    changed = anonymous.post("/_sandbox/config/bitbucket-cloud", json={"repositories": ["acme/app"], "rate_limit": 5})
    assert changed.status_code == 200
    assert changed.json()["repositories"] == ["acme/app"]
    assert cloud.post(cloud_path(repo="other"), json=cloud_status()).status_code == 404
    assert cloud.post(cloud_path(), json=cloud_status()).headers["X-RateLimit-Limit"] == "5"
    for bad in ({"admins": ["nobody@example.com"]}, {"users": {"no-at-sign": "t"}}, {"rate_limit": 0}, {"colour": 1}):
        response = anonymous.post("/_sandbox/config/bitbucket-cloud", json=bad)
        assert response.status_code == 400, bad
    assert sandbox.bitbucket_cloud.config.rate_limit == 5


@pytest.mark.parametrize(
    "fields",
    [
        {"access_tokens": {"": "name"}},
        {"users": {"a@example.com": ""}},
        {"users": {"a:b@example.com": "t"}},
        {"access_tokens": {"t": "a@example.com"}, "users": {"a@example.com": "u"}},
        {"repositories": "acme/app"},
        {"repositories": {"acme"}},
        {"admins": "sandbox@example.com"},
        {"rate_limit": True},
        {"rate_window": 0},
        {"retry_after": "yes"},
    ],
)
def test_bad_configurations(fields):
    with pytest.raises(ValueError):
        BitbucketCloudConfig(**fields)
