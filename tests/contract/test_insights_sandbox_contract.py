"""The sandbox's Code Insights answers match Atlassian's contracts: Data Center's
(``tests/data/bitbucket-dc-insights-deployments.openapi.json``) and Cloud's
(``tests/data/bitbucket-cloud-statuses-reports.openapi.json``).  Each answer's status code is one the operation
declares (but for the answers Bitbucket is known to give beyond them), and each JSON body validates against the
schema the operation declares for that code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from build_status_sandbox import Sandbox
from build_status_sandbox.bitbucket_cloud_config import DEFAULT_ACCESS_TOKEN

from .formats import FORMATS

DATA = Path(__file__).parent.parent / "data"
DC_SPEC = json.loads((DATA / "bitbucket-dc-insights-deployments.openapi.json").read_text(encoding="utf-8"))
CLOUD_SPEC = json.loads((DATA / "bitbucket-cloud-statuses-reports.openapi.json").read_text(encoding="utf-8"))
SHA = "e00cf62997a027bbf785614a93e2e55bb331d268"
USER = ("sandbox", "sandbox-password")
OTHER = ("other", "other-password")

DC_BASE = "/rest/insights/{version}/projects/{projectKey}/repos/{repositorySlug}/commits/{commitId}"
DC_REPORT = DC_BASE + "/reports/{key}"
DC_ANNOTATIONS = DC_REPORT + "/annotations"
DC_ANNOTATION = DC_ANNOTATIONS + "/{externalId}"
#: Data Center answers beyond the declared ones: 400 to an invalid annotation or one over the report's limit (the
#: sandbox's choice; the contract declares none, Prism's 422 is its own), 415 to a body that is not JSON.
DC_UNDECLARED = {400, 415}


def _validator(spec: dict, schema: dict) -> Draft7Validator:
    registry = Registry().with_resource("spec.json", Resource.from_contents(spec, default_specification=DRAFT7))
    rewritten = json.loads(json.dumps(schema).replace('"#/components/', '"spec.json#/components/'))
    return Draft7Validator(rewritten, registry=registry, format_checker=FORMATS)


def _drop_nulls(document: Any) -> Any:
    """Bitbucket Data Center writes ``"context": null`` in its error items; the published RestErrorMessage types
    ``context`` as a string and lists no ``nullable``, so nulls are left out before checking."""
    if isinstance(document, dict):
        return {name: _drop_nulls(value) for name, value in document.items() if value is not None}
    if isinstance(document, list):
        return [_drop_nulls(value) for value in document]
    return document


def dc_check(response: requests.Response, method: str, template: str, version: str = "latest") -> requests.Response:
    """Assert the answer is declared by the DC operation (or known beyond it) and its body fits the schema."""
    operation = DC_SPEC["paths"][template.replace("{version}", version)][method.lower()]
    declared = {int(code) for code in operation["responses"]}
    code = response.status_code
    assert code in declared | DC_UNDECLARED, (method, template, code, response.text)
    content = operation["responses"].get(str(code), {}).get("content")
    if code == 204 or not content:
        assert response.content == b"" or code in DC_UNDECLARED
        if code in DC_UNDECLARED:  # the errors document of the declared 4xx answers
            schema = operation["responses"].get("401", {}).get("content", {}).get("application/json", {})["schema"]
            _validator(DC_SPEC, schema).validate(_drop_nulls(response.json()))
        return response
    _validator(DC_SPEC, content["application/json"]["schema"]).validate(_drop_nulls(response.json()))
    return response


def dc_path(version: str = "latest", key: str = "com.example.coverage", tail: str = "", sha: str = SHA) -> str:
    return f"/rest/insights/{version}/projects/PROJ/repos/repo/commits/{sha}/reports/{key}{tail}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(bitbucket={"users": dict([USER, OTHER])}) as running:
        yield running


def dc(sandbox: Sandbox, method: str, path: str, auth: tuple = USER, **kwargs: Any) -> requests.Response:
    return requests.request(method, sandbox.url + path, auth=auth, timeout=10, **kwargs)


@pytest.mark.parametrize("version", ["1.0", "latest"])
def test_dc_reports_match_the_contract(sandbox, version):
    report = {
        "title": "Coverage",
        "details": "85.5% of lines",
        "result": "PASS",
        "reporter": "build-status",
        "link": "https://ci.example.com/12",
        "logoUrl": "https://ci.example.com/logo.png",
        "data": [
            {"title": "Covered", "type": "PERCENTAGE", "value": 85.5},
            {"title": "Build", "type": "LINK", "value": {"linktext": "#12", "href": "https://ci.example.com/12"}},
            {"title": "Safe", "type": "BOOLEAN", "value": True},
            {"title": "Took", "type": "DURATION", "value": 61000},
            {"title": "Note", "type": "TEXT", "value": "fine"},
            {"title": "Lines", "value": 14300},
        ],
    }
    _validator(DC_SPEC, {"$ref": "#/components/schemas/RestSetInsightReportRequest"}).validate(report)
    put = dc_check(dc(sandbox, "PUT", dc_path(version), json=report), "PUT", DC_REPORT, version)
    assert put.status_code == 200
    assert dc_check(dc(sandbox, "GET", dc_path(version)), "GET", DC_REPORT, version).json() == put.json()
    minimal = dc(sandbox, "PUT", dc_path(version, "min"), json={"title": "T", "data": []})
    assert dc_check(minimal, "PUT", DC_REPORT, version).status_code == 200
    assert dc_check(dc(sandbox, "DELETE", dc_path(version, "min")), "DELETE", DC_REPORT, version).status_code == 204


@pytest.mark.parametrize("version", ["1.0", "latest"])
def test_dc_annotations_match_the_contract(sandbox, version):
    dc(sandbox, "PUT", dc_path(version), json={"title": "Lint", "data": []}).raise_for_status()
    items = [
        {"externalId": "a", "message": "m", "severity": "HIGH", "path": "a.py", "line": 3, "type": "BUG"},
        {"message": "no file", "severity": "LOW", "link": "https://lint.example.com/1"},
    ]
    _validator(DC_SPEC, {"$ref": "#/components/schemas/RestBulkAddInsightAnnotationRequest"}).validate(
        {"annotations": items}
    )
    added = dc(sandbox, "POST", dc_path(version, tail="/annotations"), json={"annotations": items})
    assert dc_check(added, "POST", DC_ANNOTATIONS, version).status_code == 204
    one = dc(sandbox, "PUT", dc_path(version, tail="/annotations/b"), json={"message": "b", "severity": "MEDIUM"})
    assert dc_check(one, "PUT", DC_ANNOTATION, version).status_code == 204
    listed = dc_check(dc(sandbox, "GET", dc_path(version, tail="/annotations")), "GET", DC_ANNOTATIONS, version)
    assert len(listed.json()["annotations"]) == 3
    across = dc(sandbox, "GET", f"/rest/insights/{version}/projects/PROJ/repos/repo/commits/{SHA}/annotations")
    _validator(DC_SPEC, {"$ref": "#/components/schemas/RestInsightAnnotationsResponse"}).validate(across.json())
    gone = dc(sandbox, "DELETE", dc_path(version, tail="/annotations?externalId=a&externalId=b"))
    assert dc_check(gone, "DELETE", DC_ANNOTATIONS, version).status_code == 204
    assert dc_check(dc(sandbox, "DELETE", dc_path(version, tail="/annotations")), "DELETE", DC_ANNOTATIONS, version)


def test_dc_errors_match_the_contract(sandbox):
    dc(sandbox, "PUT", dc_path(), json={"title": "Mine", "data": []}).raise_for_status()
    answers = [
        (
            400,
            dc(sandbox, "PUT", dc_path(), json={"data": [{"title": "x", "type": "BOOLEAN", "value": 1}]}),
            "PUT",
            DC_REPORT,
        ),
        (400, dc(sandbox, "PUT", dc_path(sha="abc"), json={"title": "T", "data": []}), "PUT", DC_REPORT),
        (401, dc(sandbox, "PUT", dc_path(), auth=OTHER, json={"title": "T", "data": []}), "PUT", DC_REPORT),
        (401, dc(sandbox, "GET", dc_path(), auth=("sandbox", "wrong")), "GET", DC_REPORT),
        (404, dc(sandbox, "GET", dc_path(key="none")), "GET", DC_REPORT),
        (404, dc(sandbox, "DELETE", dc_path(key="none")), "DELETE", DC_REPORT),
        (
            404,
            dc(sandbox, "POST", dc_path(key="none", tail="/annotations"), json={"annotations": []}),
            "POST",
            DC_ANNOTATIONS,
        ),
        (
            401,
            dc(sandbox, "POST", dc_path(tail="/annotations"), auth=OTHER, json={"annotations": []}),
            "POST",
            DC_ANNOTATIONS,
        ),
        (
            400,
            dc(sandbox, "POST", dc_path(tail="/annotations"), json={"annotations": [{"message": "m"}]}),
            "POST",
            DC_ANNOTATIONS,
        ),
        (404, dc(sandbox, "GET", dc_path(key="none", tail="/annotations")), "GET", DC_ANNOTATIONS),
        (401, dc(sandbox, "DELETE", dc_path(tail="/annotations"), auth=OTHER), "DELETE", DC_ANNOTATIONS),
        (404, dc(sandbox, "PUT", dc_path(key="none", tail="/annotations/x"), json={}), "PUT", DC_ANNOTATION),
    ]
    for expected, response, method, template in answers:
        assert response.status_code == expected, (method, template, response.text)
        dc_check(response, method, template)
        assert response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("schema", "document"),
    [
        ("RestInsightReport", {"key": "k", "result": "PASSED"}),
        ("RestInsightReport", {"key": "k", "link": "not a uri"}),
        ("RestSetInsightReportRequest", {"title": "T", "data": [{"title": str(n), "value": n} for n in range(7)]}),
        ("RestSetInsightReportRequest", {"data": []}),
        ("RestInsightAnnotationsResponse", {"annotations": [{"line": "3"}]}),
        ("RestSingleAddInsightAnnotationRequest", {"message": "m", "severity": "CRITICAL"}),
    ],
)
def test_a_wrong_dc_document_fails_so_the_check_can_fail(schema, document):
    with pytest.raises(ValidationError):
        _validator(DC_SPEC, {"$ref": f"#/components/schemas/{schema}"}).validate(document)


# -- Bitbucket Cloud -------------------------------------------------------------------------------------
CLOUD_COMMIT = "/2.0/repositories/{workspace}/{repo_slug}/commit/{commit}"
CLOUD_REPORT = CLOUD_COMMIT + "/reports/{reportId}"
CLOUD_ANNOTATIONS = CLOUD_REPORT + "/annotations"
CLOUD_ANNOTATION = CLOUD_ANNOTATIONS + "/{annotationId}"
TOKEN = {"Authorization": f"Bearer {DEFAULT_ACCESS_TOKEN}"}
#: Cloud answers beyond the declared ones: 400 to an invalid annotation POST (seen), 401 without credentials,
#: 404 for a missing repository, commit, report or annotation, 429 over the rate limit, 415 to a body not JSON.
CLOUD_UNDECLARED = {400, 401, 404, 415, 429}


def cloud_check(response: requests.Response, method: str, template: str) -> requests.Response:
    operation = CLOUD_SPEC["paths"][template][method.lower()]
    code = response.status_code
    assert code in {int(name) for name in operation["responses"]} | CLOUD_UNDECLARED, (method, template, code)
    content = (operation["responses"].get(str(code)) or {}).get("content")
    if code == 204:
        assert response.content == b""
    elif content:
        _validator(CLOUD_SPEC, content["application/json"]["schema"]).validate(response.json())
    else:
        _validator(CLOUD_SPEC, {"$ref": "#/components/schemas/error"}).validate(response.json())
    return response


def cloud(sandbox: Sandbox, method: str, tail: str, headers: dict = TOKEN, **kwargs: Any) -> requests.Response:
    path = f"/2.0/repositories/acme/app/commit/{SHA}{tail}"
    return requests.request(method, sandbox.url + path, headers=headers, timeout=10, **kwargs)


def test_cloud_reports_match_the_contract(sandbox):
    body = {
        "title": "Security scan",
        "details": "2 findings",
        "reporter": "scanner",
        "link": "https://scan.example.com/1",
        "logo_url": "https://scan.example.com/logo.png",
        "remote_link_enabled": True,
        "report_type": "SECURITY",
        "result": "FAILED",
        "data": [
            {"title": "Findings", "type": "NUMBER", "value": 2},
            {"title": "Scan", "type": "LINK", "value": {"text": "open", "href": "https://scan.example.com/1"}},
            {"title": "Safe", "type": "BOOLEAN", "value": False},
            {"title": "When", "type": "DATE", "value": 1700000000000},
        ],
    }
    _validator(CLOUD_SPEC, {"$ref": "#/components/schemas/report"}).validate(body)
    put = cloud_check(cloud(sandbox, "PUT", "/reports/scan-1", json=body), "PUT", CLOUD_REPORT)
    assert put.status_code == 200
    assert cloud_check(cloud(sandbox, "GET", f"/reports/{put.json()['uuid']}"), "GET", CLOUD_REPORT).status_code == 200
    listing = cloud(sandbox, "GET", "/reports")
    for value in listing.json()["values"]:
        _validator(CLOUD_SPEC, {"$ref": "#/components/schemas/report"}).validate(value)
    assert cloud_check(cloud(sandbox, "DELETE", "/reports/scan-1"), "DELETE", CLOUD_REPORT).status_code == 204


def test_cloud_annotations_match_the_contract(sandbox):
    cloud(sandbox, "PUT", "/reports/scan-1", json={"title": "Scan", "report_type": "BUG"}).raise_for_status()
    items = [
        {"external_id": "a", "annotation_type": "BUG", "path": "a.py", "line": 3, "summary": "s", "severity": "LOW"},
        {"summary": "no file", "details": "d", "result": "FAILED", "link": "https://scan.example.com/a"},
    ]
    posted = cloud(sandbox, "POST", "/reports/scan-1/annotations", json=items)
    assert cloud_check(posted, "POST", CLOUD_ANNOTATIONS).status_code == 200
    for _ in range(11):
        cloud(sandbox, "POST", "/reports/scan-1/annotations", json=[{"summary": "more"}]).raise_for_status()
    page = cloud_check(cloud(sandbox, "GET", "/reports/scan-1/annotations"), "GET", CLOUD_ANNOTATIONS)
    assert page.json()["next"]
    second = requests.get(page.json()["next"], headers=TOKEN, timeout=10)
    _validator(CLOUD_SPEC, {"$ref": "#/components/schemas/paginated_annotations"}).validate(second.json())
    one = cloud(sandbox, "PUT", "/reports/scan-1/annotations/b", json={"summary": "b", "severity": "CRITICAL"})
    assert cloud_check(one, "PUT", CLOUD_ANNOTATION).status_code == 200
    read = cloud(sandbox, "GET", f"/reports/scan-1/annotations/{one.json()['uuid']}")
    assert cloud_check(read, "GET", CLOUD_ANNOTATION).json() == one.json()
    gone = cloud(sandbox, "DELETE", "/reports/scan-1/annotations/b")
    assert cloud_check(gone, "DELETE", CLOUD_ANNOTATION).status_code == 204


def test_cloud_errors_match_the_contract(sandbox):
    cloud(sandbox, "PUT", "/reports/scan-1", json={"title": "Scan"}).raise_for_status()
    answers = [
        (400, cloud(sandbox, "PUT", "/reports/scan-1", json={"details": "d" * 2001}), "PUT", CLOUD_REPORT),
        (401, cloud(sandbox, "GET", "/reports/scan-1", headers={}), "GET", CLOUD_REPORT),
        (404, cloud(sandbox, "GET", "/reports/none"), "GET", CLOUD_REPORT),
        (404, cloud(sandbox, "DELETE", "/reports/none"), "DELETE", CLOUD_REPORT),
        (400, cloud(sandbox, "POST", "/reports/scan-1/annotations", json=[{"summary": ""}]), "POST", CLOUD_ANNOTATIONS),
        (404, cloud(sandbox, "GET", "/reports/none/annotations"), "GET", CLOUD_ANNOTATIONS),
        (404, cloud(sandbox, "GET", "/reports/scan-1/annotations/none"), "GET", CLOUD_ANNOTATION),
        (
            400,
            cloud(sandbox, "PUT", "/reports/scan-1/annotations/x", json={"summary": "s" * 451}),
            "PUT",
            CLOUD_ANNOTATION,
        ),
        (415, cloud(sandbox, "PUT", "/reports/scan-1", data="title=x"), "PUT", CLOUD_REPORT),
    ]
    for expected, response, method, template in answers:
        assert response.status_code == expected, (method, template, response.text)
        cloud_check(response, method, template)


@pytest.mark.parametrize(
    ("schema", "document"),
    [
        ("report", {"result": "PASS"}),
        ("report", {"data": [{"title": str(n), "value": n} for n in range(11)]}),
        ("report_annotation", {"line": 0}),
        ("report_annotation", {"summary": "s" * 451}),
        ("paginated_annotations", {"values": [{"severity": "BLOCKER"}]}),
        ("error", {"error": {"message": "no type"}}),
    ],
)
def test_a_wrong_cloud_document_fails_so_the_check_can_fail(schema, document):
    with pytest.raises(ValidationError):
        _validator(CLOUD_SPEC, {"$ref": f"#/components/schemas/{schema}"}).validate(document)
