"""The plug-in interface: each emulated service (Bitbucket, later Coveralls, webapp.io) is an Emulation."""

from __future__ import annotations

import re
from typing import Any, Callable

from .messages import Request, Response, error_body

Handler = Callable[[Request], Response]
Route = tuple[str, "re.Pattern[str]", Handler]


def route(method: str, pattern: str, handler: Handler) -> Route:
    """A route: ``method`` (upper-case), a regex matched against the whole path, the handler."""
    return (method.upper(), re.compile(pattern), handler)


class Emulation:
    """Base class of an emulated service plugged into a :class:`~build_status_sandbox.Sandbox`.

    Subclasses set :attr:`name` (used in the JSON view and in ``/_sandbox/config/<name>``) and
    :attr:`title`, and override the methods below.  Handlers run on the server's threads, so an
    emulation keeps its state behind a lock.
    """

    name: str = "emulation"
    title: str = ""

    def routes(self) -> list[Route]:
        """``(method, compiled regex matched with fullmatch against the path, handler)`` triples.

        Called for every request, so return a cached list.  The regex's named groups are given to
        the handler as ``request.params``.
        """
        return []

    def reset(self) -> None:
        """Forget everything stored (configuration stays)."""

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of the stored state for ``GET /_sandbox/state`` (no secrets)."""
        return {}

    def html(self) -> str:
        """An HTML fragment for the overview page; everything user-supplied must be escaped."""
        return ""

    def error_document(self, status: int, message: str, exception_name: str | None = None) -> Any:
        """The body this service answers an error with; fault rules and the sandbox's rate limit answer the
        emulation's paths with it.  The default is Bitbucket Data Center's ``{"errors": [...]}``."""
        del status
        return error_body(message, None, exception_name)

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a run-time configuration change (``POST /_sandbox/config/<name>``) and return the
        public configuration.  Raise ``ValueError`` for a bad change.  The default has no settings."""
        raise NotImplementedError(f"the {self.name} emulation has no run-time configuration")

    def public_config(self) -> dict[str, Any]:
        """The configuration as shown by ``GET /_sandbox/config/<name>`` (no secrets)."""
        return {}


class ConfiguredEmulation(Emulation):
    """An emulation with a frozen config dataclass that offers ``with_changes(dict)`` and ``public()``.

    Subclasses set :attr:`config_type` and call ``super().__init__(config)``.
    """

    config_type: type = object

    def __init__(self, config: Any = None) -> None:
        self._config = config if config is not None else self.config_type()

    @property
    def config(self) -> Any:
        return self._config

    @config.setter
    def config(self, config: Any) -> None:
        if not isinstance(config, self.config_type):
            raise TypeError(f"expected a {self.config_type.__name__}")
        self._config = config

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some settings (e.g. ``configure({"version": "7.14"})``); returns the public config."""
        self._config = self._config.with_changes(changes)
        return self.public_config()

    def public_config(self) -> dict[str, Any]:
        return self._config.public()
