"""The one place a step reports: failures as annotations (errors, or warnings with ``fail-on-error: false``),
outputs, step-summary sections, the requests a dry run shows, and the exit code that follows."""

from __future__ import annotations

import json

from .errors import EXIT_OK, EXIT_REMOTE
from .remotes.interface import Request
from .workflow import Console


class Report:
    def __init__(self, console: Console, fail_on_error: bool) -> None:
        self.console = console
        self.fail_on_error = fail_on_error
        #: False once a remote failure was reported (it fails the step unless fail-on-error is false).
        self.landed = True

    # -- failures ------------------------------------------------------------------------------------
    def failure(self, text: str, *, title: str) -> None:
        """A remote failure: an error that fails the step, or a warning with fail-on-error false."""
        self.landed = False
        if self.fail_on_error:
            self.console.error(text, title=title)
        else:
            self.console.warning(text + " (fail-on-error is false)", title=title)

    # -- outputs and summary -------------------------------------------------------------------------
    def outputs(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self.console.set_output(name, value)

    def summary(self, markdown: str) -> None:
        """A step-summary section written whole (its text ends with a blank line)."""
        self.console.summary(markdown)

    def section(self, title: str, *blocks: str) -> None:
        """A step-summary section: ``### title`` and its blocks (paragraphs or tables), a blank line apart."""
        self.console.summary("\n\n".join((f"### {title}", *blocks)) + "\n\n")

    # -- dry run -------------------------------------------------------------------------------------
    def show_request(self, request: Request) -> None:
        """One request a dry run would send, secrets masked: method, URL, shown lines, JSON body."""
        query = f"?{request.shown_query}" if request.shown_query else ""
        self.console.group(f"dry-run: {request.method} {request.url}{query}")
        for line in request.shown_lines:
            self.console.info(line)
        if request.body is not None:
            self.console.info(json.dumps(request.body, indent=2, ensure_ascii=False))
        self.console.endgroup()

    # -- the end -------------------------------------------------------------------------------------
    def exit_code(self, code: int = EXIT_OK) -> int:
        """``code`` (a gate's verdict), or EXIT_REMOTE when a failure was reported and fail-on-error holds."""
        if not self.landed and self.fail_on_error:
            return EXIT_REMOTE
        return code
