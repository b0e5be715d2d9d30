"""Turn raw input strings into validated :class:`Settings`, or raise :class:`InputError` naming the input.

Pure: no I/O but reading the ``ca-cert`` file's existence.  Every rule that can be checked before talking
to a server is checked here, so that a wrong input never sends a request.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import naming
from .context import Context
from .errors import InputError
from .states import LEGACY_STATES_SET, NEWER_STATES, STATES, from_job_status, parse_state

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


@dataclass(frozen=True)
class Auth:
    scheme: str  # "Bearer" or "Basic"
    credential: str  # the token, or the password
    username: str = ""

    @property
    def header(self) -> str:
        if self.scheme == "Bearer":
            return f"Bearer {self.credential}"
        pair = f"{self.username}:{self.credential}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    @property
    def described(self) -> str:
        if self.scheme == "Bearer":
            return "bitbucket-token (Bearer)"
        return f"bitbucket-username '{self.username}' + bitbucket-password (Basic)"


@dataclass(frozen=True)
class Settings:
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
    #: Empty: a default is written once the final state is known.
    description: str
    project: str
    repo: str
    api: str
    build_number: str
    ref: str
    parent: str
    duration_ms: int | None
    ca_cert: str
    insecure: bool
    timeout: float
    fail_on_error: bool
    dry_run: bool

    @property
    def repository_scoped(self) -> bool:
        return bool(self.project and self.repo)


def parse_bool(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InputError(name, f"'{_show(value)}' is not a boolean; use true or false.")


def parse_url(name: str, value: str) -> str:
    text = value.strip()
    if not text:
        raise InputError(name, "is required: the base URL of Bitbucket, e.g. https://bitbucket.example.com.")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise InputError(name, "must not contain white space or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InputError(name, f"'{_show(text)}' is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(name, f"'{_show(text)}' is not an http(s) URL; expected e.g. https://bitbucket.example.com.")
    if parts.username or parts.password:
        raise InputError(name, "must not contain credentials; use bitbucket-token or bitbucket-username/-password.")
    if parts.query or parts.fragment:
        raise InputError(name, "must not have a query or fragment; give the base URL with any context path.")
    del port
    path = parts.path.rstrip("/")
    if path.endswith("/rest") or "/rest/" in path + "/":
        raise InputError(name, "should be the base URL without /rest/...; e.g. https://bitbucket.example.com.")
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
        return Auth("Bearer", token)
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


def parse_duration(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    match = DURATION_RE.match(text)
    if not match:
        raise InputError("duration", f"'{_show(text)}' is not a duration; use milliseconds (90000) or 90s, 1.5m, 1h.")
    unit = (match.group(2) or "ms").lower()
    return round(float(match.group(1)) * DURATION_UNITS_MS[unit])


def parse_ca_cert(value: str) -> str:
    """A PEM text or the path of a PEM file (checked to hold at least one certificate)."""
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
    return text


def parse_settings(raw: dict[str, str], context: Context) -> Settings:
    """Validate every input; raises :class:`InputError` for the first one that is wrong."""
    base_url = parse_url("bitbucket-url", raw["bitbucket-url"])
    auth = parse_auth(raw)
    commits = parse_commits(raw["commit"])
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
    except ValueError:
        raise InputError("matrix", "is not a JSON object; leave it at its default ${{ toJSON(matrix) }}.") from None

    key = raw["key"].strip()
    key_given = bool(key)
    if not key:
        key = naming.default_key(context, matrix)
    url = raw["url"].strip() or context.run_url
    if not url:
        raise InputError("url", "is required outside GitHub Actions: the link to this build's page.")
    ref = raw["ref"].strip()
    parent = raw["parent"].strip()
    if not parent and not key_given and matrix:
        parent = naming.job_id(context)

    return Settings(
        base_url=base_url,
        auth=auth,
        commits=commits,
        state=state,
        state_explicit=explicit,
        key=key,
        name=raw["name"].strip() or naming.default_name(context, matrix),
        url=url,
        description=raw["description"].strip(),
        project=project,
        repo=repo,
        api=api,
        build_number=raw["build-number"].strip(),
        ref=ref,
        parent=parent,
        duration_ms=parse_duration(raw["duration"]),
        ca_cert=parse_ca_cert(raw["ca-cert"]),
        insecure=parse_bool("insecure", raw["insecure"]),
        timeout=parse_timeout(raw["timeout"]),
        fail_on_error=parse_bool("fail-on-error", raw["fail-on-error"]),
        dry_run=parse_bool("dry-run", raw["dry-run"]),
    )


def _show(text: str, limit: int = 60) -> str:
    """A user's value, shortened for an error message (it is escaped where it is printed)."""
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= limit else text[: limit - 1] + "…"
