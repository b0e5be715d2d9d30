"""TLS and proxies: the real entry point as a process, the sandbox behind a TLS front and a forward proxy.

The TLS front (:class:`~.loopback.TlsFront`) serves a trustme certificate in front of the plain-HTTP
sandbox, so every emulation is reachable over HTTPS; the forward proxy (:class:`~.loopback.ForwardProxy`)
relays absolute-form requests and tunnels ``CONNECT``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass

import certifi
import pytest
import trustme

from .conftest import (
    CLOUD_REPO,
    CLOUD_WORKSPACE,
    COVERALLS_TOKEN,
    SHA,
    STARTUP_SLACK,
    TIMEOUT,
    TOKEN,
    bitbucket_inputs,
    cloud_inputs,
    coveralls_inputs,
)
from .conftest import webappio_inputs as _webappio_inputs
from .loopback import ForwardProxy, TlsFront
from .report import record

TLS = "TLS and proxies"
BOUND = TIMEOUT + STARTUP_SLACK
STATUS_PATH = f"/rest/build-status/1.0/commits/{SHA}"


# -- certificates --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def other_ca():
    """A second, unrelated CA."""
    return trustme.CA()


@pytest.fixture(scope="module")
def leaf(ca):
    return ca.issue_cert("localhost", "127.0.0.1")


@pytest.fixture(scope="module")
def wrong_leaf(ca):
    """Signed by the trusted CA, but for another host name."""
    return ca.issue_cert("wrong.example")


@pytest.fixture(scope="module")
def pem_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pem")


@pytest.fixture(scope="module")
def ca_file(ca, pem_dir):
    path = pem_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def other_ca_file(other_ca, pem_dir):
    path = pem_dir / "other-ca.pem"
    other_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def bundle_file(ca, pem_dir):
    """A machine's CA bundle with the CA added (what REQUESTS_CA_BUNDLE/SSL_CERT_FILE would name)."""
    path = pem_dir / "bundle.pem"
    with open(certifi.where(), encoding="utf-8") as public:
        path.write_text(public.read().rstrip("\n") + "\n" + ca.cert_pem.bytes().decode(), encoding="utf-8")
    return str(path)


# -- servers ---------------------------------------------------------------------------------------------
@pytest.fixture
def front(sandbox, leaf):
    with TlsFront(sandbox.host, sandbox.port, leaf) as server:
        yield server


@pytest.fixture
def other_front(sandbox, other_ca):
    with TlsFront(sandbox.host, sandbox.port, other_ca.issue_cert("localhost", "127.0.0.1")) as server:
        yield server


@pytest.fixture
def wrong_front(sandbox, wrong_leaf):
    with TlsFront(sandbox.host, sandbox.port, wrong_leaf) as server:
        yield server


@pytest.fixture
def proxy():
    with ForwardProxy() as server:
        yield server


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the four services through the front -----------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    name: str
    #: Prepare the sandbox and give the step's inputs, for the service's base URL on the front.
    inputs: Callable[..., dict]
    #: Whether the step landed (status stored, build closed, run relayed).
    landed: Callable[..., bool]
    #: The sandbox paths this service's requests use.
    prefix: str

    @property
    def section(self) -> str:
        return f"Faults: {self.name}"


def _bitbucket(sandbox, url, **extra):
    return bitbucket_inputs(url, **extra)


def _cloud(sandbox, url, **extra):
    return cloud_inputs(url, **extra)


def _cloud_landed(sandbox, checked) -> bool:
    statuses = sandbox.bitbucket_cloud.statuses(CLOUD_WORKSPACE, CLOUD_REPO, SHA)
    return checked.returncode == 0 and [s["state"] for s in statuses] == ["SUCCESSFUL"]


def _coveralls(sandbox, url, **extra):
    sandbox.coveralls.register_job("77", repo_token=COVERALLS_TOKEN)
    return coveralls_inputs(url, **extra)


def _webappio(sandbox, url, **extra):
    job = sandbox.webappio.add_job("sandbox-app", commit_sha=SHA, script=("SUCCEEDED",))
    return _webappio_inputs(
        url + "/webappio/api/v1", bitbucket_url=sandbox.url, **{"webappio-job-id": str(job["id"])}, **extra
    )


def status_landed(sandbox, checked, key=None) -> bool:
    statuses = sandbox.bitbucket.statuses(SHA)
    return checked.returncode == 0 and any(
        s["state"] == "SUCCESSFUL" and (key is None or s["key"] == key) for s in statuses
    )


def _relayed(sandbox, checked) -> bool:
    outputs = checked.result.outputs
    return (
        outputs.get("webappio-status") == "SUCCEEDED"
        and outputs.get("result") == "posted"
        and status_landed(sandbox, checked, key="webapp.io/sandbox-app")
    )


SERVICES = [
    Service("Bitbucket", _bitbucket, status_landed, "/rest/"),
    Service("Bitbucket Cloud", _cloud, _cloud_landed, "/2.0/"),
    Service(
        "Coveralls",
        _coveralls,
        lambda sandbox, checked: (
            checked.returncode == 0 and sandbox.coveralls.build("77", repo_token=COVERALLS_TOKEN)["closed"] is True
        ),
        "/webhook",
    ),
    Service("webapp.io", _webappio, _relayed, "/webappio/"),
]
service_param = pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])


def posts(sandbox) -> int:
    return len([r for r in sandbox.requests() if r["method"] == "POST" and r["path"] == STATUS_PATH])


def reached(sandbox, prefix: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].startswith(prefix)]


def tls_reason(line: str) -> str:
    """The TLS part of an error line ("TLS: the server's certificate is ..."), or what came instead."""
    found = re.search(r"TLS:[^.]*", line)
    return found.group(0) if found else "no TLS reason"


def times(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def seconds(*checks) -> str:
    return ", ".join(f"{c.seconds:.1f} s" for c in checks)


# -- TLS: verification is on by default (Bitbucket; its row opens the section) --------------------
def test_verification_is_on_by_default(sandbox, front, run_step_checked):
    checked = run_step_checked(bitbucket_inputs(front.url))

    assert checked.returncode == 1
    line = checked.error_lines[0]
    assert "certificate is not trusted" in line and "ca-cert" in line
    assert sandbox.bitbucket.statuses(SHA) == []
    record(
        TLS,
        "Verification on by default (private CA, no ca-cert)",
        "refused: exit 1 naming the untrusted certificate and ca-cert",
        f"exit {checked.returncode}; {tls_reason(line)}; names ca-cert; nothing stored",
        seconds(checked),
    )


# -- TLS: the four services ---------------------------------------------------------------------------------
@service_param
def test_unknown_ca_is_refused_once(service, sandbox, front, run_step_checked):
    checked = run_step_checked(service.inputs(sandbox, front.url))

    assert checked.returncode == 1, checked.text
    assert len(checked.error_lines) == 1, checked.error_lines
    line = checked.error_lines[0]
    assert "certificate is not trusted" in line
    assert reached(sandbox, service.prefix) == []
    assert front.handshakes == 0, "nothing may be relayed through a refused TLS connection"
    assert front.accepted == 1, f"retried a certificate failure: {front.accepted} connections"
    assert checked.seconds < BOUND
    assert not service.landed(sandbox, checked)
    assert "ca-cert" in line
    record(
        service.section,
        "TLS: unknown CA",
        "not retried; exit 1 naming the untrusted certificate and ca-cert",
        f"exit {checked.returncode}; {times(front.accepted, 'connection')}, none relayed; {tls_reason(line)}",
        seconds(checked),
    )


@service_param
def test_wrong_host_name_is_refused(service, sandbox, wrong_front, ca_file, run_step_checked):
    checked = run_step_checked(service.inputs(sandbox, wrong_front.url, **{"ca-cert": ca_file}))

    assert checked.returncode == 1, checked.text
    assert len(checked.error_lines) == 1, checked.error_lines
    line = checked.error_lines[0]
    assert "not valid for this host name" in line
    assert reached(sandbox, service.prefix) == []
    assert wrong_front.handshakes == 0
    assert wrong_front.accepted == 1, f"retried a certificate failure: {wrong_front.accepted} connections"
    assert checked.seconds < BOUND
    record(
        service.section,
        "TLS: wrong host name",
        "not retried; exit 1 saying the certificate is not valid for this host name",
        f"exit {checked.returncode}; {times(wrong_front.accepted, 'connection')}, none relayed; {tls_reason(line)}",
        seconds(checked),
    )


@service_param
def test_ca_cert_file_lands(service, sandbox, front, ca_file, run_step_checked):
    checked = run_step_checked(service.inputs(sandbox, front.url, **{"ca-cert": ca_file}))

    assert checked.returncode == 0, checked.text
    assert service.landed(sandbox, checked)
    assert reached(sandbox, service.prefix)
    assert front.handshakes >= 1
    if service.name == "Bitbucket":
        record(
            TLS,
            "ca-cert as a file path",
            "verified against the private CA; the status lands",
            "exit 0; status stored",
            seconds(checked),
        )


# -- TLS: verification, ca-cert and the CA bundle variables (Bitbucket) ---------------------------------------------
def test_ca_cert_as_pem_text(sandbox, front, ca, run_step_checked):
    checked = run_step_checked(bitbucket_inputs(front.url, **{"ca-cert": ca.cert_pem.bytes().decode()}))

    assert checked.returncode == 0, checked.text
    assert status_landed(sandbox, checked)
    # The combined bundle was a temporary file: nothing is left behind.
    left = [name for name in checked.result.files if name.endswith(".pem")]
    assert left == []
    record(
        TLS,
        "ca-cert as PEM text",
        "verified against the private CA; the status lands; no bundle file left behind",
        f"exit 0; status stored; {len(left)} .pem files left",
        seconds(checked),
    )


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_ca_bundle_variable_is_honoured(variable, sandbox, front, bundle_file, run_step_checked):
    checked = run_step_checked(bitbucket_inputs(front.url), extra_env={variable: bundle_file})

    assert checked.returncode == 0, checked.text
    assert status_landed(sandbox, checked)
    record(
        TLS,
        f"{variable} names a bundle holding the CA (no ca-cert)",
        "the bundle is used; the status lands",
        "exit 0; status stored",
        seconds(checked),
    )


def test_insecure_works_and_warns(sandbox, front, run_step_checked):
    checked = run_step_checked(bitbucket_inputs(front.url, insecure="true"))

    assert checked.returncode == 0, checked.text
    assert status_landed(sandbox, checked)
    warnings = [line for line in checked.result.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1, warnings
    assert "verification is off" in warnings[0] and "NOT verified" in warnings[0]
    record(
        TLS,
        "insecure: true (private CA, no ca-cert)",
        "the status lands and a ::warning says verification is off",
        f"exit 0; status stored; {times(len(warnings), 'warning')}: TLS verification is off",
        seconds(checked),
    )


def test_ca_cert_adds_to_requests_ca_bundle(sandbox, front, other_front, bundle_file, other_ca_file, run_step_checked):
    """REQUESTS_CA_BUNDLE trusts CA1, ca-cert adds CA2: a CA1 server and a CA2 server are both trusted."""
    env = {"REQUESTS_CA_BUNDLE": bundle_file}
    first = run_step_checked(bitbucket_inputs(front.url, **{"ca-cert": other_ca_file}), extra_env=env)
    assert first.returncode == 0, first.text
    assert posts(sandbox) == 1
    second = run_step_checked(bitbucket_inputs(other_front.url, **{"ca-cert": other_ca_file}), extra_env=env)
    assert second.returncode == 0, second.text
    assert posts(sandbox) == 2
    record(
        TLS,
        "ca-cert (CA2) with REQUESTS_CA_BUNDLE (CA1): a CA1 server, then a CA2 server",
        "both statuses land: ca-cert is trusted in addition to the bundle",
        "CA1 server: landed; CA2 server: landed",
        seconds(first, second),
    )


def test_insecure_with_requests_ca_bundle_set(sandbox, front, other_ca_file, run_step_checked):
    """insecure wins over a bundle variable (requests would otherwise put the bundle back)."""
    checked = run_step_checked(
        bitbucket_inputs(front.url, insecure="true"), extra_env={"REQUESTS_CA_BUNDLE": other_ca_file}
    )
    assert checked.returncode == 0, checked.error_lines
    assert status_landed(sandbox, checked)
    record(
        TLS,
        "insecure: true with REQUESTS_CA_BUNDLE naming another CA",
        "verification is off as asked (the variable does not switch it back on); the status lands",
        "exit 0; status stored",
        seconds(checked),
    )


# -- proxies ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_http_proxy_is_used(variable, sandbox, proxy, run_step_checked):
    checked = run_step_checked(bitbucket_inputs(sandbox.url), extra_env={variable: proxy.url})

    assert checked.returncode == 0, checked.text
    assert status_landed(sandbox, checked)
    assert proxy.seen == [f"POST {sandbox.url}{STATUS_PATH}"]
    assert not proxy.proxy_authorization
    shown = proxy.seen[0].replace(f":{sandbox.port}/", ":PORT/").replace(SHA, "SHA")
    record(
        TLS,
        f"{variable} (plain http Bitbucket)",
        "the POST goes through the proxy in absolute form; the status lands",
        f"proxy saw {times(len(proxy.seen), 'request')}: {shown}; status stored",
        seconds(checked),
    )


def test_https_proxy_tunnels(sandbox, proxy, front, ca_file, run_step_checked):
    checked = run_step_checked(
        bitbucket_inputs(front.url, **{"ca-cert": ca_file}), extra_env={"HTTPS_PROXY": proxy.url}
    )

    assert checked.returncode == 0, checked.text
    assert status_landed(sandbox, checked)
    assert proxy.seen in ([f"CONNECT 127.0.0.1:{front.port}"], [f"CONNECT localhost:{front.port}"])
    assert all("authorization" not in names for names in proxy.header_names), proxy.header_names
    assert not proxy.proxy_authorization
    assert front.handshakes == 1
    record(
        TLS,
        "HTTPS_PROXY with ca-cert (TLS front)",
        "a CONNECT tunnel; the status lands; the proxy never sees the Authorization header",
        f"proxy saw {times(len(proxy.seen), 'request')}: CONNECT {proxy.seen[0].split()[1].split(':')[0]}:PORT; "
        "no Authorization header; status stored",
        seconds(checked),
    )


def test_no_proxy_bypasses_the_proxy(sandbox, proxy, run_step_checked):
    env = {"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1,localhost"}
    checked = run_step_checked(bitbucket_inputs(sandbox.url), extra_env=env)

    assert checked.returncode == 0, checked.text
    assert status_landed(sandbox, checked)
    assert proxy.seen == []
    assert proxy.accepted == 0
    record(
        TLS,
        "NO_PROXY=127.0.0.1,localhost with HTTP_PROXY",
        "the proxy is bypassed; the status lands",
        f"proxy saw {times(proxy.accepted, 'connection')}; status stored",
        seconds(checked),
    )


def test_proxy_down(sandbox, front, ca_file, closed_port, run_step_checked):
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{closed_port}"}
    checked = run_step_checked(bitbucket_inputs(front.url, **{"ca-cert": ca_file}), extra_env=env)

    assert checked.returncode == 1, checked.text
    assert checked.seconds < BOUND
    assert len(checked.error_lines) == 1, checked.error_lines
    line = checked.error_lines[0]
    assert "Could not reach Bitbucket" in line
    assert "?" not in line and TOKEN not in line
    assert front.accepted == 0, "the proxy was bypassed"
    assert sandbox.bitbucket.statuses(SHA) == []
    assert "the proxy could not be reached" in line and "HTTPS_PROXY" in line
    record(
        TLS,
        "HTTPS_PROXY points at a closed port",
        "exit 1 within the deadline; one error line saying what failed, no URL query or token",
        "exit 1; one error line naming the proxy (connection refused) and HTTPS_PROXY; nothing sent around the proxy",
        seconds(checked),
    )
