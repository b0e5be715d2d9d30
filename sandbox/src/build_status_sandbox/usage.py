"""The sandbox's command-line plumbing: the client's argparse parsers and its one error line.

A usage mistake is one error line, ``::error::…`` on stdout inside GitHub Actions (``GITHUB_ACTIONS=true``)
and ``error: …`` on stderr elsewhere, and exit code 2, as for ``build-status`` itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from build_status.arguments import argument_parser as client_parser
from build_status.arguments import help_width
from build_status.workflow import Console

if TYPE_CHECKING:
    import argparse

#: A usage mistake, or something the command line asked for that cannot be had (a busy port): nothing ran.
EXIT_INPUT = 2

__all__ = ["EXIT_INPUT", "argument_parser", "error", "help_width"]


def error(text: str, env: Mapping[str, str] | None = None) -> None:
    """Say ``text`` as one error line: an ``::error::`` annotation inside GitHub Actions, else ``error: …``."""
    Console(dict(os.environ if env is None else env)).error(text)


def argument_parser(
    prog: str, description: str | tuple[str, ...], env: Mapping[str, str] | None = None, **kwargs: object
) -> argparse.ArgumentParser:
    """The client's parser for the command ``prog``, its error line said in ``env``."""
    return client_parser(prog, description, Console(dict(os.environ if env is None else env)), **kwargs)
