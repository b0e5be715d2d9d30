"""Bitbucket Data Center Code Insights (5.15+): reports and annotations under
``<context>/rest/insights/{1.0,latest}/projects/{p}/repos/{r}/commits/{sha}/…``, behind the Data Center
emulation's authentication, repositories and version (contract: ``tests/data/bitbucket-dc-insights-deployments
.openapi.json``; rules: FACTS §7a).

Decisions where Bitbucket's behaviour is not published: the identity that may replace a report, add, replace or
delete its annotations, or delete it, is the one that created it (a Basic user by name; a personal access token
is its owner ``sandbox``; each HTTP access token is a user of its own); anyone else is answered 401 (the sandbox
has no REPO_ADMIN).  An invalid annotation is answered 400 with the errors document, like a report (Prism answers
422, the contract declares neither).  A request that would leave a report with more than ``annotation_limit``
annotations is answered 400 and changes nothing.  A bad commit hash is 400 on the report PUT (the contract lists
it), 404 elsewhere.  The wording of messages and the names of the insights exceptions are the sandbox's own.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import TYPE_CHECKING, Any, Optional

from .emulation import Route, route
from .insights_store import InsightsStore, NoReport, NotCreator, TooManyAnnotations
from .insights_validation import VALIDATION_EXCEPTION, dc_annotation_errors, dc_report_errors
from .messages import Request, Response, error_response

if TYPE_CHECKING:
    from .bitbucket import BitbucketEmulation

#: Code Insights exists from this Bitbucket Server version on.
MIN_VERSION = (5, 15)
#: The fields of a report PUT that are kept, and the ones a report is answered with.
REPORT_FIELDS = (
    "title",
    "details",
    "result",
    "data",
    "reporter",
    "link",
    "logoUrl",
    "createdDate",
    "coverageProviderKey",
)
REPORT_VIEW = ("key", "title", "details", "result", "data", "reporter", "link", "logoUrl", "createdDate")
ANNOTATION_FIELDS = ("externalId", "line", "link", "message", "path", "severity", "type")
#: The filters of ``GET …/commits/{sha}/annotations``, and the annotation field each compares.
COMMIT_FILTERS = (("severity", "severity"), ("path", "path"), ("externalId", "externalId"), ("type", "type"))

NO_REPORT_EXCEPTION = "com.atlassian.bitbucket.insights.NoSuchReportException"
AUTHORISATION_EXCEPTION = "com.atlassian.bitbucket.AuthorisationException"
LIMIT_EXCEPTION = VALIDATION_EXCEPTION


def identity(request: Request) -> str:
    """Who an (already authenticated) request comes from, as the creator-only rules compare it."""
    from .bitbucket import TOKEN_OWNER

    header = request.headers.get("Authorization", "").strip()
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer":
        return "token:" + hashlib.sha256(credential.encode()).hexdigest()[:16]
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(credential, validate=True).decode("utf-8").partition(":")[0]
        except ValueError:
            user = ""
        return user or TOKEN_OWNER
    return "anonymous"


def _canonical(request: Request, config: Any) -> str:
    """Personal access tokens act as their owner, whether sent as Bearer or as a Basic password."""
    from .bitbucket import TOKEN_OWNER

    who = identity(request)
    if who.startswith("token:"):
        for token, kind in config.tokens.items():
            if kind == "personal" and who == "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]:
                return TOKEN_OWNER
    return who


def annotation_view(annotation: dict[str, Any]) -> dict[str, Any]:
    view = {name: annotation[name] for name in ANNOTATION_FIELDS if name in annotation}
    view["reportKey"] = annotation["reportKey"]
    return dict(sorted(view.items()))


def report_view(report: dict[str, Any]) -> dict[str, Any]:
    return {name: report[name] for name in REPORT_VIEW if name in report}


class DataCenterInsights:
    """The insights handlers of a :class:`~build_status_sandbox.bitbucket.BitbucketEmulation`."""

    def __init__(self, emulation: BitbucketEmulation) -> None:
        self.emulation = emulation
        self.store = InsightsStore()

    def routes(self, base: str) -> list[Route]:
        """``base``: the escaped context path."""
        commit = (
            base + r"/rest/insights/(?:1\.0|latest)/projects/(?P<project>[^/]+)/repos/(?P<slug>[^/]+)"
            r"/commits/(?P<sha>[^/]+)"
        )
        report = commit + r"/reports/(?P<key>[^/]+)"
        return [
            route("PUT", report + "/?", self.put_report),
            route("GET", report + "/?", self.get_report),
            route("DELETE", report + "/?", self.delete_report),
            route("POST", report + r"/annotations/?", self.post_annotations),
            route("GET", report + r"/annotations/?", self.get_annotations),
            route("DELETE", report + r"/annotations/?", self.delete_annotations),
            route("PUT", report + r"/annotations/(?P<external_id>[^/]+)/?", self.put_annotation),
            route("GET", commit + r"/annotations/?", self.get_commit_annotations),
        ]

    # -- shared checks -------------------------------------------------------------------------
    def _begin(self, request: Request, read: bool = False, bad_sha: int = 404) -> tuple[Any, Optional[Response]]:
        """``((project, slug, sha), None)`` or ``(None, the answer)``."""
        emulation = self.emulation
        config = emulation.config
        if config.version_tuple < MIN_VERSION:
            return None, emulation._missing_endpoint(request, config)
        check_sha = emulation._check_sha if bad_sha == 400 else None
        problem = (
            emulation._authenticate(request, config, read=read)
            or emulation._check_repository(request, config)
            or (check_sha(request.params["sha"]) if check_sha else emulation._check_commit(request))
        )
        if problem:
            return None, problem
        params = request.params
        return (params["project"], params["slug"], params["sha"].lower()), None

    def _report(self, request: Request, where: tuple, author: bool) -> Optional[Response]:
        """None when the report exists (and, if ``author``, the request comes from its creator)."""
        key = request.params["key"]
        try:
            creator = self.store.creator(where, key)
        except NoReport:
            return _no_report(key, where[2])
        if author and creator != _canonical(request, self.emulation.config):
            return error_response(401, f"You are not the author of report '{key}'.", None, AUTHORISATION_EXCEPTION)
        return None

    def _begin_as_author(self, request: Request) -> tuple[Any, Optional[Response]]:
        """:meth:`_begin`, then the report must exist and the request come from its creator."""
        where, problem = self._begin(request)
        return where, problem or self._report(request, where, author=True)

    def _body(self, request: Request) -> tuple[Any, Optional[Response]]:
        return self.emulation._json_body(request)

    # -- reports -------------------------------------------------------------------------------
    def put_report(self, request: Request) -> Response:
        where, problem = self._begin(request, bad_sha=400)
        if problem:
            return problem
        body, problem = self._body(request)
        if problem:
            return problem
        errors = dc_report_errors(body)
        if errors:
            return Response(400, {"errors": errors})
        key = request.params["key"]
        fields = {name: body[name] for name in REPORT_FIELDS if body.get(name) is not None}
        fields.setdefault("data", [])
        fields.setdefault("createdDate", int(time.time() * 1000))
        fields.update(key=key, project=request.params["project"], repository=request.params["slug"], commit=where[2])
        try:
            report, _ = self.store.put_report(where, key, fields, _canonical(request, self.emulation.config))
        except NotCreator:
            message = f"Report '{key}' was created by another user; only its creator may replace it."
            return error_response(401, message, None, AUTHORISATION_EXCEPTION)
        return Response(200, report_view(report))

    def get_report(self, request: Request) -> Response:
        where, problem = self._begin(request, read=True)
        if problem:
            return problem
        report = self.store.get_report(where, request.params["key"])
        if report is None:
            return _no_report(request.params["key"], where[2])
        return Response(200, report_view(report))

    def delete_report(self, request: Request) -> Response:
        where, problem = self._begin_as_author(request)
        if problem:
            return problem
        self.store.delete_report(where, request.params["key"])
        return Response(204)

    # -- annotations ---------------------------------------------------------------------------
    def post_annotations(self, request: Request) -> Response:
        where, problem = self._begin_as_author(request)
        if problem:
            return problem
        body, problem = self._body(request)
        if problem:
            return problem
        items = body.get("annotations") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            message = 'The request body must be {"annotations": [...]} with at least one annotation.'
            return error_response(400, message, "annotations", VALIDATION_EXCEPTION)
        errors = [
            error for index, item in enumerate(items) for error in dc_annotation_errors(item, f"annotations[{index}].")
        ]
        if errors:
            return Response(400, {"errors": errors})
        key = request.params["key"]
        annotations = [_annotation(item, key) for item in items]
        try:
            self.store.add_annotations(where, key, annotations, self.emulation.config.annotation_limit)
        except TooManyAnnotations as exc:
            return _too_many(exc, key)
        except NoReport:
            return _no_report(key, where[2])
        self.store.touch(where, key)
        return Response(204)

    def put_annotation(self, request: Request) -> Response:
        where, problem = self._begin_as_author(request)
        if problem:
            return problem
        body, problem = self._body(request)
        if problem:
            return problem
        external_id = request.params["external_id"]
        if isinstance(body, dict):
            body = {**body, "externalId": external_id}
        errors = dc_annotation_errors(body)
        if errors:
            return Response(400, {"errors": errors})
        key = request.params["key"]
        try:
            self.store.replace_annotation(
                where, key, "externalId", external_id, _annotation(body, key), self.emulation.config.annotation_limit
            )
        except TooManyAnnotations as exc:
            return _too_many(exc, key)
        except NoReport:
            return _no_report(key, where[2])
        self.store.touch(where, key)
        return Response(204)

    def delete_annotations(self, request: Request) -> Response:
        where, problem = self._begin_as_author(request)
        if problem:
            return problem
        external_ids = request.query_values("externalId") or None
        try:
            self.store.delete_annotations(where, request.params["key"], "externalId", external_ids)
        except NoReport:
            return _no_report(request.params["key"], where[2])
        return Response(204)

    def get_annotations(self, request: Request) -> Response:
        where, problem = self._begin(request, read=True)
        if problem:
            return problem
        try:
            annotations = self.store.annotations(where, request.params["key"])
        except NoReport:
            return _no_report(request.params["key"], where[2])
        return Response(200, {"annotations": [annotation_view(item) for item in annotations]})

    def get_commit_annotations(self, request: Request) -> Response:
        where, problem = self._begin(request, read=True)
        if problem:
            return problem
        wanted = {field: request.query_values(name) for name, field in COMMIT_FILTERS if request.query_values(name)}
        keys = request.query_values("key")
        found = []
        for report in self.store.reports(where):
            if keys and report["key"] not in keys:
                continue
            for annotation in report["annotations"]:
                if all(annotation.get(field) in values for field, values in wanted.items()):
                    found.append(annotation_view(annotation))
        return Response(200, {"annotations": found})


def _annotation(item: dict[str, Any], key: str) -> dict[str, Any]:
    annotation = {name: item[name] for name in ANNOTATION_FIELDS if item.get(name) is not None}
    annotation["reportKey"] = key
    return annotation


def _no_report(key: str, sha: str) -> Response:
    return error_response(404, f"No report with key '{key}' exists on commit {sha}.", None, NO_REPORT_EXCEPTION)


def _too_many(exc: TooManyAnnotations, key: str) -> Response:
    message = (
        f"Report '{key}' may hold at most {exc.limit} annotations; this request would bring it to {exc.total}. "
        "Nothing was added."
    )
    return error_response(400, message, "annotations", LIMIT_EXCEPTION)
