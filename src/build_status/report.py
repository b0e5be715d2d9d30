"""The one place a step reports: failures as annotations (errors, or warnings with ``fail-on-error: false``),
outputs, step-summary sections, the requests a dry run shows, and the exit code that follows."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .errors import EXIT_OK, EXIT_REMOTE

if TYPE_CHECKING:
    from .remotes.interface import Request
    from .workflow import Console


class Report:
    def __init__(self, console: Console) -> None:
        self.console = console
        #: False once a remote failure was reported (it fails the step unless fail-on-error is false).
        self.landed = True
        self._noticed: set[str] = set()

    # -- failures ------------------------------------------------------------------------------------
    def failure(self, text: str, *, title: str) -> None:
        """A remote failure: an error that fails the step, or a warning with fail-on-error false."""
        self.landed = False
        self.console.failure(text, title=title)

    def notice_once(self, text: str, *, title: str) -> None:
        """A notice said at most once a run, however many tasks come to it."""
        if text not in self._noticed:
            self._noticed.add(text)
            self.console.notice(text, title=title)

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
        if not self.landed and self.console.fail_on_error:
            return EXIT_REMOTE
        return code


def step_exit_code(code: int, console: Console) -> int:
    """The step's exit code: a runner file (outputs, summary, env, state) that could not be written fails a
    step that otherwise succeeded, unless fail-on-error is false; an exit code 1 or 2 stays what it is."""
    if code == EXIT_OK and console.write_failures and console.fail_on_error:
        return EXIT_REMOTE
    return code
