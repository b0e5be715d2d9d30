"""Turn raw input strings into validated :class:`Settings`, or raise :class:`InputError` naming the input.

Pure: no I/O but reading the ``ca-cert`` file's existence.  Every rule that can be checked before talking
to a server is checked here, so that a wrong input never sends a request.
"""

from __future__ import annotations

import base64
import math
import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from . import naming
from .context import Context
from .errors import InputError
from .states import INPROGRESS, LEGACY_STATES_SET, NEWER_STATES, STATES, from_job_status, parse_state
from .workflow import cut, escape_controls

SHA_RE = re.compile(r"^[0-9a-fA-F]{40}$")
#: Project keys (``~user`` for personal projects) and repository slugs as Bitbucket allows them.
PROJECT_RE = re.compile(r"^~?[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SLUG_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$", re.IGNORECASE)
DURATION_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}
APIS = ("auto", "commits", "builds")
MAX_TIMEOUT = 6 * 3600
MAX_DURATION_MS = 366 * 24 * 3600 * 1000
#: check-wait: true waits this long (seconds).
DEFAULT_CHECK_WAIT = 30 * 60


class Auth(NamedTuple):
    scheme: str  # "Bearer" or "Basic"
    credential: str  # the token, or the password
    username: str = ""

    @property
    def header(self) -> str:
        if self.scheme == "Bearer":
            return f"Bearer {self.credential}"
        pair = f"{self.username}:{self.credential}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


class BitbucketSettings(NamedTuple):
    """What to post to Bitbucket."""

    base_url: str
    auth: Auth
    commits: tuple[str, ...]
    #: The state asked for, before fitting it to the server (CANCELLED/UNKNOWN may become FAILED).
    state: str
    #: True when ``state`` was given explicitly: then a server that cannot take it is an input error.
    state_explicit: bool
    key: str
    name: str
    url: str
    #: True when ``url`` was given (a relayed webapp.io run's page replaces only the default).
    url_given: bool
    #: Empty: a default is written once the final state is known.
    description: str
    project: str
    repo: str
    api: str
    build_number: str
    ref: str
    parent: str
    duration_ms: int | None
    #: Glob patterns of JUnit XML files whose counts go with the status (none: no counts).
    test_results: tuple[str, ...] = ()
    #: report-job-end: an INPROGRESS posted by the action's main stage is followed by the final state.
    report_end: bool = False
    #: The counts read from the test-results files (a ``junit.TestCounts``), once read: just before the
    #: first request, because the files may be written while the job runs.
    tests: Any = None

    @property
    def repository_scoped(self) -> bool:
        return bool(self.project and self.repo)


class CoverallsSettings(NamedTuple):
    """Closing a Coveralls parallel build."""

    endpoint: str
    repo_token: str
    build_number: str
    carryforward: tuple[str, ...]


class WebappioSettings(NamedTuple):
    """Finding (or starting) a webapp.io CI run and relaying its result."""

    endpoint: str
    token: str
    repo: str
    #: The search query that finds the run (empty when the run is triggered).
    query: str
    trigger: bool
    #: For a triggered run: the branch and ref it checks out, and its options.
    branch: str
    ref: str
    accept_buttons: bool
    extra: str
    wait: bool
    poll_interval: float
    wait_timeout: float


class CheckSettings(NamedTuple):
    """Reading back the commits' build statuses (``check: true``)."""

    #: How long to wait for INPROGRESS builds to end, in seconds (0: do not wait).
    wait: float
    #: How often to read again while waiting, in seconds.
    interval: float
    #: ``check-keys``: patterns (``*`` any characters, ``?`` one) of keys that must have a status.
    keys: tuple[str, ...] = ()


class Settings(NamedTuple):
    """Everything one run does: a Bitbucket status, closing a Coveralls build, or both."""

    bitbucket: BitbucketSettings | None
    coveralls: CoverallsSettings | None
    webappio: WebappioSettings | None
    #: Reading back instead of posting (then ``bitbucket`` says where and which commits).
    check: CheckSettings | None
    #: PEM text of the extra CA certificate(s) to trust, or "".
    ca_cert: str
    insecure: bool
    timeout: float
    fail_on_error: bool
    dry_run: bool
    #: How the program was started: "main" or "post" for the action's stages, "" for the command line.
    stage: str = ""


#: Inputs that say the user wants a Bitbucket status even in a step that closes a Coveralls build.
BITBUCKET_INPUTS = (
    "bitbucket-url",
    "bitbucket-token",
    "bitbucket-username",
    "bitbucket-password",
    "bitbucket-project",
    "bitbucket-repo",
)
#: Inputs that ask for a webapp.io run to be relayed.
WEBAPPIO_INPUTS = ("webappio-token", "webappio-repo", "webappio-job-id", "webappio-branch", "webappio-query")
WEBAPPIO_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
JOB_ID_RE = re.compile(r"^#?([0-9]{1,18})$")


def parse_bool(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InputError(name, f"'{_show(value)}' is not a boolean; use true or false.")


def parse_url(name: str, value: str, *, example: str = "https://bitbucket.example.com", base_only: bool = True) -> str:
    """An http(s) base URL without credentials, query or fragment, and without a trailing slash."""
    text = value.strip()
    if not text:
        raise InputError(name, f"is required: the base URL, e.g. {example}.")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise InputError(name, "must not contain white space or control characters.")
    shown = _show(_without_secrets(text))
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InputError(name, f"'{shown}' is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(name, f"'{shown}' is not an http(s) URL; expected e.g. {example}.")
    if parts.username or parts.password:
        raise InputError(name, "must not contain credentials; use bitbucket-token or bitbucket-username/-password.")
    if parts.query or parts.fragment:
        raise InputError(name, "must not have a query or fragment; give the base URL with any context path.")
    del port
    path = parts.path.rstrip("/")
    if base_only and (path.endswith("/rest") or "/rest/" in path + "/"):
        raise InputError(name, f"should be the base URL without /rest/...; e.g. {example}.")
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_auth(raw: dict[str, str]) -> Auth:
    token = raw["bitbucket-token"].strip()
    username = raw["bitbucket-username"].strip()
    password = raw["bitbucket-password"].strip()
    if token and (username or password):
        raise InputError(
            "bitbucket-token",
            "give either bitbucket-token (Bearer) or bitbucket-username + bitbucket-password (Basic), not both.",
        )
    if token:
        if not all(33 <= ord(ch) <= 126 for ch in token):
            raise InputError(
                "bitbucket-token",
                "must be printable ASCII without spaces or line breaks, as Bitbucket's tokens are; check that "
                "the secret holds only the token.",
            )
        return Auth("Bearer", token)
    for name, value in (("bitbucket-username", username), ("bitbucket-password", password)):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise InputError(name, "must not contain line breaks or control characters.")
    if ":" in username:
        raise InputError("bitbucket-username", "must not contain ':' (it separates user and password in Basic auth).")
    if username and password:
        return Auth("Basic", password, username)
    if username:
        raise InputError(
            "bitbucket-password", "is required with bitbucket-username (a password or personal access token)."
        )
    if password:
        raise InputError("bitbucket-username", "is required with bitbucket-password.")
    raise InputError(
        "bitbucket-token",
        "no credentials: set bitbucket-token (HTTP access token, sent as Bearer) "
        "or bitbucket-username + bitbucket-password.",
    )


def parse_commits(value: str) -> tuple[str, ...]:
    words = [word for word in re.split(r"[\s,]+", value.strip()) if word]
    if not words:
        raise InputError("commit", "is empty: give the full 40-character SHA of the commit to report on.")
    commits: list[str] = []
    for word in words:
        if not SHA_RE.match(word):
            raise InputError("commit", f"'{_show(word)}' is not a full 40-character hexadecimal commit SHA.")
        if word.lower() not in commits:
            commits.append(word.lower())
    return tuple(commits)


def parse_wanted_state(raw: dict[str, str]) -> tuple[str, bool]:
    """The state asked for, and whether it was explicit (``state``) rather than mapped (``job-status``)."""
    given = raw["state"].strip()
    if given:
        state = parse_state(given)
        if state is None:
            raise InputError("state", f"'{_show(given)}' is not a build state; use one of {', '.join(STATES)}.")
        return state, True
    status = raw["job-status"].strip()
    if not status:
        raise InputError("state", f"is empty and so is job-status: give a state ({', '.join(STATES)}) or a job-status.")
    state = from_job_status(status)
    if state is None:
        raise InputError("job-status", f"'{_show(status)}' is not a job status; use success, failure or cancelled.")
    return state, False


def parse_timeout(value: str) -> float:
    text = value.strip().lower().removesuffix("s").strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds <= MAX_TIMEOUT):
        raise InputError("timeout", f"'{_show(value)}' is not a number of seconds between 0 and {MAX_TIMEOUT}.")
    return seconds


def parse_seconds(name: str, value: str, *, minimum: float, maximum: float) -> float:
    """A length of time: seconds, or a number with ms, s, m or h; between ``minimum`` and ``maximum``."""
    match = DURATION_RE.match(value.strip())
    seconds = math.nan
    if match:
        seconds = float(match.group(1)) * DURATION_UNITS_MS[(match.group(2) or "s").lower()] / 1000
    if not (minimum <= seconds <= maximum):
        raise InputError(
            name,
            f"'{_show(value)}' is not a length of time between {minimum:g} s and {maximum:g} s "
            "(give seconds, or a number with ms, s, m or h: 15s, 2m).",
        )
    return seconds


def parse_duration(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    match = DURATION_RE.match(text)
    if not match:
        raise InputError("duration", f"'{_show(text)}' is not a duration; use milliseconds (90000) or 90s, 1.5m, 1h.")
    unit = (match.group(2) or "ms").lower()
    milliseconds = float(match.group(1)) * DURATION_UNITS_MS[unit]
    if not milliseconds <= MAX_DURATION_MS:
        raise InputError("duration", f"'{_show(text)}' is longer than a year; give the build's real duration.")
    return round(milliseconds)


def parse_ca_cert(value: str) -> str:
    """The PEM text given, or read from the file named (checked to hold at least one certificate)."""
    text = value.strip()
    if not text:
        return ""
    if "-----BEGIN" in text:
        pem = text
    else:
        try:
            with open(text, encoding="utf-8", errors="replace") as handle:
                pem = handle.read()
        except (OSError, ValueError):  # ValueError: a NUL byte in the path
            raise InputError(
                "ca-cert", f"no readable file at '{_show(text)}'; give a path to a PEM file or the PEM text itself."
            ) from None
    if "-----BEGIN CERTIFICATE-----" not in pem or "-----END CERTIFICATE-----" not in pem:
        raise InputError(
            "ca-cert", "holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)."
        )
    return pem.strip() + "\n"


def parse_settings(raw: dict[str, str], context: Context) -> Settings:
    """Validate every input; raises :class:`InputError` for the first one that is wrong."""
    closing = parse_bool("coveralls-parallel-finished", raw["coveralls-parallel-finished"])
    trigger = parse_bool("webappio-trigger", raw["webappio-trigger"])
    relaying = trigger or any(raw[name].strip() for name in WEBAPPIO_INPUTS)
    check = parse_check(raw)
    if check and relaying:
        raise InputError("check", "reads statuses back; it cannot relay a webapp.io run in the same step (use two).")
    wants_bitbucket = check or not (closing or relaying) or any(raw[name].strip() for name in BITBUCKET_INPUTS)
    bitbucket = parse_bitbucket(raw, context, relay=relaying, check=bool(check)) if wants_bitbucket else None
    if raw["test-results"].strip() and (check or relaying or not bitbucket):
        doing = "check: true reads statuses" if check else "a relayed webapp.io run brings its own result"
        if not (check or relaying):
            doing = "no Bitbucket status is posted in this step"
        raise InputError("test-results", f"has nothing to go with: {doing}. Give it to the step that posts the status.")
    if check and bitbucket and bitbucket.key in check.keys:
        raise InputError(
            "check-keys",
            f"'{_show(bitbucket.key)}' is this step's own key, which the check leaves out (a gate does not wait "
            "for itself), so it can never be matched; name the other jobs' keys.",
        )
    webappio = parse_webappio(raw, context, trigger, bitbucket) if relaying else None
    coveralls = parse_coveralls(raw) if closing else None
    return Settings(
        bitbucket=bitbucket,
        coveralls=coveralls,
        webappio=webappio,
        check=check,
        ca_cert=parse_ca_cert(raw["ca-cert"]),
        insecure=parse_bool("insecure", raw["insecure"]),
        timeout=parse_timeout(raw["timeout"]),
        fail_on_error=parse_bool("fail-on-error", raw["fail-on-error"]),
        dry_run=parse_bool("dry-run", raw["dry-run"]),
    )


def parse_check(raw: dict[str, str]) -> CheckSettings | None:
    """``check``, ``check-wait``, ``check-interval`` and ``check-keys``; None when the step posts rather than
    checks."""
    checking = parse_bool("check", raw["check"])
    wait_text = raw["check-wait"].strip()
    word = wait_text.lower()
    if word in FALSE_WORDS:
        wait = 0.0
    elif word in TRUE_WORDS:
        wait = DEFAULT_CHECK_WAIT
    else:
        wait = parse_seconds("check-wait", wait_text, minimum=1, maximum=MAX_TIMEOUT)
    interval = parse_seconds("check-interval", raw["check-interval"], minimum=0.1, maximum=600)
    keys = parse_key_patterns(raw["check-keys"])
    if not checking:
        if wait:
            raise InputError("check-wait", "is only used with check: true (reading the statuses back).")
        if keys:
            raise InputError(
                "check-keys", "is only used with check: true (the keys a gate requires); set check: true or drop it."
            )
        return None
    return CheckSettings(wait=wait, interval=interval, keys=keys)


def parse_key_patterns(value: str) -> tuple[str, ...]:
    """``check-keys``: key patterns (:func:`parse_patterns`), each at most as long as a key."""
    patterns = parse_patterns(value, "check-keys", what="key pattern")
    for pattern in patterns:
        if len(pattern) > naming.KEY_LIMIT:
            raise InputError(
                "check-keys",
                f"'{_show(pattern)}' is longer than {naming.KEY_LIMIT} characters, the longest key Bitbucket keeps.",
            )
    return patterns


def _split_outside_brackets(text: str) -> list[str]:
    """``a, b[x=1,y=2]`` → ``["a", " b[x=1,y=2]"]``: commas split, but not inside square brackets."""
    words, depth, start = [], 0, 0
    for position, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        elif ch == "," and not depth:
            words.append(text[start:position])
            start = position + 1
    words.append(text[start:])
    return words


def parse_bitbucket(
    raw: dict[str, str], context: Context, *, relay: bool = False, check: bool = False
) -> BitbucketSettings:
    """The Bitbucket part; with ``relay`` the state comes from a webapp.io run, not from state/job-status;
    with ``check`` nothing is posted, so no state or URL is needed."""
    base_url = parse_url("bitbucket-url", raw["bitbucket-url"])
    auth = parse_auth(raw)
    commits = parse_commits(raw["commit"])
    if check:
        if raw["state"].strip():
            raise InputError("state", "must be empty with check: true, which reads the statuses rather than posting.")
        state, explicit = INPROGRESS, False
    elif relay:
        if raw["state"].strip():
            raise InputError(
                "state", "must be empty when a webapp.io run is relayed: the run's result gives the state."
            )
        state, explicit = INPROGRESS, False
    else:
        state, explicit = parse_wanted_state(raw)

    project = raw["bitbucket-project"].strip()
    repo = raw["bitbucket-repo"].strip()
    if project and not PROJECT_RE.match(project):
        raise InputError(
            "bitbucket-project", f"'{_show(project)}' is not a Bitbucket project key (e.g. PROJ or ~user)."
        )
    if repo and not SLUG_RE.match(repo):
        raise InputError("bitbucket-repo", f"'{_show(repo)}' is not a repository slug (letters, digits, . _ -).")
    if bool(project) != bool(repo):
        missing = "bitbucket-repo" if project else "bitbucket-project"
        raise InputError(missing, "is required too: bitbucket-project and bitbucket-repo go together.")

    api = raw["bitbucket-api"].strip().lower() or "auto"
    if api not in APIS:
        raise InputError("bitbucket-api", f"'{_show(api)}' is not one of {', '.join(APIS)}.")
    if api == "builds" and not project:
        raise InputError("bitbucket-project", "is required with bitbucket-api: builds (with bitbucket-repo).")
    if explicit and state in NEWER_STATES and (api == "commits" or (api == "auto" and not project)):
        raise InputError(
            "state",
            f"{state} is taken only by the repository-scoped endpoint (Bitbucket 8.0+); set bitbucket-project "
            f"and bitbucket-repo, or use one of {', '.join(sorted(LEGACY_STATES_SET))}.",
        )

    try:
        matrix = naming.parse_matrix(raw["matrix"])
    except (ValueError, RecursionError):
        raise InputError("matrix", "is not a JSON object; leave it at its default ${{ toJSON(matrix) }}.") from None

    key = raw["key"].strip()
    key_given = bool(key)
    webappio_repo = raw["webappio-repo"].strip()
    if not key:
        key = naming.webappio_key(webappio_repo) if relay else naming.default_key(context, matrix)
    url_given = bool(raw["url"].strip())
    url = raw["url"].strip() or context.run_url
    if not url and not (relay or check):
        raise InputError("url", "is required outside GitHub Actions: the link to this build's page.")
    ref = raw["ref"].strip()
    parent = raw["parent"].strip()
    if not parent and not key_given and matrix and not relay:
        parent = naming.job_id(context)
    name = raw["name"].strip() or (
        naming.webappio_name(webappio_repo) if relay else naming.default_name(context, matrix)
    )

    return BitbucketSettings(
        base_url=base_url,
        auth=auth,
        commits=commits,
        state=state,
        state_explicit=explicit,
        key=key,
        name=name,
        url=url,
        url_given=url_given,
        description=raw["description"].strip(),
        project=project,
        repo=repo,
        api=api,
        build_number=raw["build-number"].strip(),
        ref=ref,
        parent=parent,
        duration_ms=parse_duration(raw["duration"]),
        test_results=parse_patterns(raw["test-results"]),
        report_end=parse_bool("report-job-end", raw["report-job-end"]),
    )


def parse_coveralls(raw: dict[str, str]) -> CoverallsSettings:
    token = raw["coveralls-repo-token"].strip()
    if not token:
        raise InputError(
            "coveralls-repo-token",
            "is required with coveralls-parallel-finished: true (the repository token from the repository's "
            "settings page on Coveralls).",
        )
    endpoint = parse_url(
        "coveralls-endpoint", raw["coveralls-endpoint"], example="https://coveralls.io", base_only=False
    )
    number = raw["coveralls-build-number"].strip()
    if not number:
        raise InputError(
            "coveralls-build-number",
            "is empty: give the build number the parallel jobs uploaded with (on GitHub, ${{ github.run_id }}).",
        )
    if len(number) > 255 or any(ord(ch) < 32 for ch in number):
        raise InputError(
            "coveralls-build-number", f"'{_show(number)}' is not a build number (one line, at most 255 characters)."
        )
    return CoverallsSettings(endpoint, token, number, parse_flags(raw["coveralls-carryforward"]))


def parse_webappio(
    raw: dict[str, str], context: Context, trigger: bool, bitbucket: BitbucketSettings | None
) -> WebappioSettings:
    """The webapp.io part: where the run is, how to find or start it, how long to wait for it."""
    from .webappio import build_query

    token = raw["webappio-token"].strip()
    if not token:
        raise InputError("webappio-token", "is required to relay a webapp.io run: the API token from webapp.io.")
    if any(ch.isspace() or ord(ch) < 32 for ch in token):
        raise InputError("webappio-token", "must not contain white space or control characters.")
    repo = raw["webappio-repo"].strip()
    if not repo:
        raise InputError("webappio-repo", "is required to relay a webapp.io run: the repository name webapp.io uses.")
    if not WEBAPPIO_REPO_RE.match(repo):
        raise InputError(
            "webappio-repo", f"'{_show(repo)}' is not a webapp.io repository name (letters, digits, . _ -)."
        )
    endpoint = parse_url(
        "webappio-endpoint", raw["webappio-endpoint"], example="https://webapp.io/api/v1", base_only=False
    )

    job_id = raw["webappio-job-id"].strip()
    if job_id:
        match = JOB_ID_RE.match(job_id)
        if not match or int(match.group(1)) < 1:
            raise InputError("webappio-job-id", f"'{_show(job_id)}' is not a run id; give the run's number, e.g. 42.")
        job_id = str(int(match.group(1)))
    branch = _one_line("webappio-branch", raw["webappio-branch"])
    query = _one_line("webappio-query", raw["webappio-query"], limit=1000)
    ref = _one_line("webappio-ref", raw["webappio-ref"])
    if ref and any(ch.isspace() for ch in ref):
        raise InputError("webappio-ref", f"'{_show(ref)}' is not a commit: it contains white space.")
    extra = raw["webappio-extra"].strip()
    if len(extra) > 65536:
        raise InputError("webappio-extra", "is longer than 65536 characters.")

    if trigger:
        for name, value in (("webappio-job-id", job_id), ("webappio-query", query)):
            if value:
                raise InputError(name, "cannot be used with webappio-trigger: true, which follows the run it starts.")
        # webapp.io would run an unnamed branch as master: a branch that may not exist, or not be this commit's.
        branch = branch or context.head_branch
        if not branch:
            raise InputError(
                "webappio-branch",
                "is needed to start a webapp.io run here: no branch was pushed (a tag, or not in GitHub Actions), "
                "so give the branch the run is for, e.g. main.",
            )
        if not ref:
            ref = bitbucket.commits[0] if bitbucket else _first_commit(raw["commit"])
    else:
        given = {
            "webappio-ref": bool(ref),
            "webappio-extra": bool(extra),
            "webappio-accept-buttons": parse_bool("webappio-accept-buttons", raw["webappio-accept-buttons"]),
        }
        for name, used in given.items():
            if used:
                raise InputError(name, "is only used with webappio-trigger: true (starting a run).")
        if not (job_id or branch or query):
            raise InputError(
                "webappio-job-id",
                "no run to relay: give webappio-job-id, webappio-branch or webappio-query to find a webapp.io run, "
                "or webappio-trigger: true to start one.",
            )
    return WebappioSettings(
        endpoint=endpoint,
        token=token,
        repo=repo,
        query="" if trigger else build_query(job_id=job_id, branch=branch, query=query),
        trigger=trigger,
        branch=branch,
        ref=ref,
        accept_buttons=parse_bool("webappio-accept-buttons", raw["webappio-accept-buttons"]),
        extra=extra,
        wait=parse_bool("webappio-wait", raw["webappio-wait"]),
        poll_interval=parse_seconds("webappio-poll-interval", raw["webappio-poll-interval"], minimum=0.1, maximum=600),
        wait_timeout=parse_seconds("webappio-timeout", raw["webappio-timeout"], minimum=1, maximum=MAX_TIMEOUT),
    )


def _first_commit(value: str) -> str:
    return parse_commits(value)[0] if value.strip() else ""


def _one_line(name: str, value: str, limit: int = 255) -> str:
    text = value.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InputError(name, "must be one line without control characters.")
    if len(text) > limit:
        raise InputError(name, f"is longer than {limit} characters.")
    return text


def parse_patterns(value: str, name: str = "test-results", what: str = "glob pattern") -> tuple[str, ...]:
    """Patterns (``test-results``, ``check-keys``), one per line or comma-separated, duplicates dropped.

    A comma inside ``[…]`` belongs to the pattern, as in the default key of a matrix job
    ``CI/test[os=ubuntu,py=3.12]`` or a glob's ``[ab,]``.
    """
    patterns: list[str] = []
    for line in re.split(r"\r\n|\r|\n", value):
        for word in _split_outside_brackets(line):
            word = word.strip()
            if not word:
                continue
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in word):
                raise InputError(name, f"'{_show(word)}' is not a {what}: it holds control characters.")
            if word not in patterns:
                patterns.append(word)
    return tuple(patterns)


def parse_flags(value: str) -> tuple[str, ...]:
    """Comma-separated flag names: spaces around names trimmed, empty names rejected, duplicates dropped."""
    if not value.strip():
        return ()
    flags: list[str] = []
    for position, name in enumerate(value.split(","), start=1):
        name = name.strip()
        if not name:
            raise InputError(
                "coveralls-carryforward", f"flag {position} is empty; give flag names separated by commas (unit,e2e)."
            )
        if any(ord(ch) < 32 for ch in name) or len(name) > 255:
            raise InputError(
                "coveralls-carryforward", f"'{_show(name)}' is not a flag name (one line, at most 255 characters)."
            )
        if name not in flags:
            flags.append(name)
    return tuple(flags)


def _without_secrets(url: str) -> str:
    """A URL as it may be shown: no user info (``user:password@``), no query or fragment."""
    url = re.sub(r"^([^:/?#]*:?//)[^/?#]*@", r"\1***@", url)
    return re.split(r"[?#]", url, maxsplit=1)[0]


def _show(text: str, limit: int = 60) -> str:
    """A user's value for an error message: line breaks, tabs and other control characters shown as escapes,
    secrets masked, shortened."""
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\x09")
    return cut(escape_controls(text), limit)
