"""Whatever text arrives in any input, reading the settings ends in Settings or an InputError naming it."""

from build_status.post_status import Plan, body_for, final_state
from build_status.settings import parse_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build_status.config.catalogue import INPUTS
from build_status.errors import InputError

from ..factories import SHA, context, raw_inputs

CTX = context(job="j", run_number="1", run_id="1")
NAMES = [item.name for item in INPUTS]
text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
    st.sampled_from(["", " ", "\n", "\x00", "::add-mask::x", "refs/heads/x", SHA, "true", "0", "-1", "null", "{}"]),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), text, max_size=6))
def test_any_input_text_is_either_valid_or_a_named_input_error(changes):
    raw = raw_inputs(CTX)
    raw.update(changes)
    try:
        parsed = parse_settings(raw, CTX).bitbucket
        for plan in (Plan("commits", False, ""), Plan("builds", True, "")):
            body_for(parsed, CTX, plan, final_state(parsed, plan))
    except InputError as error:
        assert error.name in NAMES
        assert error.message
