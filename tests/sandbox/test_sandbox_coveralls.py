"""The Coveralls emulation: job uploads, the parallel build webhook, pages, faults, log and state."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from sandbox_helpers import SHA, Client

from build_status_sandbox import CoverallsConfig, CoverallsEmulation, Sandbox
from build_status_sandbox.coveralls import CoverallsError

TOKEN = "coveralls-repo-token"
OTHER_TOKEN = "other-repo-token-7f3a"
HOSTILE = "<script>alert(1)</script>"
NO_REPOSITORY = "Couldn't find a repository matching this job."
CLOSED = "Can't add a job to a build that is already closed. Build {} is closed. See docs.coveralls.io/parallel-builds"


@pytest.fixture
def http(sandbox: Sandbox):
    """A client without credentials: Coveralls clients send none (the token travels in the body or URL)."""
    client = Client(sandbox.url, auth=None)
    yield client
    client.close()


def job(number: object = "101", flag: str | None = "unit", token: str = TOKEN, parallel: bool = True, **extra):
    document = {
        "repo_token": token,
        "service_name": "sandbox-ci",
        "service_number": number,
        "service_job_id": f"job-{flag}",
        "parallel": parallel,
        "flag_name": flag,
        "source_files": [
            {"name": "a.py", "source": "x = 1\n", "coverage": [1, 0, None, 3]},
            {"name": "b.py", "source": "y = 2\n", "coverage": [0, None]},
        ],
        "git": {"head": {"id": SHA, "message": "m"}, "branch": "main"},
    }
    document.update(extra)
    return document


def upload(http: Client, document: dict):
    """As coveralls-python sends it: multipart/form-data with a json_file part."""
    return http.post("/api/v1/jobs", files={"json_file": json.dumps(document)})


def webhook(http: Client, number: object, token: str | None = TOKEN, carryforward: str | None = None, body=False):
    params = {}
    payload: dict = {"payload": {"build_num": number, "status": "done"}}
    if token is not None:
        if body:
            payload["repo_token"] = token
        else:
            params["repo_token"] = token
    if carryforward is not None:
        if body:
            payload["carryforward"] = carryforward
        else:
            params["carryforward"] = carryforward
    return http.post("/webhook", params=params, json=payload)


# -- the webhook -------------------------------------------------------------------------------
@pytest.mark.parametrize("in_body", [False, True], ids=["token-in-query", "token-in-body"])
def test_register_then_webhook_closes(sandbox, http, in_body):
    first = sandbox.coveralls.register_job("101", "unit-py3.11")
    sandbox.coveralls.register_job(101, "unit-py3.12")  # numbers compare as text
    assert first["message"] == "Job ##101.1"
    assert first["url"] == f"{sandbox.url}/jobs/{first['id']}"
    build = sandbox.coveralls.build("101")
    assert (build["closed"], build["closes"]) == (False, 0)

    response = webhook(http, "101" if in_body else 101, body=in_body)
    assert response.status_code == 200
    assert response.json() == {"done": True, "url": f"{sandbox.url}/builds/{build['id']}", "jobs": 2}
    build = sandbox.coveralls.build("101")
    assert build["closed"] is True and build["closes"] == 1
    assert [item["flag_name"] for item in build["jobs"]] == ["unit-py3.11", "unit-py3.12"]
    assert build["carryforward"] == [] and build["carried"] == []
    assert build["url"] == response.json()["url"]


@pytest.mark.parametrize("in_body", [False, True], ids=["query", "body"])
def test_webhook_with_carryforward(sandbox, http, in_body):
    sandbox.coveralls.register_job("1", "integration")
    assert webhook(http, "1").json()["jobs"] == 1
    sandbox.coveralls.register_job("2", "unit")
    response = webhook(http, "2", carryforward=" unit, integration,,docs,integration", body=in_body)
    assert response.status_code == 200
    assert response.json()["jobs"] == 3  # unit uploaded; integration and docs carried forward
    build = sandbox.coveralls.build("2")
    assert build["carryforward"] == ["unit", "integration", "docs"]
    assert build["carried"] == [
        {"flag_name": "integration", "from_build": "1"},
        {"flag_name": "docs", "from_build": None},
    ]
    assert [item["flag_name"] for item in build["jobs"]] == ["unit"]


def test_second_close_is_an_error(sandbox, http):
    sandbox.coveralls.register_job("7", "unit")
    assert webhook(http, "7").status_code == 200
    again = webhook(http, "7", body=True)
    assert (again.status_code, again.json()) == (422, {"error": "Build has already been closed"})
    assert sandbox.coveralls.build("7")["closes"] == 1


def test_unknown_build_number(sandbox, http):
    sandbox.coveralls.configure({"repo_tokens": [TOKEN, OTHER_TOKEN]})
    sandbox.coveralls.register_job("8", "unit", repo_token=OTHER_TOKEN)
    for number in ("9", "8"):  # 8 exists, but for another repository
        response = webhook(http, number)
        assert (response.status_code, response.json()) == (422, {"error": "No build matching CI build number found"})
    assert sandbox.coveralls.build("8") is None
    assert sandbox.coveralls.build("8", repo_token=OTHER_TOKEN)["closed"] is False


@pytest.mark.parametrize("token", ["wrong-token", "", None])
def test_webhook_with_a_bad_token(sandbox, http, token):
    sandbox.coveralls.register_job("5", "unit")
    response = webhook(http, "5", token=token)
    assert (response.status_code, response.json()) == (422, {"error": NO_REPOSITORY})
    assert sandbox.coveralls.build("5")["closed"] is False


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        ({}, "Missing payload"),
        ({"payload": "done"}, "Missing payload"),
        ({"payload": {"status": "done"}}, "build_num"),
        ({"payload": {"build_num": "", "status": "done"}}, "build_num"),
        ({"payload": {"build_num": "5"}}, "status"),
        ({"payload": {"build_num": "5", "status": "failed"}}, "status"),
        ([1, 2], "JSON object"),
        ("{nope", "not valid JSON"),
    ],
)
def test_webhook_without_a_usable_payload(sandbox, http, body, wanted):
    sandbox.coveralls.register_job("5", "unit")
    data = body if isinstance(body, str) else json.dumps(body)
    response = http.post(
        "/webhook", params={"repo_token": TOKEN}, data=data, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert set(response.json()) == {"error"} and wanted in response.json()["error"]
    assert sandbox.coveralls.build("5")["closed"] is False


def test_webhook_as_the_documented_curl_form(sandbox, http):
    sandbox.coveralls.register_job("12", "unit")
    response = http.post(
        "/webhook",
        params={"repo_token": TOKEN},
        data={"payload[build_num]": "12", "payload[status]": "done", "carryforward": "lint"},
    )
    assert response.status_code == 200 and response.json()["jobs"] == 2
    assert sandbox.coveralls.build("12")["carryforward"] == ["lint"]


# -- uploads -----------------------------------------------------------------------------------
def test_uploads_in_every_form_clients_use(sandbox, http):
    forms = {
        "multipart": lambda document: upload(http, document),
        "multipart-gzip": lambda document: http.post(
            "/api/v1/jobs",
            files={"json_file": ("json_file", gzip.compress(json.dumps(document).encode()), "application/gzip")},
        ),
        "json": lambda document: http.post("/api/v1/jobs", json=document),
        "json-string": lambda document: http.post("/api/v1/jobs", json={"json": json.dumps(document)}),
        "form": lambda document: http.post("/api/v1/jobs", data={"json": json.dumps(document)}),
    }
    for index, (flag, send) in enumerate(forms.items(), start=1):
        response = send(job("33", flag))
        assert response.status_code == 200, (flag, response.text)
        body = response.json()
        assert body["message"] == f"Job ##33.{index}"
        assert re.fullmatch(re.escape(sandbox.url) + r"/jobs/\d+", body["url"])
    build = sandbox.coveralls.build("33")
    assert [item["flag_name"] for item in build["jobs"]] == list(forms)
    first = build["jobs"][0]
    assert (first["source_files"], first["relevant_lines"], first["covered_lines"]) == (2, 4, 2)
    assert first["covered_percent"] == 50.0
    assert (first["commit"], first["service_name"], first["service_job_id"]) == (SHA, "sandbox-ci", "job-multipart")
    assert first["parallel"] is True and build["closed"] is False


def test_a_job_that_is_not_parallel_is_a_closed_build(sandbox, http):
    response = upload(http, job("40", "whole", parallel=False))
    assert response.status_code == 200
    build = sandbox.coveralls.build("40")
    assert build["closed"] is True and build["closes"] == 0
    refused = upload(http, job("40", "late"))
    assert (refused.status_code, refused.json()) == (422, {"message": CLOSED.format(40), "error": True})
    assert webhook(http, "40").json() == {"error": "Build has already been closed"}


def test_upload_after_close(sandbox, http):
    sandbox.coveralls.register_job("41", "unit")
    webhook(http, "41").raise_for_status()
    response = upload(http, job("41", "rerun"))
    assert (response.status_code, response.json()) == (422, {"message": CLOSED.format(41), "error": True})
    with pytest.raises(CoverallsError, match=re.escape(CLOSED.format(41))):
        sandbox.coveralls.register_job("41", "rerun")
    assert [item["flag_name"] for item in sandbox.coveralls.build("41")["jobs"]] == ["unit"]
    assert upload(http, job("41-2", "rerun")).status_code == 200  # what users do: a new build number


@pytest.mark.parametrize("token", ["wrong-token", "", None])
def test_upload_with_a_bad_token(sandbox, http, token):
    response = upload(http, job("50", token=token))
    assert (response.status_code, response.json()) == (422, {"message": NO_REPOSITORY, "error": True})
    with pytest.raises(CoverallsError, match=re.escape(NO_REPOSITORY)):
        sandbox.coveralls.register_job("50", repo_token="wrong-token")
    assert sandbox.coveralls.builds() == []


@pytest.mark.parametrize(
    ("kwargs", "wanted"),
    [
        ({"data": b""}, "empty"),
        ({"data": b"{nope", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
        ({"json": [1]}, "JSON object"),
        ({"files": {"other": "x"}}, "json_file"),
        ({"files": {"json_file": ("json_file", b"\x1f\x8bnot gzip", "application/gzip")}}, "inflated"),
        ({"data": {"other": "x"}}, "json field"),
        ({"json": job(source_files="a.py")}, "source_files"),
    ],
)
def test_unreadable_uploads(sandbox, http, kwargs, wanted):
    response = http.post("/api/v1/jobs", **kwargs)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] is True and wanted in body["message"]
    assert sandbox.coveralls.builds() == []


def test_jobs_without_a_build_number_are_builds_of_their_own(sandbox, http):
    for _ in range(2):
        assert upload(http, job(None)).status_code == 200
    builds = sandbox.coveralls.builds()
    assert [(build["number"], len(build["jobs"]), build["closed"]) for build in builds] == [(None, 1, False)] * 2
    assert builds[0]["id"] > builds[1]["id"]  # newest first


# -- the core applies to Coveralls' routes -----------------------------------------------------
def test_faults_apply_to_the_webhook(sandbox, http):
    sandbox.coveralls.register_job("60", "unit")
    sandbox.add_fault(status=503, path=r"^/webhook$", retry_after="1")
    failed = webhook(http, "60")
    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "1")
    assert sandbox.coveralls.build("60")["closed"] is False  # a faulted request changes nothing
    assert webhook(http, "60").json()["done"] is True
    assert [(entry["path"], entry["status"], entry["fault"]) for entry in sandbox.requests()] == [
        ("/webhook", 503, "respond"),
        ("/webhook", 200, None),
    ]


def test_rate_limit_applies_to_uploads(sandbox, http):
    sandbox.set_rate_limit(0.001, burst=1)
    assert upload(http, job("61", "a")).status_code == 200
    limited = upload(http, job("61", "b"))
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert len(sandbox.coveralls.build("61")["jobs"]) == 1


def test_request_log_never_holds_the_token(sandbox, http):
    upload(http, job("70", "multipart")).raise_for_status()
    http.post("/api/v1/jobs", json={"json": json.dumps(job("70", "nested"))}).raise_for_status()
    http.post("/api/v1/jobs", data={"json": json.dumps(job("70", "form"))}).raise_for_status()
    http.post("/api/v1/jobs", files={"repo_token": (None, TOKEN), "json_file": json.dumps(job("70", "field"))})
    webhook(http, "70", body=True).raise_for_status()
    webhook(http, "70", carryforward="a")  # query token; 422: already closed
    http.post("/webhook", data={"repo_token": TOKEN, "payload[build_num]": "70", "payload[status]": "done"})
    http.post("/webhook", data=f"repo_token={TOKEN}&oops", headers={"Content-Type": "text/plain"})
    log = sandbox.requests()
    assert len(log) == 8
    assert log[5]["query"] == {"repo_token": "<redacted>", "carryforward": "a"}
    assert log[4]["body"]["repo_token"] == "<redacted>"
    dumped = json.dumps(log) + http.get("/_sandbox/requests").text
    assert TOKEN not in dumped
    assert dumped.count("<redacted>") >= 8
    assert "multipart" in dumped and SHA in dumped  # the rest of the bodies is kept


def test_snapshot_config_and_pages_show_no_tokens(sandbox, http):
    secret = "s3cret-coveralls-token"
    response = http.post("/_sandbox/config/coveralls", json={"repo_tokens": [secret]})
    assert response.json() == {"repo_tokens": 1, "base_url": None, "private_builds": False}
    upload(http, job("80", token=secret)).raise_for_status()
    webhook(http, "80", token=secret).raise_for_status()
    state = http.get("/_sandbox/state").json()
    (build,) = state["emulations"]["coveralls"]["builds"]
    assert build["closed"] is True
    assert state["emulations"]["coveralls"]["config"] == {"repo_tokens": 1, "base_url": None, "private_builds": False}
    pages = [http.get(path).text for path in ("/", f"/builds/{build['id']}", f"/jobs/{build['jobs'][0]['id']}")]
    for text in [json.dumps(state), http.get("/_sandbox/config/coveralls").text, *pages]:
        assert secret not in text and TOKEN not in text


# -- pages -------------------------------------------------------------------------------------
def test_pages_escape_hostile_flag_names(sandbox, http):
    sandbox.coveralls.register_job("90", HOSTILE)
    sandbox.coveralls.register_job("90", '"><img src=x onerror=alert(1)>')
    webhook(http, "90", carryforward="<b>carried</b>").raise_for_status()
    build = sandbox.coveralls.build("90")
    pages = [
        http.get("/"),
        http.get(f"/builds/{build['id']}"),
        http.get(f"/jobs/{build['jobs'][0]['id']}"),
        http.get(f"/jobs/{build['jobs'][1]['id']}"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "<script" not in response.text.lower() and "<img" not in response.text and "<b>" not in response.text
    overview, build_page, first_job, second_job = (response.text for response in pages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in overview and "&lt;b&gt;carried&lt;/b&gt;" in overview
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in build_page and "&lt;b&gt;carried&lt;/b&gt;" in build_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in first_job
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in second_job
    assert f'href="/builds/{build["id"]}"' in overview
    assert '<span class="badge green">closed</span>' in build_page


def test_build_and_job_as_json(sandbox, http):
    sandbox.coveralls.register_job("91", "unit")
    build = sandbox.coveralls.build("91")
    as_json = http.get(f"/builds/{build['id']}", headers={"Accept": "application/json"})
    assert as_json.status_code == 200 and as_json.json() == build
    job_json = http.get(f"/jobs/{build['jobs'][0]['id']}", headers={"Accept": "application/json"}).json()
    assert job_json == build["jobs"][0]
    assert job_json["url"] == f"{sandbox.url}/jobs/{job_json['id']}"
    for path in ("/builds/999", "/jobs/999"):
        missing = http.get(path, headers={"Accept": "application/json"})
        assert missing.status_code == 404 and "999" in missing.json()["error"]
    assert http.get("/webhook").status_code == 405
    assert http.get("/api/v1/jobs").headers["Allow"] == "POST"


# -- configuration, reset, registration --------------------------------------------------------
def test_configuration(sandbox, http, make_sandbox):
    response = http.post(
        "/_sandbox/config/coveralls", json={"repo_tokens": [OTHER_TOKEN], "base_url": "https://coveralls.example/"}
    )
    assert response.json() == {"repo_tokens": 1, "base_url": "https://coveralls.example", "private_builds": False}
    assert upload(http, job("95")).json() == {"message": NO_REPOSITORY, "error": True}
    accepted = upload(http, job("95", token=OTHER_TOKEN)).json()
    assert accepted["url"].startswith("https://coveralls.example/jobs/")
    assert webhook(http, "95", token=OTHER_TOKEN).json()["url"].startswith("https://coveralls.example/builds/")
    for bad in (
        {"repo_tokens": "one-token"},
        {"repo_tokens": [""]},
        {"base_url": "ftp://x"},
        {"colour": "red"},
        {"private_builds": "yes"},
    ):
        response = http.post("/_sandbox/config/coveralls", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["message"]
    assert sandbox.coveralls.config == CoverallsConfig(repo_tokens=(OTHER_TOKEN,), base_url="https://coveralls.example")

    other = make_sandbox(coveralls={"repo_tokens": {"t1"}})
    assert other.coveralls.config.repo_tokens == ("t1",)
    assert isinstance(other.emulation("coveralls"), CoverallsEmulation)
    with pytest.raises(TypeError):
        Sandbox(coveralls="t1")
    with pytest.raises(ValueError):
        CoverallsConfig(repo_tokens="t1")


def test_reset_forgets_builds_but_keeps_configuration(sandbox, http):
    sandbox.coveralls.configure({"repo_tokens": [TOKEN, OTHER_TOKEN]})
    sandbox.coveralls.register_job("99", "unit")
    assert http.post("/_sandbox/reset").status_code == 204
    assert sandbox.coveralls.builds() == [] and sandbox.coveralls.build("99") is None
    assert sandbox.coveralls.config.repo_tokens == (TOKEN, OTHER_TOKEN)
    assert http.get("/_sandbox/state").json()["emulations"]["coveralls"]["builds"] == []
