"""The one place that writes to the log, the workflow commands and the runner's file commands.

Everything printed or written goes through a :class:`Redactor`, so a secret registered with
:meth:`Console.secret` cannot reach stdout, stderr, ``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY`` or
``$GITHUB_STATE``; the ``::add-mask::`` line that masks it is the only place it is ever written, and that
line is only written inside GitHub Actions.  Text from users and servers is escaped so that it cannot
start a workflow command of its own.
"""

from __future__ import annotations

import base64
import os
import sys
from typing import TextIO
from urllib.parse import quote, quote_plus

MASK = "***"
#: GitHub cuts annotation messages at 4096 characters.
MESSAGE_LIMIT = 4000
#: The step summary is capped at 1 MiB.
SUMMARY_LIMIT = 1024 * 1024


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


class Redactor:
    """Replaces every known secret, in the forms it may travel in, with ``***``."""

    def __init__(self) -> None:
        self._forms: list[str] = []

    def add(self, secret: str) -> list[str]:
        """Register a secret; returns the new forms to mask (the value, URL-encoded, base64 of Basic)."""
        if not secret or len(secret) < 3:
            # A one- or two-character "secret" would blank out ordinary text; it is still never printed
            # by this code, but it cannot be searched for usefully.
            return []
        forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
        new = [form for form in forms if form not in self._forms]
        self._forms.extend(new)
        # Longest first, so a secret that contains another is replaced whole.
        self._forms.sort(key=len, reverse=True)
        return new

    def add_basic(self, username: str, password: str) -> list[str]:
        """Register Basic credentials: the password and the base64 of ``username:password``."""
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return self.add(password) + self.add(encoded)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text


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

    # -- secrets ---------------------------------------------------------------------------------
    def secret(self, value: str) -> None:
        """Register a secret and, inside GitHub Actions, ask the runner to mask it."""
        self._mask(self.redact.add(value))

    def basic_secret(self, username: str, password: str) -> None:
        self._mask(self.redact.add_basic(username, password))

    def _mask(self, forms: list[str]) -> None:
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
        self._write(self.out, neutralise(self.redact(text)))

    def debug(self, text: str) -> None:
        if self.actions:
            self._write(self.out, f"::debug::{escape_data(self.redact(text))}")
        elif self.debug_on:
            self._write(self.err, "debug: " + neutralise(self.redact(text)))

    def error(self, text: str, *, title: str | None = None) -> None:
        self._annotation("error", text, title)

    def warning(self, text: str, *, title: str | None = None) -> None:
        self._annotation("warning", text, title)

    def notice(self, text: str, *, title: str | None = None) -> None:
        self._annotation("notice", text, title)

    def _annotation(self, kind: str, text: str, title: str | None) -> None:
        text = self.redact(text)
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 1] + "…"
        if self.actions:
            props = f" title={escape_property(self.redact(title))}" if title else ""
            self._write(self.out, f"::{kind}{props}::{escape_data(text)}")
        else:
            # Outside GitHub Actions the title adds nothing a reader needs.
            self._write(self.err, neutralise(f"{kind}: {text}"))

    def group(self, title: str) -> None:
        if self.actions:
            self._write(self.out, f"::group::{escape_data(self.redact(title))}")
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
    def set_output(self, name: str, value: str) -> None:
        self._file_command("GITHUB_OUTPUT", name, value)

    def save_state(self, name: str, value: str) -> None:
        """Keep a value for this action's post stage, which gets it back as ``STATE_<name>``."""
        self._file_command("GITHUB_STATE", name, value)

    def set_env(self, name: str, value: str) -> None:
        """Set an environment variable for the job's later steps (post stages included)."""
        self._file_command("GITHUB_ENV", name, value)

    def _file_command(self, variable: str, name: str, value: str) -> None:
        path = self.env.get(variable)
        if not path:
            return
        value = self.redact(value)
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{os.urandom(8).hex()}"
            record = f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
        else:
            record = f"{name}={value}\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(record)

    def summary(self, markdown: str) -> None:
        """Append Markdown to the step summary (where the runner offers one)."""
        path = self.env.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        text = self.redact(markdown)
        try:
            used = os.path.getsize(path)
        except OSError:
            used = 0
        room = SUMMARY_LIMIT - used - 64
        if room <= 0:
            return
        if len(text.encode("utf-8")) > room:
            text = text.encode("utf-8")[:room].decode("utf-8", "ignore") + "\n\n*(cut: the summary is full)*\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
