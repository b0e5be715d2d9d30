"""A catalogue entry: one input (its name, description, default and parser) or one output."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from ..context import Context
from . import values


class Input(NamedTuple):
    name: str
    description: str
    #: The default written into action.yml (may be a ``${{ }}`` expression), or None.
    default: str | None = None
    #: Outside GitHub Actions, where no ``INPUT_*`` variable carries the evaluated action.yml default,
    #: this computes the same value from the environment (a plain default needs none).
    fallback: Callable[[Context], str] | None = None
    secret: bool = False
    #: For the CLI's --help: the value's form.
    metavar: str = "VALUE"
    #: Turns the raw text into the value (``values.text``: stripped), raising InputError naming the input.
    parse: Callable[[str, str], Any] = values.text

    @property
    def env_names(self) -> tuple[str, str]:
        """``INPUT_BITBUCKET-URL`` as the runner sets it, and ``INPUT_BITBUCKET_URL`` for shells."""
        upper = self.name.upper().replace(" ", "_")
        return f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"

    @property
    def static_default(self) -> str:
        """The action.yml default when it is a plain value (not an expression), else ``""``."""
        return self.default if self.default and "${{" not in self.default else ""

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    def read(self, raw: dict[str, str]) -> Any:
        """This input's value in ``raw``, parsed."""
        return self.parse(self.name, raw[self.name])


class Output(NamedTuple):
    name: str
    description: str


def reader(inputs: tuple[Input, ...]) -> Callable[[dict[str, str], str], Any]:
    """``value(raw, name)``: the parsed value of one of ``inputs``."""
    by_name = {item.name: item for item in inputs}
    return lambda raw, name: by_name[name].read(raw)
