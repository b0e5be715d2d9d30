"""Credentials for a server: a token sent as Bearer, or a user and password sent as Basic."""

from __future__ import annotations

import base64
from typing import NamedTuple


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

    @property
    def shown(self) -> str:
        """The header as a dry run shows it: the scheme, the credential masked."""
        return f"{self.scheme} ***"
