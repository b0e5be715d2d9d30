"""The Coveralls webhook client against a real HTTP server on loopback (pytest-httpserver)."""

from __future__ import annotations

import json

import pytest
import requests

from build_status.errors import RemoteError
from build_status.remotes.coveralls import Coveralls
from build_status.transport.deadline import Deadline
from build_status.transport.session import build_session

from ..ports import refusing_port

TOKEN = "cov-token-XYZ"


def client(server, seconds=10.0):
    deadline = Deadline(seconds)
    return Coveralls(build_session(deadline), deadline, server.url_for("/").rstrip("/"), TOKEN)


def test_sends_exactly_the_documented_request(httpserver):
    httpserver.expect_request("/webhook", method="POST").respond_with_json(
        {"done": True, "url": "https://coveralls.io/builds/1", "jobs": 3}
    )
    closed = client(httpserver).close("4242", ("unit", "e2e"))
    assert (closed.url, closed.jobs, closed.closed_before) == ("https://coveralls.io/builds/1", 3, False)
    ((request, _),) = httpserver.log
    assert request.args.to_dict() == {"repo_token": TOKEN, "carryforward": "unit,e2e"}
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.data) == {"payload": {"build_num": "4242", "status": "done"}}


def test_no_carryforward_parameter_without_flags(httpserver):
    httpserver.expect_request("/webhook").respond_with_json({"done": True})
    closed = client(httpserver).close("7", ())
    assert closed.jobs is None and closed.url == ""
    assert httpserver.log[0][0].args.to_dict() == {"repo_token": TOKEN}


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"error": "No build matching CI build number found"}),
        (200, {"done": False}),
        (200, {}),
        (200, "not json"),
    ],
)
def test_a_2xx_without_done_true_is_a_failure(httpserver, status, body):
    if isinstance(body, dict):
        httpserver.expect_request("/webhook").respond_with_json(body, status=status)
    else:
        httpserver.expect_request("/webhook").respond_with_data(body, status=status)
    with pytest.raises(RemoteError):
        client(httpserver).close("7", ())


def test_no_build_matching_names_the_number_sent_and_is_not_retried(httpserver):
    httpserver.expect_request("/webhook").respond_with_json(
        {"error": "No build matching CI build number found"}, status=422
    )
    with pytest.raises(RemoteError) as info:
        client(httpserver).close("123-2", ())
    text = info.value.message
    assert "No build matching CI build number found" in text
    assert "'123-2'" in text and "must equal the build number the parallel jobs uploaded with" in text
    assert len(httpserver.log) == 1


def test_closed_build_explains_reruns(httpserver):
    httpserver.expect_request("/webhook").respond_with_json({"error": "Build has already been closed"}, status=422)
    with pytest.raises(RemoteError) as info:
        client(httpserver).close("99", ())
    assert "run_attempt" in info.value.message and "re-run" in info.value.message


def test_5xx_is_retried_then_lands(httpserver):
    httpserver.expect_ordered_request("/webhook").respond_with_data("Bad gateway", status=502)
    httpserver.expect_ordered_request("/webhook").respond_with_json({"done": True, "jobs": 2})
    assert client(httpserver).close("5", ()).jobs == 2
    assert len(httpserver.log) == 2


def test_a_retry_that_finds_the_build_closed_by_the_lost_first_attempt_is_success(httpserver):
    httpserver.expect_ordered_request("/webhook").respond_with_data("upstream timeout", status=504)
    httpserver.expect_ordered_request("/webhook").respond_with_json(
        {"error": "Build has already been closed"}, status=422
    )
    closed = client(httpserver).close("5", ())
    assert closed.closed_before


def test_unreachable_coveralls_never_shows_the_token():
    deadline = Deadline(1.5)
    with refusing_port() as port, pytest.raises(RemoteError) as info:
        Coveralls(build_session(deadline), deadline, f"http://127.0.0.1:{port}", TOKEN).close("5", ("a",))
    assert "connection refused" in info.value.message
    assert TOKEN not in info.value.message and TOKEN not in repr(info.value.__cause__)
    assert info.value.__suppress_context__


def test_requests_error_text_would_leak_the_token_which_is_why_it_is_never_used():
    # The reason for the care above: requests quotes the whole URL, query string included.
    with refusing_port() as port, pytest.raises(requests.ConnectionError) as info:
        requests.post(f"http://127.0.0.1:{port}/webhook", params={"repo_token": TOKEN}, timeout=1)
    assert TOKEN in str(info.value)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://coveralls.io/builds/1 <script>", "https://coveralls.io/" + "x" * 500, 42, ""],
)
def test_a_build_url_that_cannot_be_a_link_is_not_used(httpserver, url):
    httpserver.expect_request("/webhook").respond_with_json({"done": True, "url": url, "jobs": 1})
    closed = client(httpserver).close("7", ())
    assert closed.url == "" and closed.jobs == 1
