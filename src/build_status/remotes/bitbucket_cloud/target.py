"""Where Bitbucket Cloud's statuses go: the remote's configuration."""

from __future__ import annotations

from typing import NamedTuple

from ...model.auth import Auth


class CloudTarget(NamedTuple):
    """A repository of a Cloud workspace (slugs, or ``{UUID}``s in braces)."""

    base_url: str
    auth: Auth
    workspace: str
    repo: str
