"""The core: plug-in emulations, Request/Response, lifecycle, light import."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests
from sandbox_helpers import SHA, TIMEOUT, Client, legacy_path, status

from build_status_sandbox import BitbucketConfig, Emulation, Request, Response, Sandbox
from build_status_sandbox.emulation import route
from build_status_sandbox.messages import BodyError, Headers
from build_status_sandbox.page import esc


class Echo(Emulation):
    """A minimal plug-in: stores JSON posted to /echo/<name>."""

    name = "echo"
    title = "Echo"

    def __init__(self) -> None:
        self.items: dict[str, object] = {}
        self.resets = 0
        self._routes = [
            route("POST", r"/echo/(?P<name>[a-z<>]+)", self.post),
            route("GET", r"/echo/boom", self.boom),
        ]

    def routes(self):
        return self._routes

    def post(self, request: Request) -> Response:
        self.items[request.params["name"]] = request.json()
        return Response(201, {"name": request.params["name"], "query": request.query}, {"X-Echo": "yes"})

    def boom(self, request: Request) -> Response:
        raise RuntimeError("handler bug")

    def reset(self) -> None:
        self.items.clear()
        self.resets += 1

    def snapshot(self) -> dict:
        return {"items": self.items}

    def html(self) -> str:
        return "<ul>" + "".join(f"<li>{esc(name)}</li>" for name in self.items) + "</ul>"


def test_plug_in_emulation(sandbox, client, capsys):
    echo = sandbox.add(Echo())
    assert sandbox.emulation("echo") is echo
    response = client.post("/echo/one?x=1&x=2&y=", json={"a": 1})
    assert response.status_code == 201
    assert response.headers["X-Echo"] == "yes"
    assert response.json() == {"name": "one", "query": {"x": "1", "y": ""}}
    client.post("/echo/<b>", json=[1])
    assert client.get("/_sandbox/state").json()["emulations"]["echo"] == {"items": {"one": {"a": 1}, "<b>": [1]}}
    page = client.get("/").text
    assert "<h2>Echo</h2>" in page and "<li>&lt;b&gt;</li>" in page

    bad = client.post("/echo/two", data=b"{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert "not valid JSON" in bad.json()["errors"][0]["message"]

    failed = client.get("/echo/boom")
    assert failed.status_code == 500
    assert "handler bug" in failed.json()["errors"][0]["message"]
    assert "RuntimeError" in capsys.readouterr().err

    client.post("/_sandbox/reset")
    assert echo.items == {} and echo.resets == 1
    with pytest.raises(ValueError, match="already registered"):
        sandbox.add(Echo())
    with pytest.raises(TypeError):
        sandbox.add(object())


def test_request_helpers():
    headers = Headers([("Content-Type", "application/vnd.api+json; charset=utf-8"), ("X-A", "1"), ("x-a", "2")])
    assert headers["content-type"].startswith("application/vnd.api+json")
    assert headers["X-A"] == "1, 2"
    request = Request("POST", "/", headers=headers, body=b'{"a": [1]}')
    assert request.is_json() and request.content_type == "application/vnd.api+json"
    assert request.json() == {"a": [1]}
    with pytest.raises(BodyError, match="not valid JSON: Expecting value at line 1 column 1"):
        Request("POST", "/", body=b"nope").json()
    with pytest.raises(BodyError, match="empty"):
        Request("POST", "/", body=b"  ").json()
    assert Response(200, {"a": 1}).encode() == (b'{"a": 1}', {"Content-Type": "application/json;charset=UTF-8"})
    assert Response(204, {"ignored": True}).encode() == (b"", {})
    assert Response(200, "hi", {"content-type": "text/html"}).encode() == (b"hi", {"content-type": "text/html"})


def test_bitbucket_config_from_kwargs_and_validation(make_sandbox):
    sandbox = make_sandbox(bitbucket={"version": "7.14", "context_path": "/stash"})
    assert sandbox.bitbucket.config == BitbucketConfig(version="7.14", context_path="/stash")
    with pytest.raises(ValueError):
        BitbucketConfig(version="latest")
    with pytest.raises(ValueError):
        BitbucketConfig(tokens={"t": "admin"})
    with pytest.raises(ValueError):
        BitbucketConfig(context_path="/a b")
    with pytest.raises(TypeError):
        Sandbox(bitbucket="9.2")


def test_url_and_lifecycle():
    sandbox = Sandbox()
    assert sandbox.host == "127.0.0.1"
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}"
    assert not sandbox.url.endswith("/")
    thread = threading.Thread(target=sandbox.serve_forever, daemon=True)
    thread.start()
    try:
        assert requests.get(sandbox.url + "/_sandbox/health", timeout=TIMEOUT).status_code == 200
        with pytest.raises(RuntimeError):
            sandbox.start()
    finally:
        sandbox.stop()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    sandbox.stop()  # twice is fine
    with pytest.raises(RuntimeError):
        sandbox.start()
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.url + "/_sandbox/health", timeout=TIMEOUT)


def test_serve_forever_after_start_waits_for_stop():
    sandbox = Sandbox().start()
    waiter = threading.Thread(target=sandbox.serve_forever, daemon=True)
    waiter.start()
    assert requests.get(sandbox.url + "/_sandbox/health", timeout=TIMEOUT).status_code == 200
    assert waiter.is_alive()
    sandbox.stop()
    waiter.join(TIMEOUT)
    assert not waiter.is_alive()


def test_keep_alive_and_chunked_bodies(sandbox, client):
    def chunks():
        yield b'{"state": "SUCCESSFUL", '
        yield b'"key": "chunked", "url": "https://x"}'

    for number in range(3):  # one connection, several requests
        assert client.post(legacy_path(), json=status(f"k{number}")).status_code == 204
    response = client.post(legacy_path(), data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 204
    assert {stored["key"] for stored in sandbox.bitbucket.statuses(SHA)} == {"k0", "k1", "k2", "chunked"}


def test_concurrent_posts_are_all_stored(sandbox):
    def post(number: int) -> int:
        http = Client(sandbox.url)
        try:
            return http.post(legacy_path(), json=status(f"k{number}")).status_code
        finally:
            http.close()

    threads_results: list[int] = []
    threads = [threading.Thread(target=lambda n=n: threads_results.append(post(n))) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert threads_results == [204] * 32
    assert sandbox.bitbucket.tally(SHA)["successful"] == 32


def test_import_is_light():
    code = (
        "import sys, build_status_sandbox as s; "
        "print(sorted(m for m in ('jsonschema', 'http.server', 'build_status_sandbox.server') if m in sys.modules)); "
        "s.Sandbox; print('jsonschema' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "False"]
