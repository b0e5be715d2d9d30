"""Bitbucket takes keys, names and (on the commit-only endpoint) descriptions of at most 255 characters.

naming.py hashes the tail of a key that is too long (so long keys stay distinct) and cuts a name or a
default description with an ellipsis.  These tests pin the boundary itself (254, 255, 256) and the
properties that make a hashed key usable: short enough, the same on every run, distinct from its neighbours.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from build_status.config.selection import parse_config
from build_status.model import naming
from build_status.redaction import cut
from build_status.remotes.bitbucket_dc.contract import COMMITS, ENDPOINT_LABEL
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter
from build_status.remotes.interface import Endpoint
from build_status.tasks.post import posting_for, status_requests

from ..factories import context, raw_inputs

LIMIT = 255
#: What a hashed key keeps of the original: everything before ``~`` and the hex digest.
HEAD = LIMIT - naming.HASH_DIGITS - 1


def fit_key(key: str) -> str:
    """``key`` fitted to Bitbucket's limit."""
    return naming.fit_key(key, LIMIT)


def test_the_limits_are_bitbuckets():
    assert BitbucketDataCenter.key_limit == LIMIT
    assert BitbucketDataCenter.name_limit == LIMIT
    assert BitbucketDataCenter.description_limit == LIMIT


@pytest.mark.parametrize("length", [1, LIMIT - 1, LIMIT])
def test_a_key_up_to_the_limit_is_left_alone(length):
    key = "k" * (length - 1) + "é"
    assert fit_key(key) == key


@pytest.mark.parametrize("length", [LIMIT + 1, LIMIT + 2, 1000])
def test_a_key_over_the_limit_becomes_exactly_the_limit(length):
    key = "k" * length
    fitted = fit_key(key)
    assert len(fitted) == LIMIT
    assert fitted.startswith("k" * HEAD + "~")
    assert len(fitted[HEAD + 1 :]) == naming.HASH_DIGITS
    assert set(fitted[HEAD + 1 :]) <= set("0123456789abcdef")


def test_keys_at_255_and_256_differing_only_in_the_last_character_stay_distinct():
    at_limit = ["x" * (LIMIT - 1) + tail for tail in "ab"]
    over = ["x" * LIMIT + tail for tail in "ab"]
    fitted = [fit_key(key) for key in at_limit + over]
    assert len(set(fitted)) == 4
    assert all(len(key) <= LIMIT for key in fitted)


def test_a_hashed_key_does_not_depend_on_the_process():
    """The same on every run and re-run: a re-run must replace its own status, not add one."""
    key = "workflow/job[" + "v=" + "y" * 300 + "]"
    expected = fit_key(key)
    # Computed here from the documented rule, so a salted or per-process hash would differ.
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[: naming.HASH_DIGITS]
    assert expected == key[:HEAD] + "~" + digest


def test_default_key_of_a_long_matrix_fits_and_stays_distinct():
    ctx = context(job="test")
    a = naming.default_key(ctx, [("os", "linux"), ("cfg", "z" * 400 + "1")], LIMIT)
    b = naming.default_key(ctx, [("os", "linux"), ("cfg", "z" * 400 + "2")], LIMIT)
    assert len(a) == len(b) == LIMIT
    assert a != b
    assert a.startswith("CI/test[cfg=zzz")  # names in canonical (sorted) order


def test_webappio_key_of_a_long_repository_fits_and_stays_distinct():
    a = naming.webappio_key("r" * 300 + "1", LIMIT)
    b = naming.webappio_key("r" * 300 + "2", LIMIT)
    assert len(a) == len(b) == LIMIT
    assert a != b
    short = "o/" + "r" * (LIMIT - len("webapp.io/o/"))
    assert naming.webappio_key(short, LIMIT) == "webapp.io/" + short  # exactly 255: unhashed


# The key is the identity of a status in Bitbucket: two jobs whose keys differ must never share one.
LONG_TAILS = st.text(alphabet=st.sampled_from("ab/=[],é字😀"), min_size=0, max_size=300)


@settings(max_examples=300, deadline=None)
@given(key=st.text(alphabet=st.characters(codec="utf-8"), max_size=600))
@example(key="k" * LIMIT)
@example(key="k" * (LIMIT + 1))
def test_any_key_fits_deterministically_and_short_keys_are_kept(key):
    fitted = fit_key(key)
    assert len(fitted) <= LIMIT
    assert fit_key(key) == fitted
    if len(key) <= LIMIT:
        assert fitted == key
    else:
        assert len(fitted) == LIMIT
        assert fitted.startswith(key[:HEAD])


@settings(max_examples=300, deadline=None)
@given(
    head=st.integers(min_value=HEAD, max_value=LIMIT + 50).map(lambda n: "h" * n),
    tails=st.lists(LONG_TAILS, min_size=2, max_size=2, unique=True),
)
@example(head="h" * HEAD, tails=["a" * 100, "b" * 100])
@example(head="h" * LIMIT, tails=["", "x"])
@example(head="h" * (LIMIT - 1), tails=["a", "ab"])
def test_keys_differing_only_in_the_part_that_is_cut_stay_distinct(head, tails):
    a, b = (head + tail for tail in tails)
    fa, fb = fit_key(a), fit_key(b)
    assert fa != fb
    assert len(fa) <= LIMIT and len(fb) <= LIMIT


# Names and default descriptions are cut with an ellipsis, not hashed: they are for people.


@pytest.mark.parametrize(("length", "kept"), [(LIMIT - 1, True), (LIMIT, True), (LIMIT + 1, False)])
def test_cut_at_the_boundary(length, kept):
    text = "n" * length
    short = cut(text, LIMIT)
    if kept:
        assert short == text
    else:
        assert short == "n" * (LIMIT - 1) + "…"
        assert len(short) == LIMIT


@pytest.mark.parametrize("extra", [-1, 0, 1, 200])
def test_default_name_is_at_most_255_and_kept_when_it_fits(extra):
    ctx = context(job="j")
    prefix = "CI › j ("
    value = "v" * (LIMIT - len(prefix) - 1 + extra)
    name = naming.default_name(ctx, [("m", value)], LIMIT)
    full = f"{prefix}{value})"
    assert len(full) == LIMIT + extra
    if extra <= 0:
        assert name == full
    else:
        assert name == full[: LIMIT - 1] + "…"


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_webappio_name_is_at_most_255_and_kept_when_it_fits(extra):
    repo = "o/" + "r" * (LIMIT - len("webapp.io › o/") + extra)
    name = naming.webappio_name(repo, LIMIT)
    full = f"webapp.io › {repo}"
    assert len(full) == LIMIT + extra
    assert name == (full if extra <= 0 else full[: LIMIT - 1] + "…")


@pytest.mark.parametrize("extra", [-1, 0, 1, 100])
def test_default_description_on_the_commit_only_endpoint_is_cut_at_255(extra):
    """The default description grows with the run number; the commit-only endpoint takes 255 characters."""
    prefix = "Succeeded · run #"
    run_number = "9" * (LIMIT - len(prefix) + extra)
    ctx = context(run_number=run_number)
    posting = posting_for(parse_config(raw_inputs(ctx), ctx).post, None)
    assert posting.status.state == "SUCCESSFUL"
    _, requests = status_requests(posting, ctx, Endpoint(COMMITS, ENDPOINT_LABEL[COMMITS], "", False))
    body = requests[0].body
    full = prefix + run_number
    assert len(full) == LIMIT + extra
    assert body["description"] == (full if extra <= 0 else full[: LIMIT - 1] + "…")
