"""``build-status-sandbox serve``: run the sandbox in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import signal
import sys
import threading
from typing import TextIO

from .bitbucket import TOKEN_KINDS, BitbucketConfig, parse_version
from .bitbucket_cloud_config import DEFAULT_ACCESS_TOKEN as CLOUD_ACCESS_TOKEN
from .bitbucket_cloud_config import DEFAULT_API_TOKEN as CLOUD_API_TOKEN
from .bitbucket_cloud_config import DEFAULT_EMAIL as CLOUD_EMAIL
from .coveralls import DEFAULT_REPO_TOKEN
from .server import Sandbox
from .usage import EXIT_INPUT, argument_parser, error
from .webappio import DEFAULT_TOKEN as WEBAPPIO_TOKEN
from .webappio import WebappioConfig

DEFAULT_PORT = 7990


def _user(text: str) -> tuple[str, str]:
    name, colon, password = text.partition(":")
    if not colon or not name:
        raise argparse.ArgumentTypeError(f"expected NAME:PASSWORD, not {text!r}")
    return name, password


def _token(text: str) -> tuple[str, str]:
    token, colon, kind = text.rpartition(":")
    if colon and kind in TOKEN_KINDS and token:
        return token, kind
    if not text:
        raise argparse.ArgumentTypeError("a token must not be empty")
    return text, "personal"


def _webappio_token(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("a webapp.io token must not be empty")
    return text


def _version(text: str) -> str:
    try:
        parse_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
    return value


def _burst(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


def port_number(text: str) -> int:
    """A port to listen on, 0 for any free one (argparse type for --port)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number; give one from 1 to 65535, or --port 0 for any free port"
        )
    return value


def listen_error(exc: OSError, host: str, port: int) -> str:
    """One line saying why the sandbox cannot listen on ``host:port`` and what to do."""
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {where}: port {port} is in use (another sandbox?); stop what uses it, pick another "
            "with --port, or give --port 0 for any free port."
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot listen on {where}: permission denied (ports below 1024 need root); pick another with --port, "
            "or give --port 0 for any free port."
        )
    reason = (exc.strerror or str(exc)).rstrip(".")
    return f"cannot listen on {where}: {reason}; check --host (127.0.0.1 is this machine's loopback) and --port."


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argument_parser(
        "build-status-sandbox serve",
        "Serve a local emulation of Bitbucket's build-status REST API, of Coveralls' job upload and parallel "
        "build webhook, and of webapp.io's CI-jobs API (with an overview page), in the foreground until Ctrl+C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback)")
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 = any free port)"
    )
    parser.add_argument("--context-path", default="", help="Bitbucket context path, e.g. /stash (default: none)")
    parser.add_argument(
        "--bitbucket-version", type=_version, default="9.2", help="Bitbucket version to emulate (default: 9.2)"
    )
    parser.add_argument(
        "--rate-limit", type=_positive, metavar="RATE", help="per-credential token bucket refill, requests/s"
    )
    parser.add_argument("--burst", type=_burst, metavar="N", help="token bucket size (default: 60; needs --rate-limit)")
    parser.add_argument(
        "--user",
        type=_user,
        action="append",
        metavar="NAME:PASSWORD",
        help="a user (repeatable; replaces the default user sandbox:sandbox-password)",
    )
    parser.add_argument(
        "--token",
        type=_token,
        action="append",
        metavar="TOKEN[:http-access]",
        help="an access token, personal unless :http-access (repeatable; replaces the default tokens)",
    )
    parser.add_argument(
        "--webappio-token",
        type=_webappio_token,
        action="append",
        metavar="TOKEN",
        help=f"a webapp.io API token (repeatable; replaces the default token {WEBAPPIO_TOKEN})",
    )
    return parser


def _announce(
    sandbox: Sandbox,
    config: BitbucketConfig,
    custom_users: bool,
    custom_tokens: bool,
    out: TextIO,
    custom_webappio_tokens: bool = False,
) -> None:
    print(f"Sandbox listening on {sandbox.url}", file=out, flush=True)
    lines = [
        f"Bitbucket {config.version} base URL: {sandbox.bitbucket_url}",
        f"Overview page: {sandbox.url}/   JSON state: {sandbox.url}/_sandbox/state",
    ]
    if custom_users:
        lines.append(f"Users: {', '.join(sorted(config.users))}")
    else:
        lines.append("User: sandbox / password sandbox-password")
    if custom_tokens:
        kinds = list(config.tokens.values())
        lines.append(f"Tokens: {kinds.count('personal')} personal, {kinds.count('http-access')} HTTP access")
    else:
        lines.append("Tokens: sandbox-token (personal; Bearer, or Basic password of user sandbox),")
        lines.append("        sandbox-repo-token (repository HTTP access token; Bearer only)")
    lines.append(
        f"Bitbucket Cloud base URL: {sandbox.bitbucket_cloud_url} (/2.0/repositories/<workspace>/<repo>/commit/<sha>/…)"
    )
    lines.append(
        f"Bitbucket Cloud: access token {CLOUD_ACCESS_TOKEN} (Bearer), or {CLOUD_EMAIL} with API token "
        f"{CLOUD_API_TOKEN} (Basic)"
    )
    lines.append(f"Coveralls endpoint: {sandbox.url} (job uploads, parallel build webhook, /builds/<id or sha>.json)")
    lines.append(f"Coveralls repo token: {DEFAULT_REPO_TOKEN}")
    repositories = ", ".join(sandbox.webappio.config.repositories)
    lines.append(f"webapp.io API base URL: {sandbox.webappio_url} (repositories: {repositories})")
    if custom_webappio_tokens:
        lines.append(f"webapp.io API tokens: {len(sandbox.webappio.config.tokens)} (the token query parameter)")
    else:
        lines.append(f"webapp.io API token: {WEBAPPIO_TOKEN} (the token query parameter)")
    lines.append("Stop with Ctrl+C.")
    print("\n".join(lines), file=out, flush=True)


def serve(argv: list[str], out: TextIO | None = None) -> int:
    """Run ``build-status-sandbox serve`` with ``argv`` (the arguments after ``serve``); the exit code."""
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    if args.burst is not None and args.rate_limit is None:
        error("--burst needs --rate-limit (see build-status-sandbox serve --help)")
        return EXIT_INPUT
    fields: dict = {"context_path": args.context_path, "version": args.bitbucket_version}
    if args.user:
        fields["users"] = dict(args.user)
    if args.token:
        fields["tokens"] = dict(args.token)
    try:
        config = BitbucketConfig(**fields)
        webappio = WebappioConfig(tokens=tuple(args.webappio_token)) if args.webappio_token else None
        sandbox = Sandbox(
            args.host, args.port, bitbucket=config, webappio=webappio, rate=args.rate_limit, burst=args.burst
        )
    except OSError as exc:
        error(listen_error(exc, args.host, args.port))
        return EXIT_INPUT
    except ValueError as exc:
        error(f"{exc} (see build-status-sandbox serve --help)")
        return EXIT_INPUT

    stop = threading.Event()
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
        except ValueError:  # not the main thread: the caller stops us some other way
            break
    try:
        sandbox.start()
        _announce(sandbox, config, bool(args.user), bool(args.token), out, bool(args.webappio_token))
        if not _is_loopback(sandbox.host):
            print(
                f"Warning: bound to {sandbox.host}, not loopback: anyone who can reach it can read and change it.",
                file=sys.stderr,
                flush=True,
            )
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("Sandbox stopped.", file=out, flush=True)
    return 0
