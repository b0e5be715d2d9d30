"""Every request shape the code can send is accepted by Prism serving Atlassian's published contract,
and a deliberately wrong one is rejected (so the check can fail)."""

from __future__ import annotations

import pytest

from build_status.config.selection import parse_config
from build_status.errors import RemoteError
from build_status.model.auth import Auth
from build_status.remotes.bitbucket_dc import payload
from build_status.remotes.bitbucket_dc.api import Api, builds_url, commits_url
from build_status.remotes.bitbucket_dc.contract import BUILDS, COMMITS
from build_status.tasks.post import posting_for
from build_status.transport import session as transport
from build_status.transport.deadline import Deadline
from build_status_sandbox.runner import Job, run_step

from ..factories import context, raw_inputs

SHA = "e00cf62997a027bbf785614a93e2e55bb331d268"
CTX = context(job="test", run_number="12", run_id="77", repository="acme/app", sha=SHA)
AUTHS = {"bearer": Auth("Bearer", "token-123"), "basic": Auth("Basic", "password-123", "user")}
REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}


def client(prism_url, auth="bearer"):
    deadline = Deadline(20)
    return Api(transport.build_session(deadline), deadline, prism_url, AUTHS[auth])


def status_for(prism_url, state, **changes):
    """The build status the inputs describe (as the post task makes it), to be posted as ``state``."""
    raw = raw_inputs(CTX, matrix='{"python":"3.12"}', duration="95s", **changes)
    raw.update({"bitbucket-url": prism_url, "bitbucket-token": "token-123"})
    return posting_for(parse_config(raw, CTX).post, None).status._replace(state=state)


@pytest.mark.contract
@pytest.mark.parametrize("auth", ["bearer", "basic"])
@pytest.mark.parametrize("state", ["SUCCESSFUL", "FAILED", "INPROGRESS"])
def test_commit_only_post_shapes_are_accepted(prism_url, auth, state):
    status = status_for(prism_url, state, description="x" * 255)
    body = payload.build(status, COMMITS)
    payload.validate(body, COMMITS)
    api = client(prism_url, auth)
    api.post(commits_url(api.base_url, SHA), body, what="posting", api=COMMITS)


@pytest.mark.contract
@pytest.mark.parametrize("auth", ["bearer", "basic"])
@pytest.mark.parametrize("state", ["SUCCESSFUL", "FAILED", "INPROGRESS", "CANCELLED", "UNKNOWN"])
def test_repository_scoped_post_shapes_are_accepted(prism_url, auth, state):
    status = status_for(prism_url, state, **REPO, ref="refs/heads/feature/x", description="d" * 600)
    body = payload.build(status, BUILDS)
    payload.validate(body, BUILDS)
    assert {"buildNumber", "ref", "parent", "duration"} <= set(body)
    api = client(prism_url, auth)
    api.post(builds_url(api.base_url, "PRJ", "app", SHA), body, what="posting", api=BUILDS)


@pytest.mark.contract
def test_capabilities_and_reads_are_understood(prism_url):
    api = client(prism_url)
    caps = api.capabilities()
    assert caps.builds  # the contract's example answer lists richBuildStatus
    assert isinstance(api.stats(SHA), dict)
    assert isinstance(api.statuses(SHA), list)


@pytest.mark.contract
@pytest.mark.parametrize(
    "body",
    [
        {"state": "BROKEN", "key": "k", "url": "https://x"},
        {"state": "SUCCESSFUL", "key": "k"},
        {"state": "SUCCESSFUL", "key": "k" * 256, "url": "https://x"},
    ],
    ids=["bad-state", "missing-url", "key-too-long"],
)
def test_a_wrong_shape_is_rejected_so_the_check_can_fail(prism_url, body):
    api = client(prism_url)
    with pytest.raises(RemoteError) as info:
        api.post(commits_url(api.base_url, SHA), body, what="posting", api=COMMITS)
    assert info.value.status in (400, 422)


@pytest.mark.contract
def test_wrong_ref_is_rejected_on_the_builds_endpoint(prism_url):
    api = client(prism_url)
    with pytest.raises(RemoteError) as info:
        api.post(
            builds_url(api.base_url, "PRJ", "app", SHA),
            {"state": "SUCCESSFUL", "key": "k", "url": "https://x", "ref": "heads/main"},
            what="posting",
            api=BUILDS,
        )
    assert info.value.status in (400, 422)


@pytest.mark.contract
def test_missing_credentials_are_rejected(prism_url):
    deadline = Deadline(10)
    session = transport.build_session(deadline)
    response = transport.request(
        session,
        deadline,
        "POST",
        f"{prism_url}/rest/build-status/1.0/commits/{SHA}",
        json={"state": "SUCCESSFUL", "key": "k", "url": "https://x"},
    )
    assert response.status_code == 401


@pytest.mark.contract
@pytest.mark.parametrize(
    "inputs",
    [
        {"state": "INPROGRESS"},
        {"bitbucket-api": "commits", **REPO},
        {**REPO},
        {"bitbucket-api": "builds", "state": "FAILED", **REPO},
        {"bitbucket-token": "", "bitbucket-username": "user", "bitbucket-password": "pw-123", **REPO},
    ],
    ids=["commits-inprogress", "forced-commits", "auto-builds", "forced-builds", "basic-auto"],
)
def test_the_entrypoint_end_to_end_against_the_contract(prism_url, tmp_path, inputs):
    job = Job(sha=SHA, workflow="CI", job="test", matrix={"python": "3.12"})
    result = run_step(job, {"bitbucket-url": prism_url, "bitbucket-token": "token-123", **inputs}, workdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["result"] == "posted"
