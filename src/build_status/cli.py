"""``build-status``: the command line, and the action's entry point.

``build-status [--input value ...]`` posts a build status (inputs also come from ``INPUT_*`` variables,
as GitHub Actions passes them); ``build-status check`` reads the statuses back. The sandbox and its demo
are the separate command ``build-status-sandbox`` (sandbox/), which this package never imports.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from . import __version__
from .arguments import argument_parser, help_width
from .config.catalogue import INPUTS
from .errors import EXIT_INPUT, EXIT_REMOTE, InputError, sentence
from .report import step_exit_code
from .workflow import Console

if TYPE_CHECKING:
    import argparse


#: The commands that are now the sandbox's own command line: each is one error line that says so.
MOVED = {"sandbox": "serve", "demo": "demo"}
#: Subcommands that take the inputs as flags: ``post`` (the default) and ``check`` (read back).
INPUT_COMMANDS = ("post", "check")
#: One line per command for ``build-status --help``.
COMMANDS = {
    "post": "(the default) post a build status to Bitbucket, close a Coveralls parallel build or relay a "
    "webapp.io run, as the options ask",
    "check": "read back every build status of the commit(s), show the tally and fail when one is FAILED",
}
USAGE = {
    "post": "build-status [post] [--INPUT VALUE ...]\n       build-status check [--INPUT VALUE ...]",
    "check": "build-status check [--INPUT VALUE ...]",
}
DESCRIPTIONS = {
    "post": "Post a commit's build status to Bitbucket Server / Data Center, close a Coveralls parallel build, "
    "or relay a webapp.io run to Bitbucket, as the options ask.",
    "check": "Read back every build status of the commit(s) instead of posting one (check: true), show the "
    "tally as Bitbucket counts it and fail when any key is FAILED: the gate of a fan-in job. It takes the "
    "options of build-status post.",
}
#: The --help sections of the inputs: by the start of their names, the run's own, and the status posted.
SECTIONS = (
    ("", "Bitbucket and the build status"),
    ("check", "reading the statuses back (build-status check)"),
    ("insights", "Code Insights reports and coverage"),
    ("coveralls-", "Coveralls: closing a parallel build"),
    ("webappio-", "webapp.io: relaying a run"),
    ("run", "connection and run"),
)
RUN_INPUTS = ("ca-cert", "insecure", "timeout", "fail-on-error", "dry-run")
EPILOG = (
    "Every option can also be given as an INPUT_<NAME> variable (INPUT_BITBUCKET-URL or INPUT_BITBUCKET_URL), "
    "as GitHub Actions passes them; a flag wins over the variable.",
    "Exit codes: 0 done (or fail-on-error false); 1 a server refused or could not be reached in time (for "
    "check: a build is FAILED, or still running after check-wait); 2 an input is wrong, and nothing was sent.",
)


def make_parser(console: Console | None = None, command: str = "post") -> argparse.ArgumentParser:
    """The parser of ``build-status [post]`` and ``build-status check``: every input of the catalogue is a flag.

    Built only when there are arguments: the action passes none (inputs arrive as ``INPUT_*``), and
    argparse would cost its start-up time on every step.
    """
    description: tuple[str, ...] = (DESCRIPTIONS[command],)
    if command == "post":
        import textwrap

        lines = [textwrap.fill(text, help_width(), initial_indent=f"  {name:<9} ", subsequent_indent=" " * 12)
                 for name, text in COMMANDS.items()]  # fmt: skip
        description += ("commands:\n" + "\n".join(lines),)
    parser = argument_parser(
        "build-status" if command == "post" else f"build-status {command}",
        description,
        console,
        usage=USAGE[command],
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"build-status {__version__}")
    groups = {prefix: parser.add_argument_group(title) for prefix, title in SECTIONS}
    for item in INPUTS:
        name = "insights" if item.name in ("coverage-results", "coverage-min") else item.name
        section = "run" if name in RUN_INPUTS else next((p for p, _ in SECTIONS[1:] if name.startswith(p)), "")
        default = f" (default: {item.static_default})" if item.static_default else ""
        if command == "check" and item.name == "check":
            default = " (build-status check sets it)"
        shown = (item.description + default).replace("%", "%%")  # argparse formats help with %
        groups[section].add_argument(item.flag, dest=item.name, metavar=item.metavar, help=shown)
    return parser


def main(argv: list[str] | None = None, env: dict[str, str] | None = None, *, stage: str = "") -> int:
    """Run the command line (``stage=""``) or one of the action's stages (``"main"``, ``"post"``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ) if env is None else env
    if argv and argv[0] in MOVED:
        Console(env).error(
            f"build-status {argv[0]}: the sandbox is the separate command build-status-sandbox serve|demo "
            f"(scripts/setup installs it; elsewhere pip install ./sandbox): run build-status-sandbox {MOVED[argv[0]]}"
        )
        return EXIT_INPUT
    command = "post"
    if argv and argv[0] in INPUT_COMMANDS:
        command = argv[0]
        if command == "check":
            env = {**env, "INPUT_CHECK": "true"}
        argv = argv[1:]
    console = Console(env)
    try:
        return step_exit_code(_post(argv, env, console, stage, command), console)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_INPUT
    except KeyboardInterrupt:
        console.error("Interrupted.")
        return EXIT_REMOTE
    except Exception as exc:  # a bug: say so without leaking anything
        console.error(
            sentence(f"Internal error ({type(exc).__name__}): {exc}") + " Please report it with the debug log."
        )
        import traceback

        console.debug("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        return EXIT_REMOTE


def _post(argv: list[str], env: dict[str, str], console: Console, stage: str, command: str = "post") -> int:
    from .config.catalogue import read_raw
    from .context import read_context
    from .stages.steps import run_stage

    flags = vars(make_parser(console, command).parse_args(argv)) if argv else {}
    context = read_context(env)
    raw = read_raw(env, flags, context)
    _register_secrets(raw, console)
    try:
        return run_stage(raw, env, context, console, stage)
    except InputError as exc:
        console.error(f"Input '{exc.name}': {exc.message}", title="build-status: invalid input")
        return EXIT_INPUT


def _register_secrets(raw: dict[str, str], console: Console) -> None:
    """Mask every secret first of all, before anything could print one."""
    for item in INPUTS:
        if item.secret and raw[item.name].strip():
            console.secret(raw[item.name].strip())
            if raw[item.name] != raw[item.name].strip():
                console.secret(raw[item.name])
    username = raw["bitbucket-username"].strip()
    password = raw["bitbucket-password"].strip()
    if username and password:
        console.basic_secret(username, password)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
