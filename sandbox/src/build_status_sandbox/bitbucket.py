"""The Bitbucket Server / Data Center build-status emulation, faithful to the contract in
``tests/data/bitbucket-dc-build-status.openapi.json``."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

from build_status.remotes.bitbucket_dc.contract import BUILDS_REQUEST, LEGACY_REQUEST

from .bitbucket_store import BuildStatusStore, rest_view
from .emulation import ConfiguredEmulation, Route, route
from .insights_dc import DataCenterInsights
from .messages import BodyError, Request, Response, error_body, error_response

#: The states the commit-only endpoint takes (the contract's enum).
LEGACY_STATES = ("SUCCESSFUL", "FAILED", "INPROGRESS")

TOKEN_KINDS = ("personal", "http-access")
#: Personal access tokens belong to this user: they also work as its Basic password.
TOKEN_OWNER = "sandbox"  # noqa: S105 - a user name, not a password
#: Only this many of a commit's newest statuses are listed, as on Bitbucket.
VISIBLE_STATUSES = 100
DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
ORDERS = ("NEWEST", "OLDEST", "STATUS")

AUTH_FAILED = "Authentication failed. Please check your credentials and try again."
AUTH_EXCEPTION = "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
VALIDATION_EXCEPTION = "com.atlassian.bitbucket.validation.ArgumentValidationException"
LEGACY_EXCEPTION = "com.atlassian.bitbucket.build.InvalidBuildStatusException"
JSON_EXCEPTION = "com.fasterxml.jackson.core.JsonParseException"
MEDIA_EXCEPTION = "javax.ws.rs.NotSupportedException"
NO_REPOSITORY = "com.atlassian.bitbucket.repository.NoSuchRepositoryException"
NO_PROJECT = "com.atlassian.bitbucket.project.NoSuchProjectException"
NO_COMMIT = "com.atlassian.bitbucket.commit.NoSuchCommitException"
NO_BUILD_STATUS = "com.atlassian.bitbucket.build.status.NoSuchBuildStatusException"

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.\d+)*")


def parse_version(text: str) -> tuple[int, int]:
    """``"7.14"`` → ``(7, 14)``; ``"8"`` → ``(8, 0)``; ``"9.2.3"`` → ``(9, 2)``."""
    match = _VERSION.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(f"version must look like 9.2 or 7.14, not {text!r}")
    return int(match.group(1)), int(match.group(2) or 0)


def _default_users() -> dict[str, str]:
    return {"sandbox": "sandbox-password"}


def _default_tokens() -> dict[str, str]:
    return {"sandbox-token": "personal", "sandbox-repo-token": "http-access"}


@dataclass(frozen=True)
class BitbucketConfig:
    """How the emulated Bitbucket behaves.

    - ``context_path``: prefix of every Bitbucket route (``"/stash"``); ``""`` for none.
    - ``version``: below 7.4 there is no repository-scoped endpoint; below 7.14 no capabilities, no
      reading back or deleting by key; below 8.0 no CANCELLED/UNKNOWN states.
    - ``users``: username → password (Basic auth).
    - ``tokens``: token → ``"personal"`` (Bearer, or Basic password of user ``sandbox``) or
      ``"http-access"`` (project/repository HTTP access token: Bearer only).
    - ``repositories``: None = every ``PROJECT/slug`` exists; else the ones that do (case-insensitive).
    - ``allow_anonymous_read``: reads (GET, stats) work without credentials.
    - ``annotation_limit``: Code Insights annotations a report may hold (Bitbucket's default instance setting).
    """

    context_path: str = ""
    version: str = "9.2"
    users: dict = field(default_factory=_default_users)
    tokens: dict = field(default_factory=_default_tokens)
    repositories: Optional[frozenset] = None
    allow_anonymous_read: bool = False
    annotation_limit: int = 1000

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "context_path", _normalise_context_path(self.context_path))
        if not isinstance(self.version, str):
            set_(self, "version", str(self.version))
        parse_version(self.version)
        if not isinstance(self.users, dict) or not all(
            isinstance(name, str) and name and isinstance(password, str) for name, password in self.users.items()
        ):
            raise ValueError("users must map user names to passwords (strings)")
        set_(self, "users", dict(self.users))
        if not isinstance(self.tokens, dict) or not all(isinstance(token, str) and token for token in self.tokens):
            raise ValueError("tokens must map token strings to a kind")
        for kind in self.tokens.values():
            if kind not in TOKEN_KINDS:
                raise ValueError(f"token kind must be one of {', '.join(TOKEN_KINDS)}, not {kind!r}")
        set_(self, "tokens", dict(self.tokens))
        if self.repositories is not None:
            if isinstance(self.repositories, str) or not all(
                isinstance(name, str) and re.fullmatch(r"[^/\s]+/[^/\s]+", name) for name in self.repositories
            ):
                raise ValueError('repositories must be a collection of "PROJECT/slug" strings, or null')
            set_(self, "repositories", frozenset(self.repositories))
        if not isinstance(self.allow_anonymous_read, bool):
            raise ValueError("allow_anonymous_read must be true or false")
        if (
            isinstance(self.annotation_limit, bool)
            or not isinstance(self.annotation_limit, int)
            or self.annotation_limit < 1
        ):
            raise ValueError(f"annotation_limit must be a whole number of at least 1, not {self.annotation_limit!r}")

    @property
    def version_tuple(self) -> tuple[int, int]:
        return parse_version(self.version)

    @property
    def capabilities(self) -> list[str] | None:
        """What ``build/capabilities`` lists, or None when the endpoint does not exist."""
        version = self.version_tuple
        if version < (7, 14):
            return None
        if version < (8, 0):
            return ["richBuildStatus"]
        return ["richBuildStatus", "cancelledStatus"]

    def repository_exists(self, project: str, slug: str) -> bool:
        if self.repositories is None:
            return True
        wanted = f"{project}/{slug}".lower()
        return any(name.lower() == wanted for name in self.repositories)

    def project_exists(self, project: str) -> bool:
        if self.repositories is None:
            return True
        return any(name.split("/", 1)[0].lower() == project.lower() for name in self.repositories)

    def public(self) -> dict[str, Any]:
        """The configuration without passwords or tokens."""
        kinds = list(self.tokens.values())
        return {
            "context_path": self.context_path,
            "version": self.version,
            "capabilities": self.capabilities,
            "users": sorted(self.users),
            "tokens": {kind: kinds.count(kind) for kind in TOKEN_KINDS},
            "repositories": None if self.repositories is None else sorted(self.repositories),
            "allow_anonymous_read": self.allow_anonymous_read,
            "annotation_limit": self.annotation_limit,
        }

    def with_changes(self, changes: dict[str, Any]) -> BitbucketConfig:
        """A copy with the fields in ``changes`` (JSON-style values) replaced; ``ValueError`` if bad."""
        names = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown Bitbucket setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        changes = dict(changes)
        if isinstance(changes.get("repositories"), list):
            changes["repositories"] = frozenset(changes["repositories"])
        return dataclasses.replace(self, **changes)


def _normalise_context_path(path: object) -> str:
    if path is None:
        return ""
    if not isinstance(path, str) or any(char in path for char in "?#\\ \t\r\n"):
        raise ValueError(f"context_path must be a URL path such as /stash, not {path!r}")
    path = path.strip("/")
    return f"/{path}" if path else ""


class BitbucketEmulation(ConfiguredEmulation):
    """Bitbucket's build-status endpoints; statuses are kept in memory."""

    name = "bitbucket"
    config_type = BitbucketConfig
    title = "Bitbucket build statuses"

    def __init__(self, config: BitbucketConfig | None = None) -> None:
        super().__init__(config)
        self.store = BuildStatusStore()
        self.insights = DataCenterInsights(self)
        self._routes_lock = threading.Lock()
        self._routes: tuple[str, list[Route]] | None = None

    # -- test accessors ------------------------------------------------------------------------
    def statuses(self, sha: str) -> list[dict[str, Any]]:
        """Every stored status of a commit, newest first, with every field sent plus ``endpoint``,
        ``project``, ``repository``, ``commit``, ``createdDate`` and ``updatedDate``."""
        return self.store.statuses(sha)

    def tally(self, sha: str) -> dict[str, int]:
        return self.store.tally(sha)

    # -- Emulation -----------------------------------------------------------------------------
    def reports(self, project: str, slug: str, sha: str) -> list[dict[str, Any]]:
        """The Code Insights reports of a commit, oldest first, each with its ``annotations``."""
        return self.insights.store.reports((project, slug, sha))

    def reset(self) -> None:
        self.store.clear()
        self.insights.store.clear()

    def snapshot(self) -> dict[str, Any]:
        from .insights_html import dc_snapshot

        insights = dc_snapshot(self.insights.store.commits())
        return {"commits": self.store.commits(), "insights": insights, "config": self.public_config()}

    def html(self) -> str:
        from .bitbucket_html import render
        from .insights_html import render_dc

        return render(self.store.commits(), self.public_config()) + render_dc(self.insights.store.commits())

    def routes(self) -> list[Route]:
        context = self._config.context_path
        cached = self._routes
        if cached is not None and cached[0] == context:
            return cached[1]
        base = re.escape(context)
        legacy = base + r"/rest/build-status/(?:1\.0|latest)/commits"
        api = base + r"/rest/api/(?:1\.0|latest)"
        builds = api + r"/projects/(?P<project>[^/]+)/repos/(?P<slug>[^/]+)/commits/(?P<sha>[^/]+)/builds/?"
        routes = [
            route("POST", legacy + r"/stats/?", self.post_stats),
            route("GET", legacy + r"/stats/(?P<sha>[^/]+)/?", self.get_stats),
            route("POST", legacy + r"/(?P<sha>[^/]+)/?", self.post_legacy),
            route("GET", legacy + r"/(?P<sha>[^/]+)/?", self.get_legacy),
            route("POST", builds, self.post_builds),
            route("GET", builds, self.get_builds),
            route("DELETE", builds, self.delete_builds),
            route("GET", api + r"/build/capabilities/?", self.get_capabilities),
            *self.insights.routes(base),
        ]
        with self._routes_lock:
            self._routes = (context, routes)
        return routes

    # -- shared checks -------------------------------------------------------------------------
    @staticmethod
    def _authenticate(request: Request, config: BitbucketConfig, read: bool = False) -> Response | None:
        """None if the request may go on, else the 401 answer."""
        header = request.headers.get("Authorization", "").strip()
        if not header and read and config.allow_anonymous_read:
            return None
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and credential:
            if any(hmac.compare_digest(credential.encode(), token.encode()) for token in config.tokens):
                return None
        elif scheme.lower() == "basic" and credential:
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                decoded = ""
            user, colon, password = decoded.partition(":")
            if colon and _basic_ok(config, user, password):
                return None
        return error_response(401, AUTH_FAILED, None, AUTH_EXCEPTION)

    @staticmethod
    def _check_sha(sha: str) -> Response | None:
        if _SHA.fullmatch(sha):
            return None
        return error_response(
            400,
            f"The commit ID must be a full 40-character SHA-1 hash, not {sha!r}.",
            "commitId",
            VALIDATION_EXCEPTION,
        )

    @staticmethod
    def _json_body(request: Request) -> tuple[Any, Response | None]:
        if not request.is_json():
            media = request.content_type or "none"
            return None, error_response(
                415,
                f"Content type {media!r} is not supported; send the build status as application/json.",
                None,
                MEDIA_EXCEPTION,
            )
        try:
            return request.json(), None
        except BodyError as exc:
            return None, error_response(400, str(exc), None, JSON_EXCEPTION)

    @staticmethod
    def _missing_endpoint(request: Request, config: BitbucketConfig) -> Response:
        return error_response(404, f"No resource at {request.path} on Bitbucket {config.version}.", None, None)

    @staticmethod
    def _check_repository(request: Request, config: BitbucketConfig) -> Response | None:
        project, slug = request.params["project"], request.params["slug"]
        if config.repository_exists(project, slug):
            return None
        if not config.project_exists(project):
            return error_response(404, f"Project {project} does not exist.", None, NO_PROJECT)
        return error_response(404, f"Repository {project}/{slug} does not exist.", None, NO_REPOSITORY)

    @staticmethod
    def _check_commit(request: Request) -> Response | None:
        sha = request.params["sha"]
        if _SHA.fullmatch(sha):
            return None
        return error_response(
            404, f"Commit '{sha}' does not exist in repository '{request.params['slug']}'.", None, NO_COMMIT
        )

    # -- commit-only endpoint (Stash 2.1+) -----------------------------------------------------
    def post_legacy(self, request: Request) -> Response:
        from .bitbucket_validation import validate

        config = self._config
        problem = self._authenticate(request, config) or self._check_sha(request.params["sha"])
        if problem:
            return problem
        body, problem = self._json_body(request)
        if problem:
            return problem
        errors = validate(body, LEGACY_REQUEST, LEGACY_EXCEPTION, not_blank=("key", "url"))
        if errors:
            return Response(400, {"errors": errors})
        fields = {name: body[name] for name in LEGACY_REQUEST["properties"] if name in body}
        self.store.put(request.params["sha"], fields, endpoint="build-status", project=None, repository=None)
        return Response(204)

    def get_legacy(self, request: Request) -> Response:
        config = self._config
        problem = self._authenticate(request, config, read=True) or self._check_sha(request.params["sha"])
        if problem:
            return problem
        paging, problem = _paging(request)
        if problem:
            return problem
        start, limit, order_by = paging
        source = self.store.page_source(request.params["sha"], order_by, VISIBLE_STATUSES)
        values = [rest_view(status) for status in source[start : start + limit]]
        page: dict[str, Any] = {
            "size": len(values),
            "limit": limit,
            "isLastPage": start + len(values) >= len(source),
            "start": start,
            "values": values,
        }
        if not page["isLastPage"]:
            page["nextPageStart"] = start + len(values)
        return Response(200, page)

    def get_stats(self, request: Request) -> Response:
        config = self._config
        problem = self._authenticate(request, config, read=True) or self._check_sha(request.params["sha"])
        if problem:
            return problem
        return Response(200, self.store.tally(request.params["sha"]))

    def post_stats(self, request: Request) -> Response:
        config = self._config
        problem = self._authenticate(request, config, read=True)
        if problem:
            return problem
        body, problem = self._json_body(request)
        if problem:
            return problem
        if not isinstance(body, list) or not all(isinstance(sha, str) for sha in body):
            return error_response(
                400, "The request body must be a JSON array of commit IDs.", None, VALIDATION_EXCEPTION
            )
        return Response(200, {sha: self.store.tally(sha) for sha in body if self.store.has(sha)})

    # -- repository-scoped endpoint (7.4+) -----------------------------------------------------
    def post_builds(self, request: Request) -> Response:
        from .bitbucket_validation import error, validate

        config = self._config
        if config.version_tuple < (7, 4):
            return self._missing_endpoint(request, config)
        problem = (
            self._authenticate(request, config)
            or self._check_repository(request, config)
            or self._check_commit(request)
        )
        if problem:
            return problem
        body, problem = self._json_body(request)
        if problem:
            return problem
        errors = validate(body, BUILDS_REQUEST, VALIDATION_EXCEPTION, not_blank=("key", "url"))
        state = body.get("state") if isinstance(body, dict) else None
        if (
            isinstance(body, dict)
            and not any(item["context"] == "state" for item in errors)
            and config.version_tuple < (8, 0)
            and state not in LEGACY_STATES
        ):
            errors.append(
                error(
                    "state",
                    f"The build state must be one of {', '.join(LEGACY_STATES)}.",
                    VALIDATION_EXCEPTION,
                )
            )
            errors.sort(key=lambda item: item["context"] or "")
        if errors:
            return Response(400, {"errors": errors})
        fields = {name: body[name] for name in BUILDS_REQUEST["properties"] if name in body}
        if isinstance(fields.get("testResults"), dict):
            fields["testResults"] = {
                name: value
                for name, value in fields["testResults"].items()
                if name in ("successful", "failed", "skipped")
            }
        self.store.put(
            request.params["sha"],
            fields,
            endpoint="builds",
            project=request.params["project"],
            repository=request.params["slug"],
        )
        return Response(204)

    def _by_key(self, request: Request, read: bool) -> tuple[str, Response | None]:
        config = self._config
        if config.version_tuple < (7, 14):
            return "", self._missing_endpoint(request, config)
        problem = (
            self._authenticate(request, config, read=read)
            or self._check_repository(request, config)
            or self._check_commit(request)
        )
        if problem:
            return "", problem
        key = request.query.get("key", "")
        if not key:
            return "", error_response(
                400, "The build key is required (query parameter key).", "key", VALIDATION_EXCEPTION
            )
        return key, None

    def get_builds(self, request: Request) -> Response:
        key, problem = self._by_key(request, read=True)
        if problem:
            return problem
        status = self.store.get(request.params["sha"], key)
        if status is None:
            return _no_build_status(request.params["sha"], key)
        return Response(200, rest_view(status))

    def delete_builds(self, request: Request) -> Response:
        key, problem = self._by_key(request, read=False)
        if problem:
            return problem
        if not self.store.delete(request.params["sha"], key):
            return _no_build_status(request.params["sha"], key)
        return Response(204)

    # -- capabilities --------------------------------------------------------------------------
    def get_capabilities(self, request: Request) -> Response:
        config = self._config
        capabilities = config.capabilities
        if capabilities is None:
            return self._missing_endpoint(request, config)
        return Response(200, {"buildStatus": capabilities})


def _basic_ok(config: BitbucketConfig, user: str, password: str) -> bool:
    expected = config.users.get(user)
    if expected is not None and hmac.compare_digest(expected.encode(), password.encode()):
        return True
    if user == TOKEN_OWNER:
        return any(
            kind == "personal" and hmac.compare_digest(token.encode(), password.encode())
            for token, kind in config.tokens.items()
        )
    return False


def _no_build_status(sha: str, key: str) -> Response:
    return Response(
        404, error_body(f"No build status with key '{key}' exists for commit {sha.lower()}.", None, NO_BUILD_STATUS)
    )


def _paging(request: Request) -> tuple[tuple[int, int, str], Response | None]:
    values = []
    for name, default, minimum in (("start", 0, 0), ("limit", DEFAULT_LIMIT, 1)):
        text = request.query.get(name, "")
        if text == "":
            values.append(default)
            continue
        try:
            number = int(text)
        except ValueError:
            number = -1
        if number < minimum:
            message = f"{name} must be a whole number of at least {minimum}, not {text!r}."
            return (0, 0, ""), error_response(400, message, name, VALIDATION_EXCEPTION)
        values.append(number)
    order_by = (request.query.get("orderBy") or "NEWEST").upper()
    if order_by not in ORDERS:
        message = f"orderBy must be one of {', '.join(ORDERS)}, not {request.query['orderBy']!r}."
        return (0, 0, ""), error_response(400, message, "orderBy", VALIDATION_EXCEPTION)
    return (values[0], min(values[1], MAX_LIMIT), order_by), None
