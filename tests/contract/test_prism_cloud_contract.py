"""The Bitbucket Cloud client against Prism serving Atlassian's Cloud contract (commit statuses).

Two ways. Prism as a mock (``prism_cloud_url``) takes every request shape the client can send (2xx) and refuses
a wrong one (422, as the status POST declares no 400), but answers the contract's canned object (key
``"string"``, state ``FAILED``; the contract has no examples, and its dynamic mode makes one up): the client,
which counts a post as landed only when the status sent comes back, rightly refuses that answer, and the
canned page's ``next`` (``http://example.com``) is elsewhere, so it is not followed. Those are asserted as
they are. Prism as a validating proxy (``prism_cloud_proxy``, ``--errors``) in front of a stand-in that answers
as Bitbucket does checks the requests *and* the answers against the contract: through it a post lands and the
pages are followed.
"""

from __future__ import annotations

import secrets

import pytest

from build_status.config.selection import parse_config
from build_status.errors import RemoteError
from build_status.model.auth import Auth
from build_status.model.states import STOPPED
from build_status.remotes.bitbucket_cloud.api import CloudConnection
from build_status.remotes.bitbucket_cloud.reading import CloudReader
from build_status.remotes.bitbucket_cloud.remote import ENDPOINT, BitbucketCloud
from build_status.remotes.bitbucket_cloud.target import CloudTarget
from build_status.remotes.interface import Request
from build_status.tasks import post
from build_status.transport import session as transport
from build_status.transport.deadline import Deadline
from build_status_sandbox.runner import Job, JobRun, run_step

from ..factories import context, raw_inputs

SHA = "e00cf62997a027bbf785614a93e2e55bb331d268"
CTX = context(job="test", run_number="12", run_id="77", repository="acme/app", sha=SHA)
WORKSPACE, REPO = "acme", "app"
CREDENTIALS = {
    "bearer": {"bitbucket-token": "token-123"},
    "basic": {"bitbucket-username": "dev@example.com", "bitbucket-password": "api-token-123"},
}
#: Every state the client posts on Cloud, as asked → as sent.
STATES = {"SUCCESSFUL": "SUCCESSFUL", "FAILED": "FAILED", "INPROGRESS": "INPROGRESS", "CANCELLED": STOPPED}
#: With and without the optional fields: refname comes from a pushed branch (none for a tag); name and
#: description are given, defaulted, or (straight to the remote) left empty.
VARIANTS = {
    "all-given": {"ref": "refs/heads/feature/x", "name": "Unit tests › 3.12", "description": "d" * 600},
    "defaults": {},
    "tag-no-refname": {"ref": "refs/tags/v1.0"},
    "bare": {"ref": "refs/tags/v1.0", "name": None, "description": None},
}


def fresh_sha() -> str:
    """A commit of its own (the stand-in keeps what each test posts)."""
    return secrets.token_hex(20)


def remote_for(url: str, auth: str = "bearer", **inputs: str) -> BitbucketCloud:
    return parse_config(cloud_raw(url, auth, **inputs), CTX).post.remote


def cloud_raw(url: str, auth: str = "bearer", **changes: str | None) -> dict[str, str]:
    given = {k: v for k, v in changes.items() if v is not None}
    raw = raw_inputs(CTX, matrix='{"python":"3.12"}', duration="95s", **given)
    raw.update({"bitbucket-url": url, "bitbucket-workspace": WORKSPACE, "bitbucket-repo": REPO})
    raw.update({"bitbucket-token": "", **CREDENTIALS[auth]})
    return raw


def cloud_requests(url: str, state: str, variant: str, auth: str = "bearer", sha: str = SHA) -> list[Request]:
    """What the post task sends for these inputs: the state fitted and the default description written as
    ``deliver`` does, then ``BitbucketCloud.status_requests``."""
    raw = cloud_raw(url, auth, state=state, commit=sha, **VARIANTS[variant])
    posting = post.posting_for(parse_config(raw, CTX).post, None)
    status = post.final_status(posting, CTX, ENDPOINT)
    if variant == "bare":  # what no input can ask for: no name, no description
        status = status._replace(name="", description="", description_given=True)
    return posting.remote.status_requests(ENDPOINT, status, posting.commits)


def connect(remote: BitbucketCloud, **headers: str) -> CloudConnection:
    deadline = Deadline(20)
    session = transport.build_session(deadline)
    session.headers.update(headers)
    return remote.connect(session, deadline)


def raw_send(request: Request, auth: Auth | None):
    """``request`` as the client sends it, but through plain ``transport.request`` (any answer comes back)."""
    deadline = Deadline(20)
    headers = {"Accept": "application/json", **({"Authorization": auth.header} if auth else {})}
    return transport.request(
        transport.build_session(deadline), deadline, request.method, request.url, headers=headers,
        json=request.body, params=request.params,
    )  # fmt: skip


# -- the mock: what the contract accepts, and what the client makes of Prism's canned answers --------


@pytest.mark.contract
@pytest.mark.parametrize("auth", ["bearer", "basic"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("state", list(STATES))
def test_every_post_shape_is_accepted_by_the_contract(prism_cloud_url, state, variant, auth):
    (request,) = cloud_requests(prism_cloud_url, state, variant, auth)
    body = request.body
    assert body["state"] == STATES[state]
    assert ("refname" in body) == (variant in ("all-given", "defaults"))
    assert ("name" in body, "description" in body) == ((False, False) if variant == "bare" else (True, True))
    assert request.url == f"{prism_cloud_url}/2.0/repositories/acme/app/commit/{SHA}/statuses/build"
    response = raw_send(request, remote_for(prism_cloud_url, auth).auth)
    assert response.status_code == 201, response.text


@pytest.mark.contract
@pytest.mark.parametrize("mode", [{}, {"Prefer": "dynamic=true"}], ids=["static", "dynamic"])
@pytest.mark.parametrize("state", list(STATES))
def test_the_mock_answer_is_not_the_status_sent_so_send_refuses_it(prism_cloud_url, state, mode):
    """Prism answers 201 with a status object of its own (its example is key "string", state FAILED; dynamic
    mode makes up a key), never the one sent: ``send`` must not count that as landed."""
    (request,) = cloud_requests(prism_cloud_url, state, "all-given")
    with pytest.raises(RemoteError) as info:
        connect(remote_for(prism_cloud_url), **mode).send(request)
    assert info.value.status == 201
    message = info.value.message
    assert message.startswith(
        f"Bitbucket Cloud answered 201 while posting {STATES[state]}, but not with the status it was sent: it sent "
    )
    assert message.endswith("The status did not land.")
    if not mode:
        assert 'it sent \'{"type":"string","links":{"self":{"href":"http://example.com"' in message


BROKEN = {
    "cancelled-state": {"key": "k", "state": "CANCELLED", "url": "https://x.example/1"},
    "unknown-state": {"key": "k", "state": "UNKNOWN", "url": "https://x.example/1"},
    "no-key": {"state": "SUCCESSFUL", "url": "https://x.example/1"},
    "no-state": {"key": "k", "url": "https://x.example/1"},
    "key-41": {"key": "k" * 41, "state": "SUCCESSFUL", "url": "https://x.example/1"},
    "name-not-text": {"key": "k", "state": "SUCCESSFUL", "url": "https://x.example/1", "name": 7},
}


def post_request(url: str, sha: str, body: dict) -> Request:
    return Request("POST", f"{url}/2.0/repositories/acme/app/commit/{sha}/statuses/build", body, what="posting")


@pytest.mark.contract
@pytest.mark.parametrize("body", list(BROKEN.values()), ids=list(BROKEN))
def test_a_body_that_breaks_the_contract_is_rejected(prism_cloud_url, body):
    with pytest.raises(RemoteError) as info:
        connect(remote_for(prism_cloud_url)).send(post_request(prism_cloud_url, SHA, body))
    assert info.value.status == 422
    assert info.value.message.startswith("Bitbucket Cloud answered 422 Unprocessable Entity while posting: ")


@pytest.mark.contract
def test_the_mock_page_is_read_but_its_next_link_elsewhere_is_not_followed(prism_cloud_url):
    remote = remote_for(prism_cloud_url)
    (read,), _ = remote.read_requests(SHA)
    response = raw_send(read, remote.auth)
    assert response.status_code == 200
    assert response.json()["next"] == "http://example.com"  # the contract's example: not this Bitbucket
    for reading in (lambda: connect(remote).pages(SHA), lambda: CloudReader(connect(remote), "k", ()).read(SHA)):
        with pytest.raises(RemoteError) as info:
            reading()
        assert info.value.message == (
            "Bitbucket Cloud named a next page elsewhere (http://example.com); it was not followed, so that the "
            "credentials stay with bitbucket-url."
        )


class NoAuth(Auth):
    """Credentials that send no Authorization header at all."""

    @property
    def header(self):  # type: ignore[override]
        return None


@pytest.mark.contract
@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
def test_missing_credentials_are_refused_and_the_message_says_so(prism_cloud_url, scheme):
    (request,) = cloud_requests(prism_cloud_url, "SUCCESSFUL", "defaults")
    assert raw_send(request, None).status_code == 401
    (read,), _ = remote_for(prism_cloud_url).read_requests(SHA)
    assert raw_send(read, None).status_code == 401
    remote = BitbucketCloud(CloudTarget(prism_cloud_url, NoAuth(scheme, ""), WORKSPACE, REPO))
    given = "bitbucket-token." if scheme == "Bearer" else "bitbucket-username and bitbucket-password."
    attempts = {
        "posting SUCCESSFUL": lambda: connect(remote).send(request),
        f"reading the build statuses of {SHA[:12]}": lambda: connect(remote).pages(SHA),
    }
    for what, attempt in attempts.items():
        with pytest.raises(RemoteError) as info:
            attempt()
        assert info.value.status == 401
        assert info.value.message.startswith(f"Bitbucket Cloud answered 401 Unauthorized while {what}. Check {given}")


# -- the validating proxy: the contract checked both ways, in front of a Bitbucket-like stand-in -------


@pytest.mark.contract
@pytest.mark.parametrize("auth", ["bearer", "basic"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("state", list(STATES))
def test_every_post_lands_through_the_validating_proxy(prism_cloud_proxy, cloud_standin, state, variant, auth):
    sha = fresh_sha()
    (request,) = cloud_requests(prism_cloud_proxy, state, variant, auth, sha=sha)
    remote = remote_for(prism_cloud_proxy, auth)
    connect(remote).send(request)  # landed: no RemoteError
    method, path, headers, body = cloud_standin.received[-1]
    assert (method, path, body) == ("POST", f"/2.0/repositories/acme/app/commit/{sha}/statuses/build", request.body)
    assert headers["authorization"] == remote.auth.header
    assert cloud_standin.statuses[(WORKSPACE, REPO, sha)][request.body["key"]]["state"] == STATES[state]


@pytest.mark.contract
@pytest.mark.parametrize("body", list(BROKEN.values()), ids=list(BROKEN))
def test_the_proxy_stops_a_body_that_breaks_the_contract(prism_cloud_proxy, cloud_standin, body):
    sha = fresh_sha()
    with pytest.raises(RemoteError) as info:
        connect(remote_for(prism_cloud_proxy)).send(post_request(prism_cloud_proxy, sha, body))
    assert info.value.status == 422
    assert not [seen for seen in cloud_standin.received if sha in seen[1]]  # it never reached the stand-in


@pytest.mark.contract
def test_the_proxy_refuses_missing_credentials(prism_cloud_proxy, cloud_standin):
    sha = fresh_sha()
    (request,) = cloud_requests(prism_cloud_proxy, "SUCCESSFUL", "defaults", sha=sha)
    remote = BitbucketCloud(CloudTarget(prism_cloud_proxy, NoAuth("Bearer", ""), WORKSPACE, REPO))
    with pytest.raises(RemoteError) as info:
        connect(remote).send(request)
    assert info.value.status == 401
    assert info.value.message.startswith("Bitbucket Cloud answered 401 Unauthorized while posting SUCCESSFUL: ")
    assert "Check bitbucket-token." in info.value.message
    assert not [seen for seen in cloud_standin.received if sha in seen[1]]


@pytest.mark.contract
def test_every_page_is_read_back_through_the_validating_proxy(prism_cloud_proxy, cloud_standin, monkeypatch):
    sha = fresh_sha()
    remote = remote_for(prism_cloud_proxy)
    statuses = [
        {"key": "CI/lint", "state": "SUCCESSFUL", "url": "https://ci.example/1", "name": "lint"},
        {"key": "CI/unit", "state": "FAILED", "url": "https://ci.example/2", "refname": "main"},
        {"key": "CI/e2e", "state": "INPROGRESS", "url": "https://ci.example/3", "description": "running"},
        {"key": "CI/docs", "state": "STOPPED", "url": "https://ci.example/4"},
        {"key": "CI/test[python=3.12]", "state": "SUCCESSFUL", "url": "https://ci.example/5"},
    ]
    for body in statuses:  # posted through Prism, so every one is a status the contract takes
        connect(remote).send(post_request(prism_cloud_proxy, sha, body))
    monkeypatch.setattr(cloud_standin, "max_pagelen", 2)  # Bitbucket may give smaller pages than asked
    values = connect(remote).pages(sha)
    assert [(value["key"], value["state"]) for value in values] == [(s["key"], s["state"]) for s in statuses]
    assert all(value["type"] == "build" for value in values)
    pages = [seen[1] for seen in cloud_standin.received if seen[0] == "GET" and sha in seen[1]]
    assert len(pages) == 3
    assert pages[0].endswith("/statuses?pagelen=100")
    assert pages[1].endswith("/statuses?pagelen=2&page=2")

    reading = CloudReader(connect(remote), "CI/test[python=3.12]", ("CI/*",)).read(sha)
    assert reading.own is not None and reading.own.state == "SUCCESSFUL"
    assert [(status.key, status.state) for status in reading.statuses] == [
        ("CI/unit", "FAILED"),
        ("CI/e2e", "INPROGRESS"),
        ("CI/lint", "SUCCESSFUL"),
        ("CI/docs", STOPPED),
    ]
    assert reading.tally == {"successful": 1, "failed": 1, "inProgress": 1, "cancelled": 1, "unknown": 0}
    assert reading.missing == ()


# -- the entry point, end to end ----------------------------------------------------------------------


def step_inputs(url: str, auth: str = "bearer", **inputs: str) -> dict[str, str]:
    return {"bitbucket-url": url, "bitbucket-workspace": WORKSPACE, "bitbucket-repo": REPO, **CREDENTIALS[auth],
            **inputs}  # fmt: skip


@pytest.mark.contract
@pytest.mark.parametrize("inputs", [{"state": "SUCCESSFUL"}, {}], ids=["successful", "job-status-inprogress"])
def test_the_entrypoint_against_the_mock_posts_but_does_not_count_the_canned_answer(prism_cloud_url, tmp_path, inputs):
    job = Job(sha=SHA, workflow="CI", job="test", matrix={"python": "3.12"})
    result = run_step(job, step_inputs(prism_cloud_url, **inputs), workdir=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    state = inputs.get("state", "INPROGRESS")
    assert result.outputs["api"] == "cloud"
    assert result.outputs["result"] == "failed"
    assert result.outputs["state"] == state
    (error,) = result.error_lines
    assert f"Bitbucket Cloud answered 201 while posting {state}, but not with the status it was sent" in error


@pytest.mark.contract
@pytest.mark.parametrize(
    ("inputs", "status", "sent"),
    [
        ({"state": "SUCCESSFUL"}, "success", "SUCCESSFUL"),
        ({"state": "FAILED"}, "success", "FAILED"),
        ({"state": "CANCELLED"}, "success", STOPPED),
        ({}, "cancelled", STOPPED),
        ({"state": "SUCCESSFUL", "bitbucket-token": "", **CREDENTIALS["basic"]}, "success", "SUCCESSFUL"),
    ],
    ids=["successful", "failed", "cancelled-input", "cancelled-job", "basic"],
)
def test_the_entrypoint_end_to_end_through_the_validating_proxy(
    prism_cloud_proxy, cloud_standin, tmp_path, inputs, status, sent
):
    sha = fresh_sha()
    job = Job(sha=sha, workflow="CI", job="test", matrix={"python": "3.12"}, status=status,
              ref="refs/heads/feature/x")  # fmt: skip
    result = run_step(job, step_inputs(prism_cloud_proxy, **inputs), workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = result.outputs
    assert (outputs["api"], outputs["result"], outputs["state"]) == ("cloud", "posted", sent)
    assert (outputs["key"], outputs["commits"]) == ("CI/test[python=3.12]", sha)
    stored = cloud_standin.statuses[(WORKSPACE, REPO, sha)]["CI/test[python=3.12]"]
    assert (stored["state"], stored["refname"], stored["url"]) == (sent, "feature/x", outputs["url"])


@pytest.mark.contract
def test_the_action_posts_inprogress_then_the_job_end_through_the_validating_proxy(
    prism_cloud_proxy, cloud_standin, tmp_path
):
    sha = fresh_sha()
    run = JobRun(Job(sha=sha, workflow="CI", job="test"), tmp_path)
    main = run.step(step_inputs(prism_cloud_proxy))
    assert main.returncode == 0, main.stdout + main.stderr
    assert (main.outputs["api"], main.outputs["state"], main.outputs["result"]) == ("cloud", "INPROGRESS", "posted")
    stored = cloud_standin.statuses[(WORKSPACE, REPO, sha)]
    assert stored["CI/test"]["state"] == "INPROGRESS"
    (end,) = run.end("cancelled")
    assert end.returncode == 0, end.stdout + end.stderr
    assert stored["CI/test"]["state"] == STOPPED
    gate = run_step(Job(sha=sha, job="gate"), step_inputs(prism_cloud_proxy, check="true"), workdir=tmp_path / "g")
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert gate.outputs["check-result"] == "green"
    assert '"cancelled": 1' in gate.outputs["check-tally"]
