"""The Console, channel by channel: no secret (nor any piece of one) gets out in any form it is masked in,
not even where a text is cut across it; control characters are shown as escapes; a runner file that
cannot be written is said once and remembered, and never stops the run."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from build_status.redaction import cut, redact
from build_status.workflow import MESSAGE_LIMIT, SUMMARY_LIMIT, Console, escape_controls

from ..secret_scan import assert_no_secret_in
from ..unwritable import KINDS, unwritable

TOKEN = "Tk9#x@Lq 7vZ/Pw3%mN"
USER, PASSWORD = "ci-bot", "Pw0/rd:7@xQ&z"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
COVERALLS_TOKEN = "cvT0k-9f3b2c7e1a"
WEBAPPIO_TOKEN = "waT0k-5e4d3c2b1a"
SECRETS = [TOKEN, PASSWORD, BASIC, COVERALLS_TOKEN, WEBAPPIO_TOKEN]
#: Every form a secret travels in that the console masks: as it is, URL-encoded, quote_plus-encoded.
FORMS = sorted(
    {form for secret in SECRETS for form in (secret, quote(secret, safe=""), quote_plus(secret, safe=""))}, key=str
)
FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_STATE")


class Rig:
    """A Console with every secret registered, its streams and its runner files, and what they hold."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.files = {name: tmp_path / name.lower() for name in FILES}
        self.out, self.err = io.StringIO(), io.StringIO()
        full_env = {**env, **{name: str(path) for name, path in self.files.items()}}
        self.console = Console(full_env, out=self.out, err=self.err)
        for secret in (TOKEN, COVERALLS_TOKEN, WEBAPPIO_TOKEN):
            self.console.secret(secret)
        self.console.basic_secret(USER, PASSWORD)
        self.out.seek(0)
        self.out.truncate()  # the ::add-mask:: lines are the one place a secret is written, by design

    def texts(self) -> dict[str, str]:
        written = {name: path.read_text(encoding="utf-8") for name, path in self.files.items() if path.exists()}
        return {"stdout": self.out.getvalue(), "stderr": self.err.getvalue(), **written}

    def everything(self) -> str:
        return "".join(self.texts().values())


ACTIONS = {"GITHUB_ACTIONS": "true"}
PLAIN = {}
PLAIN_DEBUG = {"RUNNER_DEBUG": "1"}
ACTIONS_DEBUG = {"GITHUB_ACTIONS": "true", "RUNNER_DEBUG": "1"}
#: Every channel the console writes through: (name, environment, how to send it a text).
CHANNELS: list[tuple[str, dict[str, str], Callable[[Console, str], object]]] = [
    ("info", ACTIONS, lambda c, t: c.info(t)),
    ("info-plain", PLAIN, lambda c, t: c.info(t)),
    ("debug", ACTIONS, lambda c, t: c.debug(t)),
    ("debug-runner-debug", ACTIONS_DEBUG, lambda c, t: c.debug(t)),
    ("debug-plain-runner-debug", PLAIN_DEBUG, lambda c, t: c.debug(t)),
    ("error", ACTIONS, lambda c, t: c.error(t)),
    ("error-title", ACTIONS, lambda c, t: c.error("message", title=t)),
    ("error-plain", PLAIN, lambda c, t: c.error(t, title=t)),
    ("warning", ACTIONS, lambda c, t: c.warning(t)),
    ("warning-title", ACTIONS, lambda c, t: c.warning("message", title=t)),
    ("warning-plain", PLAIN, lambda c, t: c.warning(t, title=t)),
    ("notice", ACTIONS, lambda c, t: c.notice(t)),
    ("notice-title", ACTIONS, lambda c, t: c.notice("message", title=t)),
    ("notice-plain", PLAIN, lambda c, t: c.notice(t, title=t)),
    ("group", ACTIONS, lambda c, t: (c.group(t), c.endgroup())),
    ("group-plain", PLAIN, lambda c, t: (c.group(t), c.endgroup())),
    ("set_output", ACTIONS, lambda c, t: c.set_output("out", t)),
    ("set_output-multiline", ACTIONS, lambda c, t: c.set_output("out", f"first\n{t}\nlast")),
    ("save_state", ACTIONS, lambda c, t: c.save_state("state", t)),
    ("set_env", ACTIONS, lambda c, t: c.set_env("NAME", t)),
    ("summary", ACTIONS, lambda c, t: c.summary(t)),
    ("summary-plain", PLAIN, lambda c, t: c.summary(t)),
]
CHANNEL_IDS = [name for name, _, _ in CHANNELS]


@pytest.mark.parametrize(("name", "env", "send"), CHANNELS, ids=CHANNEL_IDS)
def test_no_secret_in_any_form_gets_out_of_any_channel(tmp_path, name, env, send):
    rig = Rig(tmp_path, env)
    for form in FORMS:
        send(rig.console, f"the server said: {form} (and {form}) — {form}")
    assert_no_secret_in(rig.texts(), SECRETS)
    assert_no_secret_in(rig.texts(), FORMS)
    assert "***" in rig.everything(), "the channel wrote nothing: the test would prove nothing"


@pytest.mark.parametrize(("name", "env", "send"), CHANNELS, ids=CHANNEL_IDS)
def test_a_secret_across_a_cut_leaves_no_piece_behind(tmp_path, name, env, send):
    """Server text is cut with cut() before it reaches the console: every cut point inside every form."""
    rig = Rig(tmp_path, env)
    limit = 300
    for form in FORMS:
        for before in range(limit - len(form) + 1, limit):  # the form starts before the cut and ends after it
            send(rig.console, cut("x" * before + form + "y" * 40, limit))
    assert_no_secret_in(rig.texts(), FORMS)
    assert "***" in rig.everything()


@pytest.mark.parametrize(
    ("name", "env", "send"), [c for c in CHANNELS if c[0].startswith(("error", "warning", "notice"))]
)
def test_an_annotation_cut_at_the_message_limit_keeps_no_piece(tmp_path, name, env, send):
    rig = Rig(tmp_path, env)
    for form in FORMS:
        for before in (MESSAGE_LIMIT - len(form) + 1, MESSAGE_LIMIT - 3, MESSAGE_LIMIT - 1):
            send(rig.console, "x" * before + form + "y" * 40)
    assert_no_secret_in(rig.texts(), FORMS)
    lines = [line for text in rig.texts().values() for line in text.splitlines()]
    assert lines and all(len(line) < MESSAGE_LIMIT + 200 for line in lines)


def test_the_summary_cut_at_its_cap_keeps_no_piece(tmp_path):
    rig = Rig(tmp_path, ACTIONS)
    summary = rig.files["GITHUB_STEP_SUMMARY"]
    for form in FORMS:
        room = 40 + len(form)
        summary.write_text("s" * (SUMMARY_LIMIT - 64 - room), encoding="utf-8")
        assert rig.console.summary("x" * (room - len(form) // 2) + form + "y" * 40)
        text = summary.read_text(encoding="utf-8")
        assert text.endswith("*(cut: the summary is full)*\n")
        assert_no_secret_in({"summary": text[-2000:]}, FORMS)


def test_debug_is_silent_outside_actions_without_runner_debug(tmp_path):
    rig = Rig(tmp_path, PLAIN)
    rig.console.debug(f"details {TOKEN}")
    assert rig.everything() == ""


# -- cut() and the process-wide registry ---------------------------------------------------------------
def test_cut_redacts_first_with_every_console_s_secrets(tmp_path):
    rig = Rig(tmp_path, PLAIN)
    secret = COVERALLS_TOKEN
    for before in range(1, len(secret)):
        text = cut("x" * (20 - before) + secret + "tail", 20)
        assert len(text) <= 20
        assert secret[:3] not in text.replace("***", "")
    assert cut("a" * 10, 10) == "a" * 10
    assert cut("a" * 11, 10) == "a" * 9 + "…"
    assert cut(f"{TOKEN}!", 100) == "***!"
    assert rig.console  # the registry holds the console's secrets while it lives


def test_redact_forgets_the_secrets_of_a_console_that_is_gone():
    import gc

    console = Console({})
    console.secret("gone-s3cret-value")
    assert redact("x gone-s3cret-value") == "x ***"
    del console
    gc.collect()
    assert redact("x gone-s3cret-value") == "x gone-s3cret-value"


# -- control characters --------------------------------------------------------------------------------
CONTROL_TEXT = "red \x1b[31mALERT\x1b[0m bell\x07 nul\x00 csi\x9b del\x7f bs\x08 ff\x0c tab\tend"
ALLOWED = {"\t", "\n", "\r"}


def _controls(text: str) -> list[str]:
    return sorted({ch for ch in text if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) and ch not in ALLOWED})


@pytest.mark.parametrize(("name", "env", "send"), CHANNELS, ids=CHANNEL_IDS)
def test_control_characters_are_shown_as_escapes_in_every_channel(tmp_path, name, env, send):
    rig = Rig(tmp_path, env)
    send(rig.console, CONTROL_TEXT)
    everything = rig.everything()
    assert everything, "the channel wrote nothing"
    assert _controls(everything) == []
    if not name.endswith("title"):  # a title is cut to one line, as its message
        assert "\\x1b[31mALERT\\x1b[0m bell\\x07 nul\\x00 csi\\x9b del\\x7f" in everything


def test_escape_controls_keeps_tab_and_line_breaks():
    assert escape_controls("a\tb\nc\r\nd\x1be\x85f") == "a\tb\nc\r\nd\\x1be\\x85f"
    assert escape_controls("plain é 漢字 🙂") == "plain é 漢字 🙂"


# -- runner files that cannot be written -----------------------------------------------------------------
WRITERS = {
    "GITHUB_OUTPUT": lambda c: c.set_output("a", "1"),
    "GITHUB_STEP_SUMMARY": lambda c: c.summary("### x\n"),
    "GITHUB_ENV": lambda c: c.set_env("A", "1"),
    "GITHUB_STATE": lambda c: c.save_state("a", "1"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variable", FILES)
def test_an_unwritable_runner_file_is_one_error_and_remembered(tmp_path, variable, kind):
    if kind == "disk-full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    path = unwritable(kind, tmp_path)
    out = io.StringIO()
    console = Console({"GITHUB_ACTIONS": "true", variable: path}, out=out)
    assert WRITERS[variable](console) is False
    assert WRITERS[variable](console) is False  # said once per variable
    (line,) = out.getvalue().splitlines()
    assert line.startswith(f"::error title=build-status%3A ${variable} not written::Could not write ${variable}")
    assert f"({path})" in line
    assert console.write_failures == {variable: path}


def test_with_fail_on_error_false_it_is_a_warning(tmp_path):
    out = io.StringIO()
    console = Console({"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "gone" / "out")}, out=out)
    console.fail_on_error = False
    assert console.set_output("a", "1") is False
    (line,) = out.getvalue().splitlines()
    assert line.startswith("::warning ") and line.endswith("(fail-on-error is false)")
    assert console.write_failures


def test_written_file_commands_say_so_and_an_absent_variable_is_not_a_failure(tmp_path):
    rig = Rig(tmp_path, ACTIONS)
    assert rig.console.set_output("a", "1") and rig.console.save_state("s", "1") and rig.console.set_env("E", "1")
    assert rig.console.summary("### ok\n")
    bare = Console({}, out=io.StringIO())
    assert bare.save_state("s", "1") is False  # nothing saved: there is no state file
    assert bare.set_output("a", "1") is False and bare.summary("x") is False
    assert bare.write_failures == {} and rig.console.write_failures == {}


def test_text_that_is_no_valid_unicode_is_still_written(tmp_path):
    rig = Rig(tmp_path, ACTIONS)
    assert rig.console.set_output("a", "bad \udcff byte")
    assert rig.files["GITHUB_OUTPUT"].read_text(encoding="utf-8") == "a=bad ? byte\n"
    assert rig.console.write_failures == {}


def test_a_path_with_a_nul_is_a_failure_not_a_crash():
    out = io.StringIO()
    console = Console({"GITHUB_ACTIONS": "true", "GITHUB_ENV": "/tmp/a\0b"}, out=out)
    assert console.set_env("A", "1") is False
    assert "Could not write $GITHUB_ENV" in out.getvalue()
