import pytest
from build_status.post_status import Plan, body_for, final_state
from build_status.settings import parse_settings

from build_status import payload
from build_status.config.catalogue import INPUTS, read_raw
from build_status.context import Context
from build_status.errors import InputError

from ..factories import SHA, context, raw_inputs

CTX = context()


def raw(**changes):
    return raw_inputs(CTX, **changes)


def bitbucket(**changes):
    """The Bitbucket part of the settings read from ``raw(**changes)``."""
    return parse_settings(raw(**changes), CTX).bitbucket


def error_of(**changes) -> InputError:
    with pytest.raises(InputError) as info:
        parse_settings(raw(**changes), CTX)
    return info.value


def test_defaults_from_context():
    s = parse_settings(raw(), CTX)
    b = s.bitbucket
    assert b.commits == (SHA,)
    assert b.key == "CI/build"
    assert b.url == "https://github.com/o/r/actions/runs/5"
    assert b.ref == "refs/heads/main" and b.build_number == "3"
    assert s.timeout == 60 and s.fail_on_error and not s.dry_run and b.api == "auto"
    assert s.coveralls is None


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
    s = bitbucket(commit=f"{SHA.upper()}, {SHA}\n{'f' * 40}")
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
        parse_settings(values, Context(sha=SHA))
    assert info.value.name == "url"


def test_durations():
    assert bitbucket(duration="1500").duration_ms == 1500
    assert bitbucket(duration="1.5m").duration_ms == 90_000
    assert bitbucket(duration="2h").duration_ms == 7_200_000


def test_base_url_keeps_context_path_without_trailing_slash():
    assert bitbucket(**{"bitbucket-url": "http://host:7990/stash/"}).base_url == "http://host:7990/stash"


def test_parent_defaults_to_job_id_for_matrix_jobs():
    s = bitbucket(matrix='{"py":"3.12"}')
    assert s.key == "CI/build[py=3.12]" and s.parent == "CI/build"
    assert bitbucket(matrix='{"py":"3.12"}', key="mine").parent == ""


# -- payload rules (jsonschema over the contract's schemas) ---------------------------------------
def payload_error(plan: Plan, **changes) -> InputError:
    settings = bitbucket(**changes)
    with pytest.raises(InputError) as info:
        body_for(settings, CTX, plan, final_state(settings, plan))
    return info.value


COMMITS = Plan("commits", False, "test")
BUILDS = Plan("builds", True, "test")


@pytest.mark.parametrize(
    ("plan", "changes", "name", "words"),
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
def test_payload_rules(plan, changes, name, words):
    error = payload_error(plan, **changes)
    assert error.name == name
    assert words in error.message


def test_long_description_is_fine_on_builds_endpoint():
    settings = bitbucket(description="d" * 1000)
    assert len(body_for(settings, CTX, BUILDS, "SUCCESSFUL")["description"]) == 1000


def test_cancelled_job_status_falls_back_to_failed_where_not_taken():
    settings = bitbucket(state="", **{"job-status": "cancelled"})
    assert final_state(settings, COMMITS) == "FAILED"
    assert final_state(settings, BUILDS) == "CANCELLED"


def test_explicit_cancelled_on_old_server_is_an_input_error():
    settings = bitbucket(state="CANCELLED", **{"bitbucket-project": "P", "bitbucket-repo": "r"})
    with pytest.raises(InputError) as info:
        final_state(settings, Plan("builds", False, "server 7.14"))
    assert info.value.name == "state"


def test_builds_body_carries_extra_fields_and_commits_body_does_not():
    settings = bitbucket(duration="2s", matrix='{"a":"b"}')
    rich = payload.build(settings, "builds", "SUCCESSFUL", "d")
    assert rich["buildNumber"] == "3" and rich["ref"] == "refs/heads/main" and rich["duration"] == 2000
    assert rich["parent"] == "CI/build"
    legacy = payload.build(settings, "commits", "SUCCESSFUL", "d")
    assert set(legacy) == {"state", "key", "url", "name", "description"}


# -- Coveralls --------------------------------------------------------------------------------------
def coveralls_raw(**changes):
    values = raw(**{"coveralls-parallel-finished": "true", "coveralls-repo-token": "ctok"})
    values.update({k.replace("_", "-"): v for k, v in changes.items()})
    return values


def test_closing_coveralls_alone_needs_no_bitbucket_input():
    values = coveralls_raw(**{"bitbucket-url": "", "bitbucket-token": "", "state": ""})
    s = parse_settings(values, CTX)
    assert s.bitbucket is None
    assert s.coveralls.endpoint == "https://coveralls.io"
    assert s.coveralls.build_number == "5"  # the run id, as the official Coveralls action uses
    assert s.coveralls.carryforward == ()


def test_closing_coveralls_and_posting_a_status_in_one_step():
    s = parse_settings(coveralls_raw(**{"coveralls-carryforward": " unit , e2e,unit "}), CTX)
    assert s.bitbucket is not None
    assert s.coveralls.carryforward == ("unit", "e2e")


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
        parse_settings(coveralls_raw(**changes), CTX)
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
    return parse_settings(raw(**changes), CTX).check.keys


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
