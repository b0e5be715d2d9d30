"""The session's retry policy against a real HTTP server on loopback (pytest-httpserver)."""

import email.utils
import json
import time
from pathlib import Path

import pytest
import requests
from werkzeug import Response

from build_status.errors import DeadlineExceeded
from build_status.transport import session as transport
from build_status.transport.deadline import Deadline, make_retry
from build_status.transport.failures import describe_exception, redirect_base

from ..ports import LateServer


def session_for(seconds=10.0):
    deadline = Deadline(seconds)
    return transport.build_session(deadline), deadline


def test_5xx_is_retried_until_success(httpserver):
    for status in (503, 502):
        httpserver.expect_ordered_request("/x", method="POST").respond_with_data("busy", status=status)
    httpserver.expect_ordered_request("/x", method="POST").respond_with_data("", status=204)
    session, deadline = session_for()
    response = transport.request(session, deadline, "POST", httpserver.url_for("/x"), json={"a": 1})
    assert response.status_code == 204
    assert len(httpserver.log) == 3


def test_429_retry_after_seconds_is_honoured(httpserver):
    httpserver.expect_ordered_request("/x").respond_with_data("slow down", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    session, deadline = session_for()
    started = time.monotonic()
    assert transport.request(session, deadline, "GET", httpserver.url_for("/x")).status_code == 200
    assert time.monotonic() - started >= 0.9  # waited as told, not less


def test_429_retry_after_http_date_is_honoured(httpserver):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    httpserver.expect_ordered_request("/x").respond_with_data("", status=429, headers={"Retry-After": when})
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    session, deadline = session_for()
    started = time.monotonic()
    assert transport.request(session, deadline, "GET", httpserver.url_for("/x")).status_code == 200
    assert time.monotonic() - started >= 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_other_4xx_are_not_retried(httpserver, status):
    httpserver.expect_request("/x").respond_with_json({"errors": [{"message": "no"}]}, status=status)
    session, deadline = session_for()
    assert transport.request(session, deadline, "POST", httpserver.url_for("/x"), json={}).status_code == status
    assert len(httpserver.log) == 1


def test_retry_after_beyond_deadline_gives_up_with_the_answer(httpserver):
    httpserver.expect_request("/x").respond_with_json(
        {"errors": [{"message": "Rate limited"}]}, status=429, headers={"Retry-After": "120"}
    )
    session, deadline = session_for(20)
    started = time.monotonic()
    response = transport.request(session, deadline, "GET", httpserver.url_for("/x"))
    assert response.status_code == 429
    assert json.loads(response.text)["errors"][0]["message"] == "Rate limited"
    assert len(httpserver.log) == 1
    # Gives up at once: waits neither the 120 s it was told nor until the 20 s deadline (half of it is
    # a margin no loaded machine needs for one loopback exchange).
    assert time.monotonic() - started < 10


def test_persistent_503_stops_inside_the_deadline(httpserver):
    arrivals = []  # on the deadline's own clock

    def down(request):
        arrivals.append(time.monotonic())
        return Response("down", status=503)

    httpserver.expect_request("/x").respond_with_handler(down)
    session, deadline = session_for(2.5)
    response = transport.request(session, deadline, "GET", httpserver.url_for("/x"))
    assert response.status_code == 503 and response.text == "down"  # the last answer, handed back
    assert len(arrivals) >= 2
    # No retry is started that the deadline would cut: every attempt arrived before it passed (the client
    # keeps 2 x RESERVE of it for the last one).
    assert all(at < deadline.end for at in arrivals)
    # And it is over soon after: without the deadline the backoff (0, 1, 2, 4, 8 s ...) would go on for
    # minutes; 2 s of margin for a loaded machine.
    assert time.monotonic() < deadline.end + 2


def test_redirects_are_not_followed(httpserver):
    httpserver.expect_request("/x").respond_with_response(
        Response(status=302, headers={"Location": "https://elsewhere.invalid/steal"})
    )
    session, deadline = session_for()
    response = transport.request(
        session, deadline, "POST", httpserver.url_for("/x"), headers={"Authorization": "Bearer t"}
    )
    assert response.status_code == 302
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("refusals", [1, 2])
@pytest.mark.parametrize("once", [False, True], ids=["default", "once"])
def test_a_refused_connection_is_tried_again_and_the_request_lands(once, refusals):
    """The port refuses the first connection(s), then accepts: the retry, not the test, gets it through.

    Both sessions: a refused connection means the request never arrived, so even the "once" session
    (for requests that must not be carried out twice) tries again.
    """
    deadline = Deadline(10)
    session = transport.build_session(deadline, once=once)
    with LateServer(refusals) as late:
        response = transport.request(session, deadline, "POST", late.url("/x"), json={"a": 1})
    assert response.status_code == 200
    assert (late.refused, late.connected) == (refusals, 1)
    assert late.requests == [("POST", "/x", b'{"a": 1}')]


def test_connection_refused_is_retried_then_described():
    session, deadline = session_for(1.5)
    with LateServer(refusals=None) as late, pytest.raises(requests.ConnectionError) as info:
        transport.request(session, deadline, "GET", late.url("/x?repo_token=SECRET"))
    assert late.refused >= 2  # tried again before giving up
    assert late.connected == 0
    text = describe_exception(info.value)
    assert text == "connection refused"
    assert "SECRET" not in text


def test_expired_deadline_sends_nothing(httpserver):
    deadline = Deadline(0.0)
    session = transport.build_session(deadline)
    with pytest.raises(DeadlineExceeded):
        transport.request(session, deadline, "GET", httpserver.url_for("/x"))
    assert httpserver.log == []


def test_enforced_deadline_interrupts_a_server_that_never_answers(httpserver):
    import threading

    release = threading.Event()

    def hang(request):
        release.wait(30)
        return Response("late")

    httpserver.expect_request("/hang").respond_with_handler(hang)
    deadline = Deadline(0.8)
    session = transport.build_session(deadline)
    started = time.monotonic()
    try:
        # The request's own timeouts (30 s) and the server (30 s) would wait: only the deadline ends it.
        with pytest.raises(DeadlineExceeded), deadline.enforced():
            session.get(httpserver.url_for("/hang"), timeout=(30, 30))
    finally:
        release.set()
    # The 0.8 s deadline, not the 30 s: a wide margin for a loaded machine, still far from 30 s.
    assert time.monotonic() - started < 0.8 + 5


def test_tls_verify_choices(tmp_path):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    assert transport.tls_verify("", True, {}, str(tmp_path)) is False
    assert transport.tls_verify("", False, {}, str(tmp_path)) is True
    bundle = tmp_path / "env.pem"
    bundle.write_text("ENV BUNDLE\n")
    assert transport.tls_verify("", False, {"SSL_CERT_FILE": str(bundle)}, str(tmp_path)) == str(bundle)
    combined = transport.tls_verify(pem, False, {"REQUESTS_CA_BUNDLE": str(bundle)}, str(tmp_path))
    text = Path(combined).read_text()
    assert text.startswith("ENV BUNDLE") and "MIIB" in text


# -- redirects offer the base URL; Retry-After that is not a number of seconds or a date ----------------
def _redirected(requested: str, location: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 301
    response.url = requested
    response.headers["Location"] = location
    return response


@pytest.mark.parametrize(
    ("base", "requested", "location", "expected"),
    [
        (
            "https://bb.example.com",
            "https://bb.example.com/rest/build-status/1.0/commits/abc",
            "https://new.example.com/bitbucket/rest/build-status/1.0/commits/abc",
            "https://new.example.com/bitbucket",
        ),
        (
            "https://coveralls.io",
            "https://coveralls.io/webhook?repo_token=T",
            "/api/webhook",
            "https://coveralls.io/api",
        ),
        ("https://bb.example.com", "https://bb.example.com/rest/x", "https://sso.example.com/login?next=/", ""),
        ("https://bb.example.com", "https://bb.example.com/rest/x", "javascript:alert(1)", ""),
    ],
)
def test_a_redirect_gives_the_base_url_to_use(base, requested, location, expected):
    assert redirect_base(_redirected(requested, location), base) == expected


@pytest.mark.parametrize("value", ["1.5", "-5", "soon", "", "99999999999999999999999999 years"])
def test_a_retry_after_that_is_neither_seconds_nor_a_date_counts_as_absent(value):
    response = requests.Response()
    response.status_code = 503
    response.headers["Retry-After"] = value
    assert make_retry(Deadline(10)).get_retry_after(response) is None


def test_a_retry_after_in_seconds_still_counts():
    response = requests.Response()
    response.headers["Retry-After"] = "3"
    assert make_retry(Deadline(10)).get_retry_after(response) == 3
