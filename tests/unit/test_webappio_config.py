"""webapp.io inputs, the calculated_status mapping and the search query built from the inputs."""

from __future__ import annotations

import pytest

from build_status.config.selection import parse_config
from build_status.errors import InputError
from build_status.model import states
from build_status.model.auth import Auth
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter
from build_status.remotes.bitbucket_dc.target import Target
from build_status.remotes.webappio import build_query, quote

from ..factories import SHA, context, raw_inputs

CTX = context()
WEBAPPIO = {"webappio_token": "wa-tok", "webappio_repo": "app", "state": ""}


def raw(**changes):
    return raw_inputs(CTX, **{**WEBAPPIO, **changes})


def parsed(**changes):
    return parse_config(raw(**changes), CTX)


def webappio_of(**changes):
    """How the run is found (or started) and waited for, read from ``raw(**changes)``."""
    return parsed(**changes).relay.webappio


def webappio_in(ctx, **changes):
    """The same, in the run ``ctx``."""
    return parse_config(raw_inputs(ctx, **WEBAPPIO, **changes), ctx).relay.webappio


def error_of(**changes) -> InputError:
    with pytest.raises(InputError) as info:
        parsed(**changes)
    return info.value


# -- the one mapping table -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("calculated", "state"),
    [
        ("NEW", "INPROGRESS"),
        ("STARTING_RUNNERS", "INPROGRESS"),
        ("RUNNING", "INPROGRESS"),
        ("SUCCEEDED", "SUCCESSFUL"),
        ("FAILURE", "FAILED"),
        ("JOB_ERROR", "FAILED"),
        ("BAD_LAYERFILE", "FAILED"),
        ("RUNNER_ERROR", "FAILED"),
        ("RUNNER_CANCELLED", "CANCELLED"),
    ],
)
def test_every_calculated_status_maps(calculated, state):
    assert states.from_webappio(calculated) == (state, True)
    assert states.from_webappio(calculated.lower()) == (state, True)
    assert states.is_final(state) == (state != "INPROGRESS")


def test_unknown_calculated_status_is_unknown_and_falls_back_to_failed():
    assert states.from_webappio("QUEUED_ON_MARS") == ("UNKNOWN", False)
    remote = BitbucketDataCenter(Target("https://bb.example.com", Auth("Bearer", "tok")))
    older, newer = remote.saved_endpoint("commits", False, "test"), remote.saved_endpoint("builds", True, "test")
    assert remote.fit_state("UNKNOWN", False, older) == "FAILED"
    assert remote.fit_state("CANCELLED", False, older) == "FAILED"
    assert remote.fit_state("CANCELLED", False, newer) == "CANCELLED"


def test_one_table_serves_both_sources():
    assert states.MAPPING["job-status"] is states.JOB_STATUS
    assert states.MAPPING["webappio"] is states.WEBAPPIO_STATUS
    assert set(states.MAPPING) == {"job-status", "webappio"}
    for table in states.MAPPING.values():
        assert set(table.values()) <= set(states.STATES)


# -- the query -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("main", "main"),
        ("feature/x-1", "feature/x-1"),
        ("my branch", '"my branch"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("tab\there", '"tab\there"'),
    ],
)
def test_quote(value, quoted):
    assert quote(value) == quoted


def test_build_query_combines_the_inputs():
    assert build_query(job_id="42") == "id:42"
    assert build_query(branch="release 1.0") == 'branch:"release 1.0"'
    assert build_query(job_id="7", branch="main", query="failed -wip") == "id:7 branch:main failed -wip"
    assert build_query(query='"exact text"') == '"exact text"'


# -- configuration --------------------------------------------------------------------------------
def test_lookup_by_branch_with_defaults():
    relay = parsed(webappio_branch="main").relay
    w = relay.webappio
    assert (w.repo, w.token, w.endpoint, w.query) == ("app", "wa-tok", "https://webapp.io/api/v1", "branch:main")
    assert not w.trigger and w.wait and w.poll_interval == 15 and w.wait_timeout == 1800
    b = relay.status
    assert b.key == "webapp.io/app" and b.name == "webapp.io › app" and b.parent == ""
    assert b.state == "INPROGRESS" and not b.explicit and not b.url_given


def test_job_id_forms():
    assert webappio_of(webappio_job_id="#42").query == "id:42"
    assert webappio_of(webappio_job_id="007").query == "id:7"
    for bad in ("0", "abc", "4 2", "-1"):
        assert error_of(webappio_job_id=bad).name == "webappio-job-id"


def test_trigger_defaults_branch_and_ref_from_the_run():
    w = webappio_of(webappio_trigger="true")
    assert w.trigger and w.query == "" and w.branch == "main" and w.ref == SHA
    pr = context(event={"pull_request": {"head": {"ref": "feature x", "sha": "b" * 40}}})
    w = webappio_in(pr, webappio_trigger="true")
    assert w.branch == "feature x" and w.ref == "b" * 40


@pytest.mark.parametrize(
    "ctx",
    [context(ref="refs/tags/v1"), context(actions=False, ref="", workflow="", job="", run_id="", run_number="")],
    ids=["tag push", "outside GitHub Actions"],
)
def test_trigger_without_any_branch_is_an_input_error_naming_webappio_branch(ctx):
    with pytest.raises(InputError) as info:
        parse_config(raw_inputs(ctx, **WEBAPPIO, webappio_trigger="true"), ctx)
    assert info.value.name == "webappio-branch"
    assert "no branch was pushed" in info.value.message and "e.g. main" in info.value.message
    w = webappio_in(ctx, webappio_trigger="true", webappio_branch="release")
    assert w.branch == "release" and w.ref == SHA


def test_trigger_options():
    w = webappio_of(
        webappio_trigger="yes",
        webappio_branch="dev",
        webappio_ref="c" * 40,
        webappio_accept_buttons="true",
        webappio_extra="deploy=1",
    )
    assert (w.branch, w.ref, w.accept_buttons, w.extra) == ("dev", "c" * 40, True, "deploy=1")


def test_webappio_without_bitbucket_inputs_needs_no_bitbucket():
    values = raw(webappio_branch="main")
    for name in ("bitbucket-url", "bitbucket-token"):
        values[name] = ""
    config = parse_config(values, CTX)
    assert config.relay is not None and config.relay.webappio is not None
    assert config.relay.remote is None and config.relay.status is None  # no Bitbucket status
    assert config.post is None and config.gate is None


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"webappio_branch": "main", "webappio_token": ""}, "webappio-token"),
        ({"webappio_branch": "main", "webappio_token": "a b"}, "webappio-token"),
        ({"webappio_branch": "main", "webappio_repo": ""}, "webappio-repo"),
        ({"webappio_branch": "main", "webappio_repo": "a/b"}, "webappio-repo"),
        ({}, "webappio-job-id"),
        ({"webappio_branch": "main", "state": "SUCCESSFUL"}, "state"),
        ({"webappio_branch": "ma\nin"}, "webappio-branch"),
        ({"webappio_query": "x" * 1001}, "webappio-query"),
        ({"webappio_branch": "main", "webappio_endpoint": "ftp://x"}, "webappio-endpoint"),
        ({"webappio_trigger": "maybe"}, "webappio-trigger"),
        ({"webappio_trigger": "true", "webappio_job_id": "4"}, "webappio-job-id"),
        ({"webappio_trigger": "true", "webappio_query": "failed"}, "webappio-query"),
        ({"webappio_trigger": "true", "webappio_ref": "a b"}, "webappio-ref"),
        ({"webappio_branch": "main", "webappio_ref": SHA}, "webappio-ref"),
        ({"webappio_branch": "main", "webappio_extra": "x"}, "webappio-extra"),
        ({"webappio_branch": "main", "webappio_accept_buttons": "true"}, "webappio-accept-buttons"),
        ({"webappio_branch": "main", "webappio_wait": "sometimes"}, "webappio-wait"),
        ({"webappio_branch": "main", "webappio_poll_interval": "0"}, "webappio-poll-interval"),
        ({"webappio_branch": "main", "webappio_poll_interval": "soon"}, "webappio-poll-interval"),
        ({"webappio_branch": "main", "webappio_timeout": "7h"}, "webappio-timeout"),
    ],
)
def test_bad_webappio_inputs_name_the_input(changes, name):
    error = error_of(**changes)
    assert error.name == name
    assert "wa-tok" not in error.message


@pytest.mark.parametrize(("text", "seconds"), [("15", 15), ("15s", 15), ("500ms", 0.5), ("2m", 120), ("1.5 m", 90)])
def test_poll_interval(text, seconds):
    assert webappio_of(webappio_branch="main", webappio_poll_interval=text).poll_interval == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("2m", 120), ("1h", 3600), ("6h", 21600)])
def test_wait_timeout(text, seconds):
    assert webappio_of(webappio_branch="main", webappio_timeout=text).wait_timeout == pytest.approx(seconds)


def test_trigger_only_inputs_left_at_a_false_value_are_fine_without_a_trigger():
    for word in ("false", "no", "off", "0"):
        assert not webappio_of(webappio_branch="main", webappio_accept_buttons=word).accept_buttons
    assert error_of(webappio_branch="main", webappio_accept_buttons="yes").name == "webappio-accept-buttons"
