"""The command lines' argparse parsers: a usage mistake is one error line through the console (exit 2), and
descriptions and epilogs are paragraphs wrapped to the terminal. Used by ``build-status`` and by the
sandbox's ``build-status-sandbox``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import EXIT_INPUT
from .workflow import Console

if TYPE_CHECKING:
    import argparse


def argument_parser(
    prog: str, description: str | tuple[str, ...], console: Console | None = None, **kwargs: object
) -> argparse.ArgumentParser:
    """An argparse parser for the command ``prog``: a usage mistake is one error line through the console
    (exit 2); the description and epilog are paragraphs (each string one, wrapped here)."""
    import argparse
    import textwrap

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            (console or Console()).error(f"{message} (see {self.prog} --help)")
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
    import shutil

    return max(shutil.get_terminal_size().columns - 2, 40)
