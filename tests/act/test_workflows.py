"""Whole workflows under act: what the sandbox received, in order, is what a GitHub run would have sent."""

from __future__ import annotations

import json
import secrets

import pytest

from build_status_sandbox import Sandbox

from ..secret_scan import assert_no_secret_in
from .conftest import ACTION, REF, ROOT

PROJECT, REPO = "PRJ", "app"
PARTS = {"one": (1, 0), "two": (2, 1), "three": (3, 0)}  # part → (tests passed, failed); "two" fails
#: The run's id and number (act gives 1 and 1 to every run unless told, as here, through the environment).
RUN_ID, RUN_NUMBER = "4242", "17"
WHEELS = ROOT / ".venv" / "wheels"


def credential(prefix: str) -> str:
    """A fresh credential-like secret: any 6 characters of it in a row in the log count as a leak."""
    return f"{prefix}{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def tokens():
    return {"BITBUCKET_TOKEN": credential("bbT0k"), "COVERALLS_TOKEN": credential("cvT0k")}


@pytest.fixture(scope="module")
def sandbox(tokens):
    config = {"tokens": {tokens["BITBUCKET_TOKEN"]: "personal"}}
    with Sandbox(bitbucket=config, coveralls={"repo_tokens": [tokens["COVERALLS_TOKEN"]]}) as running:
        yield running


def builds_posts(sandbox: Sandbox, sha: str) -> dict[str, list[dict]]:
    """The statuses the sandbox accepted on the repository-scoped endpoint, in order, by key."""
    path = f"/rest/api/latest/projects/{PROJECT}/repos/{REPO}/commits/{sha}/builds"
    by_key: dict[str, list[dict]] = {}
    for request in sandbox.app.log.entries():
        if request["method"] == "POST" and request["path"] == path and request["status"] == 204:
            by_key.setdefault(request["body"]["key"], []).append(request["body"])
    return by_key


def matrix_workflow(url: str) -> str:
    bitbucket = f"""
          bitbucket-url: {url}
          bitbucket-token: ${{{{ secrets.BITBUCKET_TOKEN }}}}
          bitbucket-project: {PROJECT}
          bitbucket-repo: {REPO}"""
    cases = " ".join(f"{part}) passed={passed} failed={failed} ;;" for part, (passed, failed) in PARTS.items())
    return f"""\
name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        part: [one, two, three]
    steps:
      - uses: {ACTION}@{REF}
        with:{bitbucket}
          job-status: ${{{{ job.status }}}}
          test-results: reports/*.xml
      - name: Tests (a JUnit report)
        run: |
          case "${{{{ matrix.part }}}}" in {cases} esac
          mkdir -p reports
          {{
            echo "<testsuite tests=\\"$((passed + failed))\\">"
            for i in $(seq "$passed"); do echo "<testcase name=\\"ok$i\\"/>"; done
            for i in $(seq "$failed"); do echo "<testcase name=\\"bad$i\\"><failure/></testcase>"; done
            echo "</testsuite>"
          }} > reports/junit.xml
      - name: Coverage upload (parallel)
        env:
          COVERALLS_REPO_TOKEN: ${{{{ secrets.COVERALLS_TOKEN }}}}
          FLAG: ${{{{ matrix.part }}}}
          NUMBER: ${{{{ github.run_id }}}}
        run: |
          python3 -c '
          import json, os, urllib.request
          job = {{"repo_token": os.environ["COVERALLS_REPO_TOKEN"], "service_name": "github", "parallel": True,
                 "service_number": os.environ["NUMBER"], "flag_name": os.environ["FLAG"], "source_files": []}}
          request = urllib.request.Request("{url}/api/v1/jobs", data=json.dumps(job).encode(),
                                           headers={{"Content-Type": "application/json"}})
          print(urllib.request.urlopen(request, timeout=30).read().decode())
          '
      - name: The failing part
        if: matrix.part == 'two'
        run: exit 1
  gate:
    needs: test
    if: always()
    runs-on: ubuntu-latest
    steps:
      - id: gate
        uses: {ACTION}@{REF}
        with:{bitbucket}
          check: true
          coveralls-parallel-finished: true
          coveralls-repo-token: ${{{{ secrets.COVERALLS_TOKEN }}}}
          coveralls-endpoint: {url}
      - if: always()
        env:
          OUTPUTS: ${{{{ toJSON(steps.gate.outputs) }}}}
        run: printf '%s' "$OUTPUTS" > "$RESULTS/gate.json"
"""


KEYS = {f"CI/test[part={part}]": part for part in PARTS}


@pytest.fixture(scope="module")
def matrix(run_act, sandbox, tokens):
    """One run of the matrix workflow: three jobs (``two`` fails), then the fan-in gate."""
    run_env = {"GITHUB_RUN_ID": RUN_ID, "GITHUB_RUN_NUMBER": RUN_NUMBER}
    return run_act("matrix", matrix_workflow(sandbox.url), secrets=tokens, env=run_env)


def test_the_run_fails_with_the_failing_job_and_the_red_gate(matrix):
    assert matrix.returncode != 0, matrix.log[-6000:]
    # act names matrix jobs CI/test-1, -2, -3 and logs each one's values.
    [failing] = [line.partition("]")[0][1:] for line in matrix.log.splitlines() if "Matrix: map[part:two]" in line]
    ends = {job: [line for line in matrix.job_lines(job) if "🏁" in line] for job in (failing, "CI/gate")}
    assert all(lines and "Job failed" in lines[-1] for lines in ends.values()), (ends, matrix.log[-6000:])
    # (act keeps one result for a whole matrix: a combination that ends after the failed one is logged as
    # failed too, though its job.status, and so what it posts, is its own; the sandbox's record says that.)


def test_each_job_s_first_step_posts_inprogress_first(matrix, sandbox):
    posts = builds_posts(sandbox, matrix.sha)
    assert set(posts) == set(KEYS), (sorted(posts), matrix.log[-6000:])
    for key, statuses in posts.items():
        assert statuses[0]["state"] == "INPROGRESS", (key, statuses)
        assert statuses[0]["parent"] == "CI/test", (key, statuses)
        assert statuses[0]["buildNumber"] == RUN_NUMBER, (key, statuses)
        assert statuses[0]["url"] == f"https://github.com/acme/app/actions/runs/{RUN_ID}", (key, statuses)


def test_each_job_s_end_is_posted_with_its_duration_and_test_counts(matrix, sandbox):
    posts = builds_posts(sandbox, matrix.sha)
    for key, part in KEYS.items():
        statuses = posts.get(key, [])
        assert len(statuses) == 2, f"{key}: {statuses} (the post stage under act:)\n{post_stage_lines(matrix)}"
        last = statuses[-1]
        passed, failed = PARTS[part]
        assert last["state"] == ("FAILED" if failed else "SUCCESSFUL"), (key, last)
        assert last["testResults"] == {"successful": passed, "failed": failed, "skipped": 0}, (key, last)
        assert isinstance(last.get("duration"), int) and last["duration"] > 0, (key, last)
    stored = {status["key"]: status["state"] for status in sandbox.bitbucket.statuses(matrix.sha)}
    assert stored == {key: ("FAILED" if PARTS[part][1] else "SUCCESSFUL") for key, part in KEYS.items()}


def test_each_job_s_end_keeps_the_name_and_parent_of_its_start(matrix, sandbox):
    # act gives the post stage no action.yml defaults, so no matrix (toJSON(matrix)) to derive the name and
    # parent from: the end takes them from the main stage's record, as the same defaults give them on GitHub.
    posts = builds_posts(sandbox, matrix.sha)
    assert set(posts) == set(KEYS), sorted(posts)
    for key, statuses in posts.items():
        first, last = statuses[0], statuses[-1]
        assert last["state"] != "INPROGRESS", (key, statuses)
        fields = ("name", "parent", "url", "buildNumber", "ref")
        assert {f: last.get(f) for f in fields} == {f: first.get(f) for f in fields}, (key, statuses)


def post_stage_lines(run) -> str:
    """What act logged of the Docker action's post stages, job by job (for a failure's message)."""
    lines, inside = [], {}
    for line in run.log.splitlines():
        job = line.partition("]")[0]
        if "⭐ Run " in line:
            inside[job] = "⭐ Run Post " in line
        if inside.get(job):
            lines.append(line)
    return "\n".join(lines)


def test_the_fan_in_gate_is_red_on_the_failed_key(matrix):
    gate = matrix.result("gate")
    assert gate["check-result"] == "red", gate
    assert gate["failed-keys"].splitlines() == ["CI/test[part=two]"], gate
    assert json.loads(gate["check-tally"]) == {
        "successful": 2, "failed": 1, "inProgress": 0, "cancelled": 0, "unknown": 0
    }, gate  # fmt: skip


def test_the_fan_in_gate_closes_the_coveralls_parallel_build(matrix, sandbox):
    gate = matrix.result("gate")
    [build] = sandbox.coveralls.builds()
    assert build["closed"] is True, build
    assert build["number"] == RUN_ID, build  # the uploads' ${{ github.run_id }} is the default build number
    assert sorted(job["flag_name"] for job in build["jobs"]) == sorted(PARTS), build
    assert (gate["coveralls-jobs"], gate["coveralls-url"]) == ("3", build["url"]), (gate, build)


def test_no_piece_of_a_secret_in_act_s_log_or_the_outputs(matrix, tokens):
    # Given in a secret file, not on act's command line.
    assert not [arg for arg in matrix.command for token in tokens.values() if token in arg]
    texts = {"act's log": matrix.log, "gate outputs": json.dumps(matrix.result("gate"))}
    assert_no_secret_in(texts, list(tokens.values()))


def portable_workflow(url: str) -> str:
    bitbucket = f"""
          bitbucket-url: {url}
          bitbucket-token: ${{{{ secrets.BITBUCKET_TOKEN }}}}
          bitbucket-project: {PROJECT}
          bitbucket-repo: {REPO}"""
    return f"""\
name: Portable
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        outcome: [pass, fail]
    steps:
      - uses: {ACTION}/portable@{REF}
        with:{bitbucket}
          state: INPROGRESS
      - name: Tests (a JUnit report)
        run: |
          mkdir -p reports
          {{
            echo '<testsuite><testcase name="a"/><testcase name="b"/>'
            echo '<testcase name="c"><skipped/></testcase></testsuite>'
          }} > reports/junit.xml
          [ "${{{{ matrix.outcome }}}}" = pass ]
      - id: end
        if: always()
        uses: {ACTION}/portable@{REF}
        with:{bitbucket}
          test-results: reports/*.xml
      - if: always()
        env:
          OUTPUTS: ${{{{ toJSON(steps.end.outputs) }}}}
        run: printf '%s' "$OUTPUTS" > "$RESULTS/end-${{{{ matrix.outcome }}}}.json"
"""


def test_the_portable_variant_posts_the_start_and_the_job_s_end_from_two_steps(
    run_act, sandbox, tokens, tmp_path_factory
):
    # A composite action has no post stage: a first step posts INPROGRESS, a last one under if: always()
    # the state from job.status (the default of job-status, which act does evaluate for a composite).
    if not any(WHEELS.glob("*.whl")):
        pytest.skip(f"no pinned wheels in {WHEELS}: scripts/setup test downloads them (needs PyPI once)")
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELS), "PIP_CONFIG_FILE": "/dev/null"}
    run = run_act(
        "portable",
        portable_workflow(sandbox.url),
        secrets={"BITBUCKET_TOKEN": tokens["BITBUCKET_TOKEN"]},
        env=offline | {"PIP_ROOT_USER_ACTION": "ignore"},
    )
    assert run.returncode != 0, run.log[-6000:]  # the job with the failing tests fails

    posts = builds_posts(sandbox, run.sha)
    expected = {"pass": "SUCCESSFUL", "fail": "FAILED"}
    assert set(posts) == {f"Portable/build[outcome={outcome}]" for outcome in expected}, (posts, run.log[-6000:])
    for outcome, state in expected.items():
        statuses = posts[f"Portable/build[outcome={outcome}]"]
        assert [status["state"] for status in statuses] == ["INPROGRESS", state], statuses
        assert statuses[-1]["testResults"] == {"successful": 2, "failed": 0, "skipped": 1}, statuses
        assert statuses[-1]["name"] == statuses[0]["name"] == f"Portable › build ({outcome})", statuses
        end = run.result(f"end-{outcome}")
        assert (end["state"], end["result"], end["tests-skipped"]) == (state, "posted", "1"), end
        assert_no_secret_in({"act's log": run.log, "outputs": json.dumps(end)}, [tokens["BITBUCKET_TOKEN"]])
