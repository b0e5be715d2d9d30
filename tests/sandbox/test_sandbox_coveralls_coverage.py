"""The Coveralls emulation's build coverage: ``GET /builds/<build id or commit sha>.json``, over real HTTP."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import OTHER_SHA, SHA, Client

from build_status_sandbox import Sandbox

TOKEN = "coveralls-repo-token"
OTHER_TOKEN = "other-repo-token-7f3a"
FIELDS = [
    "created_at",
    "url",
    "commit_message",
    "branch",
    "committer_name",
    "committer_email",
    "commit_sha",
    "repo_name",
    "badge_url",
    "coverage_change",
    "covered_percent",
]
NOT_FOUND = "The page you were looking for doesn&#x27;t exist."


@pytest.fixture
def http(sandbox: Sandbox):
    """A client without credentials, as Coveralls clients are."""
    client = Client(sandbox.url, auth=None)
    yield client
    client.close()


def lines(covered: int, relevant: int, name: str = "src/a.py") -> list:
    """One file with ``relevant`` lines, the first ``covered`` of them hit, and a line that is not relevant."""
    return [{"name": name, "coverage": [None] + [2] * covered + [0] * (relevant - covered)}]


def add(sandbox, number, flag="unit", sha=SHA, branch="main", files=None, token=TOKEN):
    return sandbox.coveralls.register_job(
        number, flag, repo_token=token, commit_sha=sha, branch=branch, source_files=files or []
    )


def close(http: Client, number: object, token: str = TOKEN, carryforward: str | None = None) -> None:
    params = {"repo_token": token, **({"carryforward": carryforward} if carryforward else {})}
    response = http.post("/webhook", params=params, json={"payload": {"build_num": number, "status": "done"}})
    assert response.status_code == 200, response.text
    assert response.json()["done"] is True


def as_json(http: Client, key: object, **params: str) -> dict:
    response = http.get(f"/builds/{key}.json", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def assert_not_found(http: Client, key: object, **params: str) -> None:
    response = http.get(f"/builds/{key}.json", params=params)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>") and NOT_FOUND in response.text


def build_id(sandbox, number, token: str = TOKEN) -> int:
    return sandbox.coveralls.build(number, repo_token=token)["id"]


# -- by id and by sha; open and closed ---------------------------------------------------------
def test_json_by_id_and_sha_is_null_until_closed(sandbox, http):
    add(sandbox, "1", "unit", files=lines(3, 4))
    add(sandbox, "1", "integration", files=lines(1, 4, "src/b.py"))
    ident = build_id(sandbox, "1")
    before = as_json(http, ident)
    assert list(before) == FIELDS
    assert (before["covered_percent"], before["coverage_change"]) == (None, None)
    assert before["badge_url"].endswith("/coveralls_unknown.svg")
    assert (before["commit_sha"], before["branch"], before["url"]) == (SHA, "main", None)
    assert as_json(http, SHA) == before == sandbox.coveralls.build_json("1")

    close(http, "1")
    after = as_json(http, ident)
    assert after["covered_percent"] == 50.0 and after["coverage_change"] == 50.0  # 4 of 8 lines
    assert after["badge_url"] == "https://s3.amazonaws.com/assets.coveralls.io/badges/coveralls_50.svg"
    assert as_json(http, SHA.upper()) == after == sandbox.coveralls.build_json("1")
    assert after["created_at"] == before["created_at"] and after["created_at"].endswith("Z")
    assert after["repo_name"].startswith("sandbox/repo-") and TOKEN not in json.dumps(after)


def test_lines_merge_per_file_and_line_across_parallel_jobs(sandbox, http):
    add(sandbox, "2", "py3.11", files=[{"name": "src/a.py", "coverage": [None, 0, 1, 0, None]}])
    add(
        sandbox,
        "2",
        "py3.12",
        files=[
            {"name": "src/a.py", "coverage": [None, 3, 0, 0, 0]},  # line 2 hit here, missed in the other job
            {"name": "src/b.py", "coverage": [1, None, 0]},
        ],
    )
    close(http, "2")
    # a.py: lines 2-5 relevant, 2 and 3 covered; b.py: lines 1 and 3 relevant, 1 covered → 3 of 6
    document = as_json(http, build_id(sandbox, "2"))
    assert document["covered_percent"] == 50.0
    build = sandbox.coveralls.build("2")
    assert (build["relevant_lines"], build["covered_lines"]) == (6, 3)
    assert [job["covered_percent"] for job in build["jobs"]] == [33.33, 33.33]  # each job on its own: 3 of 9 in all


def test_full_precision_and_no_relevant_lines(sandbox, http):
    add(sandbox, "3", files=lines(2, 3))
    add(sandbox, "4", branch="empty", files=[{"name": "src/c.py", "coverage": [None, None]}])
    close(http, "3")
    close(http, "4")
    assert as_json(http, build_id(sandbox, "3"))["covered_percent"] == 200 / 3
    assert as_json(http, build_id(sandbox, "3"))["coverage_change"] == 66.667
    empty = as_json(http, build_id(sandbox, "4"))
    assert (empty["covered_percent"], empty["coverage_change"]) == (0.0, 0.0)


def test_change_against_the_previous_closed_build_of_the_branch(sandbox, http):
    sandbox.coveralls.configure({"repo_tokens": [TOKEN, OTHER_TOKEN]})
    add(sandbox, "10", files=lines(1, 2))  # main: 50
    close(http, "10")
    add(sandbox, "11", branch="feature", files=lines(1, 1))  # feature's first: 100
    close(http, "11")
    add(sandbox, "12", token=OTHER_TOKEN, files=lines(0, 1))  # another repository's main: 0
    close(http, "12", token=OTHER_TOKEN)
    add(sandbox, "13", files=lines(2, 3))  # main again: 66.666…
    close(http, "13")
    changes = {number: sandbox.coveralls.build_json(number)["coverage_change"] for number in ("10", "11", "13")}
    assert changes == {"10": 50.0, "11": 100.0, "13": 16.667}
    assert sandbox.coveralls.build_json("12", repo_token=OTHER_TOKEN)["coverage_change"] == 0.0
    add(sandbox, "14", files=lines(1, 2))
    close(http, "14")
    assert as_json(http, build_id(sandbox, "14"))["coverage_change"] == -16.667

    assert http.post("/_sandbox/reset").status_code == 204  # the history goes too
    add(sandbox, "15", files=lines(1, 4))
    close(http, "15")
    assert sandbox.coveralls.build_json("15")["coverage_change"] == 25.0


def test_a_commit_answers_its_newest_build(sandbox, http):
    add(sandbox, "20", files=lines(1, 1))
    close(http, "20")
    assert as_json(http, SHA)["covered_percent"] == 100.0
    add(sandbox, "20-2", files=lines(0, 1))  # a re-run of the same commit: the newest, still open
    assert as_json(http, SHA)["covered_percent"] is None
    close(http, "20-2")
    assert as_json(http, SHA)["covered_percent"] == 0.0
    assert as_json(http, build_id(sandbox, "20"))["covered_percent"] == 100.0


def test_carried_forward_flags_count(sandbox, http):
    add(sandbox, "30", "integration", files=[{"name": "src/a.py", "coverage": [0, 1]}])
    close(http, "30")
    add(sandbox, "31", "unit", files=[{"name": "src/a.py", "coverage": [1, 0]}])
    close(http, "31", carryforward="integration")
    assert sandbox.coveralls.build_json("31")["covered_percent"] == 100.0  # line 2 from build 30's job
    add(sandbox, "32", "unit", files=[{"name": "src/a.py", "coverage": [1, 0]}])
    close(http, "32", carryforward="integration")  # carried from 31, which carried it from 30
    assert sandbox.coveralls.build("32")["carried"] == [{"flag_name": "integration", "from_build": "31"}]
    assert sandbox.coveralls.build_json("32")["covered_percent"] == 100.0
    add(sandbox, "33", "unit", files=[{"name": "src/a.py", "coverage": [1, 0]}])
    close(http, "33")  # no carry-forward: only its own job
    assert sandbox.coveralls.build_json("33")["covered_percent"] == 50.0


def test_a_job_that_is_not_parallel_has_figures_at_once(sandbox, http):
    sandbox.coveralls.register_job("40", parallel=False, commit_sha=OTHER_SHA, source_files=lines(3, 4))
    assert as_json(http, OTHER_SHA)["covered_percent"] == 75.0


# -- not found, tokens -------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["999", OTHER_SHA, "nope", OTHER_SHA[:12], "1" * 19, "%3Cb%3E"])
def test_unknown_builds_and_commits_are_html_404s(sandbox, http, key):
    add(sandbox, "50", files=lines(1, 1))
    close(http, "50")
    assert_not_found(http, key)
    assert as_json(http, build_id(sandbox, "50"))["covered_percent"] == 100.0
    assert sandbox.coveralls.build_json("51") is None


def test_a_known_token_limits_the_lookup_to_its_repository(sandbox, http):
    sandbox.coveralls.configure({"repo_tokens": [TOKEN, OTHER_TOKEN]})
    add(sandbox, "60", files=lines(1, 1))
    close(http, "60")
    add(sandbox, "61", files=lines(0, 1), token=OTHER_TOKEN)  # the same commit, newer, another repository
    close(http, "61", token=OTHER_TOKEN)
    assert as_json(http, SHA)["covered_percent"] == 0.0
    assert as_json(http, SHA, repo_token=TOKEN)["covered_percent"] == 100.0
    assert as_json(http, SHA, repo_token="unknown-token")["covered_percent"] == 0.0  # ignored
    assert_not_found(http, build_id(sandbox, "61", OTHER_TOKEN), repo_token=TOKEN)


def test_private_builds_need_a_known_token(sandbox, http):
    response = http.post("/_sandbox/config/coveralls", json={"private_builds": True})
    assert response.json()["private_builds"] is True
    add(sandbox, "70", files=lines(1, 2))
    close(http, "70")
    ident = build_id(sandbox, "70")
    for key in (ident, SHA):
        assert_not_found(http, key)
        assert_not_found(http, key, repo_token="wrong-token")
        assert as_json(http, key, repo_token=TOKEN)["covered_percent"] == 50.0
    assert sandbox.coveralls.build_json("70")["covered_percent"] == 50.0
    log = json.dumps(sandbox.requests())
    assert TOKEN not in log and "<redacted>" in log


# -- uploads, pages, state, faults -------------------------------------------------------------
def test_an_upload_as_coveralls_python_sends_it_feeds_the_figures(sandbox, http):
    document = {
        "repo_token": TOKEN,
        "service_name": "github-actions",
        "service_number": "80",
        "flag_name": "unit",
        "parallel": True,
        "source_files": [{"name": "src/a.py", "source_digest": "0" * 32, "coverage": [None, 1, 1, 0, None, 5]}],
        "git": {
            "branch": "release",
            "head": {
                "id": SHA,
                "author_name": "Ann Author",
                "author_email": "ann@example.com",
                "committer_name": "Carl Committer",
                "committer_email": "carl@example.com",
                "message": "Raise coverage",
            },
            "remotes": [{"name": "origin", "url": "https://example.com/r.git"}],
        },
    }
    response = http.post("/api/v1/jobs", files={"json_file": json.dumps(document)})
    assert response.status_code == 200, response.text
    close(http, "80")
    got = as_json(http, SHA)
    assert got["covered_percent"] == 75.0
    assert (got["branch"], got["commit_message"]) == ("release", "Raise coverage")
    assert (got["committer_name"], got["committer_email"]) == ("Carl Committer", "carl@example.com")


def test_pages_and_state_show_the_coverage(sandbox, http):
    add(sandbox, "90", files=lines(2, 3))
    ident = build_id(sandbox, "90")
    assert "when closed" in http.get(f"/builds/{ident}").text
    close(http, "90")
    for path in ("/", f"/builds/{ident}"):
        page = http.get(path)
        assert page.status_code == 200 and "66.67% (+66.667)" in page.text
    assert "2 of 3 relevant lines covered" in http.get(f"/builds/{ident}").text
    (build,) = http.get("/_sandbox/state").json()["emulations"]["coveralls"]["builds"]
    assert (build["covered_percent"], build["coverage_change"]) == (200 / 3, 66.667)
    assert (build["relevant_lines"], build["covered_lines"], build["commit_sha"]) == (3, 2, SHA)


def test_fault_rules_target_the_json_route(sandbox, http):
    add(sandbox, "95", files=lines(1, 1))
    close(http, "95")
    sandbox.add_fault(status=502, emulation="webappio", path=r"\.json$")  # not the owner: never used
    sandbox.add_fault(status=503, emulation="coveralls", path=r"^/builds/[^/]+\.json$", retry_after="2")
    failed = http.get(f"/builds/{SHA}.json")
    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "2")
    assert as_json(http, SHA)["covered_percent"] == 100.0  # the rule was used up
    assert [rule["emulation"] for rule in sandbox.faults.rules()] == ["webappio"]
    sandbox.add_fault(status=500, emulation="coveralls", method="GET")
    assert http.get("/builds/nope.json").status_code == 500  # even a key that would be a 404
    assert [entry["fault"] for entry in sandbox.requests()[-3:]] == ["respond", None, "respond"]


def test_register_job_refuses_source_files_that_are_not_a_list(sandbox):
    with pytest.raises(ValueError, match="source_files"):
        sandbox.coveralls.register_job("99", source_files="src/a.py")
    assert sandbox.coveralls.builds() == []
