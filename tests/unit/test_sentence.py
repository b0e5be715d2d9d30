"""errors.sentence: a message ends with exactly one full stop, whether or not the quoted text had one."""

from __future__ import annotations

import pytest

from build_status.errors import sentence


@pytest.mark.parametrize(
    ("text", "ended"),
    [
        ("connection refused", "connection refused."),
        ("Couldn't find a repository matching this job.", "Couldn't find a repository matching this job."),
        ("Invalid API token. ", "Invalid API token."),
        ("Is it there?", "Is it there?"),
        ("Stop!", "Stop!"),
        ("a message cut short…", "a message cut short…"),
        ("see /rest/...", "see /rest/..."),
    ],
)
def test_one_full_stop(text, ended):
    assert sentence(text) == ended
    assert sentence(sentence(text)) == ended
