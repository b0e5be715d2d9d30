"""The Coveralls emulation: job uploads, the parallel build webhook, and build/job pages.

As far as the public documentation and the official clients show: ``POST /api/v1/jobs`` takes one job's
coverage; parallel jobs with the same ``service_number`` (and repo token) form one build, which stays open
until ``POST /webhook`` closes it; a job that is not parallel is a whole build, closed at once.
``GET /builds/<build id or commit sha>.json`` answers a build's aggregate coverage once closed (the emulation's
choices are in :mod:`.coveralls_coverage`).
"""

from __future__ import annotations

import dataclasses
import hmac
import re
from dataclasses import dataclass
from typing import Any, Optional

from .coveralls_coverage import build_document, lookup_key
from .coveralls_payloads import PayloadError, flag_list, read_job, read_upload, read_webhook, text_field
from .coveralls_store import BuildClosed, CoverallsStore, NoBuild, repo_key
from .emulation import ConfiguredEmulation, Route, route
from .messages import Request, Response

DEFAULT_REPO_TOKEN = "coveralls-repo-token"  # noqa: S105 - the sandbox's well-known test token

NO_REPOSITORY = "Couldn't find a repository matching this job."
NO_BUILD = "No build matching CI build number found"
ALREADY_CLOSED = "Build has already been closed"
NO_PAYLOAD = 'Missing payload: send {"payload":{"build_num":"<CI build number>","status":"done"}}.'
NO_BUILD_NUM = "Missing payload.build_num: the CI build number (service_number) the parallel jobs used."

_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def closed_message(number: object) -> str:
    """What Coveralls answers when a job is sent to a build that is already closed."""
    return (
        f"Can't add a job to a build that is already closed. Build {number} is closed. "
        "See docs.coveralls.io/parallel-builds"
    )


class CoverallsError(ValueError):
    """An upload or webhook call Coveralls would refuse (422); the message is what it answers."""


def _normalise_base_url(url: object) -> Optional[str]:
    if url is None or url == "":
        return None
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", url):
        raise ValueError(f"base_url must be an http(s) URL such as https://coveralls.example, not {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True)
class CoverallsConfig:
    """How the emulated Coveralls behaves.

    - ``repo_tokens``: the repo tokens accepted (one repository each).
    - ``base_url``: the base of the ``url`` fields in answers; None = the URL the request came to.
    - ``private_builds``: whether ``GET /builds/<id or sha>.json`` needs a known ``?repo_token=``.
    """

    repo_tokens: tuple = (DEFAULT_REPO_TOKEN,)
    base_url: Optional[str] = None
    private_builds: bool = False

    def __post_init__(self) -> None:
        tokens = self.repo_tokens
        if isinstance(tokens, (str, bytes)) or not all(isinstance(token, str) and token for token in tokens):
            raise ValueError("repo_tokens must be a collection of non-empty strings")
        object.__setattr__(self, "repo_tokens", tuple(dict.fromkeys(tokens)))
        object.__setattr__(self, "base_url", _normalise_base_url(self.base_url))
        if not isinstance(self.private_builds, bool):
            raise ValueError(f"private_builds must be true or false, not {self.private_builds!r}")

    def accepts(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        return any(hmac.compare_digest(token.encode(), known.encode()) for known in self.repo_tokens)

    def public(self) -> dict[str, Any]:
        """The configuration without the tokens."""
        return {"repo_tokens": len(self.repo_tokens), "base_url": self.base_url, "private_builds": self.private_builds}

    def with_changes(self, changes: dict[str, Any]) -> CoverallsConfig:
        names = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown Coveralls setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **changes)


class CoverallsEmulation(ConfiguredEmulation):
    """Coveralls' job upload and parallel build webhook; builds are kept in memory."""

    name = "coveralls"
    config_type = CoverallsConfig
    title = "Coveralls parallel builds"

    def __init__(self, config: CoverallsConfig | None = None) -> None:
        super().__init__(config)
        self.store = CoverallsStore()
        #: The base of ``url`` fields when there is no request to take it from (set by the Sandbox).
        self.default_base_url = ""
        self._routes = [
            route("POST", r"/api/v1/jobs/?", self.post_job),
            route("POST", r"/webhook/?", self.post_webhook),
            route("GET", r"/builds/(?P<id>[0-9]{1,18})/?", self.get_build),
            route("GET", r"/builds/(?P<key>[^/]+)\.json", self.get_build_json),
            route("GET", r"/jobs/(?P<id>[0-9]{1,18})/?", self.get_job),
        ]

    # -- test accessors ------------------------------------------------------------------------
    def register_job(
        self,
        build_num: object,
        flag_name: str | None = None,
        repo_token: str = DEFAULT_REPO_TOKEN,
        parallel: bool = True,
        *,
        commit_sha: str | None = None,
        branch: str | None = None,
        source_files: list | None = None,
    ) -> dict[str, Any]:
        """Add a job as an upload would; returns the job with its ``url``.  ``commit_sha`` and ``branch`` are
        the upload's ``git.head.id`` and ``git.branch``; ``source_files`` its
        ``[{"name": "src/a.py", "coverage": [None, 1, 0, ...]}, ...]`` (the build's coverage merges them per
        line).  Raises :class:`CoverallsError` when Coveralls would refuse it (unknown token, closed build),
        ValueError when ``source_files`` is not a list."""
        document: dict[str, Any] = {
            "service_number": build_num,
            "flag_name": flag_name,
            "parallel": parallel,
            "service_name": "sandbox",
            "source_files": source_files,
            "git": {"head": {"id": commit_sha}, "branch": branch},
        }
        summary, lines = read_job(document)
        return self._with_urls(self._add_job(repo_token, summary, lines), self._base())

    def build_json(self, build_num: object, repo_token: str = DEFAULT_REPO_TOKEN) -> dict[str, Any] | None:
        """What ``GET /builds/<id>.json`` answers for the build of this CI build number and repository (None
        when there is none): ``covered_percent`` and ``coverage_change`` are None until it is closed."""
        build = self.build(build_num, repo_token)
        return None if build is None else build_document(build)

    def builds(self) -> list[dict[str, Any]]:
        """Every build (every repository), newest first, with its jobs and ``url``s."""
        base = self._base()
        return [self._with_urls(build, base) for build in self.store.builds()]

    def build(self, build_num: object, repo_token: str = DEFAULT_REPO_TOKEN) -> dict[str, Any] | None:
        """The build of this CI build number and repository, or None: ``id``, ``number``, ``closed``,
        ``jobs`` (each with ``flag_name``...), ``carryforward`` (flags the webhook named), ``carried``
        (those not uploaded, each with the earlier build it came from), ``closes``, ``url``..."""
        number = text_field(build_num)
        if number is None:
            return None
        build = self.store.find(repo_key(repo_token), number)
        return None if build is None else self._with_urls(build, self._base())

    # -- Emulation -----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return self._routes

    def reset(self) -> None:
        self.store.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"builds": self.builds(), "config": self.public_config()}

    def html(self) -> str:
        from .coveralls_html import render

        return render(self.store.builds(), self.public_config())

    # -- shared --------------------------------------------------------------------------------
    def _base(self, request: Request | None = None) -> str:
        if self._config.base_url:
            return self._config.base_url
        host = request.headers.get("Host", "").strip() if request is not None else ""
        if host and _HOST.fullmatch(host):
            return f"http://{host}"
        return self.default_base_url

    @staticmethod
    def _with_urls(item: dict[str, Any], base: str) -> dict[str, Any]:
        """A build (with its jobs) or a job, with ``url`` fields added."""
        if "jobs" in item:
            item["url"] = f"{base}/builds/{item['id']}"
            for job in item["jobs"]:
                job["url"] = f"{base}/jobs/{job['id']}"
        else:
            item["url"] = f"{base}/jobs/{item['id']}"
        return item

    def _add_job(self, token: object, summary: dict[str, Any], lines: dict | None = None) -> dict[str, Any]:
        if not self._config.accepts(token):
            raise CoverallsError(NO_REPOSITORY)
        fields = {name: value for name, value in summary.items() if name not in ("service_number", "parallel")}
        try:
            job = self.store.add_job(
                repo_key(str(token)), summary["service_number"], fields, summary["parallel"], lines
            )
        except BuildClosed as exc:
            raise CoverallsError(closed_message(exc.build["number"])) from None
        job["message"] = f"Job ##{job['build_num'] or job['build_id']}.{job['number']}"
        return job

    # -- POST /api/v1/jobs ---------------------------------------------------------------------
    def post_job(self, request: Request) -> Response:
        try:
            document = read_upload(request)
            if not self._config.accepts(document.get("repo_token")):
                raise CoverallsError(NO_REPOSITORY)
            job = self._add_job(document.get("repo_token"), *read_job(document))
        except (PayloadError, CoverallsError) as exc:
            return Response(422, {"message": str(exc), "error": True})
        return Response(200, {"message": job["message"], "url": f"{self._base(request)}/jobs/{job['id']}"})

    # -- POST /webhook -------------------------------------------------------------------------
    def post_webhook(self, request: Request) -> Response:
        problem = None
        try:
            body = read_webhook(request)
        except PayloadError as exc:
            body, problem = {}, str(exc)
        token = request.query.get("repo_token") or body.get("repo_token")
        if not self._config.accepts(token):
            return _webhook_error(NO_REPOSITORY)
        if problem:
            return _webhook_error(problem)
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return _webhook_error(NO_PAYLOAD)
        number = text_field(payload.get("build_num"))
        if number is None:
            return _webhook_error(NO_BUILD_NUM)
        if payload.get("status") != "done":
            return _webhook_error(f'payload.status must be "done", not {payload.get("status")!r}.')
        carryforward = flag_list(request.query.get("carryforward") or body.get("carryforward"))
        try:
            build = self.store.close(repo_key(str(token)), number, carryforward)
        except NoBuild:
            return _webhook_error(NO_BUILD)
        except BuildClosed:
            return _webhook_error(ALREADY_CLOSED)
        return Response(
            200,
            {
                "done": True,
                "url": f"{self._base(request)}/builds/{build['id']}",
                "jobs": build["job_count"],
            },
        )

    # -- pages ---------------------------------------------------------------------------------
    def get_build(self, request: Request) -> Response:
        from .coveralls_html import build_page, html_response

        build = self.store.build(int(request.params["id"]))
        if build is None:
            return Response(404, {"error": f"No build with id {request.params['id']} in this sandbox."})
        build = self._with_urls(build, self._base(request))
        return Response(200, build) if _wants_json(request) else html_response(build_page(build))

    def get_build_json(self, request: Request) -> Response:
        """A build's coverage by build id or commit sha; 404 with an HTML page for anything not found."""
        from .coveralls_coverage import not_found_page
        from .coveralls_html import html_response

        token = request.query.get("repo_token")
        repo = repo_key(token) if self._config.accepts(token) else None
        key = lookup_key(request.params["key"])
        build = None
        if key is not None and (repo is not None or not self._config.private_builds):
            build = self.store.lookup(key, repo)
        if build is None:
            return html_response(not_found_page(), 404)
        return Response(200, build_document(build))

    def get_job(self, request: Request) -> Response:
        from .coveralls_html import html_response, job_page

        job = self.store.job(int(request.params["id"]))
        if job is None:
            return Response(404, {"error": f"No job with id {request.params['id']} in this sandbox."})
        job = self._with_urls(job, self._base(request))
        return Response(200, job) if _wants_json(request) else html_response(job_page(job))


def _webhook_error(message: str) -> Response:
    return Response(422, {"error": message})


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("Accept", "").lower()
    return "json" in accept and "text/html" not in accept
