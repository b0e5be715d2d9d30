"""The catalogue of inputs and outputs, and reading the raw input values.

``action.yml``, the CLI's ``--flags`` and the README's tables all come from (or are tested against) this
catalogue.  Reading is a pure function of the environment mapping and the CLI's values.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .context import Context


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


class Output(NamedTuple):
    name: str
    description: str


INPUTS: tuple[Input, ...] = (
    Input(
        "bitbucket-url",
        "Base URL of Bitbucket Server / Data Center, including any context path "
        "(https://bitbucket.example.com, http://host:7990/stash).",
        metavar="URL",
    ),
    Input(
        "bitbucket-token",
        "HTTP access token or personal access token, sent as 'Authorization: Bearer'. "
        "Project and repository tokens only work this way.",
        secret=True,
        metavar="TOKEN",
    ),
    Input(
        "bitbucket-username",
        "User name for Basic authentication (with bitbucket-password).",
        metavar="NAME",
    ),
    Input(
        "bitbucket-password",
        "Password or personal access token for Basic authentication (with bitbucket-username).",
        secret=True,
        metavar="PASSWORD",
    ),
    Input(
        "commit",
        "Commit SHA(s) to report on, full 40 characters; several separated by commas or white space get "
        "the same status. Default: the pull request's head commit, else the pushed commit.",
        default="${{ github.event.pull_request.head.sha || github.sha }}",
        fallback=lambda ctx: ctx.head_sha,
        metavar="SHA",
    ),
    Input(
        "state",
        "INPROGRESS, SUCCESSFUL, FAILED, CANCELLED or UNKNOWN (any case). Empty: taken from job-status "
        "(or from the webapp.io run relayed).",
        metavar="STATE",
    ),
    Input(
        "job-status",
        "The job's outcome, used when state is empty: success → SUCCESSFUL, failure → FAILED, "
        "cancelled → CANCELLED where the server accepts it, else FAILED.",
        default="${{ job.status }}",
        metavar="STATUS",
    ),
    Input(
        "key",
        "Build key, at most 255 characters. Default: stable across re-runs and distinct per workflow, job "
        "and matrix combination, so a re-run replaces a red result (webapp.io/<webappio-repo> when relaying).",
        metavar="KEY",
    ),
    Input(
        "name",
        "Build name shown in Bitbucket, at most 255 characters. Default: 'workflow › job (matrix values)'.",
        metavar="NAME",
    ),
    Input(
        "url",
        "Link from Bitbucket to the build, at most 450 characters. Default: the workflow run page.",
        metavar="URL",
    ),
    Input(
        "description",
        "Description of the result. Default: the outcome and the run number.",
        metavar="TEXT",
    ),
    Input(
        "matrix",
        "The job's matrix values as JSON, for the default key and name.",
        default="${{ toJSON(matrix) }}",
        metavar="JSON",
    ),
    Input(
        "bitbucket-project",
        "Project key (with bitbucket-repo): use the repository-scoped builds endpoint where the server "
        "offers it, with build number, ref, parent and duration.",
        metavar="PROJECT",
    ),
    Input(
        "bitbucket-repo",
        "Repository slug (with bitbucket-project).",
        metavar="SLUG",
    ),
    Input(
        "bitbucket-api",
        "auto (repository-scoped endpoint when bitbucket-project/-repo are set and the server has it, "
        "else commit-only), commits, or builds.",
        default="auto",
        metavar="API",
    ),
    Input(
        "build-number",
        "Build number (repository-scoped endpoint). Default: the workflow run number.",
        default="${{ github.run_number }}",
        fallback=lambda ctx: ctx.run_number,
        metavar="N",
    ),
    Input(
        "ref",
        "The pushed ref, starting with refs/ (repository-scoped endpoint). Default: the pull request's head "
        "branch, else the pushed ref.",
        default="${{ github.event.pull_request.head.ref && "
        "format('refs/heads/{0}', github.event.pull_request.head.ref) || github.ref }}",
        fallback=lambda ctx: ctx.pushed_ref,
        metavar="REF",
    ),
    Input(
        "parent",
        "Parent key, used by Bitbucket's Required builds merge check (repository-scoped endpoint). "
        "Default with the default key: the key without the matrix values, so one required build covers "
        "all matrix jobs.",
        metavar="KEY",
    ),
    Input(
        "duration",
        "How long the build took (repository-scoped endpoint): milliseconds, or a number with ms, s, m or h.",
        metavar="DURATION",
    ),
    Input(
        "report-job-end",
        "With the default state: post INPROGRESS now and, from the action's post stage, the job's final "
        "state (from job.status, with its duration) when the job ends; a final state posted explicitly in "
        "the meantime is left alone. false: post the state as it stands now, once. (The Docker action only: "
        "composite actions, such as the portable variant, have no post stage.)",
        default="true",
        metavar="BOOL",
    ),
    Input(
        "test-results",
        "JUnit XML files whose test counts go with the final state (testResults on the repository-scoped "
        "endpoint, the description and the step summary): glob patterns, one per line or comma-separated, "
        "** for any depth (e.g. build/test-results/**/*.xml).",
        metavar="GLOBS",
    ),
    Input(
        "check",
        "Read back every build status of the commit(s) instead of posting one, show the tally as Bitbucket "
        "does and fail unless the gate is green: nothing FAILED, nothing still INPROGRESS, at least one status "
        "on each commit and every check-keys pattern matched. The step's own key is left out.",
        default="false",
        metavar="BOOL",
    ),
    Input(
        "check-wait",
        "With check: wait until no build is INPROGRESS and no key is missing any more: false, true (up to 30 "
        "minutes) or how long (e.g. 20m). Builds still running or missing at the deadline fail the check.",
        default="false",
        metavar="DURATION",
    ),
    Input(
        "check-interval",
        "With check-wait: how often to read the statuses again: seconds, or a number with ms, s or m.",
        default="10s",
        metavar="DURATION",
    ),
    Input(
        "check-keys",
        "With check: keys that must have a build status, as patterns where * matches any characters and ? one "
        "([ ] are plain characters, as in matrix keys; the step's own key never counts): one per line, or "
        "comma-separated on one line, where a comma inside [ ] belongs to the key (CI/test[os=ubuntu,py=3.12]). "
        "A pattern no key matches fails the check; check-wait waits for it.",
        metavar="PATTERNS",
    ),
    Input(
        "ca-cert",
        "CA certificate(s) to trust in addition to the usual ones, as a file path or PEM text "
        "(for a Bitbucket behind a private CA).",
        metavar="PEM",
    ),
    Input(
        "insecure",
        "Skip TLS certificate verification (not recommended: use ca-cert).",
        default="false",
        metavar="BOOL",
    ),
    Input(
        "timeout",
        "Deadline in seconds for the step's exchanges with the servers, retries included (waiting for a "
        "webapp.io run is bounded by webappio-timeout instead).",
        default="60",
        metavar="SECONDS",
    ),
    Input(
        "fail-on-error",
        "Fail the step when a server cannot be reached or refuses the status; false turns that into a warning. "
        "With check it covers only reading the statuses: a gate that is not green fails regardless.",
        default="true",
        metavar="BOOL",
    ),
    Input(
        "dry-run",
        "Print the requests that would be sent (secrets masked) and send nothing.",
        default="false",
        metavar="BOOL",
    ),
    Input(
        "coveralls-parallel-finished",
        "Close the Coveralls parallel build in this step (the fan-in job that needs all the parallel jobs), "
        "so Coveralls computes the aggregate coverage and notifies. Bitbucket inputs may then be left out.",
        default="false",
        metavar="BOOL",
    ),
    Input(
        "coveralls-repo-token",
        "The repository token from Coveralls (required to close a build); it is masked and travels only in "
        "the request.",
        secret=True,
        metavar="TOKEN",
    ),
    Input(
        "coveralls-build-number",
        "The build number the parallel jobs uploaded with. The default is what the official Coveralls action "
        "uses; if the jobs append the run attempt, append it here too.",
        default="${{ github.run_id }}",
        fallback=lambda ctx: ctx.run_id,
        metavar="N",
    ),
    Input(
        "coveralls-carryforward",
        "Comma-separated flag names whose last coverage is carried forward into this build when a job of "
        "that flag did not upload (e.g. unit,integration).",
        metavar="FLAGS",
    ),
    Input(
        "coveralls-endpoint",
        "Coveralls base URL (Coveralls Enterprise users set their own).",
        default="https://coveralls.io",
        metavar="URL",
    ),
    Input(
        "webappio-token",
        "webapp.io API token: relay a webapp.io CI run's result to Bitbucket (with webappio-repo). Masked; "
        "it travels only as the token query parameter.",
        secret=True,
        metavar="TOKEN",
    ),
    Input(
        "webappio-repo",
        "The repository name as webapp.io knows it.",
        metavar="NAME",
    ),
    Input(
        "webappio-endpoint",
        "webapp.io API base URL.",
        default="https://webapp.io/api/v1",
        metavar="URL",
    ),
    Input(
        "webappio-job-id",
        "Find the webapp.io run by its id (the number in its page's address).",
        metavar="N",
    ),
    Input(
        "webappio-branch",
        "Find the most recent webapp.io run on this branch (exact, case sensitive); with webappio-trigger, "
        "the branch to run (default: the pull request's head branch, else the pushed branch; required where "
        "there is neither, as on a tag push or outside GitHub Actions).",
        metavar="BRANCH",
    ),
    Input(
        "webappio-query",
        "Find the most recent webapp.io run matching this query in webapp.io's search language "
        "(e.g. 'branch:main -\"wip\"'); combined with webappio-job-id and webappio-branch when those are set.",
        metavar="QUERY",
    ),
    Input(
        "webappio-trigger",
        "Start a new webapp.io run (on webappio-branch at webappio-ref) and follow it.",
        default="false",
        metavar="BOOL",
    ),
    Input(
        "webappio-ref",
        "The commit a triggered run checks out. Default: the commit reported on.",
        metavar="SHA",
    ),
    Input(
        "webappio-accept-buttons",
        "Let a triggered run accept its BUTTON steps (e.g. to deploy).",
        default="false",
        metavar="BOOL",
    ),
    Input(
        "webappio-extra",
        "Text given to a triggered run as API_EXTRA.",
        metavar="TEXT",
    ),
    Input(
        "webappio-wait",
        "Wait until the webapp.io run ends and post its final state (INPROGRESS is posted while it runs); "
        "false posts its current state once.",
        default="true",
        metavar="BOOL",
    ),
    Input(
        "webappio-poll-interval",
        "How often to ask webapp.io while waiting: seconds, or a number with ms, s or m.",
        default="15s",
        metavar="DURATION",
    ),
    Input(
        "webappio-timeout",
        "How long to wait for the webapp.io run to end: seconds, or a number with s, m or h. Each exchange "
        "with a server is still bounded by timeout.",
        default="30m",
        metavar="DURATION",
    ),
)

OUTPUTS: tuple[Output, ...] = (
    Output("state", "The state posted (after mapping job-status and the server's capabilities)."),
    Output("key", "The build key used."),
    Output("name", "The build name used."),
    Output("url", "The build URL used."),
    Output("commits", "The commit SHAs reported on, comma-separated."),
    Output("api", "The endpoint used: builds (repository-scoped) or commits (commit-only)."),
    Output("result", "posted, failed (with fail-on-error false) or dry-run."),
    Output("tests-passed", "Tests that passed in the test-results files (empty without test-results)."),
    Output("tests-failed", "Tests that failed or errored in the test-results files."),
    Output("tests-skipped", "Tests that were skipped in the test-results files."),
    Output(
        "check-result",
        "With check: red (some key FAILED), else missing (a check-keys pattern that no key matches, or a commit "
        "without statuses), else pending (some key still INPROGRESS), else green. Only green passes.",
    ),
    Output(
        "check-tally",
        "With check: the count of each state as JSON, in Bitbucket's words "
        '(e.g. {"successful": 3, "failed": 1, "inProgress": 0, "cancelled": 0, "unknown": 0}).',
    ),
    Output("failed-keys", "With check: the keys whose state is FAILED, one per line (matrix keys hold commas)."),
    Output("missing-keys", "With check: the check-keys patterns that no key matches, one per line."),
    Output("coveralls-url", "The Coveralls build page, once the parallel build is closed."),
    Output(
        "coveralls-jobs",
        "How many jobs the closed Coveralls build has as Coveralls counts them, carried-forward flags included "
        "(when Coveralls says).",
    ),
    Output("webappio-job-id", "The id of the webapp.io run relayed."),
    Output("webappio-status", "The webapp.io run's calculated_status as last seen (e.g. SUCCEEDED, FAILURE)."),
    Output("webappio-url", "The webapp.io run's page, when webapp.io gives one."),
)

BY_NAME = {item.name: item for item in INPUTS}


def read_raw(env: dict[str, str], flags: dict[str, str | None] | None, context: Context) -> dict[str, str]:
    """Each input's value: a CLI flag, else a non-empty ``INPUT_*`` variable, else its fallback, else ``""``.

    Surrounding white space is kept here (secrets may need it); :mod:`settings` strips where it matters.
    """
    flags = flags or {}
    raw: dict[str, str] = {}
    for item in INPUTS:
        value = flags.get(item.name)
        if value is None:
            for env_name in item.env_names:
                candidate = env.get(env_name)
                if candidate is not None and candidate.strip():
                    value = candidate
                    break
        if value is None or not value.strip():
            value = item.fallback(context) if item.fallback else item.static_default
        raw[item.name] = value
    return raw
