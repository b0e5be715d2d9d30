"""The requests that publish a Code Insights report, as each Bitbucket flavour takes them (pure)."""

from __future__ import annotations

import pytest

from build_status.errors import InputError
from build_status.model.auth import Auth
from build_status.model.insights import COVERAGE, LINK, PERCENTAGE, TEST, Annotation, DataItem, InsightReport
from build_status.remotes.bitbucket_cloud.remote import BitbucketCloud
from build_status.remotes.bitbucket_cloud.target import CloudTarget
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter
from build_status.remotes.bitbucket_dc.target import Target

SHA = "0123456789abcdef0123456789abcdef01234567"
AUTH = Auth("Bearer", "t0ken-xyz")
DC = BitbucketDataCenter(Target("https://bb.example.com", AUTH, "PRJ", "app", "auto"))
CLOUD = BitbucketCloud(CloudTarget("https://api.bitbucket.org", AUTH, "acme", "app"))
DATA = (
    DataItem("Passed", "NUMBER", 118),
    DataItem("Failed", "NUMBER", 2),
    DataItem("Coverage", PERCENTAGE, 87.35),
    DataItem("Run", LINK, ("run #17", "https://ci.example.com/17")),
)


def report(annotations: int = 0, **changes) -> InsightReport:
    notes = tuple(
        Annotation(f"id{number:04d}", f"test_{number} failed\nassert 1 == 2", "tests/test_x.py", number + 1)
        for number in range(annotations)
    )
    fields = {"key": "build-status.tests", "title": "Tests · CI › test", "kind": TEST, "passed": False,
              "details": "118 passed, 2 failed", "data": DATA, "link": "https://ci.example.com/17",
              "annotations": notes}  # fmt: skip
    return InsightReport(**{**fields, **changes})


def test_data_center_puts_the_report_deletes_old_annotations_then_posts_the_new_ones():
    put, delete, post = DC.report_requests(SHA, report(2))
    base = f"https://bb.example.com/rest/insights/1.0/projects/PRJ/repos/app/commits/{SHA}/reports/build-status.tests"
    assert (put.method, put.url) == ("PUT", base)
    assert put.body["result"] == "FAIL" and put.body["reporter"] == "build-status"
    assert put.body["data"][3] == {
        "title": "Run",
        "type": "LINK",
        "value": {"linktext": "run #17", "href": "https://ci.example.com/17"},
    }
    assert (delete.method, delete.url, delete.body) == ("DELETE", base + "/annotations", None)
    assert (post.method, post.url) == ("POST", base + "/annotations")
    assert post.body["annotations"][0] == {
        "externalId": "id0000", "message": "test_0 failed\nassert 1 == 2", "severity": "HIGH", "type": "BUG",
        "path": "tests/test_x.py", "line": 1,
    }  # fmt: skip
    assert "t0ken" not in repr(put.shown_lines)


def test_data_center_keeps_six_data_items_and_1000_annotations_and_says_how_many_were_left_out():
    items = tuple(DataItem(f"n{number}", "NUMBER", number) for number in range(9))
    put, _, post = DC.report_requests(SHA, report(1001, data=items, left_out=4))
    assert len(put.body["data"]) == 6
    assert len(post.body["annotations"]) == 1000
    assert put.body["details"].endswith("5 more failure(s) not annotated (Bitbucket keeps 1000).")


def test_data_center_without_annotations_still_clears_the_old_ones():
    requests = DC.report_requests(SHA, report(0, passed=True, kind=COVERAGE))
    assert [request.method for request in requests] == ["PUT", "DELETE"]
    assert requests[0].body["result"] == "PASS"


def test_data_center_takes_reports_only_when_repository_scoped():
    assert DC.takes_reports
    assert not BitbucketDataCenter(Target("https://bb.example.com", AUTH)).takes_reports


def test_a_data_center_report_key_too_long_is_an_input_error():
    with pytest.raises(InputError) as info:
        DC.report_requests(SHA, report(key="k" * 451))
    assert info.value.name == "insights-key"


def test_a_data_center_annotation_id_too_long_keeps_its_start_and_a_digest_within_the_contract():
    """Data Center's contract caps ``externalId`` ("shorter than 450 characters"); Cloud's has no such limit."""
    ids = ("a" * 449, "t" * 500 + "1", "t" * 500 + "2")
    given = report()._replace(
        annotations=tuple(Annotation(external_id, "failed", "tests/x.py", 1) for external_id in ids)
    )
    sent = [item["externalId"] for item in DC.report_requests(SHA, given)[2].body["annotations"]]
    assert sent[0] == ids[0]
    assert [len(external_id) for external_id in sent[1:]] == [449, 449]
    assert sent[1] != sent[2] and sent[1].startswith("t" * 400)
    assert [item["external_id"] for item in CLOUD.report_requests(SHA, given)[1].body] == list(ids)


def test_cloud_puts_the_report_then_annotations_100_a_request():
    requests = CLOUD.report_requests(SHA, report(150))
    put, *posts = requests
    assert put.url == f"https://api.bitbucket.org/2.0/repositories/acme/app/commit/{SHA}/reports/build-status.tests"
    assert put.body["report_type"] == "TEST" and put.body["result"] == "FAILED"
    assert put.body["external_id"] == "build-status.tests"
    assert put.body["data"][3]["value"] == {"text": "run #17", "href": "https://ci.example.com/17"}
    assert [len(post.body) for post in posts] == [100, 50]
    first = posts[0].body[0]
    assert first["summary"] == "test_0 failed" and first["details"] == "test_0 failed\nassert 1 == 2"
    assert (first["external_id"], first["severity"], first["annotation_type"], first["result"]) == (
        "id0000",
        "HIGH",
        "BUG",
        "FAILED",
    )
    assert (first["path"], first["line"]) == ("tests/test_x.py", 1)


def test_cloud_cuts_a_summary_to_450_and_keeps_ten_data_items():
    long = Annotation("x", "y" * 600)
    items = tuple(DataItem(f"n{number}", "NUMBER", number) for number in range(12))
    put, post = CLOUD.report_requests(SHA, report(annotations=0)._replace(annotations=(long,), data=items))
    assert len(post.body[0]["summary"]) == 450
    assert post.body[0]["details"] == "y" * 600
    assert "path" not in post.body[0]
    assert len(put.body["data"]) == 10


def test_cloud_leaves_out_a_link_item_whose_href_is_not_http():
    """Cloud's contract wants a URI there (a relative href is refused); Data Center's sets no format."""
    items = (DataItem("Run", LINK, ("run", "runs/17")), DataItem("Passed", "NUMBER", 1)) + DATA[3:] + DATA[:1] * 9
    put = CLOUD.report_requests(SHA, report(data=items))[0]
    assert [item["title"] for item in put.body["data"]] == ["Passed", "Run"] + ["Passed"] * 8
    assert put.body["data"][1]["value"]["href"] == "https://ci.example.com/17"
    assert DC.report_requests(SHA, report(data=items))[0].body["data"][0]["value"] == {
        "linktext": "run",
        "href": "runs/17",
    }


def test_a_line_below_1_is_not_sent_either_flavour_puts_the_annotation_at_the_top_of_the_file():
    """The contracts refuse a negative line (Data Center: minimum 0; Cloud: minimum 1)."""
    given = report()._replace(
        annotations=(Annotation("n", "failed", "tests/x.py", -3), Annotation("z", "m", "a.py", 0))
    )
    dc_notes = DC.report_requests(SHA, given)[2].body["annotations"]
    cloud_notes = CLOUD.report_requests(SHA, given)[1].body
    assert ["line" in item for item in dc_notes + cloud_notes] == [False] * 4
    assert [item["path"] for item in dc_notes + cloud_notes] == ["tests/x.py", "a.py"] * 2


def test_cloud_keeps_1000_annotations():
    requests = CLOUD.report_requests(SHA, report(1001))
    assert sum(len(request.body) for request in requests[1:]) == 1000
    assert requests[0].body["details"].endswith("1 more failure(s) not annotated (Bitbucket keeps 1000).")
