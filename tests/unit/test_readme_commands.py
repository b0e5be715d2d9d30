"""Every command README.md and docs/*.md show works as written after the quick start: the scripts exist and
run, make has the targets, `.venv/bin/...` names something the quick start installs, and every
`build-status` and `build-status-sandbox` command line names a real command and only options that command
takes."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from build_status.cli import INPUT_COMMANDS, make_parser
from build_status_sandbox import cli as sandbox_cli
from build_status_sandbox import command as sandbox_command
from build_status_sandbox import demo

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The words a shell command in the docs starts with (after any NAME=value); anything else is prose.
STARTS = ("scripts/", "docker/", ".venv/bin/", "make ", "build-status", "python", "pip ", "PYTHON=", "BUILD_STATUS_")
#: The programs the quick start puts into .venv/bin (besides the interpreter): the entry points of the
#: project and of the sandbox (sandbox/, installed with it).
ENTRY_POINTS = [
    name
    for pyproject in (ROOT / "pyproject.toml", ROOT / "sandbox" / "pyproject.toml")
    for name in re.findall(
        r'^([\w-]+) = "',
        pyproject.read_text(encoding="utf-8").split("[project.scripts]", 1)[1].split("\n[", 1)[0],
        re.M,
    )
]
MAKE_TARGETS = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))


def shell_blocks(text: str) -> list[list[str]]:
    """The ```sh blocks, each as its commands (continuation lines joined, comments dropped)."""
    blocks = []
    for body in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S):
        joined = body.replace("\\\n", " ")
        blocks.append([line for line in joined.splitlines() if line.split("#", 1)[0].strip()])
    return blocks


def inline_commands(text: str) -> list[str]:
    """Code spans in the prose that are shell commands (one line)."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return [span for span in re.findall(r"`([^`\n]+)`", prose) if span.startswith(STARTS)]


def commands() -> list[tuple[str, str, str]]:
    """(document, command, where: "block", "block after pip install" or "prose") for every command shown."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for block in shell_blocks(text):
            where = "block"
            for line in block:
                if line.strip().startswith("pip install"):
                    where = "block after pip install"
                found.append((path.name, line.strip(), where))
        found += [(path.name, span, "prose") for span in inline_commands(text)]
    return found


COMMANDS = commands()


def words(command: str) -> list[str]:
    """The command's words, without leading NAME=value assignments and without its comment."""
    parts = shlex.split(command.replace("…", "VALUE"), comments=True)
    while parts and re.match(r"^[A-Z_][A-Z0-9_]*=", parts[0]):
        parts = parts[1:]
    return parts


def options_of(program: str, argv: list[str]) -> set[str]:
    """The option strings the command of ``program`` (build-status or build-status-sandbox) named by ``argv``
    takes."""
    if program == "build-status-sandbox":
        parsers = {"serve": sandbox_command.build_parser, "demo": demo.build_parser}
        parser = parsers.get(argv[0] if argv else "", sandbox_cli.build_parser)()
    else:
        parser = make_parser(command=argv[0] if argv and argv[0] in INPUT_COMMANDS else "post")
    return {option for action in parser._actions for option in action.option_strings}


def check_command(program: str, argv: list[str]) -> None:
    """A real command of ``program`` (build-status or build-status-sandbox), and only options it takes."""
    commands = tuple(sandbox_cli.COMMANDS) if program == "build-status-sandbox" else INPUT_COMMANDS
    rest = argv
    if argv and not argv[0].startswith("-"):
        assert argv[0] in commands, f"{program} has no command {argv[0]!r}"
        rest = argv[1:]
    elif argv and program == "build-status-sandbox":  # bare, the command is named, not run
        assert argv[0] in ("-h", "--help", "--version"), f"{program} needs a command: {commands}"
    known = options_of(program, argv)
    for word in rest:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in known, f"{program} {argv[:1]} has no option {word}"


def test_the_docs_show_commands():
    shown = {command for _, command, _ in COMMANDS}
    assert {"scripts/demo", "scripts/test", "scripts/container-test"} <= {c.split()[0] for c in shown}
    assert any(c.startswith(".venv/bin/build-status-sandbox serve") for c in shown)
    assert any(c.startswith(".venv/bin/build-status-sandbox demo") for c in shown)
    assert len(COMMANDS) > 20


@pytest.mark.parametrize(("document", "command", "where"), COMMANDS, ids=[c for _, c, _ in COMMANDS])
def test_each_command_works_as_written(document, command, where):
    argv = words(command)
    program, args = argv[0], argv[1:]
    if program.endswith(".py") and not args:  # a file named in the prose, not run
        assert (ROOT / program).is_file(), f"{document}: no {program}"
    elif program.startswith(("scripts/", "docker/")):
        path = ROOT / program
        assert path.is_file() and path.stat().st_mode & 0o111, f"{document}: {program} is not an executable file"
    elif program.startswith(".venv/bin/"):
        name = program.removeprefix(".venv/bin/")
        installed = Path(sys.executable).parent / name
        assert name in ("python", "python3", *ENTRY_POINTS) or installed.exists(), f"{document}: no {program}"
        if name in ("build-status", "build-status-sandbox"):
            check_command(name, args)
        elif name.startswith("python") and args and args[0].endswith(".py"):
            assert (ROOT / args[0]).is_file(), f"{document}: no {args[0]}"
    elif program == "make":
        assert args and args[0] in MAKE_TARGETS, f"{document}: the Makefile has no target {args[:1]}"
    elif program in ("build-status", "build-status-sandbox"):
        # Bare, it is on the PATH where pip installed it, or in a shell that activated the quick start's .venv
        # (as the quick start says); a shell block that runs it must install it first.
        assert where != "block", f"{document}: {command!r} runs a {program} that nothing installed"
        check_command(program, args)
    elif program in ("python", "python3"):
        # A repository script needs the dependencies: the quick start's interpreter, not whichever is first.
        assert not (args and args[0].endswith(".py")), f"{document}: run {args[0]} with .venv/bin/python"
    elif program == "pip":
        assert args[:1] == ["install"]
        for target in args[1:]:
            if target.startswith("."):  # a project in this repository, with any extras it declares
                folder, _, extras = target.rstrip("]").partition("[")
                pyproject = ROOT / folder / "pyproject.toml"
                assert pyproject.is_file(), f"{document}: {folder} is no project to install"
                section = pyproject.read_text(encoding="utf-8").partition("[project.optional-dependencies]")[2]
                declared = re.findall(r"^([\w-]+) = \[", section.split("\n[", 1)[0], re.M)
                for extra in filter(None, extras.split(",")):
                    assert extra in declared, f"{document}: {folder} has no extra {extra!r}"


def test_the_quick_start_says_how_to_call_build_status():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme[readme.index("## Quick start") : readme.index("## Usage")]
    assert "`.venv/bin/build-status`" in quick_start and "`. .venv/bin/activate`" in quick_start
    assert not re.search(r"`build-status ", quick_start), "the quick start shows a bare build-status command"
