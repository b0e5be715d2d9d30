"""The commit-only endpoint: posting, validation, replacing per key, paging, stats."""

from __future__ import annotations

import pytest
from sandbox_helpers import OTHER_SHA, SHA, legacy_path, status

LEGACY_EXCEPTION = "com.atlassian.bitbucket.build.InvalidBuildStatusException"


@pytest.mark.parametrize("version", ["1.0", "latest"])
def test_post_stores_status(sandbox, client, version):
    body = status(name="Unit tests", description="All good")
    response = client.post(legacy_path(SHA.upper(), version), json=body)
    assert response.status_code == 204
    assert response.content == b""
    (stored,) = sandbox.bitbucket.statuses(SHA)
    assert {name: stored[name] for name in body} == body
    assert stored["commit"] == SHA
    assert stored["endpoint"] == "build-status"
    assert stored["project"] is None and stored["repository"] is None
    assert stored["createdDate"] == stored["updatedDate"]


@pytest.mark.parametrize(
    ("body", "context", "message"),
    [
        ({"key": "k", "url": "https://x"}, "state", "The build state is required."),
        (status(state="CANCELLED"), "state", "The build state must be one of SUCCESSFUL, FAILED, INPROGRESS."),
        (status(state="successful"), "state", "The build state must be one of SUCCESSFUL, FAILED, INPROGRESS."),
        ({"state": "FAILED", "url": "https://x"}, "key", "Key is required."),
        (status(key=""), "key", "Key must not be blank."),
        (status(key="   "), "key", "Key must not be blank."),
        (status(key="k" * 256), "key", "Key must not be longer than 255 characters."),
        (status(key=7), "key", "Key must be a string."),
        ({"state": "FAILED", "key": "k"}, "url", "URL is required."),
        ({"state": "FAILED", "key": "k", "url": ""}, "url", "URL must not be blank."),
        ({"state": "FAILED", "key": "k", "url": "https://x/" + "u" * 441}, "url", "URL must not be longer than 450"),
        (status(name="n" * 256), "name", "Name must not be longer than 255 characters."),
        (status(description="d" * 256), "description", "Description must not be longer than 255 characters."),
        (status(state=None), "state", "The build state is required."),
        ([status()], None, "The request body must be a JSON object."),
        ("just a string", None, "The request body must be a JSON object."),
    ],
)
def test_validation_failures(sandbox, client, body, context, message):
    response = client.post(legacy_path(), json=body)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["context"] == context
    assert error["message"].startswith(message)
    assert error["exceptionName"] == LEGACY_EXCEPTION
    assert sandbox.bitbucket.statuses(SHA) == []


def test_several_errors_are_all_reported(client):
    response = client.post(legacy_path(), json={"state": "DONE", "key": "k" * 300})
    assert response.status_code == 400
    assert [error["context"] for error in response.json()["errors"]] == ["key", "state", "url"]


def test_url_of_450_characters_is_fine(sandbox, client):
    url = "https://x/" + "u" * 440
    assert len(url) == 450
    assert client.post(legacy_path(), json=status(url=url)).status_code == 204


@pytest.mark.parametrize(
    ("data", "headers", "expected"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400),
        (b"", {"Content-Type": "application/json"}, 400),
        (b'{"state":"FAILED","key":"k","url":"https://x"}', {"Content-Type": "text/plain"}, 415),
        (b'{"state":"FAILED","key":"k","url":"https://x"}', {}, 415),
        (b"state=FAILED&key=k", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_body_that_is_not_json(sandbox, client, data, headers, expected):
    response = client.post(legacy_path(), data=data, headers=headers)
    assert response.status_code == expected
    (error,) = response.json()["errors"]
    assert error["message"]
    assert sandbox.bitbucket.statuses(SHA) == []


@pytest.mark.parametrize("sha", ["abc123", "g" * 40, SHA + "0", "ZZ"])
def test_sha_must_be_40_hex_characters(sandbox, client, sha):
    response = client.post(legacy_path(sha), json=status())
    assert response.status_code == 400
    assert response.json()["errors"][0]["context"] == "commitId"
    assert sandbox.state()["emulations"]["bitbucket"]["commits"] == {}


def test_same_key_replaces_status(sandbox, client):
    assert client.post(legacy_path(), json=status("k", "INPROGRESS", name="first")).status_code == 204
    (first,) = sandbox.bitbucket.statuses(SHA)
    assert client.post(legacy_path(SHA.upper()), json=status("k", "FAILED")).status_code == 204
    (second,) = sandbox.bitbucket.statuses(SHA)
    assert second["state"] == "FAILED"
    assert "name" not in second  # a replacement carries only what was sent
    assert second["createdDate"] == first["createdDate"]
    assert second["updatedDate"] >= first["updatedDate"]
    assert sandbox.bitbucket.tally(SHA)["failed"] == 1


def test_paging_shows_only_100_newest(client):
    for number in range(120):
        assert client.post(legacy_path(), json=status(f"key-{number:03}")).status_code == 204
    seen = []
    start = 0
    for _ in range(10):
        page = client.get(legacy_path(), params={"start": start, "limit": 30}).json()
        assert page["start"] == start
        assert page["limit"] == 30
        assert page["size"] == len(page["values"])
        seen += [value["key"] for value in page["values"]]
        if page["isLastPage"]:
            assert "nextPageStart" not in page
            break
        assert page["nextPageStart"] == start + page["size"]
        start = page["nextPageStart"]
    assert seen == [f"key-{number:03}" for number in range(119, 19, -1)]

    default = client.get(legacy_path()).json()
    assert default["limit"] == 25 and default["size"] == 25 and default["isLastPage"] is False
    assert default["nextPageStart"] == 25
    assert set(default["values"][0]) == {"key", "state", "url", "createdDate", "updatedDate"}

    oldest = client.get(legacy_path(), params={"orderBy": "oldest", "limit": 2}).json()
    assert [value["key"] for value in oldest["values"]] == ["key-020", "key-021"]

    beyond = client.get(legacy_path(), params={"start": 100}).json()
    assert beyond == {"size": 0, "limit": 25, "isLastPage": True, "start": 100, "values": []}


def test_order_by_status(client):
    for key, state in (("a", "SUCCESSFUL"), ("b", "FAILED"), ("c", "INPROGRESS"), ("d", "FAILED")):
        client.post(legacy_path(), json=status(key, state))
    page = client.get(legacy_path(), params={"orderBy": "STATUS"}).json()
    assert [value["key"] for value in page["values"]] == ["d", "b", "c", "a"]


@pytest.mark.parametrize(
    ("params", "context"),
    [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"start": "-1"}, "start"), ({"orderBy": "KEY"}, "orderBy")],
)
def test_bad_paging_parameters(client, params, context):
    response = client.get(legacy_path(), params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["context"] == context


def test_empty_commit_lists_nothing(client):
    page = client.get(legacy_path(OTHER_SHA, "latest")).json()
    assert page == {"size": 0, "limit": 25, "isLastPage": True, "start": 0, "values": []}


@pytest.mark.parametrize("version", ["1.0", "latest"])
def test_stats(client, version):
    for key, state in (("a", "SUCCESSFUL"), ("b", "SUCCESSFUL"), ("c", "FAILED"), ("d", "INPROGRESS")):
        client.post(legacy_path(), json=status(key, state))
    client.post(
        f"/rest/api/latest/projects/P/repos/r/commits/{SHA}/builds", json=status("e", "CANCELLED")
    ).raise_for_status()
    expected = {"successful": 2, "failed": 1, "inProgress": 1, "cancelled": 1, "unknown": 0}
    assert client.get(f"/rest/build-status/{version}/commits/stats/{SHA.upper()}").json() == expected
    empty = client.get(f"/rest/build-status/{version}/commits/stats/{OTHER_SHA}").json()
    assert empty == {"successful": 0, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0}


def test_multiple_stats_omit_commits_without_builds(client):
    client.post(legacy_path(), json=status("a", "FAILED"))
    client.post(legacy_path(OTHER_SHA), json=status("a", "SUCCESSFUL"))
    third = "1" * 40
    response = client.post("/rest/build-status/latest/commits/stats", json=[SHA, OTHER_SHA, third])
    assert response.status_code == 200
    assert response.json() == {
        SHA: {"successful": 0, "failed": 1, "inProgress": 0, "cancelled": 0, "unknown": 0},
        OTHER_SHA: {"successful": 1, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0},
    }
    assert client.post("/rest/build-status/1.0/commits/stats", json={"sha": SHA}).status_code == 400
