"""The sandbox's command-line plumbing: its argparse parsers and its one error line.

The same user-visible behaviour as the client's command line (``build_status.cli.argument_parser`` and its
console), kept here so that the sandbox imports nothing of the client's command line: a usage mistake is
one error line, ``::error::…`` on stdout inside GitHub Actions (``GITHUB_ACTIONS=true``) and ``error: …``
on stderr elsewhere, and exit code 2; control characters in it are shown as ``\\x1b``-style escapes, and
it cannot start a workflow command of its own. Descriptions and epilogs are paragraphs, wrapped to the
terminal.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import textwrap
from collections.abc import Mapping

#: A usage mistake, or something the command line asked for that cannot be had (a busy port): nothing ran.
EXIT_INPUT = 2
#: GitHub cuts annotation messages at 4096 characters.
MESSAGE_LIMIT = 4000
#: C0 controls but tab, LF and CR, DEL, and C1 controls.
_CONTROL_CODES = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
_CONTROLS = {code: f"\\x{code:02x}" for code in _CONTROL_CODES}


def error(text: str, env: Mapping[str, str] | None = None) -> None:
    """Say ``text`` as one error line: an ``::error::`` annotation inside GitHub Actions, else ``error: …``."""
    env = os.environ if env is None else env
    text = text.translate(_CONTROLS)
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error::{escaped}", file=sys.stdout, flush=True)
    else:
        print(_neutralise(f"error: {text}"), file=sys.stderr, flush=True)


def _neutralise(text: str) -> str:
    """Plain log text that cannot start a workflow command (``::name::`` at a line's start, ``##[name]``)."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.replace("##[", "#\u200b#[")
        stripped = line.lstrip()
        if stripped.startswith("::"):
            line = line[: len(line) - len(stripped)] + ":\u200b" + stripped[1:]
        lines.append(line)
    return "\n".join(lines)


def argument_parser(
    prog: str, description: str | tuple[str, ...], env: Mapping[str, str] | None = None, **kwargs: object
) -> argparse.ArgumentParser:
    """An argparse parser for the command ``prog``: a usage mistake is one error line (exit 2); the
    description and epilog are paragraphs (each string one, wrapped here)."""

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            error(f"{message} (see {self.prog} --help)", env)
            raise SystemExit(EXIT_INPUT)

    def paragraphs(texts: str | tuple[str, ...]) -> str:
        texts = (texts,) if isinstance(texts, str) else texts
        return "\n\n".join(text if "\n" in text else textwrap.fill(text, help_width()) for text in texts)

    epilog = kwargs.pop("epilog", None)
    return Parser(
        prog=prog,
        description=paragraphs(description),
        epilog=paragraphs(epilog) if epilog else None,  # type: ignore[arg-type]
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,  # type: ignore[arg-type]
    )


def help_width() -> int:
    """The width argparse wraps the options' help to (the terminal's, less 2), for the paragraphs too."""
    return max(shutil.get_terminal_size().columns - 2, 40)
