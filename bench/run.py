#!/usr/bin/env python3
"""Benchmark build-status against its peers; print one Markdown table of medians.

Every figure is the median of ``--repeat`` runs.  Contenders run round-robin in the same session against
the same local sandbox, so machine noise hits them alike.  ``make bench`` writes docs/performance.md.
A run that fails (non-zero exit, or the sandbox did not get what was sent) makes the exit status 1; a
missed target is only shown as FAIL in the table.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Callable

# The client and the sandbox, from the checkout (scripts/setup installs both as well).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox" / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from build_status import __version__
from build_status_sandbox.coveralls import DEFAULT_REPO_TOKEN
from build_status_sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "entrypoint.py"
PYTHON = sys.executable
SECTIONS = ("post", "coveralls", "import", "fanout", "image", "reports")
MAKE_ARGS = ["--write", "docs/performance.md"]

SHA = "5a1e" * 10
TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's well-known test token
STATUS_PATH = "/rest/build-status/1.0/commits/"
BUILD_URL = "https://ci.example/1"
WARMUP = 2
#: Seconds any one process may take (a fan-out job waits behind the rate limit: more).
TIMEOUT = 60
FANOUT_TIMEOUT = 180
DOCKER_TIMEOUT = 300

POST_TARGET = 1.3
COVERALLS_TARGET = 0.5
JOBS = 64
RATE = 16.0
BURST = 8

Contender = Callable[[int], float]


class BenchError(Exception):
    """A benchmarked run failed: the figures would be meaningless."""


@dataclass
class Context:
    home: Path
    repeat: int
    image: str
    #: Rounds of the fan-out (each is 2 × 64 processes: far longer than the other figures).
    fanout_repeat: int = 3


@dataclass
class Row:
    """One line of the table; times in seconds, sizes in bytes."""

    measure: str
    tool: float | None = None
    peer_name: str = "—"
    peer: float | None = None
    unit: str = "ms"
    #: The highest ratio (tool / peer) that meets the target.
    target: float | None = None
    notes: str = ""
    #: Shown instead of the figures (e.g. "n/a (no Docker engine)").
    text: str = ""
    failed: bool = False

    @property
    def ratio(self) -> float | None:
        return self.tool / self.peer if self.tool is not None and self.peer else None

    def cells(self) -> list[str]:
        if self.text:
            verdict = "ERROR" if self.failed else "—"
            return [self.measure, self.text, "—", "—", "—", "—", verdict, self.notes]
        ratio = self.ratio
        target = f"≤ {self.target:g}×" if self.target is not None else "—"
        verdict = "—" if self.target is None or ratio is None else ("PASS" if ratio <= self.target else "FAIL")
        return [
            self.measure,
            show(self.tool, self.unit),
            self.peer_name,
            show(self.peer, self.unit),
            f"{ratio:.2f}×" if ratio is not None else "—",
            target,
            verdict,
            self.notes,
        ]


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "MB":
        return f"{value / 1e6:.1f} MB"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value * 1000:.0f} ms"


def ms(seconds: float) -> str:
    return show(seconds, "ms")


# -- running things ----------------------------------------------------------------------------------


def tail(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-limit:]


def run_timed(
    cmd: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = TIMEOUT
) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``cmd`` to the end; the wall time and the result.  Raises :class:`BenchError` unless it exits 0."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"{Path(cmd[0]).name} did not end within {timeout} s") from None
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(f"{Path(cmd[0]).name} exited {proc.returncode}: {tail(proc.stdout + proc.stderr)}")
    return elapsed, proc


def round_robin(contenders: dict[str, Contender], repeat: int, warmup: int = WARMUP) -> dict[str, list[float]]:
    """``warmup`` untimed rounds, then ``repeat`` rounds of one run each, rotating who goes first."""
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + repeat):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds = contenders[name](index)
            if index >= warmup:
                samples[name].append(seconds)
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def base_env(ctx: Context) -> dict[str, str]:
    """What every process gets besides its inputs: PATH, and an empty HOME (no .netrc, .curlrc...)."""
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(ctx.home)}


def post_env(ctx: Context, url: str, key: str = "bench") -> dict[str, str]:
    """A status post's environment as the runner passes inputs (hyphens kept), no argv."""
    return {
        **base_env(ctx),
        "INPUT_BITBUCKET-URL": url,
        "INPUT_BITBUCKET-TOKEN": TOKEN,
        "INPUT_COMMIT": SHA,
        "INPUT_STATE": "SUCCESSFUL",
        "INPUT_KEY": key,
        "INPUT_URL": BUILD_URL,
    }


def cli() -> list[str]:
    return [PYTHON, str(ENTRYPOINT)]


def tool_version(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    words = (proc.stdout or proc.stderr).split()
    return words[1] if len(words) > 1 else "?"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# -- 1. one status post --------------------------------------------------------------------------------


def check_posted(sandbox: Sandbox, body: dict) -> None:
    """The sandbox got exactly one status post, with ``body``, and answered every request with success."""
    log = sandbox.requests()
    posts = [entry for entry in log if entry["method"] == "POST" and entry["path"] == STATUS_PATH + SHA]
    refused = [f"{entry['method']} {entry['path']} → {entry['status']}" for entry in log if entry["status"] >= 300]
    if refused or len(posts) != 1 or posts[0]["body"] != body:
        raise BenchError(f"the sandbox did not get exactly the one post expected: {refused or posts}")


def reference_body(ctx: Context, sandbox: Sandbox) -> dict:
    """The JSON body the CLI sends (one untimed run): the floor and curl send the same."""
    sandbox.clear_requests()
    run_timed(cli(), post_env(ctx, sandbox.url))
    posts = [entry for entry in sandbox.requests() if entry["method"] == "POST"]
    if len(posts) != 1 or not isinstance(posts[0]["body"], dict) or posts[0]["body"].get("key") != "bench":
        raise BenchError(f"the CLI's post did not reach the sandbox as expected: {posts}")
    return posts[0]["body"]


def floor_command(endpoint: str, body: dict) -> list[str]:
    code = (
        f"import requests; requests.post({endpoint!r}, json={body!r}, "
        f"headers={{'Authorization': 'Bearer {TOKEN}'}}, timeout=10).raise_for_status()"
    )
    return [PYTHON, "-c", code]


def curl_command(endpoint: str, body: dict) -> list[str]:
    return [
        "curl", "-sS", "-f", "--max-time", "10", "-X", "POST",
        "-H", f"Authorization: Bearer {TOKEN}",
        "-H", "Content-Type: application/json",
        "--data", json.dumps(body),
        endpoint,
    ]  # fmt: skip


def posting(sandbox: Sandbox, cmd: list[str], env: dict[str, str], body: dict) -> Contender:
    def one(_index: int) -> float:
        sandbox.clear_requests()
        seconds, _ = run_timed(cmd, env)
        check_posted(sandbox, body)
        return seconds

    return one


def bench_post(ctx: Context) -> list[Row]:
    with Sandbox("127.0.0.1", 0) as sandbox:
        body = reference_body(ctx, sandbox)
        endpoint = sandbox.url + STATUS_PATH + SHA
        commands = {
            "cli": (cli(), post_env(ctx, sandbox.url)),
            "floor": (floor_command(endpoint, body), base_env(ctx)),
        }
        if shutil.which("curl"):
            commands["curl"] = (curl_command(endpoint, body), base_env(ctx))
        contenders = {name: posting(sandbox, cmd, env, body) for name, (cmd, env) in commands.items()}
        samples = round_robin(contenders, ctx.repeat)
    tool = median(samples["cli"])
    notes = f"process start to exit; same sandbox, commit, JSON body and token; n={ctx.repeat}, round-robin"
    rows = [
        Row(
            "One status post",
            tool,
            "python + requests (floor)",
            median(samples["floor"]),
            target=POST_TARGET,
            notes=notes,
        ),
    ]
    if "curl" in samples:
        curl = f"curl {tool_version(['curl', '--version'])}"
        rows.append(Row("One status post", tool, curl, median(samples["curl"]), notes="same runs as above"))
    else:
        rows.append(Row("One status post", text="n/a (curl not installed)"))
    return rows


# -- 2. closing a Coveralls parallel build -------------------------------------------------------------


def close_env_cli(ctx: Context, url: str, number: str) -> dict[str, str]:
    return {
        **base_env(ctx),
        "INPUT_COVERALLS-PARALLEL-FINISHED": "true",
        "INPUT_COVERALLS-REPO-TOKEN": DEFAULT_REPO_TOKEN,
        "INPUT_COVERALLS-ENDPOINT": url,
        "INPUT_COVERALLS-BUILD-NUMBER": number,
    }


def close_env_peer(ctx: Context, url: str, number: str) -> dict[str, str]:
    return {
        **base_env(ctx),
        "COVERALLS_HOST": url,
        "COVERALLS_REPO_TOKEN": DEFAULT_REPO_TOKEN,
        "COVERALLS_SERVICE_NUMBER": number,
    }


def check_closed(sandbox: Sandbox, number: str) -> None:
    build = sandbox.coveralls.build(number)
    if build is None or not build["closed"] or build["closes"] != 1 or len(build["jobs"]) != 1:
        raise BenchError(f"Coveralls build {number} was not closed exactly once: {build}")


def closing(
    sandbox: Sandbox, numbers: itertools.count, cmd: list[str], make_env: Callable[[str], dict], cwd: Path
) -> Contender:
    """Each run: open a fresh parallel build with one job (untimed), close it (timed), check it is closed."""

    def one(_index: int) -> float:
        number = str(next(numbers))
        sandbox.coveralls.register_job(number, flag_name="bench")
        seconds, _ = run_timed(cmd, make_env(number), cwd=cwd)
        check_closed(sandbox, number)
        return seconds

    return one


def bench_coveralls(ctx: Context) -> list[Row]:
    peer = Path(PYTHON).with_name("coveralls")
    if not peer.is_file():
        raise BenchError(f"{peer} not found: install requirements-test.txt (coveralls-python)")
    workdir = ctx.home / "coveralls"  # empty: no .coveralls.yml or .coveragerc to read
    workdir.mkdir(exist_ok=True)
    numbers = itertools.count(1000)
    with Sandbox("127.0.0.1", 0) as sandbox:
        url = sandbox.url
        contenders = {
            "cli": closing(sandbox, numbers, cli(), lambda n: close_env_cli(ctx, url, n), workdir),
            "peer": closing(sandbox, numbers, [str(peer), "--finish"], lambda n: close_env_peer(ctx, url, n), workdir),
        }
        samples = round_robin(contenders, ctx.repeat)
    name = f"coveralls --finish ({package_version('coveralls')})"
    notes = f"a fresh open build with one job per run, checked closed once; n={ctx.repeat}, round-robin"
    return [
        Row(
            "Closing a Coveralls parallel build",
            median(samples["cli"]),
            name,
            median(samples["peer"]),
            target=COVERALLS_TARGET,
            notes=notes,
        )
    ]


# -- 3. import time ------------------------------------------------------------------------------------


def parse_importtime(stderr: str) -> list[tuple[int, str, int]]:
    """``-X importtime`` lines as (depth, module, cumulative µs)."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        entries.append((depth, name.strip(), int(parts[1])))
    return entries


def imports_after_startup(stderr: str, startup: set[str]) -> float:
    """Seconds: the cumulative times of the top-level imports that ``python -c pass`` does not make."""
    return sum(cum for depth, name, cum in parse_importtime(stderr) if depth == 0 and name not in startup) / 1e6


def startup_modules(ctx: Context) -> set[str]:
    _, proc = run_timed([PYTHON, "-X", "importtime", "-c", "pass"], base_env(ctx))
    return {name for depth, name, _ in parse_importtime(proc.stderr) if depth == 0}


def importing(cmd: list[str], env: dict, startup: set[str], check: Callable[[], None], cli_times: list) -> Contender:
    def one(_index: int) -> float:
        _, proc = run_timed(cmd, env)
        check()
        cli_times.extend(cum / 1e6 for _, name, cum in parse_importtime(proc.stderr) if name == "build_status.cli")
        return imports_after_startup(proc.stderr, startup)

    return one


def walltime(cmd: list[str], env: dict) -> Contender:
    return lambda _index: run_timed(cmd, env)[0]


def bench_import(ctx: Context) -> list[Row]:
    startup = startup_modules(ctx)
    cli_times: list[float] = []
    with Sandbox("127.0.0.1", 0) as sandbox:
        body = reference_body(ctx, sandbox)

        def posted() -> None:
            check_posted(sandbox, body)
            sandbox.clear_requests()

        sandbox.clear_requests()
        importtime = [PYTHON, "-X", "importtime"]
        contenders = {
            "cli": importing([*importtime, str(ENTRYPOINT)], post_env(ctx, sandbox.url), startup, posted, cli_times),
            "requests": importing([*importtime, "-c", "import requests"], base_env(ctx), startup, lambda: None, []),
            "pass": walltime([PYTHON, "-c", "pass"], base_env(ctx)),
            "import requests": walltime([PYTHON, "-c", "import requests"], base_env(ctx)),
        }
        samples = round_robin(contenders, ctx.repeat)
    notes = (
        "sum of the cumulative times of the top-level imports made after interpreter start-up (lazy ones "
        f"included); build_status.cli alone {ms(median(cli_times))}. Wall, for reference: `python -c pass` "
        f'{ms(median(samples["pass"]))}, `python -c "import requests"` {ms(median(samples["import requests"]))}; '
        f"n={ctx.repeat}"
    )
    return [
        Row(
            "Import time, entrypoint.py posting (`-X importtime`)",
            median(samples["cli"]),
            f"`import requests` ({package_version('requests')}), same sum",
            median(samples["requests"]),
            notes=notes,
        )
    ]


# -- 4. fan-out against the rate limit -----------------------------------------------------------------


def fan_out(ctx: Context, url: str) -> float:
    """JOBS CLI processes released at once behind a barrier; seconds from release until the last exits."""
    released: list[float] = []
    barrier = threading.Barrier(JOBS, action=lambda: released.append(time.perf_counter()))

    def job(index: int) -> float:
        env = post_env(ctx, url, key=f"fanout/job-{index:02d}")
        barrier.wait(timeout=TIMEOUT)
        run_timed(cli(), env, timeout=FANOUT_TIMEOUT)
        return time.perf_counter()

    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        ends = list(pool.map(job, range(JOBS)))
    return max(ends) - released[0]


def check_fanned_out(sandbox: Sandbox) -> int:
    """Every job's status landed exactly once; returns how many answers were 429."""
    keys = sorted(status["key"] for status in sandbox.bitbucket.statuses(SHA))
    landed = [entry for entry in sandbox.requests() if entry["method"] == "POST" and entry["status"] < 300]
    if keys != [f"fanout/job-{index:02d}" for index in range(JOBS)] or len(landed) != JOBS:
        raise BenchError(f"the sandbox holds {len(keys)} statuses from {len(landed)} landed posts, not {JOBS}")
    return sum(1 for entry in sandbox.requests() if entry["status"] == 429)


def fan_out_once(ctx: Context, limited: bool) -> tuple[float, int]:
    options = {"rate": RATE, "burst": BURST} if limited else {}
    with Sandbox("127.0.0.1", 0, **options) as sandbox:
        seconds = fan_out(ctx, sandbox.url)
        return seconds, check_fanned_out(sandbox)


def bench_fanout(ctx: Context) -> list[Row]:
    with Sandbox("127.0.0.1", 0) as sandbox:  # warm-up, and one process's post alone
        reference_body(ctx, sandbox)
        single = median([run_timed(cli(), post_env(ctx, sandbox.url))[0] for _ in range(3)])
    samples: dict[bool, list[float]] = {False: [], True: []}
    throttled: list[int] = []
    for index in range(ctx.fanout_repeat):
        for limited in (False, True) if index % 2 == 0 else (True, False):
            seconds, answers_429 = fan_out_once(ctx, limited)
            samples[limited].append(seconds)
            if limited:
                throttled.append(answers_429)
    floor = median(samples[False])
    drain = (JOBS - BURST) / RATE
    ideal = max(floor, single + drain)
    notes = (
        f"ideal = the later of: the same fan-out with no limit ({floor:.2f} s: {JOBS} processes starting on "
        f"this machine's CPUs) and one post alone ({single:.2f} s) + the bucket's drain, ({JOBS}-{BURST})/{RATE:g} "
        f"= {drain:.2f} s; all {JOBS} exit 0 and {JOBS} statuses land each time; "
        f"{statistics.median(throttled):.0f} answers 429 (median); n={ctx.fanout_repeat}, alternating"
    )
    return [
        Row(
            f"{JOBS}-job fan-out, token bucket {RATE:g}/s burst {BURST}",
            median(samples[True]),
            "ideal",
            ideal,
            unit="s",
            notes=notes,
        )
    ]


# -- 5. the image ----------------------------------------------------------------------------------------


def docker_answers() -> bool:
    try:
        proc = subprocess.run(["docker", "info"], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def docker(args: list[str], timeout: float = DOCKER_TIMEOUT) -> subprocess.CompletedProcess:
    """``docker ARGS`` with this environment (DOCKER_HOST honoured); raises unless it exits 0."""
    return run_timed(["docker", *args], dict(os.environ), timeout=timeout)[1]


def compressed_size(image: str) -> int:
    """Bytes of ``docker save IMAGE | gzip -9`` (zlib level 9 in a gzip wrapper)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    size = 0
    with subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        watchdog = threading.Timer(DOCKER_TIMEOUT, proc.kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            while chunk := proc.stdout.read(1 << 20):
                size += len(compressor.compress(chunk))
        finally:
            watchdog.cancel()
        if proc.wait() != 0:
            raise BenchError(f"docker save {image} exited {proc.returncode}")
    return size + len(compressor.flush())


def dry_run_args(image: str) -> list[str]:
    inputs = {
        "DRY-RUN": "true",
        "BITBUCKET-URL": "https://bitbucket.example.com",
        "BITBUCKET-TOKEN": TOKEN,
        "COMMIT": SHA,
        "STATE": "SUCCESSFUL",
        "KEY": "bench",
        "URL": BUILD_URL,
    }
    env = [arg for name, value in inputs.items() for arg in ("-e", f"INPUT_{name}={value}")]
    return ["run", "--rm", *env, image]


def container(args: list[str], expect: str = "") -> Contender:
    def one(_index: int) -> float:
        seconds, proc = run_timed(["docker", *args], dict(os.environ), timeout=DOCKER_TIMEOUT)
        if expect not in proc.stdout:
            raise BenchError(f"docker {' '.join(args[:2])} printed no {expect!r}: {tail(proc.stdout + proc.stderr)}")
        return seconds

    return one


def bench_image(ctx: Context) -> list[Row]:
    if not docker_answers():
        return [Row("Image", text="n/a (no Docker engine)")]
    image = ctx.image
    on_disk = int(docker(["image", "inspect", "-f", "{{.Size}}", image]).stdout.strip())
    packed = compressed_size(image)
    contenders = {
        "version": container(["run", "--rm", image, "--version"], expect=__version__),
        "dry-run": container(dry_run_args(image), expect="dry-run"),
        "floor": container(["run", "--rm", "--entrypoint", "/usr/bin/python3", image, "-c", "pass"]),
    }
    samples = round_robin(contenders, ctx.repeat, warmup=1)
    floor = median(samples["floor"])
    peer = "`python -c pass` in the same image"
    runs = f"`docker run --rm`, start to exit; n={ctx.repeat}, round-robin"
    return [
        Row(f"Image `{image}`, compressed (`docker save | gzip -9`)", packed, unit="MB", notes=f"{packed:,} bytes"),
        Row(f"Image `{image}`, on disk", on_disk, unit="MB", notes=f"{on_disk:,} bytes (`docker image inspect`)"),
        Row("Container: `--version`", median(samples["version"]), peer, floor, notes=runs),
        Row("Container: dry-run status post", median(samples["dry-run"]), peer, floor, notes=runs),
    ]


# -- the table and the page --------------------------------------------------------------------------


HEADER = ("Measure", "build-status (median)", "Peer", "Peer (median)", "Ratio", "Target", "Verdict", "Notes")
# -- 6. large test and coverage reports -----------------------------------------------------------------


def bench_reports(ctx: Context) -> list[Row]:
    import reports

    rows = []
    for reader, name, write, measure in (
        ("junit", "junit.xml", reports.write_junit,
         f"Reading a JUnit report: {reports.CASES:,} cases, {reports.FAILURES:,} failures"),
        ("coverage", "coverage.xml", reports.write_cobertura,
         f"Reading a Cobertura report: {reports.FILES:,} files"),
    ):  # fmt: skip
        path = ctx.home / name
        write(path)
        seconds, peak = reports.measure(ROOT / "src", reader, path, ctx.repeat)
        notes = (
            f"{path.stat().st_size / 1e6:.1f} MB file; peak {peak / 1e6:.1f} MB of Python allocations "
            f"(tracemalloc); in a child process, from the call to its return; n={ctx.repeat}"
        )
        rows.append(Row(measure, median(seconds), notes=notes))
    return rows


BENCHES: dict[str, Callable[[Context], list[Row]]] = {
    "post": bench_post,
    "coveralls": bench_coveralls,
    "import": bench_import,
    "fanout": bench_fanout,
    "image": bench_image,
    "reports": bench_reports,
}
TITLES = {
    "post": "One status post",
    "coveralls": "Closing a Coveralls parallel build",
    "import": "Import time",
    "fanout": f"{JOBS}-job fan-out",
    "image": "Image",
    "reports": "Large reports",
}


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(cell(text) for text in row.cells()) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    return f"{platform.platform()}, {os.cpu_count()} CPU(s) ({cpu})"


def command_line(argv: list[str]) -> str:
    if argv == MAKE_ARGS:
        return "`make bench` (`.venv/bin/python bench/run.py --write docs/performance.md`)"
    return "`" + " ".join(["python", "bench/run.py", *argv]) + "`"


def page(rows: list[Row], argv: list[str], repeat: int) -> str:
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = (
        f"build-status {__version__}, requests {package_version('requests')}, "
        f"coveralls-python {package_version('coveralls')}, curl {tool_version(['curl', '--version'])}"
    )
    return f"""# Performance

Written by `bench/run.py`. It measures what a CI job waits for: one status post from process start
to exit, closing a Coveralls parallel build, the entry module's import time, {JOBS} jobs posting at once
against a rate-limited server, and the action's image. Each figure is the median of {repeat} runs; the
tools compared run round-robin in the same session against the same local sandbox (loopback HTTP), so
machine noise hits them alike. Every run is checked: its exit status, and what the sandbox received.

- Machine: {machine()}
- Python: {platform.python_implementation()} {platform.python_version()} (the CLI, the requests floor and
  coveralls-python all run on it)
- Versions: {versions}
- Command: {command_line(argv)}
- Date: {date}

{table(rows)}
## How to read

*Ratio* is build-status's median divided by the peer's: below 1 build-status is faster. *Target* is
the ratio to meet (PASS/FAIL); rows without one are context. The *floor* is the least any Python tool
can do for a status post: start the interpreter, import requests, send one request. Import time is
what `python -X importtime` reports for the imports made after the interpreter's own start-up. The
fan-out's *ideal* is the later of two floors: the same {JOBS} processes without a rate limit (starting
them all on this machine's CPUs) and one post alone plus the time the token bucket needs to let the jobs
beyond the burst through. Figures depend on the machine: compare rows within one run,
not across machines. The image rows need a Docker engine (`docker info`); without one they read n/a.
"""


def run_section(name: str, ctx: Context) -> tuple[list[Row], bool]:
    print(f"bench: {name}…", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        rows = BENCHES[name](ctx)
    except (BenchError, OSError, threading.BrokenBarrierError) as exc:
        message = str(exc) or type(exc).__name__
        print(f"bench: {name} FAILED: {message}", file=sys.stderr, flush=True)
        return [Row(TITLES[name], text="run failed", notes=message, failed=True)], False
    print(f"bench: {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return rows, True


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per figure (default 15)")
    parser.add_argument(
        "--fanout-repeat", type=int, default=3, help="rounds of the 64-job fan-out, limited and not (default 3)"
    )
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this part (repeatable)")
    parser.add_argument(
        "--image",
        default=os.environ.get("BUILD_STATUS_IMAGE", "build-status:local"),
        help="the image to measure (default: $BUILD_STATUS_IMAGE or build-status:local)",
    )
    parser.add_argument("--write", metavar="PATH", help="also write the Markdown page (docs/performance.md)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.fanout_repeat < 1:
        parser.error("--repeat and --fanout-repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    rows: list[Row] = []
    ok = True
    with TemporaryDirectory(prefix="bench-home-") as home:
        ctx = Context(Path(home), args.repeat, args.image, args.fanout_repeat)
        for name in [name for name in SECTIONS if not args.only or name in args.only]:
            section_rows, section_ok = run_section(name, ctx)
            rows += section_rows
            ok &= section_ok
    print(table(rows), end="")
    if args.write and ok:
        path = Path(args.write)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(rows, argv, args.repeat), encoding="utf-8")
        print(f"bench: wrote {path}", file=sys.stderr)
    elif args.write:
        print(f"bench: a run failed; {args.write} left as it was", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
