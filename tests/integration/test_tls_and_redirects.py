"""TLS with a private CA (trustme) and redirects, against real servers on loopback."""

from __future__ import annotations

import ssl

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Response

from build_status_sandbox.runner import Job, run_step

from .conftest import SHA, TOKEN, assert_no_secret


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture
def tls_server(ca):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    server.expect_request(f"/rest/build-status/1.0/commits/{SHA}", method="POST").respond_with_data("", status=204)
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def post(server, tmp_path, **inputs):
    base = server.url_for("/").rstrip("/")
    result = run_step(
        Job(sha=SHA),
        {"bitbucket-url": base, "bitbucket-token": TOKEN, "state": "SUCCESSFUL", "timeout": "10", **inputs},
        workdir=tmp_path,
    )
    assert_no_secret(result)
    return result


def test_private_ca_is_refused_without_ca_cert(tls_server, tmp_path):
    result = post(tls_server, tmp_path)
    assert result.returncode == 1
    assert "certificate is not trusted" in result.error_lines[0]
    assert "ca-cert" in result.error_lines[0]
    assert len(tls_server.log) == 0


def test_ca_cert_as_a_path(tls_server, ca, tmp_path):
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    result = post(tls_server, tmp_path, **{"ca-cert": str(path)})
    assert result.returncode == 0, result.stdout
    assert len(tls_server.log) == 1


def test_ca_cert_as_pem_text(tls_server, ca, tmp_path):
    result = post(tls_server, tmp_path, **{"ca-cert": ca.cert_pem.bytes().decode()})
    assert result.returncode == 0, result.stdout
    assert len(tls_server.log) == 1
    # The combined bundle was a temporary file: nothing is left behind.
    assert not [name for name in result.files if name.endswith(".pem")]


def test_requests_ca_bundle_is_honoured(tls_server, ca, tmp_path):
    path = tmp_path / "bundle.pem"
    ca.cert_pem.write_to_path(str(path))
    workdir = tmp_path / "step"
    workdir.mkdir()
    base = tls_server.url_for("/").rstrip("/")
    inputs = {"bitbucket-url": base, "bitbucket-token": TOKEN, "state": "SUCCESSFUL"}
    result = run_step(Job(sha=SHA), inputs, workdir=workdir, extra_env={"REQUESTS_CA_BUNDLE": str(path)})
    assert result.returncode == 0, result.stdout


def test_insecure_works_and_warns_loudly(tls_server, tmp_path):
    result = post(tls_server, tmp_path, insecure="true")
    assert result.returncode == 0
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1 and "NOT verified" in warnings[0]


def test_wrong_host_name_is_refused(ca, tmp_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("bitbucket.other.example").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    try:
        path = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(path))
        result = post(server, tmp_path, **{"ca-cert": str(path)})
        assert result.returncode == 1
        assert "not valid for this host name" in result.error_lines[0], result.error_lines
    finally:
        server.stop()


def test_redirect_is_not_followed_and_credentials_stay(tmp_path):
    with HTTPServer(host="127.0.0.1", port=0) as other, HTTPServer(host="127.0.0.1", port=0) as server:
        other.expect_request("/steal").respond_with_data("got it")
        server.expect_request(f"/rest/build-status/1.0/commits/{SHA}").respond_with_response(
            Response(status=301, headers={"Location": other.url_for("/steal")})
        )
        result = post(server, tmp_path)
        assert result.returncode == 1
        assert "redirects to" in result.error_lines[0] and "set bitbucket-url" in result.error_lines[0]
        assert other.log == []
        assert len(server.log) == 1
