"""Whatever text arrives in any input, reading the configuration ends in a Config or an InputError naming it."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build_status.config.catalogue import INPUTS
from build_status.config.selection import PostConfig, parse_config
from build_status.errors import InputError
from build_status.remotes.bitbucket_dc.contract import BUILDS, COMMITS, ENDPOINT_LABEL
from build_status.remotes.interface import Endpoint
from build_status.tasks.post import posting_for, status_requests

from ..factories import SHA, context, raw_inputs

CTX = context(job="j", run_number="1", run_id="1")
NAMES = [item.name for item in INPUTS]
ENDPOINTS = (Endpoint(COMMITS, ENDPOINT_LABEL[COMMITS], "", False), Endpoint(BUILDS, ENDPOINT_LABEL[BUILDS], "", True))
text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
    st.sampled_from(["", " ", "\n", "\x00", "::add-mask::x", "refs/heads/x", SHA, "true", "0", "-1", "null", "{}"]),
)


def postings(config):
    """The Bitbucket statuses the step's inputs describe (this job's, or a relayed run's as its inputs give it)."""
    if config.post is not None:
        yield posting_for(config.post, None)
    relay = config.relay
    if relay is not None and relay.remote is not None and relay.status is not None:
        yield posting_for(PostConfig(relay.remote, relay.status), None)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), text, max_size=6))
def test_any_input_text_is_either_valid_or_a_named_input_error(changes):
    raw = raw_inputs(CTX)
    raw.update(changes)
    try:
        config = parse_config(raw, CTX)
        for posting in postings(config):
            for endpoint in ENDPOINTS:
                status_requests(posting, CTX, endpoint)
    except InputError as error:
        assert error.name in NAMES
        assert error.message
