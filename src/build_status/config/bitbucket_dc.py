"""Bitbucket Data Center's inputs, and the remote they configure."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

from ..errors import InputError
from ..model.auth import Auth
from ..remotes.bitbucket_dc.remote import API_ROOT, APIS, BitbucketDataCenter
from ..remotes.bitbucket_dc.target import Target
from . import values
from .entries import Input, reader
from .values import show

#: Project keys (``~user`` for personal projects) and repository slugs as Bitbucket allows them.
PROJECT_RE = re.compile(r"^~?[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SLUG_RE = re.compile(r"^[A-Za-z0-9_.-]+$")

INPUTS: tuple[Input, ...] = (
    Input(
        "bitbucket-url",
        "Base URL of Bitbucket Server / Data Center, including any context path "
        "(https://bitbucket.example.com, http://host:7990/stash). With bitbucket-workspace (Bitbucket Cloud): "
        "https://api.bitbucket.org unless set (a proxy).",
        metavar="URL",
        parse=lambda name, given: _base_url(name, given),
    ),
    Input(
        "bitbucket-token",
        "Sent as 'Authorization: Bearer'. Data Center: an HTTP access token or personal access token (project "
        "and repository tokens only work this way). Cloud: a repository, project or workspace access token, or "
        "an OAuth token.",
        secret=True,
        metavar="TOKEN",
    ),
    Input(
        "bitbucket-username",
        "User name for Basic authentication (with bitbucket-password); on Cloud, the Atlassian account e-mail.",
        metavar="NAME",
    ),
    Input(
        "bitbucket-password",
        "Password or personal access token for Basic authentication (with bitbucket-username); on Cloud, an "
        "API token of that account (app passwords no longer work).",
        secret=True,
        metavar="PASSWORD",
    ),
    Input(
        "bitbucket-project",
        "Project key (with bitbucket-repo): use the repository-scoped builds endpoint where the server "
        "offers it, with build number, ref, parent and duration.",
        metavar="PROJECT",
    ),
    Input(
        "bitbucket-repo",
        "Repository slug (with bitbucket-project, or with bitbucket-workspace on Cloud).",
        metavar="SLUG",
    ),
    Input(
        "bitbucket-api",
        "auto (repository-scoped endpoint when bitbucket-project/-repo are set and the server has it, "
        "else commit-only), commits, or builds.",
        default="auto",
        metavar="API",
        parse=lambda name, value: value.strip().lower() or "auto",
    ),
)
#: Inputs that say the user wants a Bitbucket status even in a step that closes a Coveralls build.
NAMES = tuple(item.name for item in INPUTS if item.name != "bitbucket-api")
value = reader(INPUTS)


def _base_url(name: str, given: str) -> str:
    """Bitbucket's base URL: the part before its REST API's root, which is not to be given."""
    url = values.base_url(name, given)
    path = urlsplit(url).path
    if path.endswith(API_ROOT) or API_ROOT + "/" in path + "/":
        raise InputError(name, f"should be the base URL without {API_ROOT}/...; e.g. https://bitbucket.example.com.")
    return url


def parse_remote(raw: dict[str, str]) -> BitbucketDataCenter:
    """Where the statuses go and with which credentials."""
    base_url = value(raw, "bitbucket-url")
    auth = parse_auth(raw)
    project = value(raw, "bitbucket-project")
    repo = value(raw, "bitbucket-repo")
    if project and not PROJECT_RE.match(project):
        raise InputError("bitbucket-project", f"'{show(project)}' is not a Bitbucket project key (e.g. PROJ or ~user).")
    if repo and not SLUG_RE.match(repo):
        raise InputError("bitbucket-repo", f"'{show(repo)}' is not a repository slug (letters, digits, . _ -).")
    if bool(project) != bool(repo):
        missing = "bitbucket-repo" if project else "bitbucket-project"
        raise InputError(missing, "is required too: bitbucket-project and bitbucket-repo go together.")
    api = value(raw, "bitbucket-api")
    if api not in APIS:
        raise InputError("bitbucket-api", f"'{show(api)}' is not one of {', '.join(APIS)}.")
    if api == "builds" and not project:
        raise InputError("bitbucket-project", "is required with bitbucket-api: builds (with bitbucket-repo).")
    return BitbucketDataCenter(Target(base_url, auth, project, repo, api))


class AuthWords(NamedTuple):
    """How the credentials' messages name what each input holds (Data Center's, or Cloud's)."""

    bearer: str = "HTTP access token, sent as Bearer"
    basic: str = "bitbucket-username + bitbucket-password"
    second: str = "a password or personal access token"


def parse_auth(raw: dict[str, str], words: AuthWords = AuthWords()) -> Auth:  # noqa: B008 - a constant
    token = value(raw, "bitbucket-token")
    username = value(raw, "bitbucket-username")
    password = value(raw, "bitbucket-password")
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
    for name, given in (("bitbucket-username", username), ("bitbucket-password", password)):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in given):
            raise InputError(name, "must not contain line breaks or control characters.")
    if ":" in username:
        raise InputError("bitbucket-username", "must not contain ':' (it separates user and password in Basic auth).")
    if username and password:
        return Auth("Basic", password, username)
    if username:
        raise InputError("bitbucket-password", f"is required with bitbucket-username ({words.second}).")
    if password:
        raise InputError("bitbucket-username", "is required with bitbucket-password.")
    raise InputError(
        "bitbucket-token",
        f"no credentials: set bitbucket-token ({words.bearer}) or {words.basic}.",
    )
