"""The one secret scan of the test suites: no secret, nor any piece of one, in anything a step wrote (but
its ``::add-mask::`` lines).

A secret counts as leaked when any :data:`WINDOW` characters in a row of it show, in any form the console
masks (as it is, URL-encoded, ``quote_plus``-encoded): a prefix kept where a text was cut is as bad as
the whole.  Give the base64 of ``user:password`` too where Basic credentials are used
(:func:`basic`); :func:`step_secrets` finds every secret a step was given.

The scripted runs scan on their own: ``tests/conftest.py`` hooks :func:`scan_step` into the runner
emulation (:data:`build_status_sandbox.runner.STEP_CHECKS`), so no step that runs the entry point can
skip it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from build_status.config.catalogue import INPUTS

#: How many characters of a secret in a row make a leak.
WINDOW = 6
#: Secrets shorter than this are not searched for (the console cannot mask them usefully either).
SHORTEST = 3
USERNAME, PASSWORD = "bitbucket-username", "bitbucket-password"


def basic(username: str, password: str) -> str:
    """The Basic credential as it travels: base64 of ``username:password``."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def forms(secret: str) -> set[str]:
    """The forms the console masks a secret in."""
    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}


def fragments(secret: str, window: int = WINDOW) -> dict[str, str]:
    """Every piece of ``secret`` (in each of its forms) that must not show → the form it comes from."""
    pieces: dict[str, str] = {}
    for form in forms(secret):
        if len(form) <= window:
            pieces.setdefault(form, form)
        else:
            for start in range(len(form) - window + 1):
                pieces.setdefault(form[start : start + window], form)
    return pieces


def assert_no_secret_in(
    texts: Mapping[str, str], secrets: Iterable[str], *, window: int = WINDOW, whole: Iterable[str] = ()
) -> None:
    """``texts`` maps where a text was found (stdout, a file's name) to the text; no piece of ``window``
    characters of any of ``secrets`` may show. ``whole``: secrets only searched for as a whole."""
    pieces: dict[str, str] = {}
    for secret, size in [*((secret, window) for secret in secrets), *((secret, 1 << 30) for secret in whole)]:
        if secret and len(secret.strip()) >= SHORTEST:
            pieces.update(fragments(secret, size))
            if secret != secret.strip():
                pieces.update(fragments(secret.strip(), size))
    if not pieces:
        return
    for name, text in texts.items():
        shown = [line for line in text.splitlines() if not line.startswith("::add-mask::")]
        joined = "\n".join(shown)
        leaked = [piece for piece in pieces if piece in joined]
        if not leaked:
            continue
        piece = leaked[0]
        line = next((line for line in shown if piece in line), joined)
        raise AssertionError(
            f"a secret leaked into {name}: {piece!r} (from {pieces[piece]!r}) in {line[:2000]!r}"
            + (f" — and {len(leaked) - 1} more piece(s)" if len(leaked) > 1 else "")
        )


def step_secrets(env: Mapping[str, str]) -> list[str]:
    """The secrets a step was given as ``INPUT_*`` variables (either spelling), and Basic's base64."""
    secrets: list[str] = []
    values: dict[str, str] = {}
    for item in INPUTS:
        for variable in item.env_names:
            value = env.get(variable, "")
            if value.strip():
                values[item.name] = value
                if item.secret:
                    secrets += [value, value.strip()]
    username, password = values.get(USERNAME, "").strip(), values.get(PASSWORD, "").strip()
    if username and password:
        secrets.append(basic(username, password))
    return list(dict.fromkeys(secrets))


def cli_secrets(args: Iterable[str], env: Mapping[str, str]) -> list[str]:
    """The secrets a command line was given: as flags (``--flag value`` or ``--flag=value``) or variables."""
    given = {f"INPUT_{item.name.upper()}": value for item, value in _flags(list(args))}
    return step_secrets({**env, **given})


def _flags(args: list[str]):
    by_flag = {item.flag: item for item in INPUTS}
    for index, arg in enumerate(args):
        flag, equals, value = arg.partition("=")
        if flag in by_flag:
            if equals:
                yield by_flag[flag], value
            elif index + 1 < len(args):
                yield by_flag[flag], args[index + 1]


#: What the hostile-input tests put into secrets: text that means something to the runner or to GitHub.
_MARKERS = ("::", "%", "${{", "##[")


def credential_like(value: str) -> bool:
    """Whether a value looks like a credential (8+ printable ASCII characters without white space, letters
    and digits), whose every piece is its own. Arbitrary text given as a secret (the hostile-input tests
    give ``::error::x``) shares pieces with what the step rightly prints, so it is searched for whole."""
    return (
        len(value) >= 8
        and all("!" <= ch <= "~" for ch in value)
        and any(ch.isalpha() for ch in value)
        and any(ch.isdigit() for ch in value)
        and not any(marker in value for marker in _MARKERS)
    )


def scan_step(env: Mapping[str, str], result) -> None:
    """The runner emulation's check of every step: no secret it was given (nor a piece of a credential-like
    one) in anything it wrote."""
    secrets = step_secrets(env)
    assert_no_secret_in(
        {"stdout": result.stdout, "stderr": result.stderr, **result.files},
        [secret for secret in secrets if credential_like(secret)],
        whole=[secret for secret in secrets if not credential_like(secret)],
    )
