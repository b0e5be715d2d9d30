"""Secrets out of every text: the :class:`Redactor` of each console, the process-wide registry of them, and
:func:`cut`, the one way any text is shortened (it redacts first, so a secret that straddles the cut point
is masked whole, never cut in two with its first half kept)."""

from __future__ import annotations

import base64
import weakref
from urllib.parse import quote, quote_plus

MASK = "***"


class Redactor:
    """Replaces every known secret, in the forms it may travel in, with ``***``."""

    def __init__(self) -> None:
        self._forms: list[str] = []

    def add(self, secret: str) -> list[str]:
        """Register a secret; returns the new forms to mask (the value, URL-encoded, base64 of Basic)."""
        if not secret or len(secret) < 3:
            # A one- or two-character "secret" would blank out ordinary text; it is still never printed
            # by this code, but it cannot be searched for usefully.
            return []
        forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
        new = [form for form in forms if form not in self._forms]
        self._forms.extend(new)
        # Longest first, so a secret that contains another is replaced whole.
        self._forms.sort(key=len, reverse=True)
        return new

    def add_basic(self, username: str, password: str) -> list[str]:
        """Register Basic credentials: the password and the base64 of ``username:password``."""
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return self.add(password) + self.add(encoded)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text


#: The process-wide registry: every Console's redactor that holds a secret (a Console's redactor joins it
#: with its first secret, and leaves it with the Console).
REGISTRY: weakref.WeakSet[Redactor] = weakref.WeakSet()


def redact(text: str) -> str:
    """``text`` with every secret registered in this process (by any Console) replaced by ``***``."""
    for redactor in list(REGISTRY):
        text = redactor(text)
    return text


def cut(text: str, limit: int) -> str:
    """The one way to shorten text: redact it first, then keep at most ``limit`` characters, the last one
    ``…`` where something was cut.

    Redacting before cutting is what keeps a secret that a server echoed across the cut point from leaving
    its first characters behind (the whole-secret search would no longer find the fragment).
    """
    text = redact(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 0 else ""
