"""The job count a Coveralls close reports is Coveralls' own: the output, the log line and the summary say
the webhook's ``jobs``, and the sandbox's Coveralls shows that same count on its pages and in its state
(the uploads and the carried-forward flags), so the step and the service never disagree."""

from __future__ import annotations

import re

import requests

from .conftest import COVERALLS_TOKEN, close_inputs

RUN_ID = "4242"  # the Job's run id: the default build number


def page(url: str) -> str:
    """The page's text without its tags."""
    return re.sub(r"<[^>]+>", " ", requests.get(url, timeout=10).text)


def test_the_step_reports_the_count_coveralls_shows(sandbox, step):
    sandbox.coveralls.register_job("4241", flag_name="integration", repo_token=COVERALLS_TOKEN)
    assert step(close_inputs(sandbox, **{"coveralls-build-number": "4241"})).returncode == 0  # an earlier build
    for flag in ("unit-py3.11", "unit-py3.12"):
        sandbox.coveralls.register_job(RUN_ID, flag_name=flag, repo_token=COVERALLS_TOKEN)

    result = step(close_inputs(sandbox, **{"coveralls-carryforward": "unit-py3.11,integration,e2e"}))

    assert result.returncode == 0, result.stdout + result.stderr
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert [item["flag_name"] for item in build["carried"]] == ["integration", "e2e"]
    assert build["job_count"] == 4  # two uploads, two carried-forward flags
    assert result.outputs["coveralls-jobs"] == "4"
    said = "4 job(s) as Coveralls counts them, carried-forward flags included"
    assert f"Closed Coveralls parallel build {RUN_ID}, {said}: {build['url']}" in result.stdout
    assert f"({build['url']}): {said};" in result.summary
    assert "Jobs 4 (2 uploaded, 2 carried forward)" in " ".join(page(build["url"]).split())
    overview = " ".join(page(sandbox.url + "/").split())
    assert "4: unit-py3.11, unit-py3.12, integration (carried forward), e2e (carried forward)" in overview


def test_without_carryforward_the_count_is_the_uploads(sandbox, step):
    for flag in ("a", "b", "c"):
        sandbox.coveralls.register_job(RUN_ID, flag_name=flag, repo_token=COVERALLS_TOKEN)
    result = step(close_inputs(sandbox))
    assert result.returncode == 0, result.stdout + result.stderr
    build = sandbox.coveralls.build(RUN_ID, repo_token=COVERALLS_TOKEN)
    assert build["job_count"] == len(build["jobs"]) == 3
    assert result.outputs["coveralls-jobs"] == "3"
    assert f"({build['url']}): 3 job(s); carry-forward flags: none." in result.summary
    assert "Jobs 3 " in " ".join(page(build["url"]).split())
