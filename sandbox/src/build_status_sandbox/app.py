"""Dispatching one request: admin calls, then faults, then the emulation whose route matches."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

from .admin import Admin
from .emulation import Emulation
from .faults import CARRIED_OUT, Faults
from .messages import BodyError, Outcome, Request, Response, error_response
from .requestlog import RequestLog


class SandboxApp:
    """The sandbox without the HTTP server: emulations, faults, request log and admin endpoints."""

    def __init__(self, rate: float | None = None, burst: int | None = None) -> None:
        self._lock = threading.Lock()
        self._emulations: dict[str, Emulation] = {}
        self.faults = Faults(rate, burst, lambda: list(self._emulations))
        self.log = RequestLog()
        self.admin = Admin(self)

    # -- emulations ----------------------------------------------------------------------------
    def add(self, emulation: Emulation) -> Emulation:
        if not isinstance(emulation, Emulation):
            raise TypeError(f"expected an Emulation, not {type(emulation).__name__}")
        with self._lock:
            if emulation.name in self._emulations:
                raise ValueError(f"an emulation named {emulation.name!r} is already registered")
            self._emulations = {**self._emulations, emulation.name: emulation}
        return emulation

    def emulation(self, name: str) -> Emulation:
        try:
            return self._emulations[name]
        except KeyError:
            raise KeyError(f"no emulation named {name!r}") from None

    @property
    def emulations(self) -> list[Emulation]:
        return list(self._emulations.values())

    def owner(self, request: Request) -> Emulation | None:
        """The emulation one of whose routes matches the path (whatever the method), or None."""
        for emulation in self.emulations:
            if any(pattern.fullmatch(request.path) for _, pattern, _ in emulation.routes()):
                return emulation
        return None

    # -- requests ------------------------------------------------------------------------------
    def handle(self, request: Request, received: float | None = None) -> Outcome:
        """Answer a request.  Everything except admin calls is logged before it is answered."""
        if received is None:
            received = time.monotonic()
        if self.admin.owns(request):
            return Outcome(self._call(self.admin.handle, request))
        outcome = self.faults.check(request, self.owner(request))
        if outcome is None:
            outcome = Outcome(self._route(request))
        elif outcome.action in CARRIED_OUT:  # carried out, but its answer will be odd or break off
            outcome.response = self._route(request)
        self.log.record(request, outcome, received)
        return outcome

    def _route(self, request: Request) -> Response:
        allowed: list[str] = []
        for emulation in self.emulations:
            for method, pattern, handler in emulation.routes():
                match = pattern.fullmatch(request.path)
                if match is None:
                    continue
                if method != request.method:
                    allowed.append(method)
                    continue
                request.params = match.groupdict()
                return self._call(handler, request)
        if allowed:
            return error_response(
                405,
                f"Method {request.method} is not supported by {request.path}; use {', '.join(sorted(set(allowed)))}.",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        return error_response(404, f"Nothing is served at {request.path} in this sandbox.")

    @staticmethod
    def _call(handler: Any, request: Request) -> Response:
        try:
            response = handler(request)
        except BodyError as exc:
            return error_response(400, str(exc))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            return error_response(500, f"The sandbox failed: {type(exc).__name__}: {exc}")
        if not isinstance(response, Response):
            return error_response(500, f"The handler answered {type(response).__name__}, not a Response.")
        return response

    # -- whole-sandbox operations --------------------------------------------------------------
    def reset(self) -> None:
        """Forget stored data and requests; faults back to what the sandbox was started with."""
        for emulation in self.emulations:
            emulation.reset()
        self.log.clear()
        self.faults.reset()

    def state(self) -> dict:
        return {
            "emulations": {emulation.name: emulation.snapshot() for emulation in self.emulations},
            "faults": self.faults.to_json(),
            "requests": len(self.log),
        }
