"""The client's Code Insights requests fit Atlassian's published contracts, served by Prism in mock mode.

What is covered. For each report below, every request ``StatusRemote.report_requests`` builds
(``bitbucket_dc/insights.py: dc_report_requests`` and ``bitbucket_cloud/insights.py: cloud_report_requests``)
is sent as built (method, body, the remote's ``Authorization`` header) with its URL re-based from the remote's
base URL onto Prism's address, and Prism must answer 2xx with no ``sl-violations``:

- Data Center (``tests/data/bitbucket-dc-insights-deployments.openapi.json``, fixture ``prism_dc_insights_url``):
  ``PUT …/rest/insights/1.0/…/reports/{key}`` (200), ``DELETE …/reports/{key}/annotations`` (204) and
  ``POST …/reports/{key}/annotations`` (204);
- Cloud (``tests/data/bitbucket-cloud-statuses-reports.openapi.json``, fixture ``prism_cloud_url``):
  ``PUT /2.0/…/commit/{commit}/reports/{reportId}`` (200) and ``POST …/reports/{reportId}/annotations`` (200).

The reports: a test report (NUMBER, DURATION and LINK items, a link, annotations), a coverage report (PERCENTAGE), a
report with no data, one with no link (a link that is not http(s) is left out), a LINK data item whose href is
relative (Cloud's ``format: uri`` refuses it, so the Cloud client leaves it out), more data items than either
flavour keeps (Data Center sends 6, Cloud 10), annotations with and without path and line (a line below 1 is not
sent) and every severity/type the model uses, a 5,000-character message (Data Center cuts the message to 2000; Cloud
cuts the summary to 450 and keeps the text in ``details``), an empty message, annotation ids of 500 characters (Data
Center's ``externalId`` is shorter than 450: the client keeps the start and a digest), 150 annotations (Data Center:
one POST; Cloud: POSTs of 100 and 50), 1001 annotations (Data Center: one POST of 1000; Cloud: ten of 100, the
report's details saying one was left out), and unicode in the key, title, details, data, messages and paths.

Each body is also validated directly (jsonschema, Draft 7, ``format: uri`` checked) against the request schema the
operation declares in the same extract. The checks can fail: deliberately broken bodies (a Data Center annotation
without ``severity`` or with Cloud's ``CRITICAL``, Data Center annotations not wrapped in ``{"annotations": […]}``,
a Data Center report without ``title``, with Cloud's ``result: "PASSED"`` or with 7 data items, a Cloud report with
Data Center's ``result: "PASS"`` or with 11 data items, a Cloud summary over 450 characters, a Cloud annotation on
line 0, 101 Cloud annotations in one POST) are refused both by the schema and by Prism (400 where the operation
declares a 400, with the violations in the ``sl-violations`` header; otherwise Prism's own 422 with a ``validation``
list).

Spec quirks (FACTS §7). Atlassian's published schemas type a data item's ``value`` as ``type: object``
(``RestInsightReportData`` on Data Center, ``report_data`` on Cloud), which contradicts the operations' own tables
(NUMBER, PERCENTAGE, DURATION and DATE values are numbers, TEXT a string, BOOLEAN a boolean, only LINK an object):
validated as published, every NUMBER item would be refused. The contract extracts widen ``value`` to what the tables
allow; ``test_the_published_value_type_would_refuse_a_number_item`` shows why. Other extract changes relied on here:
the published Data Center ``RestSetInsightReportRequest`` requires ``data`` although the table marks it optional
(the client always sends ``data``, ``[]`` when empty); enumerations stated in prose are anchored patterns; the Cloud
``object`` base schema no longer requires ``type``; Cloud limits seen as Bitbucket 400s (``summary`` ≤ 450,
``details`` ≤ 2000, ``data`` ≤ 10) are written into the schemas. The Data Center contract has no limit of 1000
annotations per report (an instance setting), so the client's cap is asserted from the request, not by Prism. Not
covered: a report key with a ``/`` (sent as ``%2F``, which Prism routes but Bitbucket Data Center's servlet
container may refuse); the answers' contents (a mock's canned objects).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from build_status.model.auth import Auth
from build_status.model.insights import (
    COVERAGE,
    DURATION,
    LINK,
    NUMBER,
    PERCENTAGE,
    TEST,
    TEXT,
    Annotation,
    DataItem,
    InsightReport,
)
from build_status.remotes.bitbucket_cloud.remote import BitbucketCloud
from build_status.remotes.bitbucket_cloud.target import CloudTarget
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter
from build_status.remotes.bitbucket_dc.target import Target
from build_status.remotes.interface import Request

from .formats import FORMATS

DATA = Path(__file__).parent.parent / "data"
DC_SPEC = json.loads((DATA / "bitbucket-dc-insights-deployments.openapi.json").read_text(encoding="utf-8"))
CLOUD_SPEC = json.loads((DATA / "bitbucket-cloud-statuses-reports.openapi.json").read_text(encoding="utf-8"))

SHA = "0123456789abcdef0123456789abcdef01234567"
AUTH = Auth("Bearer", "t0ken-xyz")
#: The remotes as configured (Data Center with a context path); their requests are re-based onto Prism.
DC_BASE = "https://bb.example.com/bitbucket"
CLOUD_BASE = "https://api.bitbucket.org"
DC = BitbucketDataCenter(Target(DC_BASE, AUTH, "PRJ", "app", "auto"))
CLOUD = BitbucketCloud(CloudTarget(CLOUD_BASE, AUTH, "acme", "app"))

DC_REPORT = "/rest/insights/1.0/projects/{projectKey}/repos/{repositorySlug}/commits/{commitId}/reports/{key}"
DC_ANNOTATIONS = DC_REPORT + "/annotations"
CLOUD_REPORT = "/2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/reports/{reportId}"
CLOUD_ANNOTATIONS = CLOUD_REPORT + "/annotations"


# -- the reports ------------------------------------------------------------------------------------


def notes(count: int, path: str | None = "tests/test_x.py") -> tuple[Annotation, ...]:
    return tuple(
        Annotation(f"id{number:04d}", f"test_{number} failed\nassert 1 == 2", path, number + 1)
        for number in range(count)
    )


def report(**changes: Any) -> InsightReport:
    fields = {"key": "build-status.tests", "title": "Tests · CI › test", "kind": TEST, "passed": False,
              "details": "118 passed, 2 failed, 3 skipped", "link": "https://ci.example.com/runs/17",
              "data": (DataItem("Passed", NUMBER, 118), DataItem("Failed", NUMBER, 2),
                       DataItem("Duration", DURATION, 95_000), DataItem("Run", LINK, ("run #17", "https://ci.example.com/runs/17"))),
              "annotations": notes(2)}  # fmt: skip
    return InsightReport(**{**fields, **changes})


LONG = "E" * 600 + " first line of a long failure\n" + "".join(f"frame {n}: {'x' * 40}\n" for n in range(120))
REPORTS = {
    "test-report": report(),
    "coverage": report(
        key="build-status.coverage",
        title="Coverage",
        kind=COVERAGE,
        passed=True,
        details="87.35% of lines covered",
        annotations=(),
        data=(
            DataItem("Coverage", PERCENTAGE, 87.35),
            DataItem("Lines", NUMBER, 1234),
            DataItem("Tool", TEXT, "coverage.py"),
        ),
    ),
    "no-data": report(data=(), details="", link="", annotations=(), passed=True),
    "no-link": report(link="ci/runs/17"),  # not http(s): neither flavour takes it, so it is left out
    "data-over-the-caps": report(data=tuple(DataItem(f"Metric {n}", NUMBER, n * 1.5) for n in range(12))),
    "annotation-places": report(
        annotations=(
            Annotation("a-line", "on a line", "src/app/core.py", 42, "HIGH", "BUG"),
            Annotation("a-top", "at the top of a file", "src/app/core.py", None, "MEDIUM", "CODE_SMELL"),
            Annotation("a-report", "about the whole report", None, 7, "LOW", "VULNERABILITY"),
            Annotation("a-none", "nowhere at all", None, None),
            Annotation("a-negative", "a line below 1 (not sent)", "src/app/core.py", -3),
        )
    ),
    "5000-character-message": report(
        details="d" * 5000, title="t" * 600, annotations=(Annotation("long", (LONG * 2)[:5000], "tests/test_x.py", 3),)
    ),
    "empty-message": report(annotations=(Annotation("empty", "", "tests/test_x.py", 1), Annotation("blank", " \n "))),
    "relative-link-item": report(data=(DataItem("Run", LINK, ("run #17", "runs/17")), DataItem("Passed", NUMBER, 1))),
    "500-character-annotation-ids": report(
        annotations=tuple(Annotation("t" * 500 + str(n), "failed", "tests/test_x.py", n + 1) for n in range(2))
    ),
    "150-annotations": report(annotations=notes(150)),
    "1001-annotations": report(annotations=notes(1001)),
    "unicode": report(
        key="build-status.tëst-✓",
        title="Tests · CI › 测试 ✓",
        details="Ünïcödé — 118 réussis, 2 échoués 💥\nzweite Zeile",
        data=(
            DataItem("Réussis ✓", NUMBER, 118),
            DataItem("Durée", DURATION, 1_500),
            DataItem("Lien ↗", LINK, ("exécution n°17 🚀", "https://ci.example.com/runs/17?q=%C3%A9")),
            DataItem("Outil", TEXT, "pytest · 8 ✓"),
        ),
        annotations=(
            Annotation("ü-1", "断言失败 💥\nassert 'é' == 'e'", "tests/tëst_ünï/测试.py", 12),
            Annotation("ü-2", "Ωmega ≠ alpha", "docs/ré sumé.md"),
        ),
    ),
}
CASES = list(REPORTS)


# -- the checks -------------------------------------------------------------------------------------


def request_validator(spec: dict, template: str, method: str) -> Draft7Validator:
    """The JSON schema the operation declares for its request body, its ``$ref``s resolved in ``spec``."""
    schema = spec["paths"][template][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    registry = Registry().with_resource("spec.json", Resource.from_contents(spec, default_specification=DRAFT7))
    rewritten = json.loads(json.dumps(schema).replace('"#/components/', '"spec.json#/components/'))
    return Draft7Validator(rewritten, registry=registry, format_checker=FORMATS)


def schema_errors(spec: dict, template: str, method: str, body: Any) -> list[str]:
    validator = request_validator(spec, template, method)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)]


def operation(request: Request, base: str, report_template: str) -> str:
    """The spec template of the operation ``request`` is for (the report, or its annotations)."""
    assert request.url.startswith(base + "/"), request.url
    return report_template + "/annotations" if request.url.endswith("/annotations") else report_template


def path_fits(template: str, request: Request, base: str) -> bool:
    """The request's path (below ``base``) is the template's, each ``{parameter}`` one path segment."""
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, urlsplit(request.url[len(base) :]).path) is not None


def send(prism: str, base: str, request: Request, auth: Auth = AUTH, body: Any = None) -> requests.Response:
    """``request`` (or ``body`` in its place) sent to Prism: its URL re-based from ``base`` onto Prism's address."""
    assert request.url.startswith(base + "/"), request.url
    payload = request.body if body is None else body
    headers = {"Authorization": auth.header, "Accept": "application/json"}
    return requests.request(request.method, prism + request.url[len(base) :], json=payload, headers=headers,
                            timeout=30)  # fmt: skip


def prism_says(response: requests.Response) -> str:
    """Prism's verdict, for assertion messages: the code, the violations header and the body."""
    return (
        f"{response.request.method} {response.url} → {response.status_code}\n"
        f"sl-violations: {response.headers.get('sl-violations')}\n{response.text[:4000]}"
    )


def assert_accepted(prism: str, base: str, request: Request, expected: int) -> None:
    response = send(prism, base, request)
    assert response.status_code == expected and "sl-violations" not in response.headers, prism_says(response)


def assert_refused(response: requests.Response, expected: int) -> None:
    """Refused as breaking the contract: the code expected, with Prism's list of what broke it."""
    assert response.status_code == expected, prism_says(response)
    if expected == 422:
        assert response.json()["validation"], prism_says(response)
    else:  # a declared 400: the canned error body, the violations in the header
        assert json.loads(response.headers["sl-violations"]), prism_says(response)


# -- Data Center ------------------------------------------------------------------------------------


def dc_shape(name: str, given: InsightReport, built: list[Request]) -> None:
    """What the client builds, before the contract is asked."""
    kept = min(len(given.annotations), 1000)
    assert [request.method for request in built] == ["PUT", "DELETE"] + (["POST"] if kept else [])
    put = built[0].body
    assert len(put["data"]) == min(len(given.data), 6)
    assert ("link" in put) == given.link.startswith("https://")
    if kept:
        assert len(built[2].body["annotations"]) == kept
    if name == "1001-annotations":
        assert len(built[2].body["annotations"]) == 1000
        assert put["details"].endswith("1 more failure(s) not annotated (Bitbucket keeps 1000).")
    if name == "5000-character-message":
        assert len(built[2].body["annotations"][0]["message"]) == 2000
        assert (len(put["title"]), len(put["details"])) == (450, 2000)
    if name == "data-over-the-caps":
        assert len(given.data) == 12 and len(put["data"]) == 6


@pytest.mark.contract
@pytest.mark.parametrize("name", CASES)
def test_data_center_report_requests_are_accepted_by_the_contract(prism_dc_insights_url, name):
    given = REPORTS[name]
    built = DC.report_requests(SHA, given)
    dc_shape(name, given, built)
    expected = {"PUT": 200, "DELETE": 204, "POST": 204}
    for request in built:
        template = operation(request, DC_BASE, DC_REPORT)
        assert path_fits(template, request, DC_BASE), request.url
        if request.body is not None:
            assert schema_errors(DC_SPEC, template, request.method, request.body) == [], request.body
        assert_accepted(prism_dc_insights_url, DC_BASE, request, expected[request.method])


# -- Cloud ------------------------------------------------------------------------------------------


def cloud_shape(name: str, given: InsightReport, built: list[Request]) -> None:
    kept = min(len(given.annotations), 1000)
    sizes = [100] * (kept // 100) + ([kept % 100] if kept % 100 else [])
    assert [request.method for request in built] == ["PUT"] + ["POST"] * len(sizes)
    assert [len(request.body) for request in built[1:]] == sizes
    put = built[0].body
    links = [item for item in given.data if item.type == LINK and not str(item.value[1]).startswith("https://")]
    assert len(put["data"]) == min(len(given.data) - len(links), 10)  # a link that is not http(s) is left out
    assert ("link" in put) == given.link.startswith("https://")
    if name == "150-annotations":
        assert sizes == [100, 50]
    if name == "1001-annotations":
        assert sizes == [100] * 10
        assert put["details"].endswith("1 more failure(s) not annotated (Bitbucket keeps 1000).")
    if name == "5000-character-message":
        (note,) = built[1].body
        assert len(note["summary"]) == 450 and len(note["details"]) == 2000
    if name == "data-over-the-caps":
        assert len(put["data"]) == 10


@pytest.mark.contract
@pytest.mark.parametrize("name", CASES)
def test_cloud_report_requests_are_accepted_by_the_contract(prism_cloud_url, name):
    given = REPORTS[name]
    built = CLOUD.report_requests(SHA, given)
    cloud_shape(name, given, built)
    expected = {"PUT": 200, "POST": 200}
    for request in built:
        template = operation(request, CLOUD_BASE, CLOUD_REPORT)
        assert path_fits(template, request, CLOUD_BASE), request.url
        assert schema_errors(CLOUD_SPEC, template, request.method, request.body) == [], request.body
        assert_accepted(prism_cloud_url, CLOUD_BASE, request, expected[request.method])


# -- the checks can fail ------------------------------------------------------------------------------


def _without(document: dict, field: str) -> dict:
    return {name: value for name, value in document.items() if name != field}


def _dc_broken(name: str) -> tuple[Request, Any, int]:
    put, _, post = DC.report_requests(SHA, report())
    notes_sent = post.body["annotations"]
    broken = {
        "dc-annotation-without-severity": (post, {"annotations": [_without(notes_sent[0], "severity")]}, 422),
        "dc-annotation-severity-critical": (post, {"annotations": [{**notes_sent[0], "severity": "CRITICAL"}]}, 422),
        "dc-annotations-not-wrapped": (post, notes_sent, 422),
        "dc-report-without-title": (put, _without(put.body, "title"), 400),
        "dc-report-result-passed": (put, {**put.body, "result": "PASSED"}, 400),
        "dc-report-seven-data-items": (put, {**put.body, "data": [put.body["data"][0]] * 7}, 400),
    }
    return broken[name]


def _cloud_broken(name: str) -> tuple[Request, Any, int]:
    put, post = CLOUD.report_requests(SHA, report(annotations=notes(1)))
    note = post.body[0]
    broken = {
        "cloud-report-result-pass": (put, {**put.body, "result": "PASS"}, 400),
        "cloud-report-eleven-data-items": (put, {**put.body, "data": [put.body["data"][0]] * 11}, 400),
        "cloud-summary-451-characters": (post, [{**note, "summary": "s" * 451}], 422),
        "cloud-annotation-on-line-0": (post, [{**note, "line": 0}], 422),
        "cloud-101-annotations": (post, [note] * 101, 422),
    }
    return broken[name]


DC_BROKEN = [
    "dc-annotation-without-severity",
    "dc-annotation-severity-critical",
    "dc-annotations-not-wrapped",
    "dc-report-without-title",
    "dc-report-result-passed",
    "dc-report-seven-data-items",
]
CLOUD_BROKEN = [
    "cloud-report-result-pass",
    "cloud-report-eleven-data-items",
    "cloud-summary-451-characters",
    "cloud-annotation-on-line-0",
    "cloud-101-annotations",
]


@pytest.mark.contract
@pytest.mark.parametrize("name", DC_BROKEN)
def test_a_broken_data_center_body_is_refused_by_the_schema_and_by_prism(prism_dc_insights_url, name):
    request, body, code = _dc_broken(name)
    assert schema_errors(DC_SPEC, operation(request, DC_BASE, DC_REPORT), request.method, body)
    assert_refused(send(prism_dc_insights_url, DC_BASE, request, body=body), code)


@pytest.mark.contract
@pytest.mark.parametrize("name", CLOUD_BROKEN)
def test_a_broken_cloud_body_is_refused_by_the_schema_and_by_prism(prism_cloud_url, name):
    request, body, code = _cloud_broken(name)
    assert schema_errors(CLOUD_SPEC, operation(request, CLOUD_BASE, CLOUD_REPORT), request.method, body)
    assert_refused(send(prism_cloud_url, CLOUD_BASE, request, body=body), code)


@pytest.mark.contract
def test_a_request_without_credentials_is_refused(prism_dc_insights_url):
    put = DC.report_requests(SHA, report())[0]
    response = requests.put(prism_dc_insights_url + put.url[len(DC_BASE) :], json=put.body, timeout=30)
    assert response.status_code == 401, prism_says(response)


# -- the spec quirk ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "schema", "link_text"), [(DC_SPEC, "RestInsightReportData", "linktext"),
                                                          (CLOUD_SPEC, "report_data", "text")])  # fmt: skip
def test_the_published_value_type_would_refuse_a_number_item(spec, schema, link_text):
    """As published, ``value`` is ``type: object``: a NUMBER item (what the operation's table asks for) would be
    refused, so the extract widens it. With the extract, every item type the client sends passes."""
    published = {**spec["components"]["schemas"][schema]}
    published["properties"] = {**published["properties"], "value": {"type": "object"}}
    number = DataItem("Passed", NUMBER, 118).as_json(link_text)
    assert list(Draft7Validator(published).iter_errors(number))
    fixed = Draft7Validator(spec["components"]["schemas"][schema], format_checker=FORMATS)
    items = [DataItem("Passed", NUMBER, 118), DataItem("Coverage", PERCENTAGE, 87.35),
             DataItem("Duration", DURATION, 95_000), DataItem("Tool", TEXT, "pytest"),
             DataItem("Run", LINK, ("run #17", "https://ci.example.com/runs/17"))]  # fmt: skip
    for item in items:
        assert list(fixed.iter_errors(item.as_json(link_text))) == [], item
