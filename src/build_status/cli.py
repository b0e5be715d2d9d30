"""``build-status``: the command line, and the action's entry point.

``build-status [--input value ...]`` posts a build status (inputs also come from ``INPUT_*`` variables,
as GitHub Actions passes them); ``build-status sandbox`` serves the local Bitbucket emulation;
``build-status demo`` runs the quick-start demo against it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from . import __version__
from .errors import EXIT_INPUT, EXIT_REMOTE, InputError
from .inputs import INPUTS
from .workflow import Console

if TYPE_CHECKING:
    import argparse

    from .context import Context
    from .jobend import Saved
    from .settings import Settings

SUBCOMMANDS = ("sandbox", "demo")
#: Subcommands that take the inputs as flags: ``post`` (the default) and ``check`` (read back).
INPUT_COMMANDS = ("post", "check")


def make_parser(console: Console | None = None) -> argparse.ArgumentParser:
    """The command line's parser: a usage mistake is one error line through the console (exit 2).

    Built only when there are arguments: the action passes none (inputs arrive as ``INPUT_*``), and
    argparse would cost its start-up time on every step.
    """
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            (console or Console()).error(f"{message} (see build-status --help)")
            raise SystemExit(EXIT_INPUT)

    parser = Parser(
        prog="build-status",
        description="Post a commit's build status to Bitbucket Server / Data Center. Every option can "
        "also be given as an INPUT_<NAME> variable (INPUT_BITBUCKET-URL or INPUT_BITBUCKET_URL). "
        "Other commands: 'build-status sandbox' (a local Bitbucket emulation), 'build-status demo'.",
    )
    parser.add_argument("--version", action="version", version=f"build-status {__version__}")
    for item in INPUTS:
        parser.add_argument(item.flag, dest=item.name, metavar=item.metavar, help=item.description)
    return parser


def main(argv: list[str] | None = None, env: dict[str, str] | None = None, *, stage: str = "") -> int:
    """Run the command line (``stage=""``) or one of the action's stages (``"main"``, ``"post"``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ) if env is None else env
    if argv and argv[0] in SUBCOMMANDS:
        return _subcommand(argv[0], argv[1:])
    if argv and argv[0] in INPUT_COMMANDS:
        if argv[0] == "check":
            env = {**env, "INPUT_CHECK": "true"}
        argv = argv[1:]
    console = Console(env)
    try:
        return _final(_post(argv, env, console, stage), console)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_INPUT
    except KeyboardInterrupt:
        console.error("Interrupted.")
        return EXIT_REMOTE
    except Exception as exc:  # a bug: say so without leaking anything
        console.error(f"Internal error ({type(exc).__name__}): {exc}. Please report it with the debug log.")
        import traceback

        console.debug("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        return EXIT_REMOTE


def _post(argv: list[str], env: dict[str, str], console: Console, stage: str) -> int:
    from . import jobend
    from .context import read_context
    from .inputs import read_raw

    saved = None
    if stage == "post":
        saved = jobend.load(env)
        if saved is None:  # the main stage posted a final state, or nothing (report-job-end is off)
            console.debug("report-job-end: the main stage left no job end to report.")
            return 0
    flags = vars(make_parser(console).parse_args(argv)) if argv else {}
    context = read_context(env)
    raw = read_raw(env, flags, context)
    _register_secrets(raw, console)
    try:
        from .settings import parse_settings

        settings = parse_settings(raw, context)._replace(stage=stage)
        console.fail_on_error = settings.fail_on_error
        from .run import run

        if saved is None:
            if stage == "main":
                settings = jobend.for_main(settings)
            elif stage == "portable":
                _no_post_stage(settings, console)
            return run(settings, context, console)
        return _job_end(settings, raw["job-status"], saved, env, context, console)
    except InputError as exc:
        console.error(f"Input '{exc.name}': {exc.message}", title="build-status: invalid input")
        return EXIT_INPUT


def _final(code: int, console: Console) -> int:
    """The exit code: a runner file (outputs, summary, env, state) that could not be written fails a step
    that otherwise succeeded, unless fail-on-error is false; an exit code 1 or 2 stays what it is."""
    if code == 0 and console.write_failures and console.fail_on_error:
        return EXIT_REMOTE
    return code


def _job_end(
    settings: Settings, job_status: str, saved: Saved, env: dict[str, str], context: Context, console: Console
) -> int:
    """The action's post stage: the job's final state where the main stage posted INPROGRESS."""
    import time

    from . import jobend
    from .post_status import Plan
    from .run import run

    ending = jobend.for_post(settings, job_status, saved, env, int(time.time() * 1000))
    if ending is None:
        console.info(
            f"The job ended ({job_status.strip()}); '{saved.key}' already has its final state on every commit, "
            "posted by a later step: nothing more to post."
        )
        return 0
    console.info(f"The job ended ({job_status.strip()}): reporting it as '{saved.key}'.")
    plan = Plan(saved.api, saved.newer_states, "as the main stage found") if saved.api else None
    return run(ending, context, console, plan=plan)


def _no_post_stage(settings: Settings, console: Console) -> None:
    """The portable (composite) action has no post stage: say so where the Docker action would defer."""
    from .jobend import defers

    if not defers(settings) or settings.bitbucket.state_explicit:
        return
    console.notice(
        f"The portable action has no post stage (composite actions have none), so it posts "
        f"{settings.bitbucket.state} now, as job.status stands, and not the job's end. Run it last with if: always() "
        "(or post INPROGRESS first with state: INPROGRESS); report-job-end: false silences this note.",
        title="report-job-end",
    )


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


def _subcommand(name: str, argv: list[str]) -> int:
    if name == "sandbox":
        from .sandbox.command import run

        return run(argv)
    from .demo import run as run_demo

    return run_demo(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
