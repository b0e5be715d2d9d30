"""The one secret scan of the test suites: no secret in anything a step wrote, but its ``::add-mask::`` lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def assert_no_secret_in(texts: Mapping[str, str], secrets: Iterable[str]) -> None:
    """``texts`` maps where a text was found (stdout, a file's name) to the text."""
    secrets = [secret for secret in secrets if secret]
    for name, text in texts.items():
        for line in text.splitlines():
            if line.startswith("::add-mask::"):
                continue
            for secret in secrets:
                assert secret not in line, f"a secret leaked into {name}: {line!r}"
