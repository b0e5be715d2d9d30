"""The sandbox's own endpoints under ``/_sandbox/`` and the overview page at ``/``.

These are never logged, faulted or rate-limited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .emulation import Route, route
from .messages import Request, Response, error_response
from .page import CONTENT_SECURITY_POLICY, esc, render_page

if TYPE_CHECKING:
    from .app import SandboxApp

PREFIX = "/_sandbox"


class Admin:
    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self._routes: list[Route] = [
            route("GET", r"/|/_sandbox/?", self.overview),
            route("GET", r"/favicon\.ico", lambda request: Response(204)),
            route("GET", r"/_sandbox/health", lambda request: Response(200, {"status": "ok"})),
            route("GET", r"/_sandbox/state", lambda request: Response(200, self.app.state())),
            route("GET", r"/_sandbox/requests", lambda request: Response(200, self.app.log.entries())),
            route("DELETE", r"/_sandbox/requests", self.clear_requests),
            route("GET", r"/_sandbox/faults", self.get_faults),
            route("POST", r"/_sandbox/faults", self.set_faults),
            route("DELETE", r"/_sandbox/faults", self.clear_faults),
            route("POST", r"/_sandbox/reset", self.reset),
            route("GET", r"/_sandbox/config/(?P<name>[^/]+)", self.get_config),
            route("POST", r"/_sandbox/config/(?P<name>[^/]+)", self.set_config),
        ]

    @staticmethod
    def owns(request: Request) -> bool:
        path = request.path
        return path in ("/", "/favicon.ico", PREFIX) or path.startswith(PREFIX + "/")

    def handle(self, request: Request) -> Response:
        allowed = []
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if method == request.method:
                request.params = match.groupdict()
                return handler(request)
            allowed.append(method)
        if allowed:
            return error_response(
                405, f"Use {', '.join(allowed)} on {request.path}.", headers={"Allow": ", ".join(allowed)}
            )
        return error_response(404, f"No sandbox admin endpoint at {request.path}.")

    # -- handlers ------------------------------------------------------------------------------
    def overview(self, request: Request) -> Response:
        sections = [
            (emulation.title or emulation.name, emulation.html() or '<p class="muted">Nothing yet.</p>')
            for emulation in self.app.emulations
        ]
        sections.append(("Sandbox", self._status_html()))
        page = render_page(
            "build-status sandbox",
            sections,
            [(PREFIX + "/state", "JSON state"), (PREFIX + "/requests", "request log"), ("/", "refresh")],
        )
        return Response(
            200,
            page,
            {
                "Content-Type": "text/html;charset=UTF-8",
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    def _status_html(self) -> str:
        faults = self.app.faults.to_json()
        rate = faults["rate_limit"]
        rate_text = "off" if rate is None else f"{esc(rate['rate'])} requests/s, burst {esc(rate['burst'])}"
        return (
            "<table>"
            f"<tr><th>Requests logged</th><td>{len(self.app.log)}</td></tr>"
            f"<tr><th>Queued fault rules</th><td>{len(faults['rules'])}</td></tr>"
            f"<tr><th>Rate limit</th><td>{rate_text}</td></tr>"
            "</table>"
        )

    def clear_requests(self, request: Request) -> Response:
        self.app.log.clear()
        return Response(204)

    def get_faults(self, request: Request) -> Response:
        return Response(200, self.app.faults.to_json())

    def set_faults(self, request: Request) -> Response:
        try:
            self.app.faults.configure(request.json())
        except (ValueError, TypeError) as exc:
            return error_response(400, str(exc))
        return Response(200, self.app.faults.to_json())

    def clear_faults(self, request: Request) -> Response:
        self.app.faults.clear()
        return Response(204)

    def reset(self, request: Request) -> Response:
        self.app.reset()
        return Response(204)

    def _emulation(self, request: Request):
        try:
            return self.app.emulation(request.params["name"])
        except KeyError:
            return None

    def get_config(self, request: Request) -> Response:
        emulation = self._emulation(request)
        if emulation is None:
            return error_response(404, f"No emulation named {request.params['name']!r}.")
        return Response(200, emulation.public_config())

    def set_config(self, request: Request) -> Response:
        emulation = self._emulation(request)
        if emulation is None:
            return error_response(404, f"No emulation named {request.params['name']!r}.")
        changes = request.json()
        if not isinstance(changes, dict):
            return error_response(400, "The configuration change must be a JSON object.")
        try:
            return Response(200, emulation.configure(changes))
        except NotImplementedError as exc:
            return error_response(404, str(exc))
        except (ValueError, TypeError) as exc:
            return error_response(400, str(exc))
