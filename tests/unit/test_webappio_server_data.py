"""What webapp.io sends is server data, not user input: cut as soon as it is read, a run page used as a
link only when it is one, a search for run N answered with run N only, and never an input error."""

from __future__ import annotations

import pytest

from build_status.config.selection import RelayConfig, parse_config
from build_status.context import Context
from build_status.errors import RemoteError
from build_status.remotes.bitbucket_dc.contract import BUILDS, COMMITS, LEGACY_REQUEST
from build_status.remotes.bitbucket_dc.payload import build, validate
from build_status.remotes.webappio import BRANCH_LIMIT, STATUS_LIMIT, Run
from build_status.tasks import relay_status
from build_status.transport.answers import URL_LIMIT
from build_status.transport.answers import link as page

from ..factories import context, raw_inputs
from .test_webappio_client import JOB, client


def test_long_status_branch_and_commit_are_cut_when_read():
    run = Run.from_answer(
        {**JOB, "calculated_status": "running_" + "x" * 5000, "branch": "b" * 5000, "commit_sha": "f" * 500}, "w"
    )
    assert len(run.calculated_status) == STATUS_LIMIT and run.calculated_status.endswith("…")
    assert run.calculated_status.startswith("RUNNING_X")
    assert len(run.branch) == BRANCH_LIMIT and run.branch.endswith("…")
    assert len(run.commit_sha) <= 64


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://webapp.io/run/1",
        "//webapp.io/run/1",
        "https://",
        "https://webapp.io/run 1",
        "https://webapp.io/run/\x1b[31m1",
        "https://webapp.io/" + "r" * URL_LIMIT,
    ],
)
def test_a_run_page_that_is_not_an_http_link_is_no_link(url):
    shown, link = page(url)
    assert link == ""
    assert len(shown) <= URL_LIMIT
    run = Run.from_answer({**JOB, "url": url}, "w")
    assert run.link == "" and run.url == shown


def test_an_http_run_page_is_the_link():
    url = "https://webapp.io/acme/app/jobs/12"
    assert page(url) == (url, url)
    assert page("HTTP://webapp.io/x")[1] == "HTTP://webapp.io/x"
    assert Run.from_answer({**JOB, "url": url}, "w").link == url


@pytest.mark.parametrize("run_id", [-1, 2**63, 10**30, True, "12", 1.5])
def test_a_job_id_that_is_not_a_run_id_is_a_remote_error(run_id):
    with pytest.raises(RemoteError) as caught:
        Run.from_answer({**JOB, "id": run_id}, "looking")
    assert "webapp.io's answer while looking" in caught.value.message


@pytest.mark.parametrize("query", ["id:12", "id:12 branch:main", "branch:main id:12"])
def test_a_search_for_a_run_answered_with_another_is_refused(httpserver, query):
    httpserver.expect_request("/api/v1/run/app/search").respond_with_json({"status": "ok", "job": {**JOB, "id": 13}})
    with pytest.raises(RemoteError) as caught:
        client(httpserver).find(query)
    assert "answered with run #13 when asked for run #12" in caught.value.message
    assert "wa-SeCrEt-77" not in caught.value.message


def test_a_search_without_an_id_takes_any_run(httpserver):
    httpserver.expect_request("/api/v1/run/app/search").respond_with_json({"status": "ok", "job": {**JOB, "id": 13}})
    assert client(httpserver).find("branch:main ids:12").id == 13


def test_no_runs_keeps_webapps_own_words(httpserver):
    words = "There are no runs in app matching the given filters."
    httpserver.expect_request("/api/v1/run/app/search").respond_with_json({"status": "error", "error": words})
    webappio = client(httpserver)
    assert webappio.find("id:5") is None
    assert webappio.no_runs == words


# -- the description and link posted to Bitbucket always keep the contract ------------------------------
#: The longest description Bitbucket takes (the commit-only endpoint's limit; the other has none).
DESCRIPTION_LIMIT = LEGACY_REQUEST["properties"]["description"]["maxLength"]


def _relay(ctx: Context, **inputs: str) -> RelayConfig:
    raw = raw_inputs(ctx, state="", webappio_token="wa-tok-1", webappio_repo="app", webappio_job_id="12", **inputs)
    return parse_config(raw, ctx).relay


@pytest.mark.parametrize("given", ["", "d" * 150, "d" * (255 - len(" (webapp.io run #1000000000000000000: )") - 16)])
@pytest.mark.parametrize("status", ["SUCCEEDED", "X" * STATUS_LIMIT, "RUNNING_" + "Y" * 5000, "É" * 300])
@pytest.mark.parametrize("run_id", [1, 2**63 - 1])
def test_any_status_webappio_sends_makes_a_valid_description(given, status, run_id):
    ctx = context()
    config = _relay(ctx, description=given)
    relay_status.check_relay(config, ctx)  # the inputs pass the check made before any request
    run = Run.from_answer({**JOB, "id": run_id, "calculated_status": status}, "w")
    description = relay_status.run_description(run, config.status.description, config.remote.description_limit)
    assert len(description) <= DESCRIPTION_LIMIT
    assert description.startswith(given)
    posted = relay_status.relay_posting(config, "FAILED", description, "https://x.example").status
    for api in (COMMITS, BUILDS):
        validate(build(posted, api), api)
