"""Bitbucket Cloud Code Insights over HTTP: reports by external id or uuid (create or update, read, list, delete
with their annotations), validation (details 2000, 10 data items, report types and results), annotations (1-100
per request, upserted by external_id, 1000 per report, summary 450 and not empty, line >= 1, the enumerations),
paging, the Cloud emulation's credentials and errors, faults, the state and the overview page."""

from __future__ import annotations

import pytest
from sandbox_helpers import OTHER_SHA, SHA, Client, cloud_path

from build_status_sandbox import FaultRule
from build_status_sandbox.insights_validation import DETAILS_TOO_LONG, SUMMARY_REQUIRED, SUMMARY_TOO_LONG

REPORT = "/reports/mySystem-001"


def report(**fields: object) -> dict:
    return {"title": "Security scan", "details": "2 findings", "report_type": "SECURITY", "result": "FAILED", **fields}


def finding(external_id: str | None = "f1", **fields: object) -> dict:
    body = {"summary": "SQL injection", "severity": "HIGH", "annotation_type": "VULNERABILITY", "path": "app.py",
            "line": 12, **fields}  # fmt: skip
    if external_id is not None:
        body["external_id"] = external_id
    return body


def bad(response) -> str:
    assert response.status_code == 400, response.text
    document = response.json()
    assert document["type"] == "error" and document["key"] == "report-service.general.bad-request"
    assert document["error"]["message"] == document["message"]
    return document["message"]


def listed(cloud: Client, tail: str = REPORT + "/annotations?pagelen=100") -> list[dict]:
    response = cloud.get(cloud_path(tail=tail))
    assert response.status_code == 200, response.text
    return response.json()["values"]


@pytest.fixture
def with_report(cloud: Client) -> Client:
    assert cloud.put(cloud_path(tail=REPORT), json=report()).status_code == 200
    return cloud


# -- reports -------------------------------------------------------------------------------------------
def test_put_creates_a_report_named_by_its_external_id(sandbox, cloud):
    data = [
        {"title": "Findings", "type": "NUMBER", "value": 2},
        {"title": "Scan", "type": "LINK", "value": {"text": "open", "href": "https://scan.example.com/1"}},
    ]
    body = report(reporter="scanner", link="https://scan.example.com/1", logo_url="https://scan.example.com/l.png",
                  remote_link_enabled=False, data=data)  # fmt: skip
    response = cloud.put(cloud_path(tail=REPORT), json=body)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    created = response.json()
    assert {name: created[name] for name in body} == body
    assert created["type"] == "report" and created["external_id"] == "mySystem-001"
    assert created["uuid"].startswith("{") and created["created_on"] == created["updated_on"]
    assert cloud.get(cloud_path(tail=REPORT)).json() == created
    assert cloud.get(cloud_path(tail=f"/reports/{created['uuid']}")).json() == created
    (stored,) = sandbox.bitbucket_cloud.reports("acme", "app", SHA)
    assert stored["title"] == "Security scan" and stored["annotations"] == []


def test_put_again_updates_by_external_id_or_uuid_and_keeps_the_annotations(with_report):
    cloud = with_report
    first = cloud.get(cloud_path(tail=REPORT)).json()
    assert cloud.post(cloud_path(tail=REPORT + "/annotations"), json=[finding()]).status_code == 200
    again = cloud.put(cloud_path(tail=REPORT), json=report(result="PASSED", details="fixed")).json()
    assert (again["uuid"], again["created_on"], again["result"]) == (first["uuid"], first["created_on"], "PASSED")
    by_uuid = cloud.put(cloud_path(tail=f"/reports/{first['uuid']}"), json=report(result="PENDING")).json()
    assert by_uuid["external_id"] == "mySystem-001" and by_uuid["result"] == "PENDING"
    assert len(listed(cloud)) == 1
    assert len(listed(cloud, "/reports?pagelen=100")) == 1


def test_reports_are_listed_paged(cloud):
    for number in range(3):
        cloud.put(cloud_path(tail=f"/reports/r{number}"), json=report()).raise_for_status()
    page = cloud.get(cloud_path(tail="/reports?pagelen=2")).json()
    assert [item["external_id"] for item in page["values"]] == ["r0", "r1"] and page["size"] == 3
    second = cloud.session.get(page["next"], timeout=5).json()
    assert [item["external_id"] for item in second["values"]] == ["r2"] and "next" not in second
    assert cloud.get(cloud_path(OTHER_SHA, "/reports")).json()["values"] == []


def test_delete_removes_the_report_and_its_annotations(with_report):
    cloud = with_report
    cloud.post(cloud_path(tail=REPORT + "/annotations"), json=[finding("a"), finding("b")]).raise_for_status()
    assert cloud.delete(cloud_path(tail=REPORT)).status_code == 204
    assert cloud.get(cloud_path(tail=REPORT)).status_code == 404
    assert cloud.get(cloud_path(tail=REPORT + "/annotations")).status_code == 404
    assert cloud.delete(cloud_path(tail=REPORT)).status_code == 404
    cloud.put(cloud_path(tail=REPORT), json=report()).raise_for_status()
    assert listed(cloud) == []


def test_an_unknown_report_is_404_in_cloud_words(cloud):
    response = cloud.get(cloud_path(tail="/reports/none"))
    assert response.status_code == 404
    assert response.json() == {"type": "error", "error": {"message": "Report not found"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (report(details="d" * 2001), DETAILS_TOO_LONG),
        (report(report_type="LINT"), "The report_type field must be one of SECURITY, COVERAGE, TEST, BUG, not 'LINT'."),
        (report(result="PASS"), "The result field must be one of PASSED, FAILED, PENDING, not 'PASS'."),
        (report(data=[{"title": str(n), "value": n} for n in range(11)]),
         "The data field cannot contain more than 10 elements."),
        (report(data=[{"title": "l", "type": "LINK", "value": {"linktext": "DC's word", "href": "https://x.io"}}]),
         'Data item 1 is a LINK: its value must be {"text": "…", "href": "…"}.'),
        (report(data=[{"title": "d", "type": "DATE", "value": "2026-01-01"}]),
         "Data item 1 is a DATE: its value must be a number (milliseconds since the epoch)."),
        (report(link="www.example.com"), "The link field must be an http or https URL."),
        (report(title=5), "The title field must be a string."),
        (["not", "an", "object"], "The request body must be a JSON object."),
    ],
)  # fmt: skip
def test_invalid_reports_are_400(cloud, body, message):
    assert bad(cloud.put(cloud_path(tail=REPORT), json=body)) == message
    assert cloud.get(cloud_path(tail=REPORT)).status_code == 404


def test_report_limits_that_are_taken(cloud):
    data = [{"title": str(n), "type": "PERCENTAGE", "value": n * 10} for n in range(10)]
    assert cloud.put(cloud_path(tail=REPORT), json=report(details="d" * 2000, data=data)).status_code == 200


# -- annotations ---------------------------------------------------------------------------------------
def test_annotations_need_the_report(cloud):
    assert cloud.post(cloud_path(tail=REPORT + "/annotations"), json=[finding()]).status_code == 404


def test_post_answers_200_with_the_annotations(with_report):
    response = with_report.post(cloud_path(tail=REPORT + "/annotations"), json=[finding(), finding(None, line=None)])
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["type"] == "report_annotation" and first["uuid"].startswith("{")
    assert {name: first[name] for name in finding()} == finding()
    assert "external_id" not in second and "line" not in second
    assert listed(with_report) == response.json()


def test_posting_the_same_external_ids_again_updates_them(with_report):
    path = cloud_path(tail=REPORT + "/annotations")
    first = with_report.post(path, json=[finding("a"), finding("b")]).json()
    second = with_report.post(path, json=[finding("a", summary="Still there"), finding("c")]).json()
    assert second[0]["uuid"] == first[0]["uuid"] and second[0]["created_on"] == first[0]["created_on"]
    assert [(item["external_id"], item["summary"]) for item in listed(with_report)] == [
        ("a", "Still there"),
        ("b", "SQL injection"),
        ("c", "SQL injection"),
    ]


def test_one_annotation_by_external_id_or_uuid(with_report):
    base = cloud_path(tail=REPORT + "/annotations")
    created = with_report.put(base + "/lint-1", json=finding(None, severity="LOW"))
    assert created.status_code == 200 and created.json()["external_id"] == "lint-1"
    uuid = created.json()["uuid"]
    assert with_report.get(f"{base}/{uuid}").json() == with_report.get(base + "/lint-1").json()
    updated = with_report.put(f"{base}/{uuid}", json=finding(None, severity="CRITICAL", result="FAILED"))
    assert (updated.json()["uuid"], updated.json()["external_id"]) == (uuid, "lint-1")
    assert updated.json()["severity"] == "CRITICAL" and len(listed(with_report)) == 1
    assert with_report.delete(base + "/lint-1").status_code == 204
    assert with_report.get(base + "/lint-1").status_code == 404
    assert with_report.delete(base + "/lint-1").status_code == 404


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (finding(summary="s" * 451), SUMMARY_TOO_LONG),
        (finding(summary=""), SUMMARY_REQUIRED),
        ({"severity": "LOW"}, SUMMARY_REQUIRED),
        (finding(line=0), "The line field must be a whole number of at least 1."),
        (finding(severity="BLOCKER"), "The severity field must be one of CRITICAL, HIGH, MEDIUM, LOW, not 'BLOCKER'."),
        (finding(annotation_type="STYLE"),
         "The annotation_type field must be one of VULNERABILITY, CODE_SMELL, BUG, not 'STYLE'."),
        (finding(result="PASS"), "The result field must be one of PASSED, FAILED, SKIPPED, IGNORED, not 'PASS'."),
        (finding(link="not a url"), "The link field must be an http or https URL."),
    ],
)  # fmt: skip
def test_invalid_annotations_are_400_and_nothing_is_added(with_report, item, message):
    path = cloud_path(tail=REPORT + "/annotations")
    assert bad(with_report.post(path, json=[finding("ok"), item])) == message
    assert bad(with_report.put(path + "/x", json=item)) == message
    assert listed(with_report) == []


def test_annotation_limits_that_are_taken(with_report):
    item = finding(summary="s" * 450, line=1, details="d" * 5000, result="IGNORED", link="https://x.io/1")
    assert with_report.post(cloud_path(tail=REPORT + "/annotations"), json=[item]).status_code == 200


def test_a_request_holds_1_to_100_annotations(with_report):
    path = cloud_path(tail=REPORT + "/annotations")
    message = "The request body must be a JSON array of 1 to 100 annotations."
    assert bad(with_report.post(path, json=[])) == message
    assert bad(with_report.post(path, json=finding())) == message
    assert bad(with_report.post(path, json=[finding(f"n{n}") for n in range(101)])) == message
    assert len(with_report.post(path, json=[finding(f"n{n}") for n in range(100)]).json()) == 100


def test_a_report_holds_1000_annotations_and_a_request_over_that_changes_nothing(with_report):
    path = cloud_path(tail=REPORT + "/annotations")
    for batch in range(9):
        items = [finding(f"n{batch}-{n}") for n in range(100)]
        assert with_report.post(path, json=items).status_code == 200
    assert with_report.post(path, json=[finding(f"n9-{n}") for n in range(99)]).status_code == 200
    over = with_report.post(path, json=[finding("x"), finding("y")])
    assert "at most 1000 annotations" in bad(over)
    assert with_report.get(path).json()["size"] == 999
    assert with_report.post(path, json=[finding("x"), finding("n0-0", summary="upsert is fine")]).status_code == 200
    assert with_report.put(path + "/z", json=finding(None)).status_code == 400
    assert with_report.get(path).json()["size"] == 1000


def test_annotations_are_listed_paged(with_report):
    path = cloud_path(tail=REPORT + "/annotations")
    with_report.post(path, json=[finding(f"n{n}") for n in range(12)]).raise_for_status()
    page = with_report.get(path).json()
    assert page["pagelen"] == 10 and len(page["values"]) == 10 and page["size"] == 12
    second = with_report.session.get(page["next"], timeout=5).json()
    assert [item["external_id"] for item in second["values"]] == ["n10", "n11"] and "next" not in second
    assert second["previous"]
    assert with_report.get(path + "?pagelen=0").status_code == 400


# -- the Cloud emulation's credentials, repositories, faults, state, page --------------------------------
def test_credentials_and_repositories_apply(sandbox, cloud, anonymous):
    response = anonymous.put(cloud_path(tail=REPORT), json=report())
    assert response.status_code == 401 and response.json()["type"] == "error"
    sandbox.bitbucket_cloud.configure({"repositories": ["acme/app"]})
    assert cloud.put(cloud_path(tail=REPORT, repo="other"), json=report()).status_code == 404
    assert cloud.put(cloud_path(sha="abc", tail=REPORT), json=report()).status_code == 404
    assert cloud.request("PATCH", cloud_path(tail=REPORT), json=report()).status_code == 405


def test_the_rate_limit_counts_insights_calls(sandbox, cloud):
    sandbox.bitbucket_cloud.configure({"rate_limit": 1})
    assert cloud.get(cloud_path(tail="/reports")).status_code == 200
    assert cloud.get(cloud_path(tail="/reports")).status_code == 429


def test_faults_apply_to_the_insights_routes(sandbox, cloud):
    sandbox.add_fault(FaultRule(status=503, emulation="bitbucket-cloud", path="/reports/"))
    response = cloud.put(cloud_path(tail=REPORT), json=report())
    assert response.status_code == 503 and response.json()["type"] == "error"
    assert sandbox.bitbucket_cloud.reports("acme", "app", SHA) == []


def test_state_and_page_show_reports_and_annotations(sandbox, cloud):
    data = [{"title": "Covered", "type": "PERCENTAGE", "value": 91.5}]
    cloud.put(cloud_path(tail=REPORT), json=report(title="<i>Scan</i>", data=data)).raise_for_status()
    cloud.post(cloud_path(tail=REPORT + "/annotations"), json=[finding(severity="CRITICAL")]).raise_for_status()
    (entry,) = cloud.get("/_sandbox/state").json()["emulations"]["bitbucket-cloud"]["insights"]
    assert (entry["repository"], entry["commit"]) == ("acme/app", SHA)
    assert entry["reports"][0]["annotations"][0]["summary"] == "SQL injection"
    page = cloud.get("/").text
    assert "&lt;i&gt;Scan&lt;/i&gt;" in page and "<i>Scan" not in page
    assert '<span class="badge red">FAILED</span>' in page and "<th>Covered</th><td>91.5%</td>" in page
    assert '<span class="badge red">CRITICAL</span>' in page and "app.py:12" in page
    sandbox.reset()
    assert sandbox.bitbucket_cloud.reports("acme", "app", SHA) == []
