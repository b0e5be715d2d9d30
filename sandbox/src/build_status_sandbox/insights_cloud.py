"""Bitbucket Cloud Code Insights: reports and annotations at
``/2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/reports…``, behind the Cloud emulation's credentials,
rate limit, repositories and error shape (contract: ``tests/data/bitbucket-cloud-statuses-reports.openapi.json``;
rules: FACTS §7b).

Decisions where Bitbucket's behaviour is not published: a report PUT replaces every field (not a merge) and keeps
the report's annotations, uuid and ``created_on``; a new report's ``external_id`` is the ``{reportId}`` of the
path; anyone with access may replace a report (no creator-only rule is known on Cloud).  A 400 carries both the
Cloud error document (``type``, ``error.message``) and the report service's fields seen in the wild (``key``,
``message``, ``arguments``).  An annotation without ``external_id`` is always added.  A request that would leave
a report with more than 1,000 annotations is answered 400 and changes nothing.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import quote, urlencode

from .emulation import Route, route
from .insights_store import InsightsStore, NoReport, TooManyAnnotations
from .insights_validation import cloud_annotation_problem, cloud_report_problem
from .messages import BodyError, Request, Response

if TYPE_CHECKING:
    from .bitbucket_cloud import BitbucketCloudEmulation

#: At most this many annotations per report, and per POST.
MAX_ANNOTATIONS = 1000
MAX_PER_REQUEST = 100
REPORT_FIELDS = (
    "title", "details", "external_id", "reporter", "link", "logo_url", "remote_link_enabled", "report_type",
    "result", "data",
)  # fmt: skip
ANNOTATION_FIELDS = (
    "external_id", "annotation_type", "path", "line", "summary", "details", "result", "severity", "link",
)  # fmt: skip
BAD_REQUEST_KEY = "report-service.general.bad-request"
NO_REPORT = "Report not found"
NO_ANNOTATION = "Annotation not found"
DEFAULT_PAGELEN = 10
MAX_PAGELEN = 100


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def bad_request_document(message: str) -> dict[str, Any]:
    """The Cloud error document, with the report service's ``key``/``message``/``arguments`` beside it."""
    return {
        "type": "error",
        "error": {"message": message},
        "key": BAD_REQUEST_KEY,
        "message": message,
        "arguments": {},
    }


def report_view(report: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "report", "uuid": report["uuid"]}
    view.update((name, report[name]) for name in REPORT_FIELDS if name in report)
    view.update(created_on=report["created_on"], updated_on=report["updated_on"])
    return view


def annotation_view(annotation: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"type": "report_annotation", "uuid": annotation["uuid"]}
    view.update((name, annotation[name]) for name in ANNOTATION_FIELDS if name in annotation)
    view.update(created_on=annotation["created_on"], updated_on=annotation["updated_on"])
    return view


def _keep_identity(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {**new, "uuid": old["uuid"], "created_on": old["created_on"]}


class CloudInsights:
    """The insights handlers of a :class:`~build_status_sandbox.bitbucket_cloud.BitbucketCloudEmulation`."""

    def __init__(self, emulation: BitbucketCloudEmulation) -> None:
        self.emulation = emulation
        self.store = InsightsStore()

    def routes(self, commit: str) -> list[Route]:
        """``commit``: the pattern of ``/2.0/repositories/{workspace}/{repo}/commit/{sha}``."""
        report = commit + r"/reports/(?P<report>[^/]+)"
        annotation = report + r"/annotations/(?P<annotation>[^/]+)/?"
        return [
            route("GET", commit + r"/reports/?", self.list_reports),
            route("PUT", report + "/?", self.put_report),
            route("GET", report + "/?", self.get_report),
            route("DELETE", report + "/?", self.delete_report),
            route("POST", report + r"/annotations/?", self.post_annotations),
            route("GET", report + r"/annotations/?", self.list_annotations),
            route("GET", annotation, self.get_annotation),
            route("PUT", annotation, self.put_annotation),
            route("DELETE", annotation, self.delete_annotation),
        ]

    # -- shared --------------------------------------------------------------------------------
    def _respond(self, status: int, body: Any = None, headers: Optional[dict] = None) -> Response:
        from .bitbucket_cloud import cloud_response

        return cloud_response(status, body, headers)

    def _error(self, status: int, message: str, headers: dict) -> Response:
        from .bitbucket_cloud import cloud_error

        return cloud_error(status, message, headers)

    def _begin(self, request: Request) -> tuple[Any, Optional[Response]]:
        begun, problem = self.emulation._begin(request)
        if problem:
            return None, problem
        _, where, headers = begun
        return (where, headers), None

    def _body(self, request: Request, headers: dict) -> tuple[Any, Optional[Response]]:
        if not request.is_json():
            message = f'Unsupported media type "{request.content_type or "none"}" in request; send application/json.'
            return None, self._error(415, message, headers)
        try:
            return request.json(), None
        except BodyError as exc:
            return None, self._respond(400, bad_request_document(str(exc)), headers)

    def _find_report(self, where: tuple, report_id: str) -> Optional[dict[str, Any]]:
        """The report whose uuid or external id is ``report_id``."""
        for report in self.store.reports(where):
            if report_id in (report["uuid"], report.get("external_id")):
                return report
        return None

    @staticmethod
    def _find_annotation(report: dict[str, Any], annotation_id: str) -> Optional[dict[str, Any]]:
        for annotation in report["annotations"]:
            if annotation_id in (annotation["uuid"], annotation.get("external_id")):
                return annotation
        return None

    def _page(self, request: Request, items: list[Any], headers: dict) -> Response:
        numbers = {}
        for name, default in (("pagelen", DEFAULT_PAGELEN), ("page", 1)):
            text = request.query.get(name, "")
            try:
                numbers[name] = int(text) if text else default
            except ValueError:
                numbers[name] = 0
            if numbers[name] < 1:
                return self._error(400, f"Invalid {name}: {text!r} (a whole number of at least 1).", headers)
        pagelen, page = min(numbers["pagelen"], MAX_PAGELEN), numbers["page"]
        body: dict[str, Any] = {
            "pagelen": pagelen,
            "values": items[(page - 1) * pagelen : page * pagelen],
            "page": page,
            "size": len(items),
        }
        base = f"{self.emulation._base(request)}{quote(request.path)}"
        if page * pagelen < len(items):
            body["next"] = f"{base}?{urlencode({'pagelen': pagelen, 'page': page + 1})}"
        if page > 1:
            body["previous"] = f"{base}?{urlencode({'pagelen': pagelen, 'page': page - 1})}"
        return self._respond(200, body, headers)

    # -- reports -------------------------------------------------------------------------------
    def put_report(self, request: Request) -> Response:
        begun, problem = self._begin(request)
        if problem:
            return problem
        where, headers = begun
        body, problem = self._body(request, headers)
        if problem:
            return problem
        message = cloud_report_problem(body)
        if message:
            return self._respond(400, bad_request_document(message), headers)
        report_id = request.params["report"]
        previous = self._find_report(where, report_id)
        fields = {name: body[name] for name in REPORT_FIELDS if body.get(name) is not None}
        now = now_iso()
        if previous is None:
            fields.update(external_id=report_id, uuid="{" + str(uuid.uuid4()) + "}", created_on=now)
            key = report_id
        else:
            key = previous["external_id"]
            fields.update(external_id=key, uuid=previous["uuid"], created_on=previous["created_on"])
        workspace, slug, sha = where
        fields.update(updated_on=now, repository=f"{workspace}/{slug}", commit=sha)
        report, _ = self.store.put_report(where, key, fields, "", may_replace=True)
        return self._respond(200, report_view(report), headers)

    def _begin_on_report(self, request: Request) -> tuple[Any, Optional[Response]]:
        """``((where, headers, report), None)`` for an existing report, or ``(None, the answer)``."""
        begun, problem = self._begin(request)
        if problem:
            return None, problem
        where, headers = begun
        report = self._find_report(where, request.params["report"])
        if report is None:
            return None, self._error(404, NO_REPORT, headers)
        return (where, headers, report), None

    def get_report(self, request: Request) -> Response:
        found, problem = self._begin_on_report(request)
        if problem:
            return problem
        _, headers, report = found
        return self._respond(200, report_view(report), headers)

    def delete_report(self, request: Request) -> Response:
        found, problem = self._begin_on_report(request)
        if problem:
            return problem
        where, headers, report = found
        self.store.delete_report(where, report["external_id"])
        return self._respond(204, None, headers)

    def list_reports(self, request: Request) -> Response:
        begun, problem = self._begin(request)
        if problem:
            return problem
        where, headers = begun
        return self._page(request, [report_view(report) for report in self.store.reports(where)], headers)

    # -- annotations ---------------------------------------------------------------------------
    def _report_or_404(self, request: Request) -> tuple[Any, Optional[Response]]:
        begun, problem = self._begin(request)
        if problem:
            return None, problem
        where, headers = begun
        report = self._find_report(where, request.params["report"])
        if report is None:
            return None, self._error(404, NO_REPORT, headers)
        return (where, headers, report), None

    def _save(self, where: tuple, report: dict, items: list[dict], by: str, headers: dict) -> Any:
        try:
            return self.store.add_annotations(
                where, report["external_id"], items, MAX_ANNOTATIONS, upsert_by=by, on_update=_keep_identity
            )
        except TooManyAnnotations as exc:
            message = f"A report can hold at most {exc.limit} annotations; this request would bring it to {exc.total}."
            return self._respond(400, bad_request_document(message), headers)
        except NoReport:
            return self._error(404, NO_REPORT, headers)

    def post_annotations(self, request: Request) -> Response:
        found, problem = self._report_or_404(request)
        if problem:
            return problem
        where, headers, report = found
        body, problem = self._body(request, headers)
        if problem:
            return problem
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_PER_REQUEST:
            message = f"The request body must be a JSON array of 1 to {MAX_PER_REQUEST} annotations."
            return self._respond(400, bad_request_document(message), headers)
        for item in body:
            message = cloud_annotation_problem(item)
            if message:
                return self._respond(400, bad_request_document(message), headers)
        now = now_iso()
        items = [
            {
                **{name: item[name] for name in ANNOTATION_FIELDS if item.get(name) is not None},
                "uuid": "{" + str(uuid.uuid4()) + "}",
                "created_on": now,
                "updated_on": now,
            }
            for item in body
        ]
        saved = self._save(where, report, items, "external_id", headers)
        if isinstance(saved, Response):
            return saved
        self.store.touch(where, report["external_id"])
        return self._respond(200, [annotation_view(item) for item in saved], headers)

    def list_annotations(self, request: Request) -> Response:
        found, problem = self._report_or_404(request)
        if problem:
            return problem
        _, headers, report = found
        return self._page(request, [annotation_view(item) for item in report["annotations"]], headers)

    def get_annotation(self, request: Request) -> Response:
        found, problem = self._report_or_404(request)
        if problem:
            return problem
        _, headers, report = found
        annotation = self._find_annotation(report, request.params["annotation"])
        if annotation is None:
            return self._error(404, NO_ANNOTATION, headers)
        return self._respond(200, annotation_view(annotation), headers)

    def put_annotation(self, request: Request) -> Response:
        found, problem = self._report_or_404(request)
        if problem:
            return problem
        where, headers, report = found
        body, problem = self._body(request, headers)
        if problem:
            return problem
        message = cloud_annotation_problem(body)
        if message:
            return self._respond(400, bad_request_document(message), headers)
        annotation_id = request.params["annotation"]
        existing = self._find_annotation(report, annotation_id)
        now = now_iso()
        item = {name: body[name] for name in ANNOTATION_FIELDS if body.get(name) is not None}
        item["updated_on"] = now
        if existing is None:
            item.update(external_id=annotation_id, uuid="{" + str(uuid.uuid4()) + "}", created_on=now)
            saved = self._save(where, report, [item], "external_id", headers)
        else:
            item.update(uuid=existing["uuid"], created_on=existing["created_on"])
            item.setdefault("external_id", existing.get("external_id"))
            item = {name: value for name, value in item.items() if value is not None}
            saved = self._save(where, report, [item], "uuid", headers)
        if isinstance(saved, Response):
            return saved
        self.store.touch(where, report["external_id"])
        return self._respond(200, annotation_view(saved[0]), headers)

    def delete_annotation(self, request: Request) -> Response:
        found, problem = self._report_or_404(request)
        if problem:
            return problem
        where, headers, report = found
        annotation = self._find_annotation(report, request.params["annotation"])
        if annotation is None:
            return self._error(404, NO_ANNOTATION, headers)
        self.store.delete_annotations(where, report["external_id"], "uuid", [annotation["uuid"]])
        return self._respond(204, None, headers)
