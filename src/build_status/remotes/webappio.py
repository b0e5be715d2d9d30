"""webapp.io's CI jobs API (formerly LayerCI): find a run, start one, read its Layerfile runners.

- ``GET  <endpoint>/run/<repo>/search?search=<query>&token=…`` → the most recent run matching the query;
- ``POST <endpoint>/run/<repo>?token=…`` with ``branch``, ``ref``, ``accept_buttons``, ``extra`` → a new run;
- ``GET  <endpoint>/runners/<repo>/<uuid>?token=…`` → the run's runners.

Answers are ``{"status":"ok",…}`` or ``{"status":"error","error":"…"}``; the HTTP status code is not
documented, so the body decides.  The token travels in the query string, so no URL of these requests is
ever put in a message.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import quote as quote_path
from urllib.parse import urlsplit

import requests

from ..errors import RemoteError, sentence
from ..redaction import cut
from ..transport import answers
from ..transport.deadline import Deadline
from ..transport.failures import may_have_arrived, no_answer
from ..transport.session import request
from .interface import Request

#: What webapp.io says when nothing matches a search ("There are no runs in … matching the given filters.").
NO_RUNS = re.compile(r"\bno runs?\b", re.IGNORECASE)
_NEEDS_QUOTES = re.compile(r'[\s"\\]')
#: An ``id:<n>`` term of a search query: the answer must be that run.
_ID_TERM = re.compile(r"(?:^|\s)id:(\d{1,30})(?=\s|$)")
#: What is kept of webapp.io's words: a longer calculated status, branch, commit or run page is cut (with
#: "…") as soon as it is read, before it is used anywhere.
STATUS_LIMIT = 64
BRANCH_LIMIT = 255
SHA_LIMIT = 64
#: Run ids beyond this are not webapp.io's (and would not fit a description).
ID_LIMIT = 2**63 - 1


def quote(value: str) -> str:
    """A value for the search language: as it is, or double-quoted (``\\"`` and ``\\\\`` escaped) when it
    has white space, a quote or a backslash."""
    if value and not _NEEDS_QUOTES.search(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_query(*, job_id: str = "", branch: str = "", query: str = "") -> str:
    """The search query for the structured inputs, and the raw query after them (all must hold)."""
    parts = []
    if job_id:
        parts.append(f"id:{job_id}")
    if branch:
        parts.append(f"branch:{quote(branch)}")
    if query:
        parts.append(query)
    return " ".join(parts)


class Run(NamedTuple):
    """A webapp.io CI job, as far as relaying it needs."""

    id: int
    calculated_status: str
    uuid: str = ""
    commit_sha: str = ""
    branch: str = ""
    status_change_time: str = ""
    #: The run's page, as webapp.io gives it (cut to answers.URL_LIMIT): text for the log.
    url: str = ""
    #: The run's page when it can be a link (see answers.link); else "".
    link: str = ""

    @classmethod
    def from_answer(cls, job: Any, what: str) -> Run:
        if not isinstance(job, dict):
            raise RemoteError(f"webapp.io's answer while {what} holds no job object.")
        run_id = job.get("id")
        status = job.get("calculated_status")
        if not isinstance(run_id, int) or isinstance(run_id, bool) or not isinstance(status, str) or not status.strip():
            raise RemoteError(f"webapp.io's answer while {what} has a job without an id or calculated_status.")
        if not 0 <= run_id <= ID_LIMIT:
            raise RemoteError(f"webapp.io's answer while {what} has a job whose id is not a run id.")
        url, link = answers.link(job.get("url"))
        return cls(
            id=run_id,
            calculated_status=cut(status.strip().upper(), STATUS_LIMIT),
            uuid=_text(job.get("uuid")),
            commit_sha=cut(_text(job.get("commit_sha")).lower(), SHA_LIMIT),
            branch=cut(_text(job.get("branch")), BRANCH_LIMIT),
            status_change_time=cut(_text(job.get("status_change_time")), STATUS_LIMIT),
            url=url,
            link=link,
        )


class Runner(NamedTuple):
    """One Layerfile runner of a run."""

    id: str
    path: str
    status: str
    was_retried: bool
    index: int | None


class Created(NamedTuple):
    """webapp.io's answer to starting a run: the run (or only its id) when the answer has it."""

    run: Run | None
    run_id: int | None
    #: The run page, as text and as a link (see :func:`answers.link`).
    url: str
    link: str = ""


class Webappio:
    def __init__(
        self,
        session: requests.Session,
        deadline: Deadline,
        endpoint: str,
        token: str,
        repo: str,
        *,
        create_session: requests.Session | None = None,
    ) -> None:
        self.session = session
        #: Starting a run is not safe to repeat: it goes through a session with the "once" retry policy.
        self.create_session = create_session or session
        self.deadline = deadline
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.repo = repo
        self.host = urlsplit(endpoint).netloc
        #: webapp.io's own words the last time a search found no run.
        self.no_runs = ""

    # -- addresses (without the token) -----------------------------------------------------------
    @property
    def run_url(self) -> str:
        return f"{self.endpoint}/run/{quote_path(self.repo, safe='')}"

    @property
    def search_url(self) -> str:
        return f"{self.run_url}/search"

    def runners_url(self, uuid: str) -> str:
        return f"{self.endpoint}/runners/{quote_path(self.repo, safe='')}/{quote_path(uuid, safe='')}"

    def create_request(self, branch: str, ref: str, accept_buttons: bool, extra: str) -> Request:
        """Starting a run (what a dry run shows, and sends)."""
        body = {"branch": branch}
        if ref:
            body["ref"] = ref
        if accept_buttons:
            body["accept_buttons"] = "true"
        if extra:
            body["extra"] = extra
        shown = ("Content-Type: application/json",)
        return Request("POST", self.run_url, body, shown_query="token=***", shown_lines=shown)

    def search_request(self, query: str) -> Request:
        """Looking for the run matching ``query`` (what a dry run shows, and sends)."""
        params = {"search": query}
        return Request("GET", self.search_url, params=params, shown_query="search=…&token=***",
                       shown_lines=(f"search: {query}",))  # fmt: skip

    # -- calls -----------------------------------------------------------------------------------
    def find(self, query: str) -> Run | None:
        """The most recent run matching ``query``, or None when webapp.io has none (its words: ``no_runs``).

        A query with ``id:<n>`` must be answered with run ``n``: another run is refused (RemoteError).
        """
        what = f"looking for the run matching '{query}'"
        try:
            sent = self.search_request(query)
            data = self._call(self.session, sent.method, sent.url, what, params=sent.params)
        except WebappioError as exc:
            if NO_RUNS.search(exc.server_message):
                self.no_runs = cut(exc.server_message, 300)
                return None
            raise
        run = Run.from_answer(data.get("job"), what)
        asked = {int(number) for number in _ID_TERM.findall(query)}
        if asked and run.id not in asked:
            wanted = " or ".join(f"#{number}" for number in sorted(asked))
            raise WebappioError(
                f"webapp.io answered with run #{run.id} when asked for run {wanted} (search '{query}'); refusing "
                "to relay a run that was not asked for. Check webappio-endpoint: it must be webapp.io's API."
            )
        return run

    def create(self, branch: str, ref: str, accept_buttons: bool, extra: str) -> Created:
        what = f"starting a run on branch '{branch}'"
        sent = self.create_request(branch, ref, accept_buttons, extra)
        try:
            data = self._call(self.create_session, sent.method, sent.url, what, json=sent.body)
        except WebappioError as exc:
            if exc.arrived:
                raise WebappioError(
                    f"{exc.message} The request may have arrived and started a run all the same: look on webapp.io "
                    "before starting another (it is not repeated automatically, so it never starts twice).",
                    status=exc.status,
                ) from None
            raise
        url, link = answers.link(data.get("url"))
        job = data.get("job")
        if isinstance(job, dict):
            run = Run.from_answer(job, what)
            return Created(run=run, run_id=run.id, url=url, link=link)
        for name in ("id", "job_id"):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ID_LIMIT:
                return Created(run=None, run_id=value, url=url, link=link)
        return Created(run=None, run_id=None, url=url, link=link)

    def runners(self, uuid: str) -> list[Runner]:
        data = self._call(self.session, "GET", self.runners_url(uuid), "reading the run's Layerfile runners")
        items = data.get("runners")
        runners = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            index = item.get("runner_index")
            runners.append(
                Runner(
                    id=_text(item.get("id")),
                    path=_text(item.get("layerfile_relative_path")),
                    status=_text(item.get("status")),
                    was_retried=item.get("was_retried") is True,
                    index=index if isinstance(index, int) and not isinstance(index, bool) else None,
                )
            )
        return runners

    def _call(self, session: requests.Session, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        params = {**kwargs.pop("params", {}), "token": self.token}
        try:
            response = request(
                session, self.deadline, method, url, params=params, headers={"Accept": "application/json"}, **kwargs
            )
        except requests.RequestException as exc:
            raise WebappioError(
                no_answer("webapp.io", url, what, exc, "webappio-endpoint"),
                status=-1,
                arrived=may_have_arrived(exc),
            ) from None
        data = answers.parse_json(response)
        if isinstance(data, dict) and data.get("status") == "ok":
            return data
        message = _message(response, data, self.endpoint)
        raise WebappioError(_explain(response, message, what), status=response.status_code, server_message=message)


class WebappioError(RemoteError):
    """webapp.io refused or could not be reached; ``server_message`` is its own words (status -1: no answer)."""

    def __init__(
        self, message: str, *, status: int | None = None, server_message: str = "", arrived: bool = False
    ) -> None:
        super().__init__(message, status=status)
        self.server_message = server_message
        #: No answer could be read, but the request was sent: it may have been carried out.
        self.arrived = arrived


def _message(response: requests.Response, data: Any, endpoint: str = "") -> str:
    if isinstance(data, dict):
        for field in ("error", "message"):
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
        if "status" in data:
            return f"status {data.get('status')!r} without an explanation"
    return answers.unexpected(
        response, service="webapp.io", endpoint=endpoint, input_name="webappio-endpoint", limit=300
    )


def _explain(response: requests.Response, message: str, what: str) -> str:
    status = response.status_code
    text = sentence(f"webapp.io answered {status} while {what}: {cut(message, 300)}")
    lowered = message.lower()
    if status in (401, 403) or "token" in lowered:
        return f"{text} Check webappio-token (an API token from webapp.io's settings)."
    if "repositor" in lowered:
        return f"{text} Check webappio-repo: the repository name as webapp.io shows it."
    if "query" in lowered or "search" in lowered:
        return f"{text} Check webappio-query (webapp.io's search language)."
    if status == 429 or status >= 500:
        return f"{text} webapp.io stayed unavailable within the timeout; try again later."
    if 300 <= status < 400:
        return f"{text} Check webappio-endpoint: redirects are not followed."
    return text


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
