"""What a task may ask of a place build statuses go: the interface every Bitbucket flavour implements.

Two halves. Before any request (pure, for the checks and the dry run): which endpoint is known without
asking, how a state fits it, and :meth:`StatusRemote.status_requests`, the one function that turns a build
status into the requests that post it, raising :class:`~build_status.errors.InputError` for what the remote
would refuse. Then, bound to a session (:meth:`StatusRemote.connect`): ask the server which endpoint it
has, send a request, read a commit's statuses back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import requests

    from ..model.status import BuildStatus
    from ..model.tally import Reading
    from ..transport.deadline import Deadline


class Request(NamedTuple):
    """One request as it is sent, and as a dry run shows it."""

    method: str
    url: str
    #: The JSON body, or None.
    body: Any = None
    #: The query sent (may hold a secret: never shown, see ``shown_query``).
    params: Mapping[str, Any] | None = None
    #: The query as a dry run shows it, secrets as ``***`` ("" for none).
    shown_query: str = ""
    #: The lines a dry run shows under it: headers (credentials masked), what it searches for.
    shown_lines: tuple[str, ...] = ()
    #: What the request does, for messages: ``posting SUCCESSFUL``.
    what: str = ""
    #: The commit it is about ("" for none).
    commit: str = ""
    #: The remote's name for where it goes (``builds``), for the remote's own messages.
    endpoint: str = ""
    #: False for a request that adds rather than replaces (Data Center's annotations): the transport must
    #: not send it twice when an answer is lost; the task repeats its whole sequence instead.
    repeatable: bool = True


class Endpoint(NamedTuple):
    """Where a remote posts statuses, once chosen."""

    #: The ``api`` output and what the post stage is told: ``builds``, ``commits``.
    name: str
    #: What messages call it: ``repository-scoped builds endpoint``.
    label: str
    #: Why it was chosen: ``the server offers richBuildStatus``.
    why: str
    #: Whether it takes the states of newer servers (CANCELLED, UNKNOWN).
    newer_states: bool


class StatusRemote(ABC):
    """A Bitbucket that takes build statuses."""

    #: How messages name the server, and which product it is.
    service = "Bitbucket"
    product = "Bitbucket"
    #: Its longest key and name; the defaults are fitted to them.
    key_limit = 255
    name_limit = 255
    #: The longest description every endpoint takes.
    description_limit = 255
    #: What learning the endpoint from the server is called in messages.
    asking = "asking which endpoint to use"

    def __init__(self, base_url: str, auth: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth

    # -- before any request --------------------------------------------------------------------------
    @abstractmethod
    def known_endpoint(self, state: str) -> Endpoint | None:
        """The endpoint when it is known without asking the server; None when the server must be asked."""

    @abstractmethod
    def assumed_endpoint(self) -> Endpoint:
        """The richest endpoint, for checking the inputs before the server is asked."""

    @abstractmethod
    def unasked_endpoint(self) -> tuple[Endpoint, str]:
        """The endpoint a dry run shows when the server is not asked, and a line saying so."""

    @abstractmethod
    def saved_endpoint(self, name: str, newer_states: bool, why: str) -> Endpoint | None:
        """The endpoint a main stage found, from its record (None when it never learnt one)."""

    @abstractmethod
    def check_state(self, state: str, explicit: bool) -> None:
        """Raise InputError for an explicit state no endpoint this configuration could use takes."""

    @abstractmethod
    def fit_state(self, state: str, explicit: bool, endpoint: Endpoint) -> str:
        """The state as ``endpoint`` takes it; an explicit state it cannot take is an InputError."""

    @abstractmethod
    def status_requests(self, endpoint: Endpoint, status: BuildStatus, commits: Sequence[str]) -> list[Request]:
        """The requests that post ``status`` to each commit; InputError for a field the remote would refuse."""

    def _posts(
        self, url_of: Callable[[str], str], body: Any, status: BuildStatus, commits: Sequence[str], endpoint: Endpoint
    ) -> list[Request]:
        """The same status body posted to each commit's address (``url_of(sha)``): what ``status_requests``
        returns once the remote has written its body."""
        shown = (f"Authorization: {self.auth.shown}", "Content-Type: application/json")
        what = f"posting {status.state}"
        return [
            Request("POST", url_of(sha), body, shown_lines=shown, what=what, commit=sha, endpoint=endpoint.name)
            for sha in commits
        ]

    @abstractmethod
    def read_requests(self, commit: str) -> tuple[list[Request], str]:
        """What reading a commit's statuses sends (a dry run shows it), and a note on what may follow."""

    def fitted_note(self, wanted: str, state: str) -> str:
        """The line that says a state was fitted to this remote (``CANCELLED`` posted as ``FAILED``)."""
        return f"{wanted} is not known to this server; posting {state} instead."

    def ignored(self, status: BuildStatus) -> tuple[str, ...]:
        """The inputs behind ``status`` that this remote has no field for (they are not sent)."""
        return ()

    #: Whether this remote, as configured, takes Code Insights reports on a commit.
    takes_reports = False
    #: Whether a 404 to a report may mean the server has no Code Insights at all (an older release).
    reports_optional = False
    #: Why it takes none, as the end of a sentence for messages ("" when it takes them).
    why_no_reports = "this Bitbucket takes no Code Insights reports."

    def report_requests(self, commit: str, report: Any) -> list[Request]:
        """The requests that publish ``report`` (a report with its annotations) on ``commit``, in the order
        they are to be sent (a remote that never de-duplicates annotations deletes the old ones first);
        InputError for what the remote would refuse. Sent, like a status, through
        :meth:`StatusConnection.send`."""
        raise NotImplementedError(f"{type(self).__name__} takes no reports")

    @property
    def reads_by_key(self) -> bool:
        """Whether the gate can ask for one key's status (to read what a list leaves out)."""
        return False

    # -- talking -------------------------------------------------------------------------------------
    @abstractmethod
    def connect(self, session: requests.Session, deadline: Deadline) -> StatusConnection:
        """This remote over a session, bounded by ``deadline``."""


class StatusConnection(ABC):
    """A :class:`StatusRemote` bound to a session."""

    @abstractmethod
    def ask_endpoint(self, state: str) -> Endpoint:
        """Ask the server which endpoint it has (RemoteError when it does not say)."""

    @abstractmethod
    def send(self, request: Request) -> None:
        """Send one request of :meth:`StatusRemote.status_requests` (or ``report_requests``); RemoteError
        unless it landed as the remote's contract says it does."""

    @abstractmethod
    def reader(self, own_key: str, patterns: Sequence[str], console: Any) -> StatusReader:
        """Something that reads a commit's statuses, round after round, for the gate."""


class StatusReader(ABC):
    """Reads a commit's build statuses (remembering what it may between rounds)."""

    @abstractmethod
    def read(self, sha: str) -> Reading:
        """The commit's statuses, the step's own key apart; RemoteError when they cannot be read."""
