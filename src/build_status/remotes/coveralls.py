"""Coveralls' Parallel Build Webhook: close a parallel build so Coveralls computes the aggregate; then read
the aggregate.

``POST <endpoint>/webhook?repo_token=…&carryforward=…`` with ``{"payload":{"build_num":…,"status":"done"}}``.
The repo token travels in the query string, so no URL of these requests is ever put in a message.

The build's coverage comes from its JSON (``GET <build page>.json``, else ``<endpoint>/builds/<commit>.json``;
``covered_percent`` and ``coverage_change``). No Coveralls document describes it (public clients use it), so
what it answers is read warily; the repo token goes along (``?repo_token=``) for private repositories, and
only to the endpoint's own host.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests

from ..errors import RemoteError, sentence
from ..model.coverage import CoverallsCoverage
from ..redaction import cut
from ..transport import answers
from ..transport.deadline import Deadline
from ..transport.failures import no_answer
from ..transport.session import request
from .interface import Request

NO_BUILD = "no build matching"
CLOSED_WORDS = ("already closed", "already been closed", "is closed")
UNKNOWN_REPO = "couldn't find a repository"


class CoverageNotReady(RemoteError):
    """Coveralls answered the build's JSON, but without a coverage yet (it computes it after the close)."""


class Closed(NamedTuple):
    url: str
    jobs: int | None
    #: True when a retry met a build that the first, interrupted attempt had closed already.
    closed_before: bool = False


def close_request(endpoint: str, repo_token: str, build_number: str, carryforward: tuple[str, ...]) -> Request:
    """The webhook request that closes parallel build ``build_number`` (what a dry run shows, and sends)."""
    params = {"repo_token": repo_token}
    shown = "repo_token=***"
    if carryforward:
        params["carryforward"] = ",".join(carryforward)
        shown += f"&carryforward={params['carryforward']}"
    return Request(
        "POST",
        f"{endpoint.rstrip('/')}/webhook",
        {"payload": {"build_num": build_number, "status": "done"}},
        params=params,
        shown_query=shown,
        shown_lines=("Content-Type: application/json",),
        what=f"closing build {build_number}",
    )


def coverage_request(endpoint: str, repo_token: str, build_url: str, commit: str) -> Request:
    """The GET of a closed build's JSON: its page's (when the webhook named one on the endpoint's host), else
    the commit's."""
    endpoint = endpoint.rstrip("/")
    page = urlsplit(build_url)
    if page.netloc == urlsplit(endpoint).netloc and re.search(r"/builds/[^/]+/?$", page.path):
        url = f"{page.scheme}://{page.netloc}{page.path.rstrip('/')}.json"
    else:
        url = f"{endpoint}/builds/{commit}.json"
    return Request(
        "GET",
        url,
        params={"repo_token": repo_token},
        shown_query="repo_token=***",
        shown_lines=("Accept: application/json",),
        what="reading the build's coverage",
        commit=commit,
    )


class Coveralls:
    def __init__(self, session: requests.Session, deadline: Deadline, endpoint: str, repo_token: str) -> None:
        self.session = session
        self.deadline = deadline
        self.endpoint = endpoint.rstrip("/")
        self.repo_token = repo_token
        self.host = urlsplit(endpoint).netloc

    def close(self, build_number: str, carryforward: tuple[str, ...]) -> Closed:
        sent = close_request(self.endpoint, self.repo_token, build_number, carryforward)
        try:
            response = request(
                self.session,
                self.deadline,
                sent.method,
                sent.url,
                params=sent.params,
                json=sent.body,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise RemoteError(
                no_answer(
                    "Coveralls",
                    sent.url,
                    f"closing build {build_number}",
                    exc,
                    "coveralls-endpoint",
                    landed="The build may have been closed; the answer could not be read.",
                )
            ) from None
        return interpret(response, build_number, self.endpoint)

    def coverage(self, build_url: str, commit: str) -> CoverallsCoverage:
        """The closed build's aggregate coverage; RemoteError when Coveralls does not give it."""
        sent = coverage_request(self.endpoint, self.repo_token, build_url, commit)
        try:
            response = request(
                self.session, self.deadline, "GET", sent.url, params=sent.params, headers={"Accept": "application/json"}
            )
        except requests.RequestException as exc:
            raise RemoteError(no_answer("Coveralls", sent.url, sent.what, exc, "coveralls-endpoint")) from None
        return read_build_json(response, build_url, self.endpoint)


def read_build_json(response: requests.Response, build_url: str, endpoint: str = "") -> CoverallsCoverage:
    """A 200 whose JSON holds ``covered_percent`` (0–100); ``coverage_change`` when it is a number."""
    data = answers.parse_json(response)
    if response.status_code == 200 and isinstance(data, dict):
        percent, change = data.get("covered_percent"), data.get("coverage_change")
        if _number(percent) and 0 <= percent <= 100:
            _, url = answers.link(data.get("url"))
            return CoverallsCoverage(float(percent), float(change) if _number(change) else None, url or build_url)
        if "covered_percent" in data:
            raise CoverageNotReady(
                f"Coveralls gave no coverage for the build yet (covered_percent is {cut(repr(percent), 40)}).",
                status=response.status_code,
            )
    raise RemoteError(
        f"Coveralls answered {response.status_code} while reading the build's coverage: "
        f"{cut(_message(response, data, endpoint), 300)}",
        status=response.status_code,
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not nan


def interpret(response: requests.Response, build_number: str, endpoint: str = "") -> Closed:
    """A 2xx whose body says ``done: true`` is success; anything else is a failure, whatever its code."""
    data = answers.parse_json(response)
    error = data.get("error") if isinstance(data, dict) else None
    if 200 <= response.status_code < 300 and isinstance(data, dict) and data.get("done") is True and not error:
        _, url = answers.link(data.get("url"))  # server data: used only when it is an http(s) link
        jobs = (
            data.get("jobs") if isinstance(data.get("jobs"), int) and not isinstance(data.get("jobs"), bool) else None
        )
        return Closed(url=url, jobs=jobs)
    message = _message(response, data, endpoint)
    if _retried(response) and any(word in message.lower() for word in CLOSED_WORDS):
        # Our first attempt closed it, but its answer was lost (connection reset, 502 from a proxy).
        return Closed(url="", jobs=None, closed_before=True)
    raise RemoteError(_explain(response.status_code, message, build_number), status=response.status_code)


def _message(response: requests.Response, data: Any, endpoint: str = "") -> str:
    if isinstance(data, dict):
        for field in ("error", "message"):
            value = data.get(field)
            if isinstance(value, str) and value:
                return value
        if data.get("done") is False:
            return "Coveralls answered done: false"
    return answers.unexpected(
        response, service="Coveralls", endpoint=endpoint, input_name="coveralls-endpoint", limit=400
    )


def _explain(status: int, message: str, build_number: str) -> str:
    lowered = message.lower()
    text = sentence(f"Coveralls answered {status} while closing parallel build {build_number}: {cut(message, 300)}")
    if NO_BUILD in lowered:
        return (
            f"{text} The build number sent was '{build_number}': it must equal the build number the parallel "
            "jobs uploaded with (the official Coveralls action uses ${{ github.run_id }}, this input's default; "
            "if the jobs append -${{ github.run_attempt }} or set their own, set coveralls-build-number to "
            "the same value), and at least one parallel job must have uploaded with parallel: true."
        )
    if any(word in lowered for word in CLOSED_WORDS):
        return (
            f"{text} Build '{build_number}' was closed already, usually by an earlier attempt of this workflow "
            "run: a re-run uploads into the same build number. Give every parallel job and this step a build "
            "number that includes the attempt, e.g. ${{ github.run_id }}-${{ github.run_attempt }}."
        )
    if UNKNOWN_REPO in lowered or status in (401, 403):
        return f"{text} Check coveralls-repo-token (the repository token from Coveralls) and coveralls-endpoint."
    if status == 429 or status >= 500:
        return f"{text} Coveralls stayed unavailable within the timeout; re-run this job to send the webhook again."
    if 300 <= status < 400:
        return f"{text} Check coveralls-endpoint: redirects are not followed."
    return text


def _retried(response: requests.Response) -> bool:
    retries = getattr(response.raw, "retries", None)
    return bool(getattr(retries, "history", ()))
