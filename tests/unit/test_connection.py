"""The connection layer: bounded name lookups and interim (1xx) answers, without the network."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from build_status.transport import connection


def test_a_lookup_waits_no_longer_than_its_timeout(monkeypatch):
    release = threading.Event()

    def hanging(*args, **kwargs):  # a resolver that does not answer (until the test ends)
        release.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "late")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match=r"did not answer within 0\.2 s"):
            connection.lookup("bitbucket.example.test", 443, 0.2)
        assert time.monotonic() - started < 10, "bounded by the timeout, not by the resolver"
    finally:
        release.set()


def test_a_lookup_hands_back_the_resolvers_answer_and_its_errors(monkeypatch):
    answers = {"good.test": [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 80))]}

    def resolver(host, *args, **kwargs):
        if host in answers:
            return answers[host]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert connection.lookup("good.test", 80, 1.0) == answers["good.test"]
    with pytest.raises(socket.gaierror):
        connection.lookup("bad.test", 80, 1.0)


def test_an_address_needs_no_lookup_thread(monkeypatch):
    started = threading.active_count()
    assert connection.lookup("127.0.0.1", 80, 1.0)[0][4][0] == "127.0.0.1"
    assert threading.active_count() == started


def _serve_once(answer: bytes) -> int:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            listener.settimeout(10)
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                conn.recv(65536)
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return port


@pytest.mark.parametrize(
    "interim", [b"", b"HTTP/1.1 102 Processing\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 3]
)
def test_interim_answers_are_skipped_for_the_final_one(interim):
    port = _serve_once(interim + b"HTTP/1.1 204 No Content\r\nServer: t\r\n\r\n")
    conn = connection.BoundedHTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/x", body=b"{}")
    assert conn.getresponse().status == 204
    conn.close()


def test_endless_interim_answers_are_an_error():
    port = _serve_once(b"HTTP/1.1 103 Early Hints\r\n\r\n" * (connection.MAX_INTERIM + 1))
    conn = connection.BoundedHTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/x")
    with pytest.raises(Exception, match="interim"):
        conn.getresponse()
    conn.close()
