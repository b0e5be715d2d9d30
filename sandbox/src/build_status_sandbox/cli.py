"""``build-status-sandbox``: the sandbox's command line.

``build-status-sandbox serve`` serves the local emulation of Bitbucket, Coveralls and webapp.io in the
foreground (:mod:`build_status_sandbox.command`); ``build-status-sandbox demo`` runs the quick-start demo
against it (:mod:`build_status_sandbox.demo`).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from . import __version__
from .usage import EXIT_INPUT, argument_parser, error, help_width

PROG = "build-status-sandbox"
#: One line per command for ``build-status-sandbox --help``.
COMMANDS = {
    "serve": "serve a local emulation of Bitbucket, Coveralls and webapp.io (build-status-sandbox serve --help)",
    "demo": "run a small matrix workflow against the sandbox, end to end (build-status-sandbox demo --help)",
}
USAGE = (
    "build-status-sandbox serve [--port N] [--host ADDRESS] [...]\n"
    "       build-status-sandbox demo [--port N] [--keep-open]"
)
DESCRIPTION = (
    "The sandbox of build-status: a local emulation of Bitbucket's build-status REST API, of Coveralls and of "
    "webapp.io, to try the client against and to test it with.",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``build-status-sandbox`` itself: its --help, --version, and a command name."""
    lines = [textwrap.fill(text, help_width(), initial_indent=f"  {name:<7} ", subsequent_indent=" " * 10,
                           break_on_hyphens=False) for name, text in COMMANDS.items()]  # fmt: skip
    parser = argument_parser(PROG, (*DESCRIPTION, "commands:\n" + "\n".join(lines)), usage=USAGE)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "command",
        choices=tuple(COMMANDS),
        metavar="COMMAND",
        help=f"serve or demo (its options: {PROG} COMMAND --help)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``build-status-sandbox`` with ``argv`` (default: the process's arguments); the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        from .command import serve

        return serve(argv[1:])
    if argv and argv[0] == "demo":
        from .demo import run_demo

        return run_demo(argv[1:])
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        error(f"the command comes first, then its options: {PROG} serve|demo [OPTION ...] (see {PROG} --help)")
        return EXIT_INPUT
    try:  # --help, --version, or a usage mistake (no command, or one it does not have)
        build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    return EXIT_INPUT  # not reached: a command name was handled above


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
