"""``payload.plainly_valid`` may skip jsonschema only where jsonschema would agree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from build_status.remotes.bitbucket_dc.contract import BUILDS_REQUEST, LEGACY_REQUEST
from build_status.remotes.bitbucket_dc.payload import plainly_valid

SCHEMAS = {"commits": LEGACY_REQUEST, "builds": BUILDS_REQUEST}


def _text_near(limit: int) -> st.SearchStrategy[str]:
    """Strings around a length limit (including non-ASCII ones, whose length is in code points)."""
    sizes = st.sampled_from([0, 1, max(limit - 1, 0), limit, limit + 1])
    return sizes.flatmap(lambda n: st.text(alphabet=st.sampled_from("aZ/é字😀 "), min_size=n, max_size=n))


VALUES = st.one_of(
    _text_near(255),
    _text_near(450),
    _text_near(1024),
    st.sampled_from(["SUCCESSFUL", "FAILED", "INPROGRESS", "CANCELLED", "UNKNOWN", "successful", ""]),
    st.sampled_from(["refs/heads/main", "heads/main", "refs/", " refs/x"]),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries({"failed": st.integers(0, 3)}),
)
NAMES = st.sampled_from(
    ["state", "key", "name", "url", "description", "buildNumber", "ref", "parent", "duration", "testResults", "x"]
)


@settings(max_examples=400, deadline=None)
@given(api=st.sampled_from(sorted(SCHEMAS)), body=st.dictionaries(NAMES, VALUES, max_size=9))
def test_never_accepts_what_jsonschema_rejects(api, body):
    schema = SCHEMAS[api]
    if plainly_valid(body, schema):
        assert list(Draft7Validator(schema).iter_errors(body)) == []


@pytest.mark.parametrize("api", sorted(SCHEMAS))
def test_an_ordinary_body_takes_the_shortcut(api):
    body = {"state": "SUCCESSFUL", "key": "CI/build", "name": "build", "url": "https://ci/1", "description": "ok"}
    assert plainly_valid(body, SCHEMAS[api])


@pytest.mark.parametrize(
    ("api", "body"),
    [
        ("commits", {"state": "CANCELLED", "key": "k", "url": "u"}),  # not on the old endpoint
        ("commits", {"state": "SUCCESSFUL", "key": "k" * 256, "url": "u"}),
        ("builds", {"state": "SUCCESSFUL", "key": "k", "url": "u", "ref": "heads/main"}),
        ("builds", {"state": "SUCCESSFUL", "key": "k", "url": "u", "duration": True}),
        ("builds", {"state": "SUCCESSFUL", "key": "k"}),  # url missing
    ],
)
def test_a_broken_rule_is_left_to_jsonschema(api, body):
    assert not plainly_valid(body, SCHEMAS[api])
    assert list(Draft7Validator(SCHEMAS[api]).iter_errors(body))
