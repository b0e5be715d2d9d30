"""Code Insights through each remote's connection, over HTTP, against the sandbox's emulations: what lands,
and that a re-run replaces the annotations rather than adding to them (the task that builds the reports from
the inputs comes with issue 17's inputs)."""

from __future__ import annotations

import pytest

from build_status.errors import RemoteError
from build_status.model.auth import Auth
from build_status.model.insights import TEST, Annotation, DataItem, InsightReport
from build_status.remotes.bitbucket_cloud.remote import BitbucketCloud
from build_status.remotes.bitbucket_cloud.target import CloudTarget
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter
from build_status.remotes.bitbucket_dc.target import Target
from build_status.transport.deadline import Deadline
from build_status.transport.session import build_session

from .conftest import CLOUD_TOKEN, SHA, TOKEN


def report(annotations: int, key: str = "build-status.tests") -> InsightReport:
    notes = tuple(
        Annotation(f"id{number:04d}", f"test_{number} failed", "tests/test_x.py", number + 1)
        for number in range(annotations)
    )
    data = (DataItem("Passed", "NUMBER", 10), DataItem("Failed", "NUMBER", annotations))
    return InsightReport(key, "Tests", TEST, not annotations, "details", data, "https://ci.example.com/1", notes)


def publish(remote, insight: InsightReport) -> None:
    deadline = Deadline(30)
    with build_session(deadline) as session:
        connection = remote.connect(session, deadline)
        for request in remote.report_requests(SHA, insight):
            connection.send(request)


@pytest.fixture
def data_center(sandbox):
    return BitbucketDataCenter(Target(sandbox.url, Auth("Bearer", TOKEN), "PRJ", "app"))


@pytest.fixture
def cloud(sandbox):
    return BitbucketCloud(CloudTarget(sandbox.url, Auth("Bearer", CLOUD_TOKEN), "acme", "app"))


def test_data_center_report_and_annotations_land_and_a_rerun_replaces_them(sandbox, data_center):
    publish(data_center, report(3))
    publish(data_center, report(2))
    (stored,) = sandbox.bitbucket.reports("PRJ", "app", SHA)
    assert stored["result"] == "FAIL"
    assert sorted(item["externalId"] for item in stored["annotations"]) == ["id0000", "id0001"]


def test_data_center_takes_1000_annotations_in_one_request(sandbox, data_center):
    publish(data_center, report(1001))
    (stored,) = sandbox.bitbucket.reports("PRJ", "app", SHA)
    assert len(stored["annotations"]) == 1000
    assert stored["details"].endswith("1 more failure(s) not annotated (Bitbucket keeps 1000).")


def test_cloud_report_and_150_annotations_land_in_two_requests_and_a_rerun_upserts(sandbox, cloud):
    publish(cloud, report(150))
    publish(cloud, report(150))
    (stored,) = sandbox.bitbucket_cloud.reports("acme", "app", SHA)
    assert stored["result"] == "FAILED" and stored["report_type"] == "TEST"
    assert len(stored["annotations"]) == 150


def test_a_report_the_server_refuses_is_a_remote_error_with_its_words(sandbox, data_center):
    with pytest.raises(RemoteError) as info:
        publish(data_center, report(1)._replace(title=""))
    assert "Bitbucket answered 400" in info.value.message
