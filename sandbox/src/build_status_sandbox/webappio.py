"""The webapp.io (formerly LayerCI) emulation: the CI-jobs API that finds, starts and inspects runs.

webapp.io serves it at ``https://webapp.io/api/v1``; the sandbox at ``<sandbox url>/webappio/api/v1``.  Every
call carries the API key as the query parameter ``token``.  Clients read the ``status`` field of the answer
(``"ok"`` or ``"error"``), since webapp.io documents no HTTP status codes; the sandbox answers 200 for ok,
401 for a bad token and the configured ``error_http_status`` (400) for every other error:

- ``GET /run/<repo>/search?search=<query>``: the newest job (highest id) of the repository that matches the
  query (see :mod:`build_status_sandbox.webappio_query`), ``{"status": "ok", "job": {...}}``;
- ``POST /run/<repo>`` with an optional JSON body (``branch``, ``ref``, ``accept_buttons``, ``extra``,
  ``skip_no_further_than``): starts a run, ``{"status": "ok", "job": {...}, "url": ".../jobs/<repo>/<id>"}``;
- ``GET /runners/<repo>/<job uuid>``: the job's runners, ``{"status": "ok", "runners": [...]}``.

Each job goes through a *script* of calculated statuses, one step per search answer that returns it, so a
run moves through its statuses as a client polls it.  ``/webappio/jobs/<repo>/<id>`` is a small HTML run page.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import quote as url_quote

from .emulation import ConfiguredEmulation, Route, route
from .messages import BodyError, Request, Response
from .webappio_query import CALCULATED_STATUSES, QueryError, parse
from .webappio_store import WebappioStore

PREFIX = "/webappio/api/v1"
PAGES = "/webappio"
DEFAULT_TOKEN = "webappio-token"  # noqa: S105 - the sandbox's well-known test token
DEFAULT_REPOSITORY = "sandbox-app"
DEFAULT_SCRIPT = ("NEW", "STARTING_RUNNERS", "RUNNING", "SUCCEEDED")
MAIN_RUNNER = "main-layerfile"
MANUAL_RUN = "Manual run created by API"
DEFAULT_BRANCH = "master"

INVALID_TOKEN = "Invalid API token."  # noqa: S105 - a message, not a token
NOT_AN_OBJECT = "The request body must be empty or a JSON object."
BAD_ACCEPT_BUTTONS = 'accept_buttons must be "true" or "false".'

#: What each runner shows while the job is at an early calculated status.
_EARLY_RUNNER_STATUS = {"NEW": "NEW", "STARTING_RUNNERS": "NEW", "RUNNING": "RUNNING"}
#: The status of the last runner when the job ended this way (the others succeeded).
_LAST_RUNNER_STATUS = {"FAILURE": "FAILURE", "RUNNER_ERROR": "ERROR", "RUNNER_CANCELLED": "CANCELLED"}
#: Calculated statuses of jobs that never got runners.
_NO_RUNNERS = ("JOB_ERROR", "BAD_LAYERFILE")

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_HOST = re.compile(r"(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def no_repository(repo: str) -> str:
    return f"There is no repository named {repo}."


def no_runs(repo: str) -> str:
    return f"There are no runs in {repo} matching the given filters."


def no_run_with_uuid(repo: str, job_uuid: str) -> str:
    return f"There is no run for {repo} matching uuid {job_uuid}."


def unknown_ref(ref: str) -> str:
    return f"Unknown ref {ref}."


# -- job fields ----------------------------------------------------------------------------------
def head_sha(repo: str, branch: str) -> str:
    """The sandbox's fake head commit of a branch: sha1 of ``"<repo>/<branch>"``."""
    return hashlib.sha1(f"{repo}/{branch}".encode()).hexdigest()  # noqa: S324 - a name, not security


def internal_status(calculated: str) -> str:
    """The job's ``status`` field: NEW, STARTING_RUNNERS, ERROR (job error, bad Layerfile) or SEE_RUNNERS."""
    if calculated in ("NEW", "STARTING_RUNNERS"):
        return calculated
    if calculated in _NO_RUNNERS:
        return "ERROR"
    return "SEE_RUNNERS"


def layerfile_path(runner: str) -> str:
    """``main-layerfile`` → ``Layerfile``; any other runner ``<name>/Layerfile``."""
    return "Layerfile" if runner == MAIN_RUNNER else f"{runner}/Layerfile"


def runner_statuses(calculated: str, count: int, final: Optional[tuple[str, ...]] = None) -> list[str]:
    """The status of each of ``count`` runners while the job shows ``calculated``; ``final`` (given by a test)
    replaces the derived statuses once the job is done.  Empty when the job never got runners."""
    if calculated in _EARLY_RUNNER_STATUS:
        return [_EARLY_RUNNER_STATUS[calculated]] * count
    if final is not None:
        return list(final)
    if calculated in _NO_RUNNERS or count == 0:
        return []
    if calculated == "SUCCEEDED":
        return ["SUCCESS"] * count
    return ["SUCCESS"] * (count - 1) + [_LAST_RUNNER_STATUS[calculated]]


def go_time(seconds: float) -> str:
    """Epoch seconds as Go prints a ``time.Time`` in UTC: ``2026-11-21 10:11:12.123456 +0000 UTC``."""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + " +0000 UTC"


def job_json(record: dict[str, Any]) -> dict[str, Any]:
    """A stored job as the API shows it."""
    calculated = record["calculated_status"]
    return {
        "repository_name": record["repository_name"],
        "id": record["id"],
        "uuid": record["uuid"],
        "status": internal_status(calculated),
        "calculated_status": calculated,
        "status_change_time": go_time(record["status_changed"]),
        "commit_sha": record["commit_sha"],
        "branch": record["branch"],
        "merge_branch": record["merge_branch"],
        "run_start_reason": record["run_start_reason"],
        "run_start_reason_url": record["run_start_reason_url"],
    }


def runners_json(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored job's runners as ``GET /runners`` shows them, given its current calculated status."""
    names = record["runners"]
    statuses = runner_statuses(record["calculated_status"], len(names), record["runner_statuses"])
    return [
        {
            "id": name,
            "layerfile_relative_path": layerfile_path(name),
            "status": status,
            "was_retried": False,
            "runner_index": index,
        }
        for index, (name, status) in enumerate(zip(names, statuses), start=1)
    ]


# -- validation ----------------------------------------------------------------------------------
def _strings(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a collection of non-empty strings")
    items = tuple(value)
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{name} must be a collection of non-empty strings")
    return tuple(dict.fromkeys(items))


def check_script(script: object, name: str = "script") -> tuple[str, ...]:
    """A script (a calculated status, or a collection of them) as an upper-case tuple; ``ValueError`` if bad."""
    steps = (script,) if isinstance(script, str) else script
    if isinstance(steps, bytes) or not isinstance(steps, Iterable):
        raise ValueError(f"{name} must be a calculated status or a list of them")
    statuses = []
    for step in steps:
        status = step.upper() if isinstance(step, str) else step
        if status not in CALCULATED_STATUSES:
            raise ValueError(f"{name}: {step!r} is not one of {', '.join(CALCULATED_STATUSES)}")
        statuses.append(status)
    if not statuses:
        raise ValueError(f"{name} needs at least one calculated status")
    return tuple(statuses)


def check_runners(runners: object, name: str = "runners") -> tuple[str, ...]:
    """Runner names (unique, non-empty, no control characters); ``ValueError`` if bad."""
    if isinstance(runners, (str, bytes)) or not isinstance(runners, Iterable):
        raise ValueError(f"{name} must be a list of runner names such as {MAIN_RUNNER!r}")
    names = tuple(runners)
    if not all(isinstance(item, str) and item.strip() and not _CONTROL.search(item) for item in names):
        raise ValueError(f"{name} must be non-empty runner names without control characters")
    if len(set(names)) != len(names):
        raise ValueError(f"{name} must not repeat a runner name")
    return names


def _check_repository_name(name: str) -> str:
    if "/" in name or _CONTROL.search(name) or not name.strip():
        raise ValueError(f"a repository name must not be blank or contain '/' or control characters: {name!r}")
    return name


def _normalise_base_url(url: object) -> Optional[str]:
    if url is None or url == "":
        return None
    if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", url):
        raise ValueError(f"base_url must be an http(s) URL such as https://webapp.io, not {url!r}")
    return url.rstrip("/")


def _whole_number(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


@dataclass(frozen=True)
class WebappioConfig:
    """How the emulated webapp.io behaves.

    - ``tokens``: the API tokens accepted (the ``token`` query parameter); never shown, only counted.
    - ``repositories``: the repository names that exist; every other name is refused.
    - ``trigger_script``: the calculated statuses a run started by ``POST /run/<repo>`` goes through.
    - ``trigger_runners``: the runner names of such a run (``main-layerfile`` is ``Layerfile``).
    - ``create_answer_job`` / ``create_answer_url``: whether the create answer carries ``job`` / ``url``.
    - ``create_visible_after``: a started run is left out of this many searches of its repository
      (and its runners are not found meanwhile), like a run that shows up late.
    - ``error_http_status``: the HTTP status of error answers other than a bad token (401); 200-599.
    - ``base_url``: the base of the ``url`` in create answers (``<base>/jobs/<repo>/<id>``); None = the
      sandbox's own run pages, ``http://<Host>/webappio``.
    """

    tokens: tuple = (DEFAULT_TOKEN,)
    repositories: tuple = (DEFAULT_REPOSITORY,)
    trigger_script: tuple = DEFAULT_SCRIPT
    trigger_runners: tuple = (MAIN_RUNNER,)
    create_answer_job: bool = True
    create_answer_url: bool = True
    create_visible_after: int = 0
    error_http_status: int = 400
    base_url: Optional[str] = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "tokens", _strings(self.tokens, "tokens"))
        repositories = _strings(self.repositories, "repositories")
        set_(self, "repositories", tuple(_check_repository_name(name) for name in repositories))
        set_(self, "trigger_script", check_script(self.trigger_script, "trigger_script"))
        set_(self, "trigger_runners", check_runners(self.trigger_runners, "trigger_runners"))
        for name in ("create_answer_job", "create_answer_url"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        _whole_number(self.create_visible_after, "create_visible_after", 0, 1_000_000)
        _whole_number(self.error_http_status, "error_http_status", 200, 599)
        set_(self, "base_url", _normalise_base_url(self.base_url))

    def accepts(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        return any(hmac.compare_digest(token.encode(), known.encode()) for known in self.tokens)

    def public(self) -> dict[str, Any]:
        """The configuration without the tokens (only how many there are)."""
        return {
            "tokens": len(self.tokens),
            "repositories": list(self.repositories),
            "trigger_script": list(self.trigger_script),
            "trigger_runners": list(self.trigger_runners),
            "create_answer_job": self.create_answer_job,
            "create_answer_url": self.create_answer_url,
            "create_visible_after": self.create_visible_after,
            "error_http_status": self.error_http_status,
            "base_url": self.base_url,
        }

    def with_changes(self, changes: dict[str, Any]) -> WebappioConfig:
        names = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown webapp.io setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **changes)


class _Refused(Exception):
    """A create request webapp.io would refuse; the message is the answer's ``error``."""


class WebappioEmulation(ConfiguredEmulation):
    """webapp.io's CI-jobs API (search runs, start a run, list a run's runners); jobs are kept in memory.

    Test accessors:

    - ``add_job(repo="sandbox-app", *, branch="main", commit_sha=None, script=("SUCCEEDED",),
      runners=("main-layerfile",), runner_statuses=None, title="", author="", body="", merge_branch=None,
      run_start_reason="", run_start_reason_url="", visible_after=0)`` stores a job (id: the repository's
      next) and returns its JSON as it stands.  ``commit_sha`` None = the branch's fake head (sha1 of
      ``"<repo>/<branch>"``); ``script`` is a calculated status or a list of them, shown one step per search
      answer that returns the job; ``runner_statuses`` are the runners' statuses once the job is done
      (default: derived from its calculated status); ``title``/``author``/``body`` are what free text and
      phrases are searched in; ``visible_after`` as ``create_visible_after``.  ``ValueError`` when bad
      (unknown repository or status, a sha that is not 40 hex characters...).
    - ``job(repo, id)``: the job's JSON as it stands (nothing advances), or None.
    - ``jobs(repo=None)``: the JSON of every job (of ``repo``), newest first.
    - ``runners(repo, id)``: the job's runners as ``GET /runners`` would show them now, or None.
    - ``created()``: the jobs started by ``POST /run/<repo>``, oldest first: the job's JSON plus the request's
      ``ref`` (None when absent), ``accept_buttons`` (bool), ``extra`` and ``skip_no_further_than`` (None
      when absent).
    - ``polls(repo, id)``: how many search answers returned the job (``KeyError`` for an unknown job).
    - ``reset()``: forget every job (ids start at 1 again); the configuration stays.
    """

    name = "webappio"
    config_type = WebappioConfig
    title = "webapp.io runs"

    def __init__(self, config: WebappioConfig | None = None) -> None:
        super().__init__(config)
        self.store = WebappioStore()
        #: The base of run page URLs when there is no request to take it from (set by the Sandbox).
        self.default_base_url = ""
        repo = r"(?P<repo>[^/]+)"
        self._routes = [
            route("GET", rf"{PREFIX}/run/{repo}/search/?", self.search),
            route("POST", rf"{PREFIX}/run/{repo}/?", self.create),
            route("GET", rf"{PREFIX}/runners/{repo}/(?P<uuid>[^/]+)/?", self.get_runners),
            route("GET", rf"{PAGES}/jobs/{repo}/(?P<id>[0-9]{{1,18}})/?", self.run_page),
        ]

    # -- test accessors ------------------------------------------------------------------------
    def add_job(
        self,
        repo: str = DEFAULT_REPOSITORY,
        *,
        branch: str = "main",
        commit_sha: str | None = None,
        script: Any = ("SUCCEEDED",),
        runners: Any = (MAIN_RUNNER,),
        runner_statuses: Any = None,
        title: str = "",
        author: str = "",
        body: str = "",
        merge_branch: str | None = None,
        run_start_reason: str = "",
        run_start_reason_url: str = "",
        visible_after: int = 0,
    ) -> dict[str, Any]:
        """Store a job (see the class docstring); returns its JSON without advancing it."""
        if repo not in self._config.repositories:
            raise ValueError(no_repository(repo))
        if not isinstance(branch, str) or not branch:
            raise ValueError("branch must be a non-empty string")
        if commit_sha is None:
            commit_sha = head_sha(repo, branch)
        elif not isinstance(commit_sha, str) or not _SHA.fullmatch(commit_sha):
            raise ValueError(f"commit_sha must be 40 hexadecimal characters, not {commit_sha!r}")
        steps = check_script(script)
        names = check_runners(runners)
        final = None
        if runner_statuses is not None:
            if isinstance(runner_statuses, (str, bytes)) or not isinstance(runner_statuses, Iterable):
                raise ValueError("runner_statuses must be a list of runner statuses such as 'SUCCESS'")
            final = tuple(runner_statuses)
            if not all(isinstance(status, str) and status for status in final):
                raise ValueError("runner_statuses must be non-empty strings")
            if len(final) != len(names):
                raise ValueError(f"runner_statuses needs one status per runner ({len(names)}), not {len(final)}")
        texts = {
            "title": title,
            "author": author,
            "body": body,
            "run_start_reason": run_start_reason,
            "run_start_reason_url": run_start_reason_url,
        }
        for name, value in texts.items():
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        if merge_branch is not None and not isinstance(merge_branch, str):
            raise ValueError("merge_branch must be a string or None")
        hidden = _whole_number(visible_after, "visible_after", 0, 1_000_000)
        fields = {
            "branch": branch,
            "merge_branch": branch if merge_branch is None else merge_branch,
            "commit_sha": commit_sha.lower(),
            "runners": names,
            "runner_statuses": final,
            "request": None,
            **texts,
        }
        return job_json(self.store.add(repo, fields, steps, hidden))

    def job(self, repo: str, job_id: int) -> dict[str, Any] | None:
        record = self.store.get(repo, job_id)
        return None if record is None else job_json(record)

    def jobs(self, repo: str | None = None) -> list[dict[str, Any]]:
        return [job_json(record) for record in self.store.records(repo)]

    def runners(self, repo: str, job_id: int) -> list[dict[str, Any]] | None:
        record = self.store.get(repo, job_id)
        return None if record is None else runners_json(record)

    def created(self) -> list[dict[str, Any]]:
        records = [record for record in self.store.records() if record["request"] is not None]
        return [{**job_json(record), **record["request"]} for record in reversed(records)]

    def polls(self, repo: str, job_id: int) -> int:
        record = self.store.get(repo, job_id)
        if record is None:
            raise KeyError(f"no webapp.io job {repo}#{job_id}")
        return record["polls"]

    # -- Emulation -----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return self._routes

    def reset(self) -> None:
        self.store.clear()

    def snapshot(self) -> dict[str, Any]:
        return {"jobs": [self._entry(record) for record in self.store.records()], "config": self.public_config()}

    def html(self) -> str:
        from .webappio_html import render

        return render([self._entry(record) for record in self.store.records()], self.public_config())

    @staticmethod
    def _entry(record: dict[str, Any]) -> dict[str, Any]:
        """A job for the state view and the pages: its JSON, runners, script progress and request options."""
        entry = job_json(record)
        entry.update(
            title=record["title"],
            author=record["author"],
            body=record["body"],
            script=list(record["script"]),
            step=record["step"],
            polls=record["polls"],
            hidden_searches=record["hidden"],
            runners=runners_json(record),
            request=None if record["request"] is None else dict(record["request"]),
        )
        return entry

    # -- shared --------------------------------------------------------------------------------
    def _pages_base(self, request: Request | None = None) -> str:
        """Where run pages are: ``base_url``, else this sandbox's ``/webappio``."""
        if self._config.base_url:
            return self._config.base_url
        host = request.headers.get("Host", "").strip() if request is not None else ""
        if host and _HOST.fullmatch(host):
            return f"http://{host}{PAGES}"
        return self.default_base_url + PAGES

    @staticmethod
    def _error(config: WebappioConfig, message: str) -> Response:
        return Response(config.error_http_status, {"status": "error", "error": message})

    def _refusal(self, request: Request, config: WebappioConfig) -> Response | None:
        """The answer for a bad token or an unknown repository, else None."""
        if not config.accepts(request.query.get("token")):
            return Response(401, {"status": "error", "error": INVALID_TOKEN})
        if request.params["repo"] not in config.repositories:
            return self._error(config, no_repository(request.params["repo"]))
        return None

    # -- GET /run/<repo>/search ----------------------------------------------------------------
    def search(self, request: Request) -> Response:
        config = self._config
        refusal = self._refusal(request, config)
        if refusal is not None:
            return refusal
        repo = request.params["repo"]
        try:
            query = parse(request.query.get("search", ""))
        except QueryError as exc:
            return self._error(config, f"Invalid search query: {exc}")
        record = self.store.search(repo, query.matches)
        if record is None:
            return self._error(config, no_runs(repo))
        return Response(200, {"status": "ok", "job": job_json(record)})

    # -- POST /run/<repo> ----------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        config = self._config
        refusal = self._refusal(request, config)
        if refusal is not None:
            return refusal
        repo = request.params["repo"]
        try:
            options = _read_create(request)
            branch = options["branch"]
            ref = options["ref"]
            if not ref:
                commit_sha = head_sha(repo, branch)
            elif _SHA.fullmatch(ref):
                commit_sha = ref.lower()
            else:
                raise _Refused(unknown_ref(ref))
        except _Refused as exc:
            return self._error(config, str(exc))
        fields = {
            "branch": branch,
            "merge_branch": branch,
            "commit_sha": commit_sha,
            "runners": config.trigger_runners,
            "runner_statuses": None,
            "title": "",
            "author": "",
            "body": "",
            "run_start_reason": MANUAL_RUN,
            "run_start_reason_url": "",
            "request": {
                "ref": ref,
                "accept_buttons": options["accept_buttons"],
                "extra": options["extra"],
                "skip_no_further_than": options["skip_no_further_than"],
            },
        }
        record = self.store.add(repo, fields, config.trigger_script, config.create_visible_after)
        answer: dict[str, Any] = {"status": "ok"}
        if config.create_answer_job:
            answer["job"] = job_json(record)
        if config.create_answer_url:
            answer["url"] = f"{self._pages_base(request)}/jobs/{url_quote(repo, safe='')}/{record['id']}"
        return Response(200, answer)

    # -- GET /runners/<repo>/<uuid> ------------------------------------------------------------
    def get_runners(self, request: Request) -> Response:
        config = self._config
        refusal = self._refusal(request, config)
        if refusal is not None:
            return refusal
        repo, job_uuid = request.params["repo"], request.params["uuid"]
        record = self.store.by_uuid(repo, job_uuid)
        if record is None or record["hidden"] > 0:
            return self._error(config, no_run_with_uuid(repo, job_uuid))
        return Response(200, {"status": "ok", "runners": runners_json(record)})

    # -- the run page --------------------------------------------------------------------------
    def run_page(self, request: Request) -> Response:
        from .coveralls_html import html_response
        from .webappio_html import job_page

        record = self.store.get(request.params["repo"], int(request.params["id"]))
        if record is None:
            message = f"No webapp.io run {request.params['repo']}#{int(request.params['id'])} in this sandbox."
            return Response(404, {"status": "error", "error": message})
        entry = self._entry(record)
        accept = request.headers.get("Accept", "").lower()
        if "json" in accept and "text/html" not in accept:
            return Response(200, entry)
        return html_response(job_page(entry))


def _read_create(request: Request) -> dict[str, Any]:
    """The options of ``POST /run/<repo>``; raises :class:`_Refused` with the message to answer."""
    body: Any = {}
    if request.body.strip():
        try:
            body = request.json()
        except BodyError as exc:
            raise _Refused(str(exc)) from None
    if not isinstance(body, dict):
        raise _Refused(NOT_AN_OBJECT)
    options: dict[str, Any] = {}
    for name in ("branch", "ref", "extra", "skip_no_further_than", "accept_buttons"):
        value = body.get(name)  # null is as good as absent, as for webapp.io's Go decoder
        if value is not None and not isinstance(value, str):
            raise _Refused(BAD_ACCEPT_BUTTONS if name == "accept_buttons" else f"{name} must be a string.")
        options[name] = value
    if options["branch"] is None:
        options["branch"] = DEFAULT_BRANCH
    elif not options["branch"].strip():
        raise _Refused("branch must not be empty.")
    if options["accept_buttons"] not in (None, "true", "false"):
        raise _Refused(BAD_ACCEPT_BUTTONS)
    options["accept_buttons"] = options["accept_buttons"] == "true"
    return options
