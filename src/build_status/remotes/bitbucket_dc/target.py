"""Where Bitbucket Data Center's statuses go: the remote's configuration."""

from __future__ import annotations

from typing import NamedTuple

from ...model.auth import Auth


class Target(NamedTuple):
    """Where the statuses go: the configuration section of this remote."""

    base_url: str
    auth: Auth
    project: str = ""
    repo: str = ""
    #: bitbucket-api: auto, commits or builds.
    api: str = "auto"

    @property
    def repository_scoped(self) -> bool:
        return bool(self.project and self.repo)
