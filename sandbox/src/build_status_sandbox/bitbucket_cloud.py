"""The Bitbucket Cloud commit-statuses emulation at ``/2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/…``,
faithful to the contract in ``tests/data/bitbucket-cloud-statuses-reports.openapi.json``.

A client whose base URL is the sandbox's URL (what ``https://api.bitbucket.org`` is for the real service) posts
to ``<sandbox.url>/2.0/repositories/<workspace>/<repo>/commit/<sha>/statuses/build``.  Decisions where
Bitbucket's behaviour is not known: an overwriting POST answers 201 like a creating one; a PUT changes only the
fields it sends (a ``key`` in its body is ignored: the key cannot be changed); a commit that is not a full
40-hex SHA does not exist (404, as the contract says of a missing commit); ``q`` (BBQL) is not emulated (400).
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote, urlencode

from .bitbucket_cloud_config import BitbucketCloudConfig, Identity, repository_uuid
from .bitbucket_cloud_store import SORT_FIELDS, CloudStatusStore, NoStatus, NotCreator
from .bitbucket_cloud_validation import BAD_REQUEST, FIELDS, error_document, field_errors_document, validate
from .emulation import ConfiguredEmulation, Route, route
from .insights_cloud import CloudInsights
from .messages import BodyError, Request, Response
from .ratelimit import RateLimiter, WindowLimiter

#: Bitbucket Cloud answers JSON with this content type.
JSON_TYPE = "application/json; charset=utf-8"
#: Bitbucket's 429 message.
RATE_LIMITED = "Rate limit for this resource has been exceeded"
#: The 403 to an overwrite (POST with an existing key, or PUT) by someone who did not create the status
#: (wording modelled on Atlassian's notice of the rule; Bitbucket's own text is unverified).
NOT_CREATOR = "Only the creator of this commit status or a repository admin can overwrite it."
NO_REPOSITORY = (
    "You may not have access to this repository or it no longer exists in this workspace. If you think this "
    "repository exists and you have access, make sure you are authenticated."
)
NO_COMMIT = "Commit not found"
NO_STATUS = "Commit status not found"
NOT_FOUND = "Resource not found"
DEFAULT_PAGELEN = 10
MAX_PAGELEN = 100
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_COMMIT = r"/2\.0/repositories/(?P<workspace>[^/]+)/(?P<repo>[^/]+)/commit/(?P<sha>[^/]+)"


def cloud_response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


def cloud_error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    return cloud_response(status, error_document(message, **extra), headers)


class BitbucketCloudEmulation(ConfiguredEmulation):
    """Bitbucket Cloud's commit-status endpoints; statuses are kept in memory."""

    name = "bitbucket-cloud"
    config_type = BitbucketCloudConfig
    title = "Bitbucket Cloud commit statuses"

    def __init__(self, config: BitbucketCloudConfig | None = None) -> None:
        super().__init__(config)
        self.store = CloudStatusStore()
        self.insights = CloudInsights(self)
        #: The base of absolute URLs (``links``, ``next``) when the request has no usable Host header.
        self.default_base_url = ""
        self._limiter_lock = threading.Lock()
        self._limiter: tuple[tuple, WindowLimiter] | None = None
        self._routes = [
            route("GET", _COMMIT + r"/statuses/?", self.list_statuses),
            route("POST", _COMMIT + r"/statuses/build/?", self.create_status),
            route("GET", _COMMIT + r"/statuses/build/(?P<key>[^/]+)/?", self.get_status),
            route("PUT", _COMMIT + r"/statuses/build/(?P<key>[^/]+)/?", self.update_status),
            *self.insights.routes(_COMMIT),
        ]
        # Anything else under /2.0/ is Bitbucket Cloud's too: a Cloud-shaped 404 or 405.
        self._fallback = [route(method, r"/2\.0(?:/.*)?", self.not_served) for method in METHODS]

    # -- test accessors ------------------------------------------------------------------------
    def statuses(self, workspace: str, repo: str, sha: str) -> list[dict[str, Any]]:
        """Every stored status of a commit, newest first (``key``, ``state``, the other fields sent,
        ``uuid``, ``created_on``, ``updated_on``, ``creator``, ``workspace``, ``repository``, ``commit``)."""
        return self.store.statuses(workspace, repo, sha)

    def reports(self, workspace: str, repo: str, sha: str) -> list[dict[str, Any]]:
        """The Code Insights reports of a commit, oldest first, each with its ``annotations``."""
        return self.insights.store.reports((workspace, repo, sha))

    # -- Emulation -----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return self._routes + self._fallback

    def reset(self) -> None:
        self.store.clear()
        self.insights.store.clear()
        with self._limiter_lock:
            self._limiter = None

    def snapshot(self) -> dict[str, Any]:
        from .insights_html import cloud_snapshot

        insights = cloud_snapshot(self.insights.store.commits())
        return {"repositories": self.store.commits(), "insights": insights, "config": self.public_config()}

    def html(self) -> str:
        from .bitbucket_cloud_html import render
        from .insights_html import render_cloud

        return render(self.store.commits(), self.public_config()) + render_cloud(self.insights.store.commits())

    def error_document(self, status: int, message: str, exception_name: str | None = None) -> Any:
        return error_document(RATE_LIMITED if status == 429 else message)

    # -- shared checks -------------------------------------------------------------------------
    def _base(self, request: Request) -> str:
        host = request.headers.get("Host", "").strip()
        if host and _HOST.fullmatch(host):
            return f"http://{host}"
        return self.default_base_url

    def _rate_limit(self, identity: Identity, config: BitbucketCloudConfig) -> tuple[dict[str, str], float]:
        """The headers every answer gets, and the seconds to wait (0.0: go ahead)."""
        if config.rate_limit is None:
            return {}, 0.0
        settings = (config.rate_limit, config.rate_window)
        with self._limiter_lock:
            if self._limiter is None or self._limiter[0] != settings:
                self._limiter = (settings, WindowLimiter(*settings))
            limiter = self._limiter[1]
        return {"X-RateLimit-Limit": str(config.rate_limit)}, limiter.acquire(identity.key)

    def _begin(self, request: Request) -> tuple[Any, Response | None]:
        """Who asks and where, or the answer that ends the request: ``((identity, where, headers), None)``."""
        config = self._config
        identity = config.identify(request.headers.get("Authorization", ""))
        if isinstance(identity, str):
            return None, cloud_error(401, identity)
        headers, wait = self._rate_limit(identity, config)
        if wait > 0:
            if config.retry_after:
                headers["Retry-After"] = RateLimiter.retry_after(wait)
            return None, cloud_error(429, RATE_LIMITED, headers)
        resolved = config.resolve(request.params["workspace"], request.params["repo"], self.store.repositories())
        if resolved is None:
            return None, cloud_error(404, NO_REPOSITORY, headers)
        sha = request.params["sha"]
        if not _SHA.fullmatch(sha):
            return None, cloud_error(404, NO_COMMIT, headers)
        return (identity, (*resolved, sha.lower()), headers), None

    @staticmethod
    def _body(request: Request, headers: dict[str, str], partial: bool) -> tuple[dict[str, Any], Response | None]:
        if not request.is_json():
            media = request.content_type or "none"
            message = f'Unsupported media type "{media}" in request; send the status as application/json.'
            return {}, cloud_error(415, message, headers)
        try:
            body = request.json()
        except BodyError as exc:
            return {}, cloud_error(400, BAD_REQUEST, headers, detail=str(exc))
        fields, errors = validate(body, partial)
        if isinstance(errors, str):
            return {}, cloud_error(400, BAD_REQUEST, headers, detail=errors)
        if errors:
            return {}, cloud_response(400, field_errors_document(errors), headers)
        return fields, None

    def _view(self, request: Request, status: dict[str, Any]) -> dict[str, Any]:
        """A stored status as Bitbucket answers it."""
        workspace, slug, sha = status["workspace"], status["repository"], status["commit"]
        commit_url = f"{self._base(request)}/2.0/repositories/{quote(workspace)}/{quote(slug)}/commit/{sha}"
        view: dict[str, Any] = {"type": "build"}
        view.update((name, status[name]) for name in FIELDS if name in status)
        view.update(
            uuid=status["uuid"],
            created_on=status["created_on"],
            updated_on=status["updated_on"],
            links={
                "self": {"href": f"{commit_url}/statuses/build/{quote(status['key'], safe='')}"},
                "commit": {"href": commit_url},
            },
            creator=status["creator"],
            repository={
                "type": "repository",
                "full_name": f"{workspace}/{slug}",
                "name": slug,
                "uuid": repository_uuid(workspace, slug),
            },
            commit={"type": "commit", "hash": sha},
        )
        return view

    # -- handlers ------------------------------------------------------------------------------
    def create_status(self, request: Request) -> Response:
        begun, problem = self._begin(request)
        if problem:
            return problem
        identity, where, headers = begun
        fields, problem = self._body(request, headers, partial=False)
        if problem:
            return problem
        try:
            status, _ = self.store.save(where, fields["key"], fields, identity, self._config.is_admin(identity))
        except NotCreator:
            return cloud_error(403, NOT_CREATOR, headers)
        return cloud_response(201, self._view(request, status), headers)

    def update_status(self, request: Request) -> Response:
        begun, problem = self._begin(request)
        if problem:
            return problem
        identity, where, headers = begun
        fields, problem = self._body(request, headers, partial=True)
        if problem:
            return problem
        key = request.params["key"]
        try:
            status, _ = self.store.save(where, key, fields, identity, self._config.is_admin(identity), update=True)
        except NoStatus:
            return cloud_error(404, NO_STATUS, headers)
        except NotCreator:
            return cloud_error(403, NOT_CREATOR, headers)
        return cloud_response(200, self._view(request, status), headers)

    def get_status(self, request: Request) -> Response:
        begun, problem = self._begin(request)
        if problem:
            return problem
        _, where, headers = begun
        status = self.store.get(where, request.params["key"])
        if status is None:
            return cloud_error(404, NO_STATUS, headers)
        return cloud_response(200, self._view(request, status), headers)

    def list_statuses(self, request: Request) -> Response:
        begun, problem = self._begin(request)
        if problem:
            return problem
        _, where, headers = begun
        query = request.query
        if "q" in query:
            return cloud_error(400, "Filtering with q (BBQL) is not emulated by the sandbox.", headers)
        sort = query.get("sort") or "created_on"
        if sort.lstrip("-") not in SORT_FIELDS:
            return cloud_error(400, f"Invalid sort field: {sort}", headers)
        numbers = {}
        for name, default in (("pagelen", DEFAULT_PAGELEN), ("page", 1)):
            text = query.get(name, "")
            try:
                numbers[name] = int(text) if text else default
            except ValueError:
                numbers[name] = 0
            if numbers[name] < 1:
                return cloud_error(400, f"Invalid {name}: {text!r} (a whole number of at least 1).", headers)
        pagelen, page = min(numbers["pagelen"], MAX_PAGELEN), numbers["page"]
        statuses = self.store.listing(where, query.get("refname"), sort)
        chosen = statuses[(page - 1) * pagelen : page * pagelen]
        body: dict[str, Any] = {
            "pagelen": pagelen,
            "values": [self._view(request, status) for status in chosen],
            "page": page,
            "size": len(statuses),
        }
        if page * pagelen < len(statuses):
            params = {name: value for name, value in query.items() if name in ("refname", "sort")}
            params.update(pagelen=str(pagelen), page=str(page + 1))
            body["next"] = f"{self._base(request)}{quote(request.path)}?{urlencode(params)}"
        if page > 1:
            params = {name: value for name, value in query.items() if name in ("refname", "sort")}
            params.update(pagelen=str(pagelen), page=str(page - 1))
            body["previous"] = f"{self._base(request)}{quote(request.path)}?{urlencode(params)}"
        return cloud_response(200, body, headers)

    def not_served(self, request: Request) -> Response:
        allowed = sorted({method for method, pattern, _ in self._routes if pattern.fullmatch(request.path)})
        if allowed:
            message = f"Method {request.method} is not allowed on {request.path}; use {', '.join(allowed)}."
            return cloud_error(405, message, {"Allow": ", ".join(allowed)})
        return cloud_error(404, NOT_FOUND, detail=f"Nothing is served at {request.path} in this sandbox.")
