"""Lost answers while publishing Code Insights reports: Data Center's annotations POST adds rather than
replaces, so it is never repeated on its own; the report's whole sequence is sent again instead, and no
annotation is doubled. Cloud's annotations are upserted by their external id, so a plain retry is safe."""

from __future__ import annotations

from build_status_sandbox.runner import Job, run_step

from .cloud import SLUG, WORKSPACE, cloud
from .conftest import SHA, TOKEN, assert_no_secret
from .insights_files import junit

REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}
ANNOTATIONS = r"/reports/[^/]+/annotations$"


def run(sandbox, tmp_path, inputs: dict):
    junit(tmp_path / "reports" / "junit.xml", failed=2)
    merged = {"bitbucket-url": sandbox.url, "report-job-end": "false", "test-results": "reports/*.xml", **inputs}
    result = run_step(Job(sha=SHA), merged, workdir=tmp_path)
    assert_no_secret(result)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def sent(sandbox, method: str, ending: str) -> int:
    return sum(1 for r in sandbox.requests() if r["method"] == method and r["path"].endswith(ending))


def test_a_lost_answer_to_data_centers_annotations_post_repeats_the_sequence_without_doubling(sandbox, tmp_path):
    # the POST is carried out, then the connection drops before the answer
    sandbox.add_fault(path=f"^/rest/insights/.*{ANNOTATIONS}", method="POST", action="truncate", times=1)
    result = run(sandbox, tmp_path, {"bitbucket-token": TOKEN, **REPO})
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = sandbox.bitbucket.reports("PRJ", "app", SHA)
    assert len(report["annotations"]) == 2  # not 4
    assert sent(sandbox, "POST", "/annotations") == 2 and sent(sandbox, "DELETE", "/annotations") == 2
    assert "publishing the report again from the start, so that no annotation is doubled" in result.stdout


def test_a_second_lost_answer_is_a_failure_that_leaves_the_status(sandbox, tmp_path):
    sandbox.add_fault(path=f"^/rest/insights/.*{ANNOTATIONS}", method="POST", action="truncate", times=2)
    result = run(sandbox, tmp_path, {"bitbucket-token": TOKEN, **REPO})
    assert result.returncode == 1
    (error,) = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert error.startswith("::error title=Code Insights::") and "may have been carried out" in error
    assert sent(sandbox, "POST", "/annotations") == 2  # never a third time
    assert [s["state"] for s in sandbox.bitbucket.statuses(SHA)] == ["SUCCESSFUL"]


def test_a_lost_answer_on_cloud_is_retried_and_upserts(sandbox, tmp_path):
    sandbox.add_fault(path=f"^/2\\.0/.*{ANNOTATIONS}", method="POST", action="truncate", times=1)
    result = run(sandbox, tmp_path, cloud())
    assert result.returncode == 0, result.stdout + result.stderr
    (report,) = sandbox.bitbucket_cloud.reports(WORKSPACE, SLUG, SHA)
    assert len(report["annotations"]) == 2
    assert sent(sandbox, "POST", "/annotations") == 2
