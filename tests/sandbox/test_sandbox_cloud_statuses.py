"""Bitbucket Cloud commit statuses: create, overwrite, read, update, list (paged, by refname), repositories by
slug or {UUID}, and validation answered as Bitbucket does."""

from __future__ import annotations

import datetime

import pytest
from sandbox_helpers import OTHER_SHA, SHA, Client, bearer, cloud_path, cloud_status

from build_status_sandbox import BitbucketCloudConfig
from build_status_sandbox.bitbucket_cloud import NO_COMMIT, NO_REPOSITORY, NO_STATUS
from build_status_sandbox.bitbucket_cloud_config import (
    DEFAULT_ACCESS_TOKEN_NAME,
    repository_uuid,
    workspace_uuid,
)


def test_post_answers_201_with_the_status(sandbox, cloud):
    body = cloud_status("build-1", "INPROGRESS", name="Unit tests", description="3 running", refname="main")
    response = cloud.post(cloud_path(), json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    status = response.json()
    assert status["type"] == "build"
    assert {name: status[name] for name in body} == body
    assert status["created_on"] == status["updated_on"]
    assert datetime.datetime.fromisoformat(status["created_on"]).tzinfo is not None
    commit = f"{sandbox.url}/2.0/repositories/acme/app/commit/{SHA}"
    assert status["links"] == {"self": {"href": f"{commit}/statuses/build/build-1"}, "commit": {"href": commit}}
    assert status["creator"]["display_name"] == DEFAULT_ACCESS_TOKEN_NAME
    assert status["creator"]["uuid"].startswith("{")
    assert status["repository"]["full_name"] == "acme/app"
    assert status["commit"] == {"type": "commit", "hash": SHA}
    (stored,) = sandbox.bitbucket_cloud.statuses("acme", "app", SHA)
    assert (stored["key"], stored["state"], stored["refname"]) == ("build-1", "INPROGRESS", "main")
    assert sandbox.bitbucket.statuses(SHA) == []  # Data Center's statuses are apart


def test_the_self_link_reads_the_status_back(cloud):
    created = cloud.post(cloud_path(), json=cloud_status("a b+c", url="https://ci.example.com/1")).json()
    assert created["links"]["self"]["href"].endswith("/statuses/build/a%20b%2Bc")
    response = cloud.session.get(created["links"]["self"]["href"], timeout=5)
    assert response.status_code == 200
    assert response.json() == created


def test_the_same_key_again_overwrites_and_answers_201(sandbox, cloud):
    first = cloud.post(cloud_path(), json=cloud_status("k", "INPROGRESS", refname="main", name="first")).json()
    response = cloud.post(cloud_path(), json=cloud_status("k", "SUCCESSFUL"))
    assert response.status_code == 201
    second = response.json()
    assert (second["state"], second["uuid"], second["created_on"]) == ("SUCCESSFUL", first["uuid"], first["created_on"])
    assert "name" not in second and "refname" not in second  # overwritten, not merged
    assert second["updated_on"] >= first["updated_on"]
    assert len(sandbox.bitbucket_cloud.statuses("acme", "app", SHA)) == 1


def test_get_by_key(cloud):
    cloud.post(cloud_path(), json=cloud_status("k", "FAILED")).raise_for_status()
    response = cloud.get(cloud_path(tail="/statuses/build/k"))
    assert response.status_code == 200
    assert (response.json()["key"], response.json()["state"]) == ("k", "FAILED")
    missing = cloud.get(cloud_path(tail="/statuses/build/other"))
    assert missing.status_code == 404
    assert missing.json() == {"type": "error", "error": {"message": NO_STATUS}}
    assert cloud.get(cloud_path(OTHER_SHA, "/statuses/build/k")).status_code == 404  # another commit


def test_put_changes_the_fields_sent_and_never_the_key(cloud):
    created = cloud.post(cloud_path(), json=cloud_status("k", "INPROGRESS", name="Build", refname="main")).json()
    response = cloud.put(cloud_path(tail="/statuses/build/k"), json={"state": "STOPPED", "key": "renamed"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["key"], updated["state"], updated["name"], updated["refname"]) == ("k", "STOPPED", "Build", "main")
    assert (updated["uuid"], updated["created_on"]) == (created["uuid"], created["created_on"])
    assert cloud.get(cloud_path(tail="/statuses/build/renamed")).status_code == 404
    assert cloud.put(cloud_path(tail="/statuses/build/none"), json={"state": "FAILED"}).status_code == 404
    bad = cloud.put(cloud_path(tail="/statuses/build/k"), json={"state": "CANCELLED"})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["state"]


def test_the_statuses_are_paged_with_an_absolute_next_link(cloud):
    for number in range(25):
        cloud.post(cloud_path(), json=cloud_status(f"k{number:02}")).raise_for_status()
    first = cloud.get(cloud_path(tail="/statuses")).json()
    assert (first["pagelen"], first["page"], first["size"], len(first["values"])) == (10, 1, 25, 10)
    assert [status["key"] for status in first["values"]] == [f"k{number:02}" for number in range(10)]
    keys = []
    page = first
    while True:
        keys += [status["key"] for status in page["values"]]
        if "next" not in page:
            break
        assert page["next"].startswith(cloud.base + "/2.0/repositories/acme/app/commit/")
        page = cloud.session.get(page["next"], timeout=5).json()
    assert keys == [f"k{number:02}" for number in range(25)]
    assert page["page"] == 3 and len(page["values"]) == 5

    bigger = cloud.get(cloud_path(tail="/statuses"), params={"pagelen": 1000}).json()
    assert (bigger["pagelen"], len(bigger["values"])) == (100, 25)  # at most 100
    assert "next" not in bigger
    two = cloud.get(cloud_path(tail="/statuses"), params={"pagelen": 2, "page": 2, "sort": "-created_on"}).json()
    assert [status["key"] for status in two["values"]] == ["k22", "k21"]
    assert "sort=-created_on" in two["next"] and "pagelen=2" in two["next"] and "page=3" in two["next"]
    beyond = cloud.get(cloud_path(tail="/statuses"), params={"page": 9}).json()
    assert (beyond["values"], beyond["size"]) == ([], 25)


@pytest.mark.parametrize(
    "query", [{"pagelen": "0"}, {"pagelen": "ten"}, {"page": "0"}, {"sort": "colour"}, {"q": 'state="FAILED"'}]
)
def test_bad_list_queries_are_refused(cloud, query):
    response = cloud.get(cloud_path(tail="/statuses"), params=query)
    assert response.status_code == 400
    assert response.json()["type"] == "error"


def test_the_refname_filter_keeps_statuses_without_a_refname(cloud):
    cloud.post(cloud_path(), json=cloud_status("any")).raise_for_status()
    cloud.post(cloud_path(), json=cloud_status("main", refname="main")).raise_for_status()
    cloud.post(cloud_path(), json=cloud_status("pr", refname="my-pr-branch")).raise_for_status()
    keys = lambda **query: [s["key"] for s in cloud.get(cloud_path(tail="/statuses"), params=query).json()["values"]]  # noqa: E731
    assert keys() == ["any", "main", "pr"]
    assert keys(refname="my-pr-branch") == ["any", "pr"]
    assert keys(refname="main") == ["any", "main"]
    assert keys(refname="other") == ["any"]
    page = cloud.get(cloud_path(tail="/statuses"), params={"refname": "main", "pagelen": 1}).json()
    assert "refname=main" in page["next"]


def test_statuses_belong_to_their_repository_and_commit(cloud):
    cloud.post(cloud_path(), json=cloud_status("a")).raise_for_status()
    cloud.post(cloud_path(OTHER_SHA), json=cloud_status("b")).raise_for_status()
    cloud.post(cloud_path(repo="other"), json=cloud_status("c")).raise_for_status()
    listed = cloud.get(cloud_path(tail="/statuses")).json()
    assert [status["key"] for status in listed["values"]] == ["a"]
    upper = cloud.get(cloud_path(SHA.upper(), "/statuses", "ACME", "App")).json()
    assert [status["key"] for status in upper["values"]] == ["a"]  # names and SHAs are case-insensitive


def test_workspace_and_repository_by_uuid(cloud):
    cloud.post(cloud_path(), json=cloud_status("a")).raise_for_status()
    by_uuid = cloud_path(
        tail="/statuses/build/a", workspace=workspace_uuid("acme"), repo=repository_uuid("acme", "app")
    )
    response = cloud.get(by_uuid)
    assert response.status_code == 200
    assert response.json()["repository"]["uuid"] == repository_uuid("acme", "app")
    mixed = cloud_path(tail="/statuses", workspace="acme", repo=repository_uuid("acme", "app").upper())
    assert len(cloud.get(mixed).json()["values"]) == 1


def test_only_the_configured_repositories_exist(make_sandbox):
    sandbox = make_sandbox(bitbucket_cloud=BitbucketCloudConfig(repositories={"acme/app"}))
    http = Client(sandbox.url, auth=bearer())
    try:
        assert http.post(cloud_path(), json=cloud_status()).status_code == 201
        by_uuid = cloud_path(workspace=workspace_uuid("acme"), repo=repository_uuid("acme", "app"))
        assert http.post(by_uuid, json=cloud_status("b")).status_code == 201
        for path in (
            cloud_path(repo="other"),
            cloud_path(workspace="else"),
            cloud_path(repo=repository_uuid("x", "y")),
        ):
            response = http.post(path, json=cloud_status())
            assert response.status_code == 404
            assert response.json() == {"type": "error", "error": {"message": NO_REPOSITORY}}
        assert len(sandbox.bitbucket_cloud.statuses("acme", "app", SHA)) == 2
    finally:
        http.close()


@pytest.mark.parametrize("sha", ["abc123", SHA[:-1], SHA + "0", "g" * 40])
def test_the_commit_must_be_a_full_sha(cloud, sha):
    response = cloud.post(cloud_path(sha), json=cloud_status())
    assert response.status_code == 404
    assert response.json() == {"type": "error", "error": {"message": NO_COMMIT}}


def test_a_trailing_slash_is_accepted(cloud):
    assert cloud.post(cloud_path(tail="/statuses/build/"), json=cloud_status("k")).status_code == 201
    assert cloud.get(cloud_path(tail="/statuses/build/k/")).status_code == 200
    assert cloud.get(cloud_path(tail="/statuses/")).status_code == 200


def test_other_paths_and_methods_answer_in_bitbucket_cloud_s_shape(cloud):
    missing = cloud.get("/2.0/repositories/acme/app/pullrequests")
    assert missing.status_code == 404
    assert missing.json()["type"] == "error"
    wrong = cloud.request("DELETE", cloud_path(tail="/statuses/build/k"))
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, PUT"
    assert wrong.json()["type"] == "error"
