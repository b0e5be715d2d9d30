"""The one place that writes to the log, the workflow commands and the runner's file commands.

Everything printed or written goes through a :class:`Redactor`, so a secret registered with
:meth:`Console.secret` cannot reach stdout, stderr, ``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``,
``$GITHUB_ENV`` or ``$GITHUB_STATE``; the ``::add-mask::`` line that masks it is the only place it is ever
written, and that line is only written inside GitHub Actions.  A Console's redactor joins the process-wide
registry when its first secret is registered, and :func:`cut`, the one way any text is shortened, redacts
with that registry first: a secret that straddles the cut point is masked whole, never cut in two with its
first half kept.  Text from users and servers is escaped so that it cannot start a workflow command of its
own, and its control characters (ESC, BEL, NUL, …) are shown as ``\\x1b``-style escapes.

A file command that cannot be written (a missing directory, a full disk) never stops the run: the Console
says so once per variable and remembers it (:attr:`Console.write_failures`); the exit code takes it into
account (``fail-on-error``).
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from .redaction import REGISTRY, Redactor, cut, redact

#: GitHub cuts annotation messages at 4096 characters.
MESSAGE_LIMIT = 4000
#: The step summary is capped at 1 MiB.
SUMMARY_LIMIT = 1024 * 1024


#: C0 controls but tab, LF and CR (line breaks are handled where lines are written), DEL, and C1 controls.
_CONTROL_CODES = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
_CONTROLS = {code: f"\\x{code:02x}" for code in _CONTROL_CODES}


def escape_controls(text: str) -> str:
    """Show control characters (ESC, BEL, NUL, C1, …) as ``\\x1b``-style escapes; tab, LF and CR stay."""
    return text.translate(_CONTROLS)


def escape_data(text: str) -> str:
    """Escape a workflow command's message (``%``, CR, LF), so it stays one line."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def neutralise(text: str) -> str:
    """Make a line of plain log text unable to start a workflow command (``::name::``).

    The runner reads ``::name::`` where a line starts with it (after white space), and the older
    ``##[name]`` form anywhere in a line; a zero-width space inside each breaks them without changing
    what a person reads.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_neutralise_line(line) for line in lines)


def _neutralise_line(line: str) -> str:
    line = line.replace("##[", "#\u200b#[")
    stripped = line.lstrip()
    if stripped.startswith("::"):
        indent = line[: len(line) - len(stripped)]
        return indent + stripped[0] + "\u200b" + stripped[1:]
    return line


def markdown_cell(text: str) -> str:
    """Text for a Markdown table cell of the step summary: one line, no pipes, no HTML."""
    return (
        " ".join(text.split())
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("`", "'")
    )


#: Characters of a URL that would end a Markdown link, break a table cell or open HTML.
_LINK_UNSAFE = {ch: f"%{ord(ch):02X}" for ch in " ()<>[]|`\"'"}


def markdown_link(text: str, url: str) -> str:
    """``[text](url)`` for the step summary; plain text when ``url`` is not http(s)."""
    if not url.startswith(("http://", "https://")) or any(ord(ch) < 32 for ch in url):
        return text
    text = text.replace("[", "\\[").replace("]", "\\]")
    return f"[{text}]({''.join(_LINK_UNSAFE.get(ch, ch) for ch in url)})"


class Console:
    """Writes log lines, workflow commands and file commands for one run.

    ``actions`` says whether we run inside GitHub Actions (``GITHUB_ACTIONS=true``): there, problems are
    ``::error::``/``::warning::`` annotations and secrets are masked with ``::add-mask::``; elsewhere the
    same messages are plain ``error:``/``warning:`` lines and no secret is ever echoed.
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.env = dict(os.environ) if env is None else env
        self.actions = self.env.get("GITHUB_ACTIONS", "").lower() == "true"
        self.debug_on = self.env.get("RUNNER_DEBUG") == "1"
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.redact = redactor or Redactor()
        #: Set by the command line once the inputs are read: a file command that cannot be written is an
        #: error (and fails the step) when true, a warning when false.
        self.fail_on_error = True
        #: The file commands that could not be written: variable → the path it names.
        self.write_failures: dict[str, str] = {}

    # -- secrets ---------------------------------------------------------------------------------
    def secret(self, value: str) -> None:
        """Register a secret and, inside GitHub Actions, ask the runner to mask it."""
        self._mask(self.redact.add(value))

    def basic_secret(self, username: str, password: str) -> None:
        self._mask(self.redact.add_basic(username, password))

    def clean(self, text: str) -> str:
        """``text`` as it may be shown: every secret masked, control characters escaped."""
        return escape_controls(redact(self.redact(text)))

    def _mask(self, forms: list[str]) -> None:
        if forms:
            REGISTRY.add(self.redact)  # cut() everywhere in the process now masks these too
        if not self.actions:
            return
        for form in forms:
            for line in form.splitlines() or [form]:
                if line.strip():
                    # The one line that carries a secret, by design: the runner consumes it.
                    self.out.write(f"::add-mask::{escape_data(line)}\n")
        self.out.flush()

    # -- log lines -------------------------------------------------------------------------------
    def info(self, text: str) -> None:
        self._write(self.out, neutralise(self.clean(text)))

    def debug(self, text: str) -> None:
        if self.actions:
            self._write(self.out, f"::debug::{escape_data(self.clean(text))}")
        elif self.debug_on:
            self._write(self.err, "debug: " + neutralise(self.clean(text)))

    def error(self, text: str, *, title: str | None = None) -> None:
        self._annotation("error", text, title)

    def warning(self, text: str, *, title: str | None = None) -> None:
        self._annotation("warning", text, title)

    def notice(self, text: str, *, title: str | None = None) -> None:
        self._annotation("notice", text, title)

    def _annotation(self, kind: str, text: str, title: str | None) -> None:
        text = cut(self.clean(text), MESSAGE_LIMIT)
        if self.actions:
            props = f" title={escape_property(cut(self.clean(title), MESSAGE_LIMIT))}" if title else ""
            self._write(self.out, f"::{kind}{props}::{escape_data(text)}")
        else:
            # Outside GitHub Actions the title adds nothing a reader needs.
            self._write(self.err, neutralise(f"{kind}: {text}"))

    def group(self, title: str) -> None:
        if self.actions:
            self._write(self.out, f"::group::{escape_data(self.clean(title))}")
        else:
            self.info(title)

    def endgroup(self) -> None:
        if self.actions:
            self._write(self.out, "::endgroup::")

    @staticmethod
    def _write(stream: TextIO, line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    # -- file commands ---------------------------------------------------------------------------
    # Each returns True when the record was written, False when it was not: the variable is not set (no
    # runner offers the file), or the file could not be written (said once per variable, and remembered).
    def set_output(self, name: str, value: str) -> bool:
        return self._file_command("GITHUB_OUTPUT", name, value)

    def save_state(self, name: str, value: str) -> bool:
        """Keep a value for this action's post stage, which gets it back as ``STATE_<name>``.

        False when the state was not saved (no ``$GITHUB_STATE``, or it could not be written): the post
        stage will not see it.
        """
        return self._file_command("GITHUB_STATE", name, value)

    def set_env(self, name: str, value: str) -> bool:
        """Set an environment variable for the job's later steps (post stages included)."""
        return self._file_command("GITHUB_ENV", name, value)

    def _file_command(self, variable: str, name: str, value: str) -> bool:
        path = self.env.get(variable)
        if not path:
            return False
        name, value = self.clean(name), self.clean(value)
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{os.urandom(8).hex()}"
            record = f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
        else:
            record = f"{name}={value}\n"
        return self._append(variable, path, record)

    def summary(self, markdown: str) -> bool:
        """Append Markdown to the step summary (where the runner offers one); True when it was written."""
        path = self.env.get("GITHUB_STEP_SUMMARY")
        if not path:
            return False
        text = self.clean(markdown)
        try:
            used = os.path.getsize(path)
        except OSError:
            used = 0
        room = SUMMARY_LIMIT - used - 64
        if room <= 0:
            return True  # the summary is full: what fits was written, and said so
        if len(text.encode("utf-8")) > room:
            # The runner caps the summary in bytes; the text is redacted already, so the cut is safe.
            text = text.encode("utf-8")[:room].decode("utf-8", "ignore") + "\n\n*(cut: the summary is full)*\n"
        return self._append("GITHUB_STEP_SUMMARY", path, text)

    def _append(self, variable: str, path: str, text: str) -> bool:
        try:
            # errors="replace": text that is no valid Unicode (a lone surrogate from an odd environment) is
            # not a reason to lose the record.
            with open(path, "a", encoding="utf-8", errors="replace") as handle:
                handle.write(text)
        except (OSError, ValueError) as exc:  # ValueError: a path with a NUL in it
            self._write_failed(variable, path, exc)
            return False
        return True

    def _write_failed(self, variable: str, path: str, exc: Exception) -> None:
        if variable in self.write_failures:
            return  # said once per variable
        self.write_failures[variable] = path
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        message = (
            f"Could not write ${variable} ({path}): {reason}; {_LOST.get(variable, 'what it holds is lost')}. "
            "The runner creates this file: check the runner's disk space and its temp directory."
        )
        self.failure(message, title=f"build-status: ${variable} not written")

    def failure(self, text: str, *, title: str) -> None:
        """A failure that fail-on-error decides: an error (the step fails), or a warning that says why not."""
        if self.fail_on_error:
            self.error(text, title=title)
        else:
            self.warning(text + " (fail-on-error is false)", title=title)


#: What is lost when a file command cannot be written.
_LOST = {
    "GITHUB_OUTPUT": "this step's outputs are lost",
    "GITHUB_STEP_SUMMARY": "this step's summary is lost",
    "GITHUB_ENV": "the job's later steps will not see the variables this step sets",
    "GITHUB_STATE": "this action's post stage will not get the state this step saves",
}
