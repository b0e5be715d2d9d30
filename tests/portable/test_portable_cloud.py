"""The portable (composite) action posting to Bitbucket Cloud, run as the runner runs it, against the sandbox."""

from __future__ import annotations

from build_status_sandbox.runner import Job

from ..integration.cloud import cloud, cloud_requests, stored
from ..integration.conftest import CLOUD_API_TOKEN, CLOUD_EMAIL, CLOUD_TOKEN
from .conftest import SHA


def test_a_cloud_post_lands_through_the_composite(sandbox, portable_job):
    result = portable_job.run(cloud(state="INPROGRESS"))
    assert result.returncode == 0, result.log
    assert f"::add-mask::{CLOUD_TOKEN}" in result.stdout
    (status,) = stored(sandbox)
    assert (status["state"], status["key"], status["refname"]) == ("INPROGRESS", "CI/build", "main")
    assert {k: v for k, v in result.outputs.items() if v} == {
        "state": "INPROGRESS",
        "key": "CI/build",
        "name": "CI › build",
        "url": "https://github.com/acme/app/actions/runs/4242",
        "commits": SHA,
        "api": "cloud",
        "result": "posted",
    }
    (post,) = cloud_requests(sandbox)
    assert post["headers"]["Authorization"] == "Bearer"


def test_the_final_step_posts_stopped_for_a_cancelled_job_with_basic_credentials(sandbox, portable_job):
    """No post stage in a composite: the `if: always()` step takes job.status as it stands."""
    basic = {"bitbucket-token": None, "bitbucket-username": CLOUD_EMAIL, "bitbucket-password": CLOUD_API_TOKEN}
    result = portable_job.run(cloud(**basic), job=Job(sha=SHA, status="cancelled"))
    assert result.returncode == 0, result.log
    assert f"::add-mask::{CLOUD_API_TOKEN}" in result.stdout
    assert result.outputs["state"] == "STOPPED"
    assert [(s["state"], s["creator"]["display_name"]) for s in stored(sandbox)] == [("STOPPED", CLOUD_EMAIL)]
