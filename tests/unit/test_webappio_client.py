"""The webapp.io client against a real HTTP server on loopback (pytest-httpserver)."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from build_status.errors import RemoteError
from build_status.remotes.webappio import Webappio, WebappioError
from build_status.transport.deadline import Deadline
from build_status.transport.session import build_session

from ..ports import LateServer

TOKEN = "wa-SeCrEt-77"
JOB = {
    "repository_name": "app",
    "id": 12,
    "uuid": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    "status": "SEE_RUNNERS",
    "status_change_time": "2026-11-21 10:11:12.123456 +0000 UTC",
    "calculated_status": "RUNNING",
    "commit_sha": "9ABC2AC68D52AFE1A5A3FBC724D031AF5A397204",
    "branch": "main",
    "merge_branch": "main",
    "run_start_reason": "Manual run created by API",
    "run_start_reason_url": "",
}


def client_at(endpoint: str, seconds: float = 10.0) -> Webappio:
    deadline = Deadline(seconds)
    return Webappio(
        build_session(deadline),
        deadline,
        endpoint,
        TOKEN,
        "app",
        create_session=build_session(deadline, once=True),
    )


def client(server, seconds=10.0):
    return client_at(server.url_for("/api/v1"), seconds)


def logged(httpserver, prefix: str) -> list:
    """The exchanges this test made (the server is shared: a request another test left hanging may be
    logged late)."""
    return [entry for entry in httpserver.log if entry[0].path.startswith(prefix)]


def test_find_sends_the_query_and_token_and_reads_the_job(httpserver):
    httpserver.expect_request("/api/v1/run/app/search").respond_with_json({"status": "ok", "job": JOB})
    run = client(httpserver).find('branch:"a b" failed')
    assert (run.id, run.calculated_status, run.branch, run.uuid) == (12, "RUNNING", "main", JOB["uuid"])
    assert run.commit_sha == JOB["commit_sha"].lower()
    ((request, _),) = logged(httpserver, "/api/v1/run/")
    assert request.args.to_dict() == {"search": 'branch:"a b" failed', "token": TOKEN}


@pytest.mark.parametrize("status", [200, 400, 404])
def test_no_runs_is_none_whatever_the_http_status(httpserver, status):
    httpserver.expect_request("/api/v1/run/app/search").respond_with_json(
        {"status": "error", "error": "There are no runs in app matching the given filters."}, status=status
    )
    assert client(httpserver).find("id:99") is None


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (200, {"status": "error", "error": "Invalid API token."}, ["Invalid API token.", "webappio-token"]),
        (401, "", ["401", "webappio-token"]),
        (400, {"status": "error", "error": "There is no repository named app."}, ["no repository", "webappio-repo"]),
        (400, {"status": "error", "error": "Invalid search query: unterminated quote"}, ["unterminated", "query"]),
        (200, {"status": "weird"}, ["without an explanation"]),
        (200, {"status": "ok", "job": {"id": "x"}}, ["without an id"]),
        (200, {"status": "ok"}, ["no job object"]),
        (200, "<html>login</html>", ["HTML page"]),
        (404, "plain words", ["plain words"]),
    ],
)
def test_errors_quote_webapps_message_and_never_the_token(httpserver, status, body, words):
    if isinstance(body, dict):
        httpserver.expect_request("/api/v1/run/app/search").respond_with_json(body, status=status)
    else:
        content_type = "text/html" if body.startswith("<") else "text/plain"
        httpserver.expect_request("/api/v1/run/app/search").respond_with_data(
            body, status=status, content_type=content_type
        )
    with pytest.raises(RemoteError) as info:
        client(httpserver).find("branch:main")
    message = str(info.value)
    for word in words:
        assert word in message
    assert TOKEN not in message


def test_redirect_is_not_followed_and_its_query_is_cut(httpserver):
    httpserver.expect_request("/api/v1/run/app/search").respond_with_data(
        "", status=302, headers={"Location": f"https://elsewhere.example/login?token={TOKEN}"}
    )
    with pytest.raises(WebappioError) as info:
        client(httpserver).find("id:1")
    assert "https://elsewhere.example/login" in info.value.message and TOKEN not in info.value.message
    assert len(httpserver.log) == 1


def test_search_is_retried_on_502(httpserver):
    httpserver.expect_ordered_request("/api/v1/run/app/search").respond_with_data("bad gateway", status=502)
    httpserver.expect_ordered_request("/api/v1/run/app/search").respond_with_json({"status": "ok", "job": JOB})
    assert client(httpserver).find("id:12").id == 12


def test_create_sends_the_options_and_reads_job_and_url(httpserver):
    httpserver.expect_request("/api/v1/run/app", method="POST").respond_with_json(
        {"status": "ok", "job": {**JOB, "calculated_status": "NEW"}, "url": "https://webapp.io/jobs/x/12"}
    )
    created = client(httpserver).create("dev", "c" * 40, True, "deploy=1")
    assert created.run.id == 12 and created.run_id == 12 and created.url == "https://webapp.io/jobs/x/12"
    ((request, _),) = logged(httpserver, "/api/v1/run/")
    assert request.args.to_dict() == {"token": TOKEN}
    assert json.loads(request.data) == {"branch": "dev", "ref": "c" * 40, "accept_buttons": "true", "extra": "deploy=1"}


def test_create_minimal_body_and_answers_without_a_job(httpserver):
    httpserver.expect_ordered_request("/api/v1/run/app", method="POST").respond_with_json({"status": "ok", "id": 5})
    httpserver.expect_ordered_request("/api/v1/run/app", method="POST").respond_with_json({"status": "ok"})
    api = client(httpserver)
    first = api.create("main", "", False, "")
    assert (first.run, first.run_id, first.url) == (None, 5, "")
    second = api.create("main", "", False, "")
    assert (second.run, second.run_id) == (None, None)
    assert [json.loads(request.data) for request, _ in httpserver.log] == [{"branch": "main"}] * 2


def test_runners(httpserver):
    httpserver.expect_request(f"/api/v1/runners/app/{JOB['uuid']}").respond_with_json(
        {
            "status": "ok",
            "runners": [
                {
                    "id": "main-layerfile",
                    "layerfile_relative_path": "Layerfile",
                    "status": "ERROR",
                    "was_retried": True,
                    "runner_index": 1,
                },
                {
                    "id": "main-layerfile-2",
                    "layerfile_relative_path": "Layerfile",
                    "status": "SUCCESS",
                    "was_retried": False,
                    "runner_index": 2,
                },
                "junk",
            ],
        }
    )
    runners = client(httpserver).runners(JOB["uuid"])
    assert [(r.id, r.status, r.was_retried, r.index) for r in runners] == [
        ("main-layerfile", "ERROR", True, 1),
        ("main-layerfile-2", "SUCCESS", False, 2),
    ]


# -- starting a run is not safe to repeat ------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 503])
def test_create_is_retried_when_the_server_says_it_did_not_run_it(httpserver, status):
    httpserver.expect_ordered_request("/api/v1/run/app", method="POST").respond_with_data(
        "busy", status=status, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/api/v1/run/app", method="POST").respond_with_json({"status": "ok", "id": 3})
    assert client(httpserver).create("main", "", False, "").run_id == 3
    assert len(httpserver.log) == 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_is_not_retried_when_it_may_have_run(httpserver, status):
    httpserver.expect_request("/api/v1/run/app", method="POST").respond_with_data("oops", status=status)
    with pytest.raises(WebappioError) as info:
        client(httpserver).create("main", "", False, "")
    assert len(httpserver.log) == 1 and str(status) in info.value.message


def test_create_is_not_retried_after_the_connection_broke_mid_answer():
    """A server that reads the request, then closes without answering: the run may exist; ask once."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(5)
    seen = []

    def serve_one():
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            seen.append(conn.recv(65536))
            conn.shutdown(socket.SHUT_RDWR)

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    api = client_at(f"http://127.0.0.1:{port}/api/v1", 5)
    try:
        with pytest.raises(WebappioError) as info:
            api.create("main", "", False, "")
        thread.join(5)
        # Any retry would have connected before create() gave up: nothing may be waiting.
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert len(seen) == 1 and seen[0].startswith(b"POST /api/v1/run/app?token=")
    assert "closed before an answer" in info.value.message and TOKEN not in info.value.message


@pytest.mark.parametrize("refusals", [1, 2])
def test_create_is_retried_when_the_connection_was_refused_and_lands_once(refusals):
    """The connection is refused at first (so the request surely never arrived), then accepted: the run
    is started, once."""
    with LateServer(refusals, answer={"status": "ok", "id": 3}) as late:
        created = client_at(late.url("/api/v1"), 10).create("main", "", False, "")
    assert created.run_id == 3
    assert (late.refused, late.connected) == (refusals, 1)
    ((method, path, body),) = late.requests
    assert (method, path.split("?")[0], json.loads(body)) == ("POST", "/api/v1/run/app", {"branch": "main"})


def test_create_keeps_trying_a_refused_connection_until_the_deadline():
    """Nothing listens: tried again until the deadline, then reported as refused (so nothing was started)."""
    with LateServer(refusals=None) as late, pytest.raises(WebappioError) as info:
        client_at(late.url("/api/v1"), 2).create("main", "", False, "")
    assert late.refused >= 2 and late.connected == 0
    assert "connection refused" in info.value.message
    assert "may have arrived" not in info.value.message and TOKEN not in info.value.message
