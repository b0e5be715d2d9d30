"""Shared builders for unit and contract tests: a GitHub-like context and raw inputs over it."""

from __future__ import annotations

from build_status.config.catalogue import read_raw
from build_status.context import Context

SHA = "0123456789abcdef0123456789abcdef01234567"


def context(**changes) -> Context:
    """A push run of workflow CI, job build, run #3 (attempt 1) of o/r, unless changed."""
    fields = {
        "actions": True,
        "workflow": "CI",
        "job": "build",
        "run_number": "3",
        "run_attempt": "1",
        "server_url": "https://github.com",
        "repository": "o/r",
        "run_id": "5",
        "sha": SHA,
        "ref": "refs/heads/main",
    }
    fields.update(changes)
    return Context(**fields)


def raw_inputs(ctx: Context, **changes) -> dict[str, str]:
    """The raw inputs a step would get with Bitbucket URL, a token and SUCCESSFUL, plus ``changes``
    (keyword names with ``_`` stand for ``-``)."""
    values = read_raw({}, {}, ctx)
    values.update({"bitbucket-url": "https://bb.example.com", "bitbucket-token": "tok", "state": "SUCCESSFUL"})
    values.update({k.replace("_", "-"): v for k, v in changes.items()})
    return values
