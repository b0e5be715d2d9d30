"""The webapp.io emulation over HTTP: search, start a run, runners, statuses moving as they are polled, config."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sandbox_helpers import SHA, WEBAPPIO_REPO, WEBAPPIO_TOKEN, Client, webappio_path

from build_status_sandbox import Sandbox, WebappioConfig, WebappioEmulation
from build_status_sandbox.webappio_query import quote
from build_status_sandbox.webappio_store import WebappioStore

REPO = WEBAPPIO_REPO
TOKEN = WEBAPPIO_TOKEN
HOSTILE = "<script>alert(1)</script>"
INVALID_TOKEN = {"status": "error", "error": "Invalid API token."}
NO_RUNS = f"There are no runs in {REPO} matching the given filters."
JOB_FIELDS = {
    "repository_name",
    "id",
    "uuid",
    "status",
    "calculated_status",
    "status_change_time",
    "commit_sha",
    "branch",
    "merge_branch",
    "run_start_reason",
    "run_start_reason_url",
}
GO_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})? \+0000 UTC")


@pytest.fixture
def http(sandbox: Sandbox):
    """A client without credentials: webapp.io clients send the token as a query parameter."""
    client = Client(sandbox.url, auth=None)
    yield client
    client.close()


def search(http: Client, query: str | None = None, repo: str = REPO, token: str | None = TOKEN):
    params = {}
    if token is not None:
        params["token"] = token
    if query is not None:
        params["search"] = query
    return http.get(webappio_path("run", repo, "search"), params=params)


def create(http: Client, body: object = None, repo: str = REPO, token: str | None = TOKEN, **kwargs):
    params = {} if token is None else {"token": token}
    if body is not None:
        kwargs["json"] = body
    return http.post(webappio_path("run", repo), params=params, **kwargs)


def runners(http: Client, job_uuid: str, repo: str = REPO, token: str | None = TOKEN):
    params = {} if token is None else {"token": token}
    return http.get(webappio_path("runners", repo, job_uuid), params=params)


def found(response) -> int | None:
    """The id of the job a search answered, or None for "no runs" (anything else fails the test)."""
    body = response.json()
    if body["status"] == "error":
        assert (response.status_code, body) == (400, {"status": "error", "error": NO_RUNS})
        return None
    assert response.status_code == 200 and set(body) == {"status", "job"}
    return body["job"]["id"]


def head(repo: str, branch: str) -> str:
    return hashlib.sha1(f"{repo}/{branch}".encode()).hexdigest()  # noqa: S324 - the sandbox's fake head


def populate(sandbox: Sandbox) -> None:
    """Five jobs of sandbox-app (ids 1-5) with different branches, texts and statuses."""
    add = sandbox.webappio.add_job
    add(branch="main", title="Fix login bug", author="Alice", body="Closes #12", script="SUCCEEDED")
    add(branch="feature x", title="Add search", author="Bob", body="see foo:bar", script="FAILURE")
    add(branch='say "hi"', title="WIP: refactor", author="alice", script="RUNNING")
    add(branch="main", title="Bump deps", author="dependabot", body="Bumps requests", script="RUNNER_CANCELLED")
    add(branch="back\\slash", title="Docs", author="Carol", script="BAD_LAYERFILE")


# -- search ------------------------------------------------------------------------------------
def test_search_answers_the_newest_job(sandbox, http):
    added = sandbox.webappio.add_job(branch="main", commit_sha=SHA.upper(), title="first")
    assert set(added) == JOB_FIELDS
    assert added["commit_sha"] == SHA and added["id"] == 1
    second = sandbox.webappio.add_job(branch="dev", merge_branch="main", script=["RUNNING", "SUCCEEDED"])
    response = search(http)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body == {"status": "ok", "job": second}
    job = body["job"]
    assert set(job) == JOB_FIELDS
    assert (job["repository_name"], job["id"], job["branch"], job["merge_branch"]) == (REPO, 2, "dev", "main")
    assert str(uuid.UUID(job["uuid"], version=4)) == job["uuid"]
    assert (job["status"], job["calculated_status"]) == ("SEE_RUNNERS", "RUNNING")
    assert GO_TIME.fullmatch(job["status_change_time"])
    assert job["commit_sha"] == head(REPO, "dev")  # no sha given: the branch's fake head
    assert (job["run_start_reason"], job["run_start_reason_url"]) == ("", "")
    assert found(search(http, "first")) == 1


def test_search_of_an_empty_repository(sandbox, http):
    for query in (None, "", "fix"):
        response = search(http, query)
        assert (response.status_code, response.json()) == (400, {"status": "error", "error": NO_RUNS})


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("", 5),
        ("   ", 5),
        ("fix", 1),
        ("FIX LOGIN", 1),
        ("alice", 3),
        ("Alice", 3),
        ('"Alice"', 1),
        ('"alice"', 3),
        ("closes", 1),
        ("BUMPS", 4),
        ('"WIP:"', 3),
        ("foo:bar", 2),
        ("nothing-like-this", None),
        ("-alice", 5),
        ("-alice -carol", 4),
        ('-"Bump deps" -docs', 3),
        ("branch:main", 4),
        ('branch:"feature x"', 2),
        ("branch:Main", None),
        ("branch:feature", None),
        (r'branch:"say \"hi\""', 3),
        (r'branch:"back\\slash"', 5),
        (r"branch:back\slash", 5),
        ("id:2", 2),
        ("id:002", 2),
        ("id:99", None),
        ("status:failure", 2),
        ("STATUS:Succeeded", 1),
        ("status:RUNNER_ERROR", None),
        ("running", 3),
        ("done", 5),
        ("failed", 5),
        ("FAILED -docs", 2),
        ("done -docs", 4),
        ("repo:sandbox-app", 5),
        ("repo:other-app", None),
        ("branch:main fix", 1),
        ("branch:main done -fix", 4),
        ("alice branch:main", 1),
        ("id:3 running alice", 3),
        ("id:3 done", None),
        ("repo:sandbox-app branch:main status:succeeded -wip", 1),
    ],
)
def test_search_filters(sandbox, http, query, wanted):
    populate(sandbox)
    assert found(search(http, query)) == wanted


@pytest.mark.parametrize("branch", ["feature x", 'say "hi"', "back\\slash", "a&b=c+d#e", "ünï cødé ✓", "-x", "50%"])
def test_quoted_branches_survive_the_url(sandbox, http, branch):
    sandbox.webappio.add_job(branch=branch)
    sandbox.webappio.add_job(branch=branch + "-other")
    assert found(search(http, f"branch:{quote(branch)}")) == 1
    assert found(search(http, f"branch:{quote(branch + '-other')} done")) == 2


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ('branch:"open', "unterminated quote starting at character 8"),
        ("id:abc", "id: must be a decimal number, not 'abc'"),
        ("status:NOPE", "status: must be one of NEW, STARTING_RUNNERS, RUNNING, SUCCEEDED, FAILURE"),
        ("branch:", "branch: needs a value at character 1"),
        ('"a\\x"', "unknown escape \\x"),
        ("-running", "only words and quoted phrases can be negated"),
    ],
)
def test_malformed_queries(sandbox, http, query, wanted):
    sandbox.webappio.add_job(script=["NEW", "SUCCEEDED"])
    response = search(http, query)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error" and set(body) == {"status", "error"}
    assert body["error"].startswith("Invalid search query: ") and wanted in body["error"]
    assert sandbox.webappio.polls(REPO, 1) == 0


# -- statuses move as they are polled -----------------------------------------------------------
def test_statuses_advance_one_step_per_search_answer(sandbox, http):
    clock = iter(range(1_700_000_000, 1_800_000_000, 60))
    sandbox.webappio.store = WebappioStore(clock=lambda: float(next(clock)))
    added = sandbox.webappio.add_job(script=("NEW", "STARTING_RUNNERS", "RUNNING", "RUNNING", "SUCCEEDED"))
    assert added["status_change_time"] == "2023-11-14 22:13:20 +0000 UTC"
    seen = []
    for _ in range(7):
        job = search(http, "id:1").json()["job"]
        seen.append((job["calculated_status"], job["status"], job["status_change_time"]))
        runners(http, job["uuid"]).raise_for_status()  # reading runners never advances
        assert sandbox.webappio.job(REPO, 1) == job  # nor do the accessors, the state or the page
        http.get("/_sandbox/state").raise_for_status()
        http.get("/webappio/jobs/sandbox-app/1").raise_for_status()
    assert [status for status, _, _ in seen] == [
        "NEW",
        "STARTING_RUNNERS",
        "RUNNING",
        "RUNNING",
        "SUCCEEDED",
        "SUCCEEDED",
        "SUCCEEDED",
    ]
    assert [internal for _, internal, _ in seen] == ["NEW", "STARTING_RUNNERS"] + ["SEE_RUNNERS"] * 5
    times = [moment for _, _, moment in seen]
    assert times[0] == added["status_change_time"]  # unchanged while the status is
    assert len({times[0], times[1], times[2], times[4]}) == 4
    assert times[2] == times[3] and times[4] == times[5] == times[6]
    assert all(GO_TIME.fullmatch(moment) for moment in times)
    assert sandbox.webappio.polls(REPO, 1) == 7


def test_only_the_job_a_search_returns_advances(sandbox, http):
    sandbox.webappio.add_job(script=("RUNNING", "SUCCEEDED"), title="older")
    sandbox.webappio.add_job(script=("RUNNING", "FAILURE"), title="newer")
    assert found(search(http)) == 2
    assert found(search(http, "older")) == 1
    assert [sandbox.webappio.polls(REPO, job_id) for job_id in (1, 2)] == [1, 1]
    assert [job["calculated_status"] for job in sandbox.webappio.jobs()] == ["RUNNING", "RUNNING"]
    assert search(http).json()["job"]["calculated_status"] == "FAILURE"
    assert sandbox.webappio.job(REPO, 1)["calculated_status"] == "RUNNING"


def test_a_search_matches_the_status_it_would_show(sandbox, http):
    sandbox.webappio.add_job(script=("NEW", "RUNNING", "SUCCEEDED"))
    assert found(search(http, "done")) is None  # it would show NEW: no match, no step
    assert found(search(http, "running")) == 1  # NEW
    assert found(search(http, "status:running")) == 1
    assert found(search(http, "status:running")) is None  # next it would show SUCCEEDED
    assert search(http, "done").json()["job"]["calculated_status"] == "SUCCEEDED"
    assert sandbox.webappio.polls(REPO, 1) == 3


# -- runners -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "internal", "wanted"),
    [
        ("NEW", "NEW", ["NEW", "NEW", "NEW"]),
        ("STARTING_RUNNERS", "STARTING_RUNNERS", ["NEW", "NEW", "NEW"]),
        ("RUNNING", "SEE_RUNNERS", ["RUNNING", "RUNNING", "RUNNING"]),
        ("SUCCEEDED", "SEE_RUNNERS", ["SUCCESS", "SUCCESS", "SUCCESS"]),
        ("FAILURE", "SEE_RUNNERS", ["SUCCESS", "SUCCESS", "FAILURE"]),
        ("RUNNER_ERROR", "SEE_RUNNERS", ["SUCCESS", "SUCCESS", "ERROR"]),
        ("RUNNER_CANCELLED", "SEE_RUNNERS", ["SUCCESS", "SUCCESS", "CANCELLED"]),
        ("JOB_ERROR", "ERROR", []),
        ("BAD_LAYERFILE", "ERROR", []),
    ],
)
def test_runners_follow_the_calculated_status(sandbox, http, status, internal, wanted):
    job = sandbox.webappio.add_job(script=status, runners=["main-layerfile", "Cypress", "e2e/chrome"])
    assert job["status"] == internal
    response = runners(http, job["uuid"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "runners"} and body["status"] == "ok"
    assert [runner["status"] for runner in body["runners"]] == wanted
    expected = [
        {"id": "main-layerfile", "layerfile_relative_path": "Layerfile", "runner_index": 1},
        {"id": "Cypress", "layerfile_relative_path": "Cypress/Layerfile", "runner_index": 2},
        {"id": "e2e/chrome", "layerfile_relative_path": "e2e/chrome/Layerfile", "runner_index": 3},
    ][: len(wanted)]
    for runner, fields in zip(body["runners"], expected):
        assert set(runner) == {"id", "layerfile_relative_path", "status", "was_retried", "runner_index"}
        assert {name: runner[name] for name in fields} == fields and runner["was_retried"] is False
    assert sandbox.webappio.runners(REPO, 1) == body["runners"]


def test_explicit_runner_statuses_once_done(sandbox, http):
    job = sandbox.webappio.add_job(
        script=("RUNNING", "FAILURE"), runners=("main-layerfile", "Lint"), runner_statuses=("FAILURE", "TIMEOUT")
    )
    assert [runner["status"] for runner in runners(http, job["uuid"]).json()["runners"]] == ["RUNNING", "RUNNING"]
    search(http).raise_for_status()
    assert [runner["status"] for runner in runners(http, job["uuid"]).json()["runners"]] == ["RUNNING", "RUNNING"]
    search(http).raise_for_status()
    assert [runner["status"] for runner in runners(http, job["uuid"].upper()).json()["runners"]] == [
        "FAILURE",
        "TIMEOUT",
    ]


def test_runners_of_an_unknown_run(sandbox, http, make_sandbox):
    sandbox.webappio.configure({"repositories": [REPO, "other-app"]})
    other = sandbox.webappio.add_job("other-app")
    for job_uuid in ("not-a-uuid", str(uuid.uuid4()), other["uuid"]):
        response = runners(http, job_uuid)
        assert (response.status_code, response.json()) == (
            400,
            {"status": "error", "error": f"There is no run for {REPO} matching uuid {job_uuid}."},
        )
    assert runners(http, other["uuid"], repo="other-app").json()["status"] == "ok"


# -- starting runs -----------------------------------------------------------------------------
def test_create_with_defaults(sandbox, http):
    for body in ({}, None, {"branch": None, "ref": None, "extra": None}):
        kwargs = {"data": b""} if body is None else {}
        response = create(http, body, **kwargs)
        assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"status", "job", "url"} and answer["status"] == "ok"
    job = answer["job"]
    assert set(job) == JOB_FIELDS
    assert (job["id"], job["branch"], job["merge_branch"]) == (3, "master", "master")
    assert job["commit_sha"] == head(REPO, "master")
    assert (job["calculated_status"], job["status"]) == ("NEW", "NEW")
    assert (job["run_start_reason"], job["run_start_reason_url"]) == ("Manual run created by API", "")
    assert answer["url"] == f"{sandbox.url}/webappio/jobs/{REPO}/3"
    created = sandbox.webappio.created()
    assert [item["id"] for item in created] == [1, 2, 3]  # oldest first
    assert created[-1] == {**job, "ref": None, "accept_buttons": False, "extra": None, "skip_no_further_than": None}
    # the default trigger script, one step per search; the default runner
    statuses = [search(http, "id:3").json()["job"]["calculated_status"] for _ in range(5)]
    assert statuses == ["NEW", "STARTING_RUNNERS", "RUNNING", "SUCCEEDED", "SUCCEEDED"]
    assert runners(http, job["uuid"]).json()["runners"] == [
        {
            "id": "main-layerfile",
            "layerfile_relative_path": "Layerfile",
            "status": "SUCCESS",
            "was_retried": False,
            "runner_index": 1,
        }
    ]


def test_create_with_every_option(sandbox, http):
    body = {
        "branch": "feature/x y",
        "ref": SHA.upper(),
        "accept_buttons": "true",
        "extra": 'DEPLOY=1 NAME="x"',
        "skip_no_further_than": "Cypress",
        "unknown_field": ["ignored"],
    }
    response = create(http, body, headers={"Content-Type": "text/plain"})  # any content type carries JSON
    assert response.status_code == 200, response.text
    job = response.json()["job"]
    assert (job["branch"], job["merge_branch"], job["commit_sha"]) == ("feature/x y", "feature/x y", SHA)
    (created,) = sandbox.webappio.created()
    assert created == {
        **job,
        "ref": SHA.upper(),
        "accept_buttons": True,
        "extra": 'DEPLOY=1 NAME="x"',
        "skip_no_further_than": "Cypress",
    }
    assert create(http, {"accept_buttons": "false", "ref": ""}).status_code == 200
    second = sandbox.webappio.created()[1]
    assert (second["accept_buttons"], second["ref"], second["commit_sha"]) == (False, "", head(REPO, "master"))
    state = http.get("/_sandbox/state").json()["emulations"]["webappio"]
    assert state["jobs"][1]["request"] == {
        "ref": SHA.upper(),
        "accept_buttons": True,
        "extra": 'DEPLOY=1 NAME="x"',
        "skip_no_further_than": "Cypress",
    }
    assert found(search(http, f"branch:{quote('feature/x y')}")) == 1


@pytest.mark.parametrize(
    ("kwargs", "wanted"),
    [
        ({"json": [1, 2]}, "The request body must be empty or a JSON object."),
        ({"json": "main"}, "The request body must be empty or a JSON object."),
        ({"data": b"{nope"}, "The request body is not valid JSON"),
        ({"data": b"\xff\xfe"}, "The request body is not UTF-8"),
        ({"json": {"branch": 5}}, "branch must be a string."),
        ({"json": {"branch": ""}}, "branch must not be empty."),
        ({"json": {"branch": "  "}}, "branch must not be empty."),
        ({"json": {"ref": "main"}}, "Unknown ref main."),
        ({"json": {"ref": "abc123"}}, "Unknown ref abc123."),
        ({"json": {"ref": SHA + "0"}}, f"Unknown ref {SHA}0."),
        ({"json": {"ref": 5}}, "ref must be a string."),
        ({"json": {"extra": {"a": 1}}}, "extra must be a string."),
        ({"json": {"skip_no_further_than": 3}}, "skip_no_further_than must be a string."),
        ({"json": {"accept_buttons": True}}, 'accept_buttons must be "true" or "false".'),
        ({"json": {"accept_buttons": "yes"}}, 'accept_buttons must be "true" or "false".'),
        ({"json": {"accept_buttons": "TRUE"}}, 'accept_buttons must be "true" or "false".'),
    ],
)
def test_create_validation(sandbox, http, kwargs, wanted):
    response = http.post(webappio_path("run", REPO), params={"token": TOKEN}, **kwargs)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"status", "error"} and body["status"] == "error"
    assert body["error"].startswith(wanted), body
    assert sandbox.webappio.jobs() == [] and sandbox.webappio.created() == []


@pytest.mark.parametrize(
    ("answer_job", "answer_url", "keys"),
    [(False, False, {"status"}), (False, True, {"status", "url"}), (True, False, {"status", "job"})],
)
def test_create_answer_without_job_or_url(sandbox, http, answer_job, answer_url, keys):
    sandbox.webappio.configure({"create_answer_job": answer_job, "create_answer_url": answer_url})
    response = create(http, {"branch": "main"})
    assert response.status_code == 200 and set(response.json()) == keys
    assert response.json()["status"] == "ok"
    assert sandbox.webappio.job(REPO, 1)["branch"] == "main"


def test_create_visible_after(sandbox, http):
    sandbox.webappio.add_job(branch="main", title="older")
    sandbox.webappio.configure({"create_visible_after": 2})
    job = create(http, {"branch": "main"}).json()["job"]
    assert job["id"] == 2
    assert found(search(http)) == 1  # first search: the new run is not there yet
    assert runners(http, job["uuid"]).json()["status"] == "error"
    assert found(search(http, "id:2")) is None  # second search
    assert found(search(http, "id:2")) == 2  # it shows up
    assert runners(http, job["uuid"]).json()["status"] == "ok"
    assert sandbox.webappio.polls(REPO, 2) == 1
    assert sandbox.webappio.job(REPO, 2)["id"] == 2  # the accessors always see it
    hidden = sandbox.webappio.add_job(visible_after=1)
    assert found(search(http)) == 2 and found(search(http)) == hidden["id"]
    assert http.get("/_sandbox/state").json()["emulations"]["webappio"]["jobs"][0]["hidden_searches"] == 0


def test_created_runs_use_the_trigger_settings(sandbox, http):
    sandbox.webappio.configure(
        {"trigger_script": ["RUNNING", "runner_error"], "trigger_runners": ["main-layerfile", "Cypress"]}
    )
    job = create(http).json()["job"]
    assert job["calculated_status"] == "RUNNING"
    assert search(http).json()["job"]["calculated_status"] == "RUNNING"
    assert search(http).json()["job"]["calculated_status"] == "RUNNER_ERROR"
    statuses = [(runner["id"], runner["status"]) for runner in runners(http, job["uuid"]).json()["runners"]]
    assert statuses == [("main-layerfile", "SUCCESS"), ("Cypress", "ERROR")]


def test_ids_count_per_repository_and_creation_is_thread_safe(sandbox, http):
    sandbox.webappio.configure({"repositories": [REPO, "other app"]})
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda index: create(http, {"extra": str(index)}).json(), range(24)))
    assert sorted(answer["job"]["id"] for answer in answers) == list(range(1, 25))
    assert len({answer["job"]["uuid"] for answer in answers}) == 24
    other = create(http, repo="other app").json()
    assert other["job"]["id"] == 1 and other["job"]["repository_name"] == "other app"
    assert other["url"] == f"{sandbox.url}/webappio/jobs/other%20app/1"
    assert http.get("/webappio/jobs/other%20app/1").status_code == 200
    assert [job["id"] for job in sandbox.webappio.jobs("other app")] == [1]
    assert [job["repository_name"] for job in sandbox.webappio.jobs()][:2] == ["other app", REPO]
    assert found(search(http, "repo:sandbox-app")) == 24
    assert search(http, 'repo:"other app"', repo="other app").json()["job"]["id"] == 1


# -- auth, unknown repositories, error status ----------------------------------------------------
ROUTES = {
    "search": lambda http, token: search(http, "", token=token),
    "create": lambda http, token: create(http, {"branch": "main"}, token=token),
    "runners": lambda http, token: runners(http, "whatever", token=token),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN.upper(), TOKEN + " "])
def test_bad_token(sandbox, http, route, token):
    sandbox.webappio.add_job()
    response = ROUTES[route](http, token)
    assert (response.status_code, response.json()) == (401, INVALID_TOKEN)
    assert sandbox.webappio.polls(REPO, 1) == 0 and len(sandbox.webappio.jobs()) == 1


def test_token_in_a_header_is_not_enough(sandbox, http):
    response = http.get(webappio_path("run", REPO, "search"), headers={"Authorization": f"Bearer {TOKEN}"})
    assert (response.status_code, response.json()) == (401, INVALID_TOKEN)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_unknown_repository(sandbox, http, route):
    calls = {
        "search": lambda: search(http, "", repo="no-such-app"),
        "create": lambda: create(http, {}, repo="no-such-app"),
        "runners": lambda: runners(http, str(uuid.uuid4()), repo="no-such-app"),
    }
    response = calls[route]()
    assert (response.status_code, response.json()) == (
        400,
        {"status": "error", "error": "There is no repository named no-such-app."},
    )
    assert sandbox.webappio.jobs() == []


@pytest.mark.parametrize("status", [200, 404, 422, 500])
def test_error_http_status(sandbox, http, status):
    sandbox.webappio.configure({"error_http_status": status})
    assert search(http).status_code == status
    assert search(http, "id:x").status_code == status
    assert search(http, repo="nope").status_code == status
    assert create(http, {"ref": "nope"}).status_code == status
    assert runners(http, "nope").status_code == status
    assert search(http, token="wrong").status_code == 401  # a bad token stays 401
    assert search(http).json() == {"status": "error", "error": NO_RUNS}


def test_wrong_methods_and_paths(sandbox, http):
    response = http.get(webappio_path("run", REPO), params={"token": TOKEN})
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert http.post(webappio_path("run", REPO, "search"), params={"token": TOKEN}).status_code == 405
    assert http.get(webappio_path("runners", REPO), params={"token": TOKEN}).status_code == 404
    assert http.get("/webappio/api/v2/run/sandbox-app/search").status_code == 404


# -- configuration -----------------------------------------------------------------------------
def test_configuration_through_the_admin_endpoint(sandbox, http, make_sandbox):
    assert http.get("/_sandbox/config/webappio").json() == {
        "tokens": 1,
        "repositories": [REPO],
        "trigger_script": ["NEW", "STARTING_RUNNERS", "RUNNING", "SUCCEEDED"],
        "trigger_runners": ["main-layerfile"],
        "create_answer_job": True,
        "create_answer_url": True,
        "create_visible_after": 0,
        "error_http_status": 400,
        "base_url": None,
    }
    change = {
        "tokens": ["t-one", "t-two", "t-one"],
        "repositories": ["app-a", "app b"],
        "trigger_script": "succeeded",
        "base_url": "https://webapp.io/",
        "error_http_status": 422,
    }
    response = http.post("/_sandbox/config/webappio", json=change)
    assert response.status_code == 200
    public = response.json()
    assert (public["tokens"], public["repositories"]) == (2, ["app-a", "app b"])
    assert public["trigger_script"] == ["SUCCEEDED"]
    assert public["base_url"] == "https://webapp.io"
    assert "t-one" not in response.text and "t-one" not in http.get("/_sandbox/config/webappio").text
    assert search(http, repo="app-a").status_code == 401  # the default token is gone
    answer = create(http, {}, repo="app b", token="t-two").json()
    assert answer["url"] == "https://webapp.io/jobs/app%20b/1"
    assert answer["job"]["calculated_status"] == "SUCCEEDED"
    assert create(http, {}, repo=REPO, token="t-one").status_code == 422  # sandbox-app no longer exists
    assert sandbox.webappio.config == WebappioConfig(
        tokens=("t-one", "t-two"),
        repositories=("app-a", "app b"),
        trigger_script=("SUCCEEDED",),
        base_url="https://webapp.io",
        error_http_status=422,
    )
    other = make_sandbox(webappio={"tokens": {"x1"}, "create_visible_after": 1})
    assert other.webappio.config.tokens == ("x1",) and other.webappio.config.create_visible_after == 1
    assert isinstance(other.emulation("webappio"), WebappioEmulation)
    assert other.webappio_url == other.url + "/webappio/api/v1"
    with pytest.raises(TypeError):
        Sandbox(webappio="x1")


@pytest.mark.parametrize(
    "change",
    [
        {"tokens": "one-token"},
        {"tokens": [""]},
        {"tokens": [5]},
        {"repositories": ["a/b"]},
        {"repositories": ["a\nb"]},
        {"repositories": [" "]},
        {"trigger_script": ["DONE"]},
        {"trigger_script": []},
        {"trigger_script": 5},
        {"trigger_runners": ["a", "a"]},
        {"trigger_runners": [""]},
        {"trigger_runners": "main-layerfile"},
        {"create_answer_job": "no"},
        {"create_answer_url": 1},
        {"create_visible_after": -1},
        {"create_visible_after": True},
        {"create_visible_after": 1.5},
        {"error_http_status": 99},
        {"error_http_status": 600},
        {"error_http_status": "400"},
        {"base_url": "ftp://x"},
        {"colour": "red"},
    ],
)
def test_bad_configuration(sandbox, http, change):
    response = http.post("/_sandbox/config/webappio", json=change)
    assert response.status_code == 400, change
    assert response.json()["errors"][0]["message"]
    assert sandbox.webappio.config == WebappioConfig()


@pytest.mark.parametrize(
    ("kwargs", "wanted"),
    [
        ({"repo": "other-app"}, "There is no repository named other-app."),
        ({"branch": ""}, "branch"),
        ({"commit_sha": "abc"}, "commit_sha"),
        ({"script": ["NEW", "DONE"]}, "'DONE' is not one of"),
        ({"script": []}, "at least one"),
        ({"runners": ["a", "a"]}, "repeat"),
        ({"runners": "main-layerfile"}, "runners"),
        ({"runner_statuses": ["SUCCESS", "FAILURE"]}, "one status per runner"),
        ({"runner_statuses": [""]}, "runner_statuses"),
        ({"title": 5}, "title"),
        ({"merge_branch": 5}, "merge_branch"),
        ({"visible_after": -1}, "visible_after"),
    ],
)
def test_add_job_validation(sandbox, kwargs, wanted):
    with pytest.raises(ValueError, match=re.escape(wanted)):
        sandbox.webappio.add_job(**kwargs)
    assert sandbox.webappio.jobs() == []


def test_accessors(sandbox):
    assert sandbox.webappio.job(REPO, 1) is None and sandbox.webappio.runners(REPO, 1) is None
    with pytest.raises(KeyError):
        sandbox.webappio.polls(REPO, 1)
    first = sandbox.webappio.add_job(script="job_error")
    assert (first["calculated_status"], first["status"]) == ("JOB_ERROR", "ERROR")
    assert sandbox.webappio.jobs() == [first] and sandbox.webappio.jobs("other") == []
    assert sandbox.webappio.created() == []


def test_reset_forgets_jobs_but_keeps_configuration(sandbox, http):
    sandbox.webappio.configure({"repositories": [REPO, "b"], "create_visible_after": 3})
    sandbox.webappio.add_job()
    create(http).raise_for_status()
    assert http.post("/_sandbox/reset").status_code == 204
    assert sandbox.webappio.jobs() == [] and sandbox.webappio.created() == []
    assert sandbox.webappio.config.repositories == (REPO, "b")
    assert sandbox.webappio.add_job()["id"] == 1  # ids start again
    assert http.get("/_sandbox/state").json()["emulations"]["webappio"]["jobs"][0]["id"] == 1


# -- the core applies to webapp.io's routes ----------------------------------------------------
def test_faults_apply_to_the_api(sandbox, http):
    sandbox.webappio.add_job(script=("RUNNING", "SUCCEEDED"))
    sandbox.add_fault(status=503, path=r"^/webappio/api/v1/run/", times=1)
    assert search(http).status_code == 503
    assert sandbox.webappio.polls(REPO, 1) == 0  # a faulted request changes nothing
    assert search(http).json()["job"]["calculated_status"] == "RUNNING"
    assert [(entry["path"], entry["status"], entry["fault"]) for entry in sandbox.requests()] == [
        ("/webappio/api/v1/run/sandbox-app/search", 503, "respond"),
        ("/webappio/api/v1/run/sandbox-app/search", 200, None),
    ]


# -- secrets and pages -------------------------------------------------------------------------
def test_request_log_never_holds_the_token(sandbox, http):
    job = sandbox.webappio.add_job()
    search(http, "fix").json()
    search(http).json()
    create(http, {"branch": "main", "extra": "X=1"}).json()
    runners(http, job["uuid"]).json()
    search(http, token="wrong-token-value")
    log = sandbox.requests()
    assert len(log) == 5
    for entry in log:
        assert entry["query"]["token"] == "<redacted>"
        assert "token" not in entry["path"]
    assert log[0]["query"] == {"token": "<redacted>", "search": "fix"}
    assert log[2]["body"] == {"branch": "main", "extra": "X=1"}
    dumped = json.dumps(log) + http.get("/_sandbox/requests").text
    assert TOKEN not in dumped and "wrong-token-value" not in dumped


def test_snapshot_config_and_pages_show_no_tokens(sandbox, http):
    secret = "s3cret-webappio-token"
    response = http.post("/_sandbox/config/webappio", json={"tokens": [secret]})
    assert response.json()["tokens"] == 1
    answer = create(http, {"branch": "main"}, token=secret).json()
    search(http, token=secret).raise_for_status()
    state = http.get("/_sandbox/state").json()
    webappio = state["emulations"]["webappio"]
    assert webappio["config"]["tokens"] == 1
    (entry,) = webappio["jobs"]
    assert {name: entry[name] for name in ("id", "calculated_status", "polls", "step", "script")} == {
        "id": 1,
        "calculated_status": "NEW",
        "polls": 1,
        "step": 0,
        "script": ["NEW", "STARTING_RUNNERS", "RUNNING", "SUCCEEDED"],
    }
    assert answer["url"] == f"{sandbox.url}/webappio/jobs/{REPO}/1"
    pages = [http.get(path).text for path in ("/", "/webappio/jobs/sandbox-app/1", "/_sandbox/config/webappio")]
    for text in [json.dumps(state), *pages]:
        assert secret not in text and TOKEN not in text


def test_pages_escape_hostile_text(sandbox, http):
    sandbox.webappio.add_job(
        branch=HOSTILE,
        title='"><img src=x onerror=alert(1)>',
        author="<b>mallory</b>",
        body="<i>body</i>",
        runners=("main-layerfile", "<svg onload=alert(1)>"),
        script="FAILURE",
    )
    create(http, {"branch": "<u>branch</u>", "extra": "<em>extra</em>", "skip_no_further_than": "<s>x</s>"})
    overview = http.get("/")
    first = http.get("/webappio/jobs/sandbox-app/1")
    second = http.get("/webappio/jobs/sandbox-app/2")
    for response in (overview, first, second):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        for raw in (HOSTILE, "<img", "<b>mallory", "<i>body", "<svg", "<u>branch", "<em>extra", "<s>x"):
            assert raw not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in overview.text and "&lt;b&gt;mallory&lt;/b&gt;" in overview.text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in first.text and "&lt;i&gt;body&lt;/i&gt;" in first.text
    assert "&lt;svg onload=alert(1)&gt;/Layerfile" in first.text
    assert "&lt;em&gt;extra&lt;/em&gt;" in second.text and "&lt;s&gt;x&lt;/s&gt;" in second.text
    assert 'href="/webappio/jobs/sandbox-app/1"' in overview.text
    assert "webapp.io runs" in overview.text and "1 token(s) accepted" in overview.text


def test_run_page_as_json_and_missing_runs(sandbox, http):
    sandbox.webappio.add_job(title="t")
    as_json = http.get("/webappio/jobs/sandbox-app/1", headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    assert as_json.json()["title"] == "t" and as_json.json()["runners"][0]["status"] == "SUCCESS"
    missing = http.get("/webappio/jobs/sandbox-app/9")
    assert missing.status_code == 404 and missing.json()["status"] == "error"
    assert http.get("/webappio/jobs/other/1").status_code == 404
    assert "No runs yet." not in http.get("/").text
    sandbox.reset()
    assert "No runs yet." in http.get("/").text
