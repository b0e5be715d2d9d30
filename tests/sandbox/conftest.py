"""Fixtures for the sandbox tests: a Sandbox on a free loopback port, and a small HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import Client, bearer

from build_status_sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    http = Client(sandbox.url)
    yield http
    http.close()


@pytest.fixture
def anonymous(sandbox: Sandbox) -> Iterator[Client]:
    http = Client(sandbox.url, auth=None)
    yield http
    http.close()


@pytest.fixture
def cloud(sandbox: Sandbox) -> Iterator[Client]:
    """A client of the Bitbucket Cloud emulation with the default access token (Bearer)."""
    http = Client(sandbox.url, auth=bearer())
    yield http
    http.close()


@pytest.fixture
def make_sandbox() -> Iterator:
    """Start extra sandboxes (other configurations); all stopped at the end of the test."""
    started: list[Sandbox] = []

    def make(**kwargs: object) -> Sandbox:
        running = Sandbox(**kwargs).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
