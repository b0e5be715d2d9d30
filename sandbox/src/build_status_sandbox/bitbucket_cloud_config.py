"""The Bitbucket Cloud emulation's configuration, who a request comes from, and which repository it names.

Credentials as Bitbucket Cloud takes them (2026): a repository, project or workspace **access token** as
``Authorization: Bearer <token>`` (each token acts as a user of its own), a user **API token** as Basic
``<Atlassian account e-mail>:<API token>``.  A user API token sent as Bearer is refused.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

#: The default configuration's access token (Bearer) and the name it shows as the creator of statuses.
DEFAULT_ACCESS_TOKEN = "sandbox-cloud-access-token"  # noqa: S105 - the sandbox's well-known test token
DEFAULT_ACCESS_TOKEN_NAME = "sandbox-access-token"  # noqa: S105 - a display name
#: The default configuration's user: its Atlassian account e-mail and API token (Basic ``e-mail:token``).
DEFAULT_EMAIL = "sandbox@example.com"
DEFAULT_API_TOKEN = "sandbox-cloud-api-token"  # noqa: S105 - the sandbox's well-known test token

#: Bitbucket's answer to a Bearer credential it does not take (an unknown token, or a user API token).
TOKEN_NOT_SUPPORTED = "Token is invalid, expired, or not supported for this endpoint."  # noqa: S105 - a message
#: The answer to a request without credentials, or with a wrong e-mail/API token pair (wording unverified).
AUTHENTICATION_REQUIRED = "Authentication failed: send an access token as Bearer or e-mail:API token as Basic."

#: Deterministic UUIDs for workspaces, repositories and accounts (the same names give the same UUIDs).
NAMESPACE = uuid.UUID("6f1d2f36-9a43-4f0e-9a6e-3c1f1f0b8e55")
_BRACED_UUID = re.compile(r"\{[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}")
_NAME = re.compile(r"[^/\s{}]+")


def braced_uuid(*parts: str) -> str:
    """``{uuid}``, the same for the same parts: ``braced_uuid("workspace", "acme")``."""
    return "{" + str(uuid.uuid5(NAMESPACE, "\0".join(parts))) + "}"


def workspace_uuid(workspace: str) -> str:
    return braced_uuid("workspace", workspace.lower())


def repository_uuid(workspace: str, slug: str) -> str:
    return braced_uuid("repository", workspace.lower(), slug.lower())


@dataclass(frozen=True)
class Identity:
    """Who sent a request: an access token (its own user) or a user (by e-mail)."""

    kind: str  # "access-token" or "user"
    name: str  # the access token's name, or the user's e-mail

    @property
    def key(self) -> str:
        """What the creator-only rule and the rate limit compare."""
        return f"{self.kind}:{self.name.lower()}"

    def account(self) -> dict[str, Any]:
        """The account object Bitbucket puts in a status (field names follow Bitbucket's account objects;
        an access token's account type is a guess)."""
        account_uuid = braced_uuid(self.kind, self.name.lower())
        return {
            "type": "app_user" if self.kind == "access-token" else "user",
            "display_name": self.name,
            "uuid": account_uuid,
            "account_id": "sandbox:" + account_uuid.strip("{}"),
        }


def _default_access_tokens() -> dict[str, str]:
    return {DEFAULT_ACCESS_TOKEN: DEFAULT_ACCESS_TOKEN_NAME}


def _default_users() -> dict[str, str]:
    return {DEFAULT_EMAIL: DEFAULT_API_TOKEN}


@dataclass(frozen=True)
class BitbucketCloudConfig:
    """How the emulated Bitbucket Cloud behaves.

    - ``access_tokens``: access token → its name (repository, project or workspace tokens: each acts as a
      user of its own, shown by that name).  Sent as ``Authorization: Bearer <token>``.
    - ``users``: Atlassian account e-mail → user API token.  Sent as Basic ``<e-mail>:<API token>``.
    - ``repositories``: None = every ``workspace/slug`` exists; else the ones that do (case-insensitive).
      A workspace or repository may also be named by its ``{UUID}`` (see :func:`repository_uuid`).
    - ``admins``: e-mails or access-token names of repository admins, who may overwrite anyone's status.
    - ``rate_limit``: requests each identity may make in any ``rate_window`` seconds (Bitbucket: 1,000 an
      hour); None = no limit.  ``retry_after``: send ``Retry-After`` with the 429 (unverified on Cloud).
    """

    access_tokens: dict = field(default_factory=_default_access_tokens)
    users: dict = field(default_factory=_default_users)
    repositories: Optional[frozenset] = None
    admins: frozenset = frozenset()
    rate_limit: Optional[int] = None
    rate_window: float = 3600.0
    retry_after: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("access_tokens", "users"):
            value = getattr(self, name)
            if not isinstance(value, dict) or not all(
                isinstance(key, str) and key and isinstance(item, str) and item for key, item in value.items()
            ):
                raise ValueError(f"{name} must map non-empty strings to non-empty strings")
            set_(self, name, dict(value))
        if any("@" not in email or ":" in email for email in self.users):
            raise ValueError("users must map e-mail addresses (no colon) to API tokens")
        token_names = {name.lower() for name in self.access_tokens.values()}
        if token_names & {email.lower() for email in self.users}:
            raise ValueError("an access token's name must not be a user's e-mail")
        if self.repositories is not None:
            if isinstance(self.repositories, str) or not all(
                isinstance(name, str) and re.fullmatch(r"[^/\s{}]+/[^/\s{}]+", name) for name in self.repositories
            ):
                raise ValueError('repositories must be a collection of "workspace/slug" strings, or null')
            set_(self, "repositories", frozenset(name.lower() for name in self.repositories))
        if isinstance(self.admins, str) or not all(isinstance(name, str) for name in self.admins):
            raise ValueError("admins must be a collection of e-mails or access-token names")
        known = token_names | {email.lower() for email in self.users}
        unknown = sorted(name for name in self.admins if name.lower() not in known)
        if unknown:
            raise ValueError(f"admins names no configured user or access token: {', '.join(unknown)}")
        set_(self, "admins", frozenset(name.lower() for name in self.admins))
        if self.rate_limit is not None and (
            isinstance(self.rate_limit, bool) or not isinstance(self.rate_limit, int) or self.rate_limit < 1
        ):
            raise ValueError(f"rate_limit must be a whole number of at least 1, or null, not {self.rate_limit!r}")
        window = self.rate_window
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0 < window < math.inf:
            raise ValueError(f"rate_window must be a positive number of seconds, not {window!r}")
        set_(self, "rate_window", float(window))
        if not isinstance(self.retry_after, bool):
            raise ValueError("retry_after must be true or false")

    # -- who --------------------------------------------------------------------------------------
    def identify(self, authorization: str) -> Identity | str:
        """The identity an ``Authorization`` header value proves, else the message of the 401."""
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and credential:
            for token, name in self.access_tokens.items():
                if hmac.compare_digest(credential.encode(), token.encode()):
                    return Identity("access-token", name)
            return TOKEN_NOT_SUPPORTED  # an unknown token, a user API token, a password...
        if scheme.lower() == "basic" and credential:
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                decoded = ""
            email, colon, token = decoded.partition(":")
            for known, api_token in self.users.items():
                if colon and known.lower() == email.lower() and hmac.compare_digest(api_token.encode(), token.encode()):
                    return Identity("user", known)
        return AUTHENTICATION_REQUIRED

    def is_admin(self, identity: Identity) -> bool:
        return identity.name.lower() in self.admins

    # -- where ------------------------------------------------------------------------------------
    def resolve(self, workspace: str, slug: str, seen: frozenset = frozenset()) -> tuple[str, str] | None:
        """The ``(workspace, slug)`` a request names (slugs or ``{UUID}`` forms), lower-case, or None when no
        such repository exists.  ``seen``: ``workspace/slug`` names with statuses, whose UUIDs are known when
        every repository exists."""
        if not (_NAME.fullmatch(workspace) or _BRACED_UUID.fullmatch(workspace)):
            return None
        if not (_NAME.fullmatch(slug) or _BRACED_UUID.fullmatch(slug)):
            return None
        known = self.repositories if self.repositories is not None else seen
        pairs = [tuple(name.split("/", 1)) for name in known]
        wanted_workspace = workspace.lower()
        for name, _ in pairs:
            if wanted_workspace == workspace_uuid(name):
                wanted_workspace = name
                break
        wanted_slug = slug.lower()
        for name, repository in pairs:
            if name == wanted_workspace and wanted_slug == repository_uuid(name, repository):
                wanted_slug = repository
                break
        if self.repositories is not None and f"{wanted_workspace}/{wanted_slug}" not in self.repositories:
            return None
        return wanted_workspace, wanted_slug

    # -- JSON ---------------------------------------------------------------------------------------
    def public(self) -> dict[str, Any]:
        """The configuration without tokens."""
        return {
            "access_tokens": sorted(self.access_tokens.values()),
            "users": sorted(self.users),
            "repositories": None if self.repositories is None else sorted(self.repositories),
            "admins": sorted(self.admins),
            "rate_limit": self.rate_limit,
            "rate_window": self.rate_window,
            "retry_after": self.retry_after,
        }

    def with_changes(self, changes: dict[str, Any]) -> BitbucketCloudConfig:
        """A copy with the fields in ``changes`` (JSON-style values) replaced; ``ValueError`` if bad."""
        names = {item.name for item in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(
                f"unknown Bitbucket Cloud setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        changes = dict(changes)
        for name in ("repositories", "admins"):
            if isinstance(changes.get(name), list):
                changes[name] = frozenset(changes[name])
        return dataclasses.replace(self, **changes)
