"""Bitbucket Data Center Code Insights over HTTP: reports (create, replace by the creator only, read, delete with
its annotations), validation (title 450, details 2000, 6 typed data items, PASS|FAIL, http(s) links), annotations
(1000 per report, a request over it rejected whole, no de-duplication, replace and delete by external id, the
commit-wide listing), authentication, versions, the context path, faults, the state and the overview page."""

from __future__ import annotations

import pytest
from sandbox_helpers import OTHER_SHA, SHA, USER, Client, bearer

from build_status_sandbox import FaultRule
from build_status_sandbox.insights_validation import DC_MAX_DATA

PERSONAL = bearer("sandbox-token")
HTTP_ACCESS = bearer("sandbox-repo-token")
OTHER_USER = ("other", "other-password")
KEY = "com.example.build-status.coverage"


def report_path(key: str = KEY, sha: str = SHA, version: str = "1.0", context: str = "") -> str:
    return f"{context}/rest/insights/{version}/projects/PROJ/repos/repo/commits/{sha}/reports/{key}"


def report(**fields: object) -> dict:
    return {"title": "Coverage", "result": "PASS", "data": [], **fields}


def note(external_id: str | None = "n1", **fields: object) -> dict:
    body = {"message": "Line not covered", "severity": "MEDIUM", "path": "src/app.py", "line": 3, **fields}
    if external_id is not None:
        body["externalId"] = external_id
    return body


def annotations(client: Client, key: str = KEY) -> list[dict]:
    response = client.get(report_path(key) + "/annotations")
    assert response.status_code == 200, response.text
    return response.json()["annotations"]


def messages(response) -> list[tuple]:
    assert response.status_code == 400, response.text
    return [(error["context"], error["message"]) for error in response.json()["errors"]]


@pytest.fixture
def two_users(make_sandbox):
    sandbox = make_sandbox(bitbucket={"users": dict([USER, OTHER_USER])})
    return sandbox, Client(sandbox.url), Client(sandbox.url, auth=OTHER_USER)


# -- reports -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.0", "latest"])
def test_put_creates_and_answers_200_with_the_report(sandbox, client, version):
    data = [
        {"title": "Covered", "type": "PERCENTAGE", "value": 85.5},
        {"title": "Safe", "type": "BOOLEAN", "value": True},
        {"title": "When", "type": "DATE", "value": 1_700_000_000_000},
        {"title": "Took", "type": "DURATION", "value": 61_000},
        {"title": "Build", "type": "LINK", "value": {"linktext": "#12", "href": "https://ci.example.com/12"}},
        {"title": "Lines", "value": 14300},
    ]
    body = report(details="Line 1\nLine 2", reporter="build-status", link="https://ci.example.com/12", data=data)
    body["logoUrl"] = "https://ci.example.com/logo.png"
    response = client.put(report_path(version=version), json=body)
    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["key"] == KEY and isinstance(answered["createdDate"], int)
    assert {name: answered[name] for name in body} == body
    assert client.get(report_path(version=version)).json() == answered
    (stored,) = sandbox.bitbucket.reports("PROJ", "repo", SHA)
    assert stored["title"] == "Coverage" and stored["annotations"] == []


def test_data_may_be_left_out_and_createddate_is_kept_as_sent(client):
    response = client.put(report_path(), json={"title": "T", "createdDate": 1_600_000_000_000})
    assert response.status_code == 200
    assert response.json()["data"] == [] and response.json()["createdDate"] == 1_600_000_000_000


def test_the_creator_replaces_the_report_and_its_annotations_stay(client):
    client.put(report_path(), json=report(title="First")).raise_for_status()
    assert client.post(report_path() + "/annotations", json={"annotations": [note()]}).status_code == 204
    replaced = client.put(report_path(), json=report(title="Second", result="FAIL"))
    assert replaced.status_code == 200
    assert (replaced.json()["title"], replaced.json()["result"]) == ("Second", "FAIL")
    assert len(annotations(client)) == 1  # a re-run deletes them itself


def test_a_personal_token_acts_as_its_owner(client):
    client.put(report_path(), json=report()).raise_for_status()
    token = Client(client.base, auth=PERSONAL)
    assert token.put(report_path(), json=report(title="By token")).status_code == 200


def test_only_the_creator_may_replace_a_report_or_touch_its_annotations(two_users):
    _, owner, other = two_users
    owner.put(report_path(), json=report()).raise_for_status()
    owner.post(report_path() + "/annotations", json={"annotations": [note()]}).raise_for_status()
    for method, tail, body in [
        ("PUT", "", report(title="Hijack")),
        ("POST", "/annotations", {"annotations": [note("x")]}),
        ("PUT", "/annotations/n1", note()),
        ("DELETE", "/annotations", None),
        ("DELETE", "", None),
    ]:
        response = other.request(method, report_path() + tail, json=body)
        assert response.status_code == 401, (method, tail, response.text)
        assert response.json()["errors"][0]["exceptionName"] == "com.atlassian.bitbucket.AuthorisationException"
    assert other.get(report_path()).json()["title"] == "Coverage"  # anyone may read
    assert len(annotations(other)) == 1


def test_an_http_access_token_is_a_user_of_its_own(client):
    client.put(report_path(), json=report()).raise_for_status()
    assert Client(client.base, auth=HTTP_ACCESS).put(report_path(), json=report()).status_code == 401


def test_delete_removes_the_report_and_its_annotations(sandbox, client):
    client.put(report_path(), json=report()).raise_for_status()
    client.post(report_path() + "/annotations", json={"annotations": [note("a"), note("b")]}).raise_for_status()
    assert client.delete(report_path()).status_code == 204
    assert client.get(report_path()).status_code == 404
    assert client.get(report_path() + "/annotations").status_code == 404
    assert client.delete(report_path()).status_code == 404
    client.put(report_path(), json=report()).raise_for_status()
    assert annotations(client) == []
    assert sandbox.bitbucket.reports("PROJ", "repo", SHA)[0]["annotations"] == []


def test_unknown_report_is_404_with_the_errors_document(client):
    response = client.get(report_path("none"))
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert error["message"] == f"No report with key 'none' exists on commit {SHA}."


def test_reports_are_per_repository_and_commit(client):
    client.put(report_path(), json=report()).raise_for_status()
    assert client.get(report_path(sha=OTHER_SHA)).status_code == 404
    assert client.get(report_path().replace("/repos/repo/", "/repos/other/")).status_code == 404


def test_a_bad_commit_hash_is_400_on_put_and_404_elsewhere(client):
    assert client.put(report_path(sha="abc123"), json=report()).status_code == 400
    assert client.get(report_path(sha="abc123")).status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"result": "PASS", "data": []}, [("title", "The report title is required.")]),
        (report(title="t" * 451), [("title", "The report title must not be longer than 450 characters.")]),
        (report(details="d" * 2001), [("details", "The report details must not be longer than 2000 characters.")]),
        (report(result="PASSED"), [("result", "The report result must be one of PASS, FAIL.")]),
        (report(reporter="r" * 451), [("reporter", "The reporter must not be longer than 450 characters.")]),
        (report(link="ftp://example.com"), [("link", "The report link must be an http or https URL.")]),
        (report(logoUrl="logo.png"), [("logoUrl", "The logo URL must be an http or https URL.")]),
        (
            report(data=[{"title": f"d{n}", "value": n} for n in range(DC_MAX_DATA + 1)]),
            [("data", "A report may have at most 6 data items, not 7.")],
        ),
        (
            report(data=[{"title": "b", "type": "BOOLEAN", "value": "yes"}]),
            [("data[0]", "Data item 1 is a BOOLEAN: its value must be true or false.")],
        ),
        (
            report(data=[{"title": "p", "type": "PERCENTAGE", "value": 101}]),
            [("data[0]", "Data item 1 is a PERCENTAGE: its value must be a number from 0 to 100.")],
        ),
        (
            report(data=[{"title": "l", "type": "LINK", "value": {"text": "Cloud's word", "href": "https://x.io"}}]),
            [("data[0]", 'Data item 1 is a LINK: its value must be {"linktext": "…", "href": "…"}.')],
        ),
        (
            report(data=[{"title": "n", "type": "NUMBER", "value": "12"}]),
            [("data[0]", "Data item 1 is a NUMBER: its value must be a number.")],
        ),
        (
            report(data=[{"title": "x", "type": "COLOUR", "value": 1}]),
            [
                (
                    "data[0]",
                    "Data item 1 has type 'COLOUR'; the type must be one of "
                    "BOOLEAN, DATE, DURATION, LINK, NUMBER, PERCENTAGE, TEXT.",
                )
            ],
        ),
        (report(data=[{"value": 1}]), [("data[0]", "Data item 1 needs a title (a string).")]),
    ],
)
def test_invalid_reports_are_400_with_bitbucket_errors(client, body, expected):
    response = client.put(report_path(), json=body)
    assert messages(response) == expected
    assert response.json()["errors"][0]["exceptionName"].endswith("ArgumentValidationException")
    assert client.get(report_path()).status_code == 404


def test_the_limits_themselves_are_taken(client):
    body = report(
        title="t" * 450,
        details="d" * 2000,
        data=[{"title": f"d{n}", "type": "TEXT", "value": "v"} for n in range(DC_MAX_DATA)],
    )
    assert client.put(report_path(), json=body).status_code == 200


# -- annotations ---------------------------------------------------------------------------------------
def test_annotations_need_the_report(client):
    response = client.post(report_path() + "/annotations", json={"annotations": [note()]})
    assert response.status_code == 404
    assert client.put(report_path() + "/annotations/n1", json=note()).status_code == 404


def test_post_adds_annotations_and_answers_204(client):
    client.put(report_path(), json=report()).raise_for_status()
    response = client.post(report_path() + "/annotations", json={"annotations": [note("a"), note(None, line=0)]})
    assert response.status_code == 204 and response.content == b""
    first, second = annotations(client)
    assert first == {
        "externalId": "a",
        "line": 3,
        "message": "Line not covered",
        "path": "src/app.py",
        "reportKey": KEY,
        "severity": "MEDIUM",
    }
    assert "externalId" not in second and second["line"] == 0


def test_the_same_annotations_again_are_duplicated_as_on_bitbucket(client):
    client.put(report_path(), json=report()).raise_for_status()
    body = {"annotations": [note("a"), note("b")]}
    assert client.post(report_path() + "/annotations", json=body).status_code == 204
    assert client.post(report_path() + "/annotations", json=body).status_code == 204
    assert [item["externalId"] for item in annotations(client)] == ["a", "b", "a", "b"]


def test_put_by_external_id_creates_then_replaces(client):
    client.put(report_path(), json=report()).raise_for_status()
    client.post(report_path() + "/annotations", json={"annotations": [note("a"), note("a"), note("b")]})
    assert client.put(report_path() + "/annotations/a", json=note(None, message="Replaced")).status_code == 204
    assert [(item["externalId"], item["message"]) for item in annotations(client)] == [
        ("a", "Replaced"),
        ("b", "Line not covered"),
    ]
    assert client.put(report_path() + "/annotations/c", json=note("ignored", severity="HIGH")).status_code == 204
    assert annotations(client)[-1]["externalId"] == "c"


def test_delete_by_external_ids_or_all(client):
    client.put(report_path(), json=report()).raise_for_status()
    client.post(report_path() + "/annotations", json={"annotations": [note(name) for name in "abcd"]})
    assert client.delete(report_path() + "/annotations?externalId=a&externalId=c").status_code == 204
    assert [item["externalId"] for item in annotations(client)] == ["b", "d"]
    assert client.delete(report_path() + "/annotations").status_code == 204
    assert annotations(client) == []


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"severity": "LOW"}, [("annotations[0].message", "The annotation message is required.")]),
        (
            note(message="m" * 2001),
            [("annotations[0].message", "The annotation message must not be longer than 2000 characters.")],
        ),
        ({"message": "m"}, [("annotations[0].severity", "The annotation severity is required.")]),
        (
            note(severity="CRITICAL"),
            [("annotations[0].severity", "The annotation severity must be one of LOW, MEDIUM, HIGH.")],
        ),
        (
            note(type="STYLE"),
            [("annotations[0].type", "The annotation type must be one of VULNERABILITY, CODE_SMELL, BUG.")],
        ),
        (note(line=-1), [("annotations[0].line", "The annotation line must be a whole number of at least 0.")]),
        (note("e" * 450), [("annotations[0].externalId", "The external ID must be less than 450 characters long.")]),
        (
            note(link="javascript:alert(1)"),
            [("annotations[0].link", "The annotation link must be an http or https URL.")],
        ),
    ],
)
def test_invalid_annotations_are_400_and_nothing_is_added(client, item, expected):
    client.put(report_path(), json=report()).raise_for_status()
    response = client.post(report_path() + "/annotations", json={"annotations": [item]})
    assert messages(response) == expected
    assert annotations(client) == []


def test_annotation_limits_that_are_taken(client):
    client.put(report_path(), json=report()).raise_for_status()
    body = {"annotations": [note("e" * 449, message="m" * 2000, line=0, type="BUG", link="https://x.io/1")]}
    assert client.post(report_path() + "/annotations", json=body).status_code == 204


def test_a_body_without_annotations_is_400(client):
    client.put(report_path(), json=report()).raise_for_status()
    for body in ({}, {"annotations": []}, [note()]):
        assert client.post(report_path() + "/annotations", json=body).status_code == 400


def test_a_report_holds_1000_annotations_and_a_request_over_that_is_rejected_whole(client):
    client.put(report_path(), json=report()).raise_for_status()
    path = report_path() + "/annotations"
    assert client.post(path, json={"annotations": [note(f"n{n}") for n in range(999)]}).status_code == 204
    response = client.post(path, json={"annotations": [note("x"), note("y")]})
    assert response.status_code == 400
    assert "at most 1000 annotations" in response.json()["errors"][0]["message"]
    assert len(annotations(client)) == 999  # none of the two was added
    assert client.post(path, json={"annotations": [note("x")]}).status_code == 204
    assert client.post(path, json={"annotations": [note("y")]}).status_code == 400
    assert client.put(path + "/z", json=note()).status_code == 400
    assert client.put(path + "/x", json=note(message="replacing is fine")).status_code == 204
    assert len(annotations(client)) == 1000


def test_the_limit_is_an_instance_setting(make_sandbox):
    sandbox = make_sandbox(bitbucket={"annotation_limit": 2})
    client = Client(sandbox.url)
    client.put(report_path(), json=report()).raise_for_status()
    body = {"annotations": [note("a"), note("b"), note("c")]}
    assert client.post(report_path() + "/annotations", json=body).status_code == 400
    assert sandbox.bitbucket.config.annotation_limit == 2


def test_commit_annotations_across_reports_with_filters(client):
    for key in ("lint", "security"):
        client.put(report_path(key), json=report(title=key)).raise_for_status()
    client.post(report_path("lint") + "/annotations", json={"annotations": [note("l1", severity="LOW")]})
    client.post(
        report_path("security") + "/annotations",
        json={"annotations": [note("s1", severity="HIGH", type="VULNERABILITY"), note("s2", path="b.py")]},
    )
    path = f"/rest/insights/latest/projects/PROJ/repos/repo/commits/{SHA}/annotations"
    every = client.get(path).json()["annotations"]
    assert [(item["reportKey"], item["externalId"]) for item in every] == [
        ("lint", "l1"),
        ("security", "s1"),
        ("security", "s2"),
    ]
    assert [item["externalId"] for item in client.get(path + "?severity=HIGH").json()["annotations"]] == ["s1"]
    assert [item["externalId"] for item in client.get(path + "?key=lint").json()["annotations"]] == ["l1"]
    assert [item["externalId"] for item in client.get(path + "?path=b.py").json()["annotations"]] == ["s2"]
    assert len(client.get(path + "?externalId=l1&externalId=s2").json()["annotations"]) == 2
    assert client.get(path.replace(SHA, OTHER_SHA)).json() == {"annotations": []}


# -- the Data Center emulation's auth, versions, context path, faults, state, page -----------------------
def test_credentials_are_needed(sandbox, anonymous, make_sandbox):
    assert anonymous.put(report_path(), json=report()).status_code == 401
    assert anonymous.get(report_path()).status_code == 401
    open_reads = make_sandbox(bitbucket={"allow_anonymous_read": True})
    Client(open_reads.url).put(report_path(), json=report()).raise_for_status()
    assert Client(open_reads.url, auth=None).get(report_path()).status_code == 200
    assert Client(open_reads.url, auth=None).delete(report_path()).status_code == 401


def test_insights_exist_from_5_15_and_under_the_context_path(make_sandbox):
    old = make_sandbox(bitbucket={"version": "5.14"})
    assert Client(old.url).put(report_path(), json=report()).status_code == 404
    new = make_sandbox(bitbucket={"version": "5.15", "context_path": "/stash"})
    client = Client(new.url)
    assert client.put(report_path(), json=report()).status_code == 404
    assert client.put(report_path(context="/stash"), json=report()).status_code == 200


def test_unknown_repositories_are_404(make_sandbox):
    sandbox = make_sandbox(bitbucket={"repositories": ["PROJ/repo"]})
    client = Client(sandbox.url)
    assert client.put(report_path(), json=report()).status_code == 200
    assert client.put(report_path().replace("/repos/repo/", "/repos/nope/"), json=report()).status_code == 404


def test_faults_apply_to_the_insights_routes(sandbox, client):
    sandbox.add_fault(FaultRule(status=503, emulation="bitbucket", path="/rest/insights/"))
    response = client.put(report_path(), json=report())
    assert response.status_code == 503 and response.json()["errors"]
    assert sandbox.bitbucket.reports("PROJ", "repo", SHA) == []
    sandbox.add_fault(FaultRule(status=500, emulation="bitbucket-cloud"))
    assert client.put(report_path(), json=report()).status_code == 200


def test_state_and_page_show_reports_and_annotations(sandbox, client):
    data = [{"title": "Lines", "type": "NUMBER", "value": 14300}, {"title": "Ok", "type": "BOOLEAN", "value": False}]
    client.put(report_path(), json=report(title="Cover <b>age</b>", result="FAIL", data=data)).raise_for_status()
    client.post(report_path() + "/annotations", json={"annotations": [note("a", severity="HIGH", line=7)]})
    (entry,) = client.get("/_sandbox/state").json()["emulations"]["bitbucket"]["insights"]
    assert (entry["project"], entry["repository"], entry["commit"]) == ("PROJ", "repo", SHA)
    (stored,) = entry["reports"]
    assert stored["title"] == "Cover <b>age</b>" and stored["annotations"][0]["externalId"] == "a"
    page = client.get("/").text
    assert "Cover &lt;b&gt;age&lt;/b&gt;" in page and "<b>age" not in page
    assert '<span class="badge red">FAIL</span>' in page
    assert "<th>Lines</th><td>14.3k</td>" in page and "<th>Ok</th><td>No</td>" in page
    assert '<span class="badge red">HIGH</span>' in page and "src/app.py:7" in page and "Line not covered" in page
    sandbox.reset()
    assert sandbox.bitbucket.reports("PROJ", "repo", SHA) == []
