"""The repository-scoped endpoint, capabilities per version, repositories, context path."""

from __future__ import annotations

import pytest
from sandbox_helpers import SHA, Client, builds_path, legacy_path, status

VALIDATION = "com.atlassian.bitbucket.validation.ArgumentValidationException"

FULL = status(
    "full",
    "INPROGRESS",
    name="Integration tests",
    description="Running",
    buildNumber="42",
    ref="refs/heads/main",
    parent="pipeline",
    duration=1500,
    lastUpdated=1700000000000,
    testResults={"successful": 10, "failed": 1, "skipped": 2},
)


def test_post_keeps_every_field_and_reads_back(sandbox, client):
    response = client.post(builds_path(), json={**FULL, "extra": "ignored"})
    assert response.status_code == 204
    (stored,) = sandbox.bitbucket.statuses(SHA)
    assert {name: stored[name] for name in FULL} == FULL
    assert "extra" not in stored
    assert (stored["endpoint"], stored["project"], stored["repository"]) == ("builds", "PROJ", "repo")

    read = client.get(builds_path(), params={"key": "full"})
    assert read.status_code == 200
    expected = {name: value for name, value in FULL.items() if name != "lastUpdated"}
    expected.update(createdDate=stored["createdDate"], updatedDate=stored["updatedDate"])
    assert read.json() == expected


def test_reads_back_a_status_from_the_commit_only_endpoint(client):
    client.post(legacy_path(), json=status("legacy", "FAILED")).raise_for_status()
    read = client.get(builds_path(SHA.upper()), params={"key": "legacy"})
    assert read.status_code == 200
    assert read.json()["state"] == "FAILED"


def test_read_and_delete_by_key(sandbox, client):
    assert client.get(builds_path()).status_code == 400
    missing = client.get(builds_path(), params={"key": "nope"})
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["message"]
    client.post(builds_path(), json=status("k")).raise_for_status()
    assert client.delete(builds_path(), params={"key": "k"}).status_code == 204
    assert sandbox.bitbucket.statuses(SHA) == []
    assert client.delete(builds_path(), params={"key": "k"}).status_code == 404
    assert client.delete(builds_path()).status_code == 400


@pytest.mark.parametrize(
    ("body", "context", "message"),
    [
        (status(ref="heads/main"), "ref", "Ref must be a full ref name starting with refs/"),
        (status(key=""), "key", "Key must not be blank."),
        (status(url=""), "url", "URL must not be blank."),
        (status(key="k" * 256), "key", "Key must not be longer than 255 characters."),
        (status(url="https://x/" + "u" * 441), "url", "URL must not be longer than 450 characters."),
        (status(buildNumber="1" * 256), "buildNumber", "Build number must not be longer than 255"),
        (status(parent="p" * 1025), "parent", "Parent must not be longer than 1024"),
        (status(duration="long"), "duration", "Duration must be a whole number."),
        (status(duration=1.5), "duration", "Duration must be a whole number."),
        (status(testResults={"failed": "x"}), "testResults.failed", "The number of failed tests must be"),
        (status(testResults=[1]), "testResults", "Test results must be a JSON object."),
        (status(state="PASSED"), "state", "The build state must be one of SUCCESSFUL, FAILED, INPROGRESS, CANCELLED"),
        ({"key": "k", "state": "FAILED"}, "url", "URL is required."),
    ],
)
def test_validation_failures(sandbox, client, body, context, message):
    response = client.post(builds_path(), json=body)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert (error["context"], error["exceptionName"]) == (context, VALIDATION)
    assert error["message"].startswith(message)
    assert sandbox.bitbucket.statuses(SHA) == []


@pytest.mark.parametrize(
    ("version", "capabilities"),
    [
        ("7.0", None),
        ("7.13", None),
        ("7.14", ["richBuildStatus"]),
        ("7.21.3", ["richBuildStatus"]),
        ("8.0", ["richBuildStatus", "cancelledStatus"]),
        ("9.2", ["richBuildStatus", "cancelledStatus"]),
    ],
)
def test_capabilities_per_version(make_sandbox, version, capabilities):
    sandbox = make_sandbox(bitbucket={"version": version})
    response = Client(sandbox.url, auth=None).get("/rest/api/latest/build/capabilities")
    if capabilities is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert response.json() == {"buildStatus": capabilities}


@pytest.mark.parametrize(("version", "accepted"), [("7.14", False), ("8.0", True), ("9.2", True)])
@pytest.mark.parametrize("state", ["CANCELLED", "UNKNOWN"])
def test_cancelled_and_unknown_need_8_0(make_sandbox, version, accepted, state):
    sandbox = make_sandbox(bitbucket={"version": version})
    response = Client(sandbox.url).post(builds_path(), json=status(state=state))
    if accepted:
        assert response.status_code == 204
        assert sandbox.bitbucket.statuses(SHA)[0]["state"] == state
    else:
        assert response.status_code == 400
        (error,) = response.json()["errors"]
        assert error["context"] == "state"
        assert error["message"] == "The build state must be one of SUCCESSFUL, FAILED, INPROGRESS."
        assert sandbox.bitbucket.statuses(SHA) == []


def test_version_7_0_has_only_the_commit_only_endpoint(make_sandbox):
    sandbox = make_sandbox(bitbucket={"version": "7.0"})
    http = Client(sandbox.url)
    assert http.post(builds_path(), json=status()).status_code == 404
    assert http.get(builds_path(), params={"key": "k"}).status_code == 404
    assert sandbox.bitbucket.statuses(SHA) == []
    assert http.post(legacy_path(), json=status()).status_code == 204


def test_version_7_4_posts_but_cannot_read_back_by_key(make_sandbox):
    sandbox = make_sandbox(bitbucket={"version": "7.4"})
    http = Client(sandbox.url)
    assert http.post(builds_path(), json=status("k")).status_code == 204
    assert http.get(builds_path(), params={"key": "k"}).status_code == 404
    assert http.delete(builds_path(), params={"key": "k"}).status_code == 404
    assert len(sandbox.bitbucket.statuses(SHA)) == 1


def test_unknown_repository_and_project(make_sandbox):
    sandbox = make_sandbox(bitbucket={"repositories": {"PROJ/repo"}})
    http = Client(sandbox.url)
    assert http.post(builds_path(project="proj", slug="REPO"), json=status("a")).status_code == 204

    response = http.post(builds_path(project="PROJ", slug="other"), json=status("b"))
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert error["message"] == "Repository PROJ/other does not exist."
    assert error["exceptionName"] == "com.atlassian.bitbucket.repository.NoSuchRepositoryException"

    response = http.get(builds_path(project="NOPE", slug="repo"), params={"key": "a"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Project NOPE does not exist."
    assert [stored["key"] for stored in sandbox.bitbucket.statuses(SHA)] == ["a"]


def test_commit_must_be_a_full_sha_on_repository_endpoint(sandbox, client):
    response = client.post(builds_path("abc123"), json=status())
    assert response.status_code == 404
    assert response.json()["errors"][0]["exceptionName"] == "com.atlassian.bitbucket.commit.NoSuchCommitException"


def test_context_path(make_sandbox):
    sandbox = make_sandbox(bitbucket={"context_path": "stash/"})
    assert sandbox.bitbucket.config.context_path == "/stash"
    assert sandbox.bitbucket_url == sandbox.url + "/stash"
    http = Client(sandbox.url)
    assert http.post("/stash" + legacy_path(), json=status("a")).status_code == 204
    assert http.post("/stash" + builds_path(), json=status("b")).status_code == 204
    assert http.get("/stash/rest/api/latest/build/capabilities").status_code == 200
    assert http.post(legacy_path(), json=status("c")).status_code == 404
    assert http.get("/rest/api/latest/build/capabilities").status_code == 404
    assert {stored["key"] for stored in sandbox.bitbucket.statuses(SHA)} == {"a", "b"}


def test_runtime_config_change_moves_routes(sandbox, client):
    response = client.post("/_sandbox/config/bitbucket", json={"context_path": "/bitbucket", "version": "7.14"})
    assert response.status_code == 200
    assert response.json()["capabilities"] == ["richBuildStatus"]
    assert client.get("/bitbucket/rest/api/latest/build/capabilities").json() == {"buildStatus": ["richBuildStatus"]}
    assert client.get("/rest/api/latest/build/capabilities").status_code == 404
    assert client.post("/bitbucket" + builds_path(), json=status(state="CANCELLED")).status_code == 400
