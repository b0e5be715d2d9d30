"""A closed Coveralls build's coverage, through entrypoint.py against the sandbox: read after the close,
given as outputs and summary, and taken to Bitbucket as the coveralls-status and as a "Coveralls" report."""

from __future__ import annotations

from build_status_sandbox.runner import Job

from .cloud import SLUG, WORKSPACE, cloud
from .conftest import COVERALLS_TOKEN, SHA, TOKEN, close_inputs
from .insights_files import cobertura

RUN_ID = "4242"
REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}


def upload(sandbox, flag: str, coverage: list, name: str = "src/app.py", branch: str = "main") -> None:
    sandbox.coveralls.register_job(
        RUN_ID,
        flag_name=flag,
        repo_token=COVERALLS_TOKEN,
        commit_sha=SHA,
        branch=branch,
        source_files=[{"name": name, "coverage": coverage}],
    )


def fan_in(sandbox, **extra) -> dict:
    """A fan-in step that closes the build and talks to the sandbox's Bitbucket Data Center."""
    return close_inputs(sandbox, **{"bitbucket-url": sandbox.url, "bitbucket-token": TOKEN, **extra})


def coverage_reads(sandbox) -> list[dict]:
    return [r for r in sandbox.requests() if r["path"].startswith("/builds/") and r["path"].endswith(".json")]


def test_the_aggregate_of_parallel_jobs_is_read_after_the_close_and_given_as_outputs(sandbox, step):
    upload(sandbox, "unit", [1, 0, 0, None])  # line 2 missed here...
    upload(sandbox, "e2e", [0, 1, 0, None])  # ...and hit here: 2 of 3 lines covered
    result = step(close_inputs(sandbox))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["coverage-percent"] == "66.66"  # rounded down, never up
    assert result.outputs["coverage-change"] == "+66.67"  # a branch's first build: its own percentage
    (read,) = coverage_reads(sandbox)
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert read["path"] == f"/builds/{build['id']}.json"  # the page the webhook named, as JSON
    assert "Coveralls coverage: 66.66% (+66.67)." in result.stdout
    assert "### Coveralls coverage" in result.summary and "Aggregate coverage 66.66% (+66.67)." in result.summary
    assert [r for r in sandbox.requests() if r["path"].startswith("/rest/")] == []


def test_coveralls_status_posts_the_coverage_in_place_of_the_jobs_status(sandbox, step):
    upload(sandbox, "unit", [1, 1, 1, 0])
    result = step(fan_in(sandbox, **{"coveralls-status": "true", "coverage-min": "70"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert (status["key"], status["name"], status["state"]) == ("coveralls", "Coveralls", "SUCCESSFUL")
    assert status["description"] == "75.00% (+75.00)"
    assert status["url"] == build["url"]
    assert result.outputs["key"] == "coveralls" and result.outputs["state"] == "SUCCESSFUL"


def test_coveralls_status_is_failed_below_coverage_min_with_a_warning(sandbox, step):
    upload(sandbox, "unit", [1, 0, 0, 0])
    result = step(fan_in(sandbox, **{"coveralls-status": "true", "coverage-min": "80"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert status["state"] == "FAILED" and status["description"] == "25.00% (+25.00)"
    assert "::warning title=Coveralls coverage::The Coveralls build's coverage 25.00%25 is below coverage-min" in (
        result.stdout
    )


def test_coveralls_status_takes_the_key_and_name_given_and_works_on_the_commit_only_endpoint(sandbox, step):
    upload(sandbox, "unit", [1, 1])
    sandbox.bitbucket.configure({"version": "7.0"})  # no repository-scoped endpoint
    result = step(fan_in(sandbox, **{"coveralls-status": "true", "key": "coverage", "name": "Coverage"}))
    assert result.returncode == 0, result.stdout + result.stderr
    (status,) = sandbox.bitbucket.statuses(SHA)
    assert (status["key"], status["name"], status["description"]) == ("coverage", "Coverage", "100.00% (+100.00)")
    assert result.outputs["api"] == "commits"
    # no project and repository: no Code Insights, said once as a notice
    assert result.stdout.count("::notice title=Code Insights::No Code Insights report was published") == 1


def test_the_coveralls_report_goes_to_data_center_beside_the_fan_in_jobs_own_status(sandbox, step):
    upload(sandbox, "unit", [1, 0])
    result = step(fan_in(sandbox, **REPO, **{"coverage-min": "40"}), job=Job(sha=SHA, job="coverage"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [s["key"] for s in sandbox.bitbucket.statuses(SHA)] == ["CI/coverage"]
    (report,) = sandbox.bitbucket.reports("PRJ", "app", SHA)
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert report["title"] == "Coveralls" and report["result"] == "PASS"
    assert report["key"].startswith("build-status.coveralls.")
    data = {item["title"]: item["value"] for item in report["data"]}
    assert data == {
        "Coverage": 50.0,
        "Change": "+50.00 points",
        "Minimum": 40.0,
        "Build": {"linktext": "Coveralls build", "href": build["url"]},
    }


def test_the_coveralls_report_goes_to_bitbucket_cloud(sandbox, step):
    upload(sandbox, "unit", [1, 1, 1, 0])
    inputs = close_inputs(sandbox, **cloud(), **{"bitbucket-url": sandbox.url, "insights-key": "acme-ci"})
    result = step(inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = sandbox.bitbucket_cloud.reports(WORKSPACE, SLUG, SHA)
    assert report["external_id"] == "acme-ci.coveralls"
    assert (report["report_type"], report["result"]) == ("COVERAGE", "PASSED")
    assert {item["title"]: item["value"] for item in report["data"]}["Coverage"] == 75.0


def test_a_coverage_that_cannot_be_read_is_a_warning_and_the_close_still_counts(sandbox, step):
    upload(sandbox, "unit", [1, 0])
    sandbox.add_fault(path=r"^/builds/.*\.json$", status=404, times=None, body="<html><title>Not found</title></html>")
    result = step(fan_in(sandbox, **REPO, **{"coveralls-status": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)["closed"]
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("::warning title=Coveralls coverage")]
    assert "could not be read" in warning and "404" in warning
    assert sandbox.bitbucket.statuses(SHA) == [] and sandbox.bitbucket.reports("PRJ", "app", SHA) == []
    assert "coverage-percent" not in result.outputs and "::error" not in result.stdout


def test_nothing_reads_the_coverage_when_nothing_uses_it(sandbox, step):
    upload(sandbox, "unit", [1, 0])
    result = step(close_inputs(sandbox, insights="false"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert coverage_reads(sandbox) == [] and "coverage-percent" not in result.outputs


def test_a_dry_run_shows_the_read_with_the_token_masked_and_sends_nothing(sandbox, step):
    upload(sandbox, "unit", [1, 0])
    result = step(fan_in(sandbox, **REPO, **{"coveralls-status": "true", "dry-run": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"::group::dry-run: GET {sandbox.url}/builds/{SHA}.json?repo_token=***" in result.stdout
    assert "posted as the build status 'coveralls'" in result.stdout
    assert "published as the Code Insights report 'Coveralls'" in result.stdout
    assert sandbox.requests() == []


def test_a_private_repository_is_read_with_the_repo_token(sandbox, step):
    sandbox.coveralls.configure({"private_builds": True})
    upload(sandbox, "unit", [1, 1, 0, 0])
    result = step(close_inputs(sandbox))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["coverage-percent"] == "50.00"


def test_the_commit_only_notice_is_said_once_for_the_jobs_reports_and_the_coveralls_report(sandbox, step, tmp_path):
    upload(sandbox, "unit", [1, 0])
    result = step(fan_in(sandbox, **{"coverage-results": str(cobertura(tmp_path / "coverage.xml"))}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("::notice title=Code Insights::") == 1
    assert [s["key"] for s in sandbox.bitbucket.statuses(SHA)] == ["CI/build"]


NOT_COMPUTED = {"covered_percent": None, "coverage_change": None, "commit_sha": SHA}


def test_a_coverage_not_computed_yet_is_asked_for_again(sandbox, step):
    upload(sandbox, "unit", [1, 1, 0, 0])
    sandbox.add_fault(path=r"^/builds/.*\.json$", status=200, times=1, body=NOT_COMPUTED)
    result = step(close_inputs(sandbox))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Coveralls has not computed the build's coverage yet; asking again in 1 s." in result.stdout
    assert result.outputs["coverage-percent"] == "50.00"
    assert len(coverage_reads(sandbox)) == 2


def test_a_coverage_never_computed_within_the_timeout_is_a_warning(sandbox, step):
    upload(sandbox, "unit", [1, 0])
    sandbox.add_fault(path=r"^/builds/.*\.json$", status=200, times=None, body=NOT_COMPUTED)
    result = step(close_inputs(sandbox, timeout="2"))
    assert result.returncode == 0, result.stdout + result.stderr
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("::warning title=Coveralls coverage")]
    assert "no coverage for the build yet" in warning
    assert len(coverage_reads(sandbox)) == 2  # asked again once: the next wait (2 s) would outlast the timeout
    assert "coverage-percent" not in result.outputs
