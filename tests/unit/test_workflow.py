import base64

from build_status.redaction import Redactor
from build_status.workflow import Console, escape_data, escape_property, neutralise


def test_escape_data_keeps_one_line():
    assert escape_data("50%\r\n::set-output name=x::y") == "50%25%0D%0A::set-output name=x::y"


def test_escape_property_also_escapes_colon_and_comma():
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_neutralise_breaks_commands_at_line_start_only():
    text = "ok\n::add-mask::x\n  ::stop-commands::tok\nmid ::error::fine"
    lines = neutralise(text).split("\n")
    assert lines[0] == "ok"
    assert not lines[1].startswith("::")
    assert not lines[2].lstrip().startswith("::")
    assert lines[3] == "mid ::error::fine"


def test_redactor_masks_value_url_encoded_and_basic_base64():
    redact = Redactor()
    redact.add("p@ss word/1")
    redact.add_basic("user", "p@ss word/1")
    b64 = base64.b64encode(b"user:p@ss word/1").decode()
    text = f"a p@ss word/1 b p%40ss%20word%2F1 c p%40ss+word%2F1 d {b64}"
    out = redact(text)
    assert "p@ss" not in out and "p%40ss" not in out and b64 not in out
    assert out.count("***") == 4


def test_console_masks_inside_actions_only(tmp_path, capsys):
    Console({"GITHUB_ACTIONS": "true"}).secret("tok-123")
    assert capsys.readouterr().out == "::add-mask::tok-123\n"
    Console({}).secret("tok-123")
    assert capsys.readouterr().out == ""


def test_console_error_redacts_and_escapes(capsys):
    console = Console({"GITHUB_ACTIONS": "true"})
    console.secret("s3cret-value")
    capsys.readouterr()
    console.error("bad s3cret-value\n::set-output name=a::b", title="T: x, y")
    out = capsys.readouterr().out
    assert out == "::error title=T%3A x%2C y::bad ***%0A::set-output name=a::b\n"


def test_console_plain_mode_writes_error_to_stderr(capsys):
    Console({}).error("it broke\n::error::x")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: it broke\n")
    assert "\n::error::" not in captured.err


def test_outputs_use_heredoc_for_multiline_and_redact(tmp_path):
    out = tmp_path / "out"
    console = Console({"GITHUB_OUTPUT": str(out)})
    console.secret("hidden-value")
    console.set_output("a", "one")
    console.set_output("b", "two\nhidden-value")
    text = out.read_text()
    assert text.startswith("a=one\nb<<ghadelimiter_")
    assert "two\n***\n" in text and "hidden-value" not in text


def test_summary_is_capped(tmp_path):
    path = tmp_path / "summary"
    console = Console({"GITHUB_STEP_SUMMARY": str(path)})
    console.summary("x" * (2 * 1024 * 1024))
    assert path.stat().st_size <= 1024 * 1024
