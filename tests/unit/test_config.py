import pytest

from build_status.config.catalogue import INPUTS, read_raw
from build_status.config.selection import parse_config
from build_status.context import Context
from build_status.errors import InputError
from build_status.remotes.bitbucket_dc import payload
from build_status.remotes.bitbucket_dc.contract import ENDPOINT_LABEL
from build_status.remotes.interface import Endpoint
from build_status.tasks.post import final_status, posting_for, status_requests

from ..factories import SHA, context, raw_inputs

CTX = context()


def raw(**changes):
    return raw_inputs(CTX, **changes)


def config_of(**changes):
    return parse_config(raw(**changes), CTX)


def post_of(**changes):
    """The post of this job's status read from ``raw(**changes)``."""
    return config_of(**changes).post


def status_of(**changes):
    """The status inputs of that post."""
    return post_of(**changes).status


def target_of(**changes):
    """Where that post goes (Bitbucket URL, credentials, project, repository, API)."""
    return post_of(**changes).remote.target


def posting_of(**changes):
    """That post as it is to be sent (no test counts read)."""
    return posting_for(post_of(**changes), None)


def error_of(**changes) -> InputError:
    with pytest.raises(InputError) as info:
        config_of(**changes)
    return info.value


def test_defaults_from_context():
    config = config_of()
    b = config.post.status
    assert b.commits == (SHA,)
    assert b.key == "CI/build"
    assert b.url == "https://github.com/o/r/actions/runs/5"
    assert b.ref == "refs/heads/main" and b.build_number == "3"
    run = config.run
    assert run.timeout == 60 and run.fail_on_error and not run.dry_run and config.post.remote.target.api == "auto"
    assert config.coveralls is None


def test_env_and_flag_precedence():
    env = {"INPUT_KEY": "from-env", "INPUT_BITBUCKET_URL": "https://alt.example.com"}
    values = read_raw(env, {"key": "from-flag"}, CTX)
    assert values["key"] == "from-flag"
    assert values["bitbucket-url"] == "https://alt.example.com"
    assert read_raw({"INPUT_KEY": "  "}, {}, CTX)["key"] == ""


def test_every_input_has_env_name_with_hyphen():
    names = {item.env_names[0] for item in INPUTS}
    assert "INPUT_BITBUCKET-URL" in names and "INPUT_FAIL-ON-ERROR" in names


def test_several_commits_deduplicated_and_lowercased():
    s = status_of(commit=f"{SHA.upper()}, {SHA}\n{'f' * 40}")
    assert s.commits == (SHA, "f" * 40)


@pytest.mark.parametrize(
    ("changes", "name", "words"),
    [
        ({"commit": "abc123"}, "commit", "40-character"),
        ({"commit": " "}, "commit", "empty"),
        ({"state": "green"}, "state", "INPROGRESS"),
        ({"state": "", "job-status": ""}, "state", "job-status"),
        ({"state": "", "job-status": "exploded"}, "job-status", "success, failure or cancelled"),
        ({"bitbucket-url": ""}, "bitbucket-url", "required"),
        ({"bitbucket-url": "ftp://x"}, "bitbucket-url", "http(s)"),
        ({"bitbucket-url": "bb.example.com"}, "bitbucket-url", "http(s)"),
        ({"bitbucket-url": "https://u:p@bb.example.com"}, "bitbucket-url", "credentials"),
        ({"bitbucket-url": "https://bb:99999"}, "bitbucket-url", "not a valid URL"),
        ({"bitbucket-url": "https://bb/rest/api/1.0"}, "bitbucket-url", "/rest"),
        ({"bitbucket-token": ""}, "bitbucket-token", "no credentials"),
        ({"bitbucket-username": "u"}, "bitbucket-token", "not both"),
        ({"bitbucket-token": "", "bitbucket-username": "u"}, "bitbucket-password", "required"),
        ({"bitbucket-token": "", "bitbucket-password": "p"}, "bitbucket-username", "required"),
        ({"bitbucket-api": "v2"}, "bitbucket-api", "auto, commits, builds"),
        ({"bitbucket-api": "builds"}, "bitbucket-project", "required"),
        ({"bitbucket-project": "PRJ"}, "bitbucket-repo", "go together"),
        ({"bitbucket-project": "P J", "bitbucket-repo": "r"}, "bitbucket-project", "project key"),
        ({"bitbucket-project": "P", "bitbucket-repo": "a/b"}, "bitbucket-repo", "slug"),
        ({"state": "cancelled"}, "state", "repository-scoped"),
        (
            {"state": "UNKNOWN", "bitbucket-api": "commits", "bitbucket-project": "P", "bitbucket-repo": "r"},
            "state",
            "repository-scoped",
        ),
        ({"timeout": "0"}, "timeout", "seconds"),
        ({"timeout": "soon"}, "timeout", "seconds"),
        ({"fail-on-error": "maybe"}, "fail-on-error", "true or false"),
        ({"insecure": "2"}, "insecure", "true or false"),
        ({"dry-run": "y"}, "dry-run", "true or false"),
        ({"duration": "10 minutes"}, "duration", "milliseconds"),
        ({"matrix": "[1]"}, "matrix", "JSON object"),
        ({"ca-cert": "/nonexistent/ca.pem"}, "ca-cert", "no readable file"),
        ({"ca-cert": "-----BEGIN PRIVATE KEY-----x"}, "ca-cert", "no PEM certificate"),
    ],
)
def test_each_bad_input_names_itself(changes, name, words):
    error = error_of(**changes)
    assert error.name == name
    assert words in error.message


def test_url_missing_outside_actions():
    values = raw(url="")
    with pytest.raises(InputError) as info:
        parse_config(values, Context(sha=SHA))
    assert info.value.name == "url"


def test_durations():
    assert status_of(duration="1500").duration_ms == 1500
    assert status_of(duration="1.5m").duration_ms == 90_000
    assert status_of(duration="2h").duration_ms == 7_200_000


def test_base_url_keeps_context_path_without_trailing_slash():
    assert target_of(**{"bitbucket-url": "http://host:7990/stash/"}).base_url == "http://host:7990/stash"


def test_parent_defaults_to_job_id_for_matrix_jobs():
    s = status_of(matrix='{"py":"3.12"}')
    assert s.key == "CI/build[py=3.12]" and s.parent == "CI/build"
    assert status_of(matrix='{"py":"3.12"}', key="mine").parent == ""


# -- payload rules (jsonschema over the contract's schemas) ---------------------------------------
def endpoint(name: str, newer_states: bool, why: str = "test") -> Endpoint:
    return Endpoint(name, ENDPOINT_LABEL[name], why, newer_states)


COMMITS = endpoint("commits", False)
BUILDS = endpoint("builds", True)


def body_of(posting, endpoint: Endpoint) -> dict:
    """The body that posts ``posting`` on ``endpoint`` (checked against the endpoint's rules)."""
    _, requests = status_requests(posting, CTX, endpoint)
    return requests[0].body


def payload_error(endpoint: Endpoint, **changes) -> InputError:
    posting = posting_of(**changes)
    with pytest.raises(InputError) as info:
        body_of(posting, endpoint)
    return info.value


@pytest.mark.parametrize(
    ("endpoint", "changes", "name", "words"),
    [
        (COMMITS, {"key": "k" * 256}, "key", "at most 255"),
        (BUILDS, {"key": "k" * 256}, "key", "at most 255"),
        (COMMITS, {"name": "n" * 256}, "name", "at most 255"),
        (BUILDS, {"url": "https://x/" + "u" * 441}, "url", "at most 450"),
        (COMMITS, {"description": "d" * 256}, "description", "at most 255"),
        (BUILDS, {"ref": "heads/main"}, "ref", "refs/"),
        (BUILDS, {"build-number": "9" * 256}, "build-number", "at most 255"),
        (BUILDS, {"parent": "p" * 1025}, "parent", "at most 1024"),
    ],
)
def test_payload_rules(endpoint, changes, name, words):
    error = payload_error(endpoint, **changes)
    assert error.name == name
    assert words in error.message


def test_long_description_is_fine_on_builds_endpoint():
    posting = posting_of(description="d" * 1000)
    assert posting.status.state == "SUCCESSFUL"
    assert len(body_of(posting, BUILDS)["description"]) == 1000


def test_cancelled_job_status_falls_back_to_failed_where_not_taken():
    posting = posting_of(state="", **{"job-status": "cancelled"})
    assert final_status(posting, CTX, COMMITS).state == "FAILED"
    assert final_status(posting, CTX, BUILDS).state == "CANCELLED"


def test_explicit_cancelled_on_old_server_is_an_input_error():
    posting = posting_of(state="CANCELLED", **{"bitbucket-project": "P", "bitbucket-repo": "r"})
    with pytest.raises(InputError) as info:
        final_status(posting, CTX, endpoint("builds", False, "server 7.14"))
    assert info.value.name == "state"


def test_builds_body_carries_extra_fields_and_commits_body_does_not():
    status = posting_of(duration="2s", matrix='{"a":"b"}').status._replace(state="SUCCESSFUL", description="d")
    rich = payload.build(status, "builds")
    assert rich["buildNumber"] == "3" and rich["ref"] == "refs/heads/main" and rich["duration"] == 2000
    assert rich["parent"] == "CI/build"
    legacy = payload.build(status, "commits")
    assert set(legacy) == {"state", "key", "url", "name", "description"}


# -- Coveralls --------------------------------------------------------------------------------------
def coveralls_raw(**changes):
    values = raw(**{"coveralls-parallel-finished": "true", "coveralls-repo-token": "ctok"})
    values.update({k.replace("_", "-"): v for k, v in changes.items()})
    return values


def test_closing_coveralls_alone_needs_no_bitbucket_input():
    values = coveralls_raw(**{"bitbucket-url": "", "bitbucket-token": "", "state": ""})
    config = parse_config(values, CTX)
    assert config.post is None and config.gate is None and config.relay is None  # no Bitbucket at all
    assert config.coveralls.endpoint == "https://coveralls.io"
    assert config.coveralls.build_number == "5"  # the run id, as the official Coveralls action uses
    assert config.coveralls.carryforward == ()


def test_closing_coveralls_and_posting_a_status_in_one_step():
    config = parse_config(coveralls_raw(**{"coveralls-carryforward": " unit , e2e,unit "}), CTX)
    assert config.post is not None
    assert config.coveralls.carryforward == ("unit", "e2e")


@pytest.mark.parametrize(
    ("changes", "name", "words"),
    [
        ({"coveralls-repo-token": ""}, "coveralls-repo-token", "required"),
        ({"coveralls-endpoint": "coveralls.io"}, "coveralls-endpoint", "http(s)"),
        ({"coveralls-endpoint": "https://cov.example.com?x=1"}, "coveralls-endpoint", "query"),
        ({"coveralls-carryforward": "unit,,e2e"}, "coveralls-carryforward", "flag 2 is empty"),
        ({"coveralls-carryforward": "unit,"}, "coveralls-carryforward", "empty"),
        ({"coveralls-carryforward": "a\nb"}, "coveralls-carryforward", "not a flag name"),
        ({"coveralls-build-number": " "}, "coveralls-build-number", "empty"),
        ({"coveralls-parallel-finished": "maybe"}, "coveralls-parallel-finished", "true or false"),
        ({"bitbucket-url": "", "bitbucket-project": "P", "bitbucket-repo": "r"}, "bitbucket-url", "required"),
    ],
)
def test_bad_coveralls_inputs(changes, name, words):
    with pytest.raises(InputError) as info:
        parse_config(coveralls_raw(**changes), CTX)
    assert info.value.name == name
    assert words in info.value.message


@pytest.mark.parametrize(
    "url",
    ["https://user:s3cretpw@bb.example.com:99999", "ftp://user:s3cretpw@bb.example.com", "bb?token=s3cretpw"],
)
def test_url_errors_never_show_credentials_or_query(url):
    error = error_of(**{"bitbucket-url": url})
    assert error.name == "bitbucket-url"
    assert "s3cretpw" not in error.message


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"check": "true", "state": ""}, "check: true reads statuses"),
        ({"webappio-token": "tok-1234", "webappio-repo": "app", "webappio-branch": "main", "state": ""}, "webapp.io"),
        (
            {"coveralls-parallel-finished": "true", "coveralls-repo-token": "t0k3n", "bitbucket-url": "",
             "bitbucket-token": ""},
            "no Bitbucket status",
        ),
    ],
)  # fmt: skip
def test_test_results_without_a_status_to_go_with_is_an_input_error(extra, words):
    error = error_of(**{"test-results": "reports/*.xml", **extra})
    assert error.name == "test-results"
    assert words in error.message


# -- check-keys ----------------------------------------------------------------------------------------
def check_keys(value, **changes):
    """The patterns read from ``value`` by a gate whose own key is CI/gate (unless changed)."""
    changes = {"check": "true", "state": "", "key": "CI/gate", "check-keys": value, **changes}
    return config_of(**changes).gate.waiting.keys


@pytest.mark.parametrize(
    ("value", "patterns"),
    [
        ("", ()),
        ("CI/build", ("CI/build",)),
        (" CI/build , CI/lint,,CI/build ", ("CI/build", "CI/lint")),
        ("CI/build\nCI/lint\r\nCI/e2e\n", ("CI/build", "CI/lint", "CI/e2e")),
        # A comma inside [...] belongs to the key: the default key of a matrix job holds one.
        ("CI/test[os=ubuntu,py=3.12]", ("CI/test[os=ubuntu,py=3.12]",)),
        ("CI/build, CI/test[os=*,py=3.12],CI/lint", ("CI/build", "CI/test[os=*,py=3.12]", "CI/lint")),
        ("CI/test[os=ubuntu,py=3.12]\nCI/test[os=windows,py=3.12]", ("CI/test[os=ubuntu,py=3.12]",
                                                                    "CI/test[os=windows,py=3.12]")),
        # A bracket left open (a long key cut to 255 characters) keeps the rest of its line.
        ("CI/test[os=ubuntu,py~1a2b, x", ("CI/test[os=ubuntu,py~1a2b, x",)),
        ("a], b", ("a]", "b")),
    ],
)  # fmt: skip
def test_check_keys_are_split_on_lines_and_commas_outside_brackets(value, patterns):
    assert check_keys(value) == patterns


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("CI/a\tb", "control characters"),
        ("CI/build, CI/\x1b[31mred", "control characters"),
        ("CI/\x00", "control characters"),
        ("k" * 256, "longer than 255 characters"),
    ],
)
def test_bad_check_keys(value, words):
    error = error_of(check="true", state="", **{"check-keys": value})
    assert error.name == "check-keys"
    assert words in error.message
    assert not error.message.endswith("..")


def test_check_keys_need_check():
    error = error_of(**{"check-keys": "CI/build"})
    assert error.name == "check-keys"
    assert "only used with check: true" in error.message


def test_check_keys_cannot_name_the_steps_own_key():
    # The own key (CI/build here, the default from the context) is left out of the check: never matched.
    error = error_of(check="true", state="", **{"check-keys": "CI/lint, CI/build"})
    assert error.name == "check-keys"
    assert "'CI/build' is this step's own key" in error.message
    # A wildcard that also matches it is fine: other keys can match it.
    assert check_keys("CI/*", key="") == ("CI/*",)
    assert check_keys("CI/build") == ("CI/build",)
