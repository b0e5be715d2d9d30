"""The two ways a run can go wrong, and the exit codes they end with."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REMOTE = 1
EXIT_INPUT = 2


class InputError(Exception):
    """A user input is wrong. Ends the run with exit code 2 with no status posted: before any request is sent,
    but for what only the server's ``build/capabilities`` answer can tell (a state or description it cannot
    take)."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class RemoteError(Exception):
    """A server answered with a failure (after retries), or could not be reached in time. Exit code 1."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class DeadlineExceeded(RemoteError):
    """The run's deadline (the ``timeout`` input) passed."""


def sentence(text: str) -> str:
    """``text`` as a finished sentence: a full stop added unless it ends with one (or ``!``, ``?``, ``…``)
    already, as a server's own message often does, so no message ends with ``..``."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."
