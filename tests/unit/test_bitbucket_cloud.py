"""Bitbucket Cloud's pure parts: the refname, the status object and its limits, the default keys fitted to
40 characters, the states, the configuration rules and how Cloud's error answers are quoted."""

from __future__ import annotations

import json
import re

import pytest
import requests

from build_status.config.selection import parse_config
from build_status.errors import InputError
from build_status.model.auth import Auth
from build_status.model.states import CANCELLED, FAILED, INPROGRESS, STOPPED, SUCCESSFUL, UNKNOWN
from build_status.model.status import BuildStatus, TestCounts
from build_status.remotes.bitbucket_cloud.api import cloud_failure, cloud_message
from build_status.remotes.bitbucket_cloud.remote import ENDPOINT, KEY_LIMIT, BitbucketCloud, refname
from build_status.remotes.bitbucket_cloud.target import CloudTarget
from build_status.tasks.post import check_posting, final_status, posting_for

from ..factories import SHA, context, raw_inputs

CTX = context()
OTHER = "fedcba9876543210fedcba9876543210fedcba98"
BASE = "https://api.bitbucket.org"
TOKEN = Auth("Bearer", "tok")
UUID = "{11111111-2222-3333-4444-555555555555}"


def cloud_raw(ctx=CTX, **changes):
    """Raw inputs for Bitbucket Cloud's workspace ``acme``, repository ``app``, a token, plus ``changes``."""
    raw = raw_inputs(ctx, bitbucket_url="", bitbucket_workspace="acme", bitbucket_repo="app")
    raw.update({k.replace("_", "-"): v for k, v in changes.items()})
    return raw


def config_of(ctx=CTX, **changes):
    return parse_config(cloud_raw(ctx, **changes), ctx)


def remote_of(**changes) -> BitbucketCloud:
    return config_of(**changes).post.remote


def error_of(ctx=CTX, **changes) -> InputError:
    with pytest.raises(InputError) as info:
        config_of(ctx, **changes)
    return info.value


def cloud(workspace="acme", repo="app", auth=TOKEN) -> BitbucketCloud:
    return BitbucketCloud(CloudTarget(BASE, auth, workspace, repo))


def status(**changes) -> BuildStatus:
    fields = {
        "state": SUCCESSFUL,
        "key": "CI/build",
        "name": "CI › build",
        "url": "https://github.com/o/r/actions/runs/5",
        "description": "Succeeded in 12s · run #3",
    }
    fields.update(changes)
    return BuildStatus(**fields)


def body_of(build_status: BuildStatus, remote: BitbucketCloud | None = None) -> dict:
    (request,) = (remote or cloud()).status_requests(ENDPOINT, build_status, [SHA])
    return request.body


def answer(status_code: int, body, content_type: str = "application/json", reason: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status_code
    response.reason = reason
    response.headers["Content-Type"] = content_type
    response._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    return response


# -- refname ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("refs/heads/feature/x", "feature/x"),
        ("refs/heads/main", "main"),
        ("refs/heads/refs/heads/odd", "refs/heads/odd"),
        ("refs/tags/v1.0", ""),
        ("refs/pull/7/merge", ""),
        ("main", ""),
        ("", ""),
    ],
)
def test_refname_is_the_branch_of_a_pushed_branch_and_none_else(ref, expected):
    assert refname(ref) == expected


def test_the_refname_goes_with_a_branch_and_not_with_a_tag():
    assert body_of(status(ref="refs/heads/feature/x"))["refname"] == "feature/x"
    assert "refname" not in body_of(status(ref="refs/tags/v1.0"))
    assert "refname" not in body_of(status(ref=""))


def test_the_refname_of_a_pull_request_is_its_source_branch():
    pull_request = {"pull_request": {"head": {"ref": "feature/pr", "sha": OTHER}}}
    event = context(event_name="pull_request", event=pull_request, ref="refs/pull/7/merge")
    posting = parse_config(cloud_raw(event), event).post  # the ref input's default
    assert posting.status.ref == "refs/heads/feature/pr"
    assert refname(posting.status.ref) == "feature/pr"


# -- the status object --------------------------------------------------------------------------------


def test_the_body_holds_the_fields_cloud_has_and_nothing_else():
    full = status(ref="refs/heads/main", build_number="17", parent="CI", duration_ms=1200, tests=TestCounts(3, 1, 0))
    assert body_of(full) == {
        "key": "CI/build",
        "state": SUCCESSFUL,
        "url": "https://github.com/o/r/actions/runs/5",
        "name": "CI › build",
        "description": "Succeeded in 12s · run #3",
        "refname": "main",
    }
    assert cloud().ignored(full) == ("parent",)  # the build number is the run number of the description
    assert cloud().ignored(status()) == ()


@pytest.mark.parametrize("field", ["name", "description"])
def test_an_empty_name_or_description_is_left_out(field):
    body = body_of(status(**{field: ""}))
    assert field not in body
    assert {"key", "state", "url"} <= set(body)


def test_a_default_description_is_cut_to_255_and_a_given_one_is_sent_as_given():
    cut = body_of(status(description="x" * 300, description_given=False))["description"]
    assert len(cut) == 255 and cut.endswith("…")
    assert body_of(status(description="y" * 255))["description"] == "y" * 255


def test_one_post_per_commit_to_the_statuses_build_endpoint_credentials_masked():
    remote = cloud(workspace=UUID, repo="my.repo")
    requests_ = remote.status_requests(ENDPOINT, status(state=INPROGRESS), [SHA, OTHER])
    assert [(r.method, r.url, r.commit, r.endpoint) for r in requests_] == [
        ("POST", f"{BASE}/2.0/repositories/{UUID}/my.repo/commit/{sha}/statuses/build", sha, "cloud")
        for sha in (SHA, OTHER)
    ]
    assert requests_[0].what == "posting INPROGRESS"
    assert requests_[0].shown_lines == ("Authorization: Bearer ***", "Content-Type: application/json")
    (read,), note = remote.read_requests(SHA)
    assert (read.method, read.params, read.shown_query) == ("GET", {"pagelen": 100}, "pagelen=100")
    assert read.url.endswith(f"/commit/{SHA}/statuses") and "next" in note


@pytest.mark.parametrize(
    ("changes", "name", "message"),
    [
        ({"key": "k" * 41}, "key", "is 41 characters; Bitbucket Cloud takes at most 40."),
        ({"key": "  "}, "key", "must not be empty."),
        ({"name": "n" * 255}, "name", "is 255 characters; Bitbucket Cloud takes at most 254."),
        (
            {"url": "ftp://x.example/1"},
            "url",
            "'ftp://x.example/1' is not an http(s) URL, which Bitbucket Cloud requires.",
        ),
        ({"url": "https://x.example/a b"}, "url", "is not an http(s) URL"),
        ({"url": "https://x.example/" + "u" * 432}, "url", "is 450 characters; Bitbucket Cloud takes at most 449."),
    ],
    ids=["key-41", "key-empty", "name-255", "url-ftp", "url-space", "url-450"],
)
def test_what_cloud_would_refuse_is_an_input_error(changes, name, message):
    with pytest.raises(InputError) as info:
        body_of(status(**changes))
    assert info.value.name == name
    assert message in info.value.message


def test_a_key_of_40_characters_is_sent():
    assert body_of(status(key="k" * 40))["key"] == "k" * 40


def test_a_given_key_longer_than_40_is_an_input_error_before_any_request():
    posting = posting_for(config_of(key="k" * 41).post, None)
    with pytest.raises(InputError) as info:
        check_posting(posting, CTX)  # what run_tasks does before the first request
    assert (info.value.name, info.value.message) == ("key", "is 41 characters; Bitbucket Cloud takes at most 40.")


# -- default keys fitted to 40 characters ---------------------------------------------------------------


LONG = context(workflow="Continuous integration pipeline", job="integration-tests-against-postgres")
MATRIX = '{"python":"3.12","os":"ubuntu-24.04","db":"postgres-16"}'


def key_of(ctx=LONG, matrix=MATRIX) -> str:
    return config_of(ctx, matrix=matrix).post.status.key


def test_a_short_default_key_is_kept():
    assert key_of(CTX, "") == "CI/build"
    assert key_of(CTX, '{"python":"3.12"}') == "CI/build[python=3.12]"


def test_a_long_default_key_is_a_readable_prefix_and_a_hash_within_40_characters():
    key = key_of()
    whole = LONG.workflow + "/" + LONG.job + "[db=postgres-16,os=ubuntu-24.04,python=3.12]"
    assert len(key) <= KEY_LIMIT
    assert re.fullmatch(r"(.+)~[0-9a-f]{16}", key)
    assert whole.startswith(key.split("~")[0]) and key.startswith("Continuous integration")
    assert key_of() == key  # deterministic
    assert key_of(matrix='{"db":"postgres-16","python":"3.12","os":"ubuntu-24.04"}') == key  # any order
    assert body_of(posting_status(LONG, MATRIX))["key"] == key


def posting_status(ctx, matrix) -> BuildStatus:
    posting = posting_for(config_of(ctx, matrix=matrix).post, None)
    return final_status(posting, ctx, ENDPOINT)


def test_long_default_keys_stay_distinct_per_job_and_matrix_combination():
    keys = {
        key_of(),
        key_of(matrix=MATRIX.replace("3.12", "3.13")),
        key_of(matrix=MATRIX.replace("postgres-16", "postgres-17")),
        key_of(context(workflow=LONG.workflow, job="integration-tests-against-postgres-2")),
        key_of(context(workflow=LONG.workflow, job="integration-tests-against-postgres"), matrix=""),
    }
    assert len(keys) == 5
    assert all(len(key) <= KEY_LIMIT for key in keys)


# -- states -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("explicit", [True, False])
@pytest.mark.parametrize(
    ("state", "fitted"),
    [(SUCCESSFUL, SUCCESSFUL), (FAILED, FAILED), (INPROGRESS, INPROGRESS), (CANCELLED, STOPPED)],
)
def test_cloud_states_and_cancelled_posted_as_stopped(state, fitted, explicit):
    assert cloud().fit_state(state, explicit, ENDPOINT) == fitted


def test_unknown_from_a_webappio_run_is_posted_as_failed():
    remote = cloud()
    remote.check_state(UNKNOWN, explicit=False)  # no error: a relayed run's word this version does not know
    assert remote.fit_state(UNKNOWN, False, ENDPOINT) == FAILED


def test_an_explicit_unknown_is_an_input_error_naming_state():
    for attempt in (lambda: cloud().fit_state(UNKNOWN, True, ENDPOINT), lambda: config_of(state="UNKNOWN")):
        with pytest.raises(InputError) as info:
            attempt()
        assert info.value.name == "state"
        assert "UNKNOWN is not a state of Bitbucket Cloud" in info.value.message
        assert "CANCELLED, which is posted as STOPPED" in info.value.message


def test_a_cancelled_job_is_posted_as_stopped():
    posting = config_of(state="", job_status="cancelled").post
    assert (posting.status.state, posting.status.explicit) == (CANCELLED, False)
    assert posting.remote.fit_state(posting.status.state, False, ENDPOINT) == STOPPED


# -- configuration ------------------------------------------------------------------------------------


def test_bitbucket_workspace_selects_cloud_with_the_default_url():
    remote = remote_of()
    assert isinstance(remote, BitbucketCloud)
    assert remote.target == CloudTarget(BASE, Auth("Bearer", "tok"), "acme", "app")
    assert remote.known_endpoint(SUCCESSFUL).name == "cloud"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.bitbucket.org/", BASE),
        ("http://127.0.0.1:4010", "http://127.0.0.1:4010"),
        ("https://proxy.example.com/bitbucket/", "https://proxy.example.com/bitbucket"),
    ],
)
def test_bitbucket_url_is_a_base_url(given, expected):
    assert remote_of(bitbucket_url=given).base_url == expected


@pytest.mark.parametrize(
    "given",
    [
        "https://api.bitbucket.org/2.0",
        "https://api.bitbucket.org/2.0/",
        "https://proxy.example.com/bb/2.0/repositories",
    ],
)
def test_bitbucket_url_with_the_api_root_is_an_input_error(given):
    error = error_of(bitbucket_url=given)
    assert (error.name, error.message) == (
        "bitbucket-url",
        "should be the base URL without /2.0/...; e.g. https://api.bitbucket.org.",
    )


def test_bitbucket_project_with_bitbucket_workspace_is_an_input_error():
    error = error_of(bitbucket_project="PRJ")
    assert error.name == "bitbucket-project"
    assert "with bitbucket-workspace (Bitbucket Cloud) leave it out" in error.message


def test_bitbucket_repo_is_required():
    error = error_of(bitbucket_repo="")
    assert (error.name, error.message) == (
        "bitbucket-repo",
        "is required with bitbucket-workspace: the repository's slug (or {UUID}).",
    )


@pytest.mark.parametrize(("name", "value"), [("bitbucket-workspace", "acme corp"), ("bitbucket-repo", "a/b")])
def test_a_workspace_or_repo_that_is_no_slug_is_an_input_error(name, value):
    assert error_of(**{name: value}).name == name


@pytest.mark.parametrize("api", ["auto", "AUTO", ""])
def test_bitbucket_api_auto_is_fine(api):
    assert isinstance(remote_of(bitbucket_api=api), BitbucketCloud)


@pytest.mark.parametrize("api", ["commits", "builds"])
def test_bitbucket_api_other_than_auto_is_an_input_error(api):
    error = error_of(bitbucket_api=api)
    assert error.name == "bitbucket-api"
    assert "leave it at auto with bitbucket-workspace" in error.message


def test_a_token_is_sent_as_bearer_and_an_email_with_an_api_token_as_basic():
    assert remote_of().auth == Auth("Bearer", "tok")
    basic = remote_of(bitbucket_token="", bitbucket_username="dev@example.com", bitbucket_password="api-tok")
    assert basic.auth == Auth("Basic", "api-tok", "dev@example.com")
    assert basic.auth.header.startswith("Basic ")
    assert basic.status_requests(ENDPOINT, status(), [SHA])[0].shown_lines[0] == "Authorization: Basic ***"


def test_no_credentials_names_what_cloud_takes():
    error = error_of(bitbucket_token="")
    assert (error.name, error.message) == (
        "bitbucket-token",
        "no credentials: set bitbucket-token (an access token of the repository, project or workspace, or an OAuth "
        "token, sent as Bearer) or bitbucket-username (your Atlassian account e-mail) + bitbucket-password (an API "
        "token).",
    )
    missing = error_of(bitbucket_token="", bitbucket_username="dev@example.com")
    assert (missing.name, missing.message) == (
        "bitbucket-password",
        "is required with bitbucket-username (an API token of that Atlassian account).",
    )


# -- Cloud's error answers ----------------------------------------------------------------------------


def test_cloud_message_quotes_the_message_and_its_fields():
    said = "Ensure this value has at most 40 characters (it has 80)."
    old = {"error": {"fields": {"key": [said]}, "message": "Bad request"}}  # Cloud's answer until about 2018
    assert cloud_message(answer(400, old)) == f"Bad request (key: {said})"
    several = {
        "type": "error",
        "error": {"message": "Bad request", "fields": {"key": ["a", "b"], "url": "Enter a valid URL."}},
    }
    assert cloud_message(answer(400, several)) == "Bad request (key: a b; url: Enter a valid URL.)"
    assert cloud_message(answer(404, {"type": "error", "error": {"message": "Commit not found"}})) == "Commit not found"
    assert cloud_message(answer(400, {"type": "error", "error": {"message": "Bad", "fields": {}}})) == "Bad"


def test_cloud_message_says_a_field_once_where_the_message_says_it_already():
    """Cloud's answer since about 2020: the message repeats the field's words."""
    said = "key: Ensure this value has at most 40 characters (it has 53)."
    data = {"type": "error", "error": {"fields": {"key": [said.removeprefix("key: ")]}, "message": said}}
    assert cloud_message(answer(400, data)) == said
    assert cloud_failure(answer(400, data, reason="Bad Request"), "posting SUCCESSFUL", "Bearer") == (
        f"Bitbucket Cloud answered 400 Bad Request while posting SUCCESSFUL: {said}"
    )


def test_cloud_message_of_other_answers():
    page = "<html><head><title>Log in</title></head><body>x</body></html>"
    assert cloud_message(answer(401, page, "text/html")) == "an HTML page titled 'Log in'"
    assert cloud_message(answer(502, "bad   gateway\n", "text/plain")) == "bad gateway"
    assert cloud_message(answer(401, "", "text/plain")) == ""


def test_cloud_failure_of_a_refused_credential_names_the_inputs():
    bearer = cloud_failure(answer(401, "", "text/plain", "Unauthorized"), "posting SUCCESSFUL", "Bearer")
    assert bearer.startswith(
        "Bitbucket Cloud answered 401 Unauthorized while posting SUCCESSFUL. Check bitbucket-token."
    )
    basic = cloud_failure(answer(401, "", "text/plain", "Unauthorized"), "posting SUCCESSFUL", "Basic")
    assert "Check bitbucket-username and bitbucket-password." in basic
    creator = {"type": "error", "error": {"message": "Only the creator of the status can update it"}}
    assert "only a status's creator" in cloud_failure(answer(403, creator, reason="Forbidden"), "posting", "Bearer")
