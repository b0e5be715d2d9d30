import json

import pytest

from build_status.context import read_context
from build_status.model import naming, states
from build_status.model.auth import Auth
from build_status.remotes.bitbucket_dc.contract import BUILDS, ENDPOINT_LABEL
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter
from build_status.remotes.bitbucket_dc.target import Target
from build_status.remotes.interface import Endpoint

from ..factories import context

CTX = context(job="test", run_number="7", run_attempt="2", run_id="99")
#: Bitbucket Data Center: the remote whose limits the defaults are fitted to (255 for keys and names).
REMOTE = BitbucketDataCenter(Target("https://bb.example.com", Auth("Bearer", "t")))
KEY_LIMIT, NAME_LIMIT = REMOTE.key_limit, REMOTE.name_limit


def test_job_status_table():
    assert states.from_job_status("success") == "SUCCESSFUL"
    assert states.from_job_status(" Failure ") == "FAILED"
    assert states.from_job_status("cancelled") == "CANCELLED"
    assert states.from_job_status("skipped") is None


def test_parse_state_any_case():
    assert states.parse_state("inprogress") == "INPROGRESS"
    assert states.parse_state("In_Progress") == "INPROGRESS"
    assert states.parse_state("green") is None


def test_fit_state_falls_back_without_newer_states():
    older = REMOTE.saved_endpoint("commits", False, "test")
    newer = Endpoint(BUILDS, ENDPOINT_LABEL[BUILDS], "test", True)
    assert REMOTE.fit_state("CANCELLED", False, older) == "FAILED"
    assert REMOTE.fit_state("CANCELLED", False, newer) == "CANCELLED"
    assert REMOTE.fit_state("UNKNOWN", False, older) == "FAILED"


def test_default_key_is_distinct_per_matrix_and_stable():
    a = naming.default_key(CTX, naming.parse_matrix('{"os":"linux","py":"3.12"}'), KEY_LIMIT)
    b = naming.default_key(CTX, naming.parse_matrix('{"os":"linux","py":"3.11"}'), KEY_LIMIT)
    assert a == "CI/test[os=linux,py=3.12]"
    assert a != b
    assert naming.default_key(CTX, naming.parse_matrix("null"), KEY_LIMIT) == "CI/test"


def test_matrix_nested_values_and_bools():
    pairs = naming.parse_matrix(json.dumps({"cfg": {"b": 1, "a": [1, 2]}, "flag": True, "n": 3}))
    assert pairs == [("cfg", '{"a":[1,2],"b":1}'), ("flag", "true"), ("n", "3")]


def test_matrix_must_be_object():
    with pytest.raises(ValueError):
        naming.parse_matrix("[1,2]")


def test_long_key_keeps_head_and_hashes_tail():
    long_a = "x" * 300 + "a"
    long_b = "x" * 300 + "b"
    fa, fb = naming.fit_key(long_a, KEY_LIMIT), naming.fit_key(long_b, KEY_LIMIT)
    assert len(fa) == 255 and len(fb) == 255
    assert fa != fb
    assert fa.startswith("x" * 200)
    assert naming.fit_key(long_a, KEY_LIMIT) == fa  # stable


def test_default_name_and_description():
    name = naming.default_name(CTX, [("os", "linux"), ("py", "3.12")], NAME_LIMIT)
    assert name == "CI › test (linux, 3.12)"
    assert len(naming.default_name(CTX, [("v", "y" * 400)], NAME_LIMIT)) == 255
    assert naming.default_description(CTX, "FAILED") == "Failed · run #7, attempt 2"


def test_context_pull_request_head(tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": "b" * 40, "ref": "feature/x"}}}))
    ctx = read_context({"GITHUB_SHA": "a" * 40, "GITHUB_REF": "refs/pull/1/merge", "GITHUB_EVENT_PATH": str(event)})
    assert ctx.head_sha == "b" * 40
    assert ctx.pushed_ref == "refs/heads/feature/x"


def test_context_push_and_unreadable_event(tmp_path):
    ctx = read_context(
        {"GITHUB_SHA": "a" * 40, "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    )
    assert ctx.head_sha == "a" * 40
    assert ctx.pushed_ref == "refs/heads/main"
    assert ctx.run_url == ""
    assert CTX.run_url == "https://github.com/o/r/actions/runs/99"
