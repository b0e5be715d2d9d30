"""The Code Insights and coverage inputs: their values, and the rules that refuse a step before any request."""

import pytest

from build_status.config.insights import AUTO, OFF, ON
from build_status.config.selection import parse_config
from build_status.errors import InputError

from ..factories import SHA, context, raw_inputs

CTX = context()
REPO = {"bitbucket-project": "PRJ", "bitbucket-repo": "app"}
CLOSE = {"coveralls-parallel-finished": "true", "coveralls-repo-token": "ctok"}


def config_of(stage: str = "", **changes):
    return parse_config(raw_inputs(CTX, **changes), CTX, stage)


def error_of(**changes) -> InputError:
    with pytest.raises(InputError) as info:
        config_of(**changes)
    return info.value


@pytest.mark.parametrize(
    ("given", "mode"),
    [("", AUTO), ("auto", AUTO), ("AUTO", AUTO), ("true", ON), ("yes", ON), ("false", OFF), ("Off", OFF)],
)
def test_insights_modes(given, mode):
    assert config_of(**REPO, insights=given, **{"test-results": "*.xml"}).post.insights.mode == mode


def test_insights_takes_only_auto_true_or_false():
    error = error_of(insights="sometimes")
    assert error.name == "insights" and "auto, true or false" in error.message


@pytest.mark.parametrize("given", ["com.example.ci", "a", "A_b-9.x", "x" * 100])
def test_a_report_key_of_safe_characters_is_taken(given):
    assert config_of(**{"insights-key": given}).post.insights.key == given


@pytest.mark.parametrize("given", ["-start", ".x", "has space", "slash/no", "é", "x" * 101])
def test_a_report_key_that_a_url_or_a_limit_would_spoil_is_refused(given):
    error = error_of(**{"insights-key": given})
    assert error.name == "insights-key" and "1 to 100" in error.message


@pytest.mark.parametrize(("given", "value"), [("80", 80.0), ("87.5", 87.5), ("0", 0.0), ("100", 100.0), ("90%", 90.0)])
def test_coverage_min_is_a_percentage(given, value):
    changes = {"coverage-min": given, "coverage-results": "coverage.xml"}
    assert config_of(**changes).post.insights.coverage_min == value


@pytest.mark.parametrize("given", ["-1", "100.5", "nan", "inf", "eighty", "1e3"])
def test_coverage_min_outside_0_to_100_is_refused(given):
    error = error_of(**{"coverage-min": given, "coverage-results": "coverage.xml"})
    assert error.name == "coverage-min" and "0 to 100" in error.message


def test_coverage_min_without_a_coverage_is_refused():
    error = error_of(**{"coverage-min": "80"})
    assert error.name == "coverage-min" and "coverage-results" in error.message


def test_coverage_min_goes_with_a_coveralls_close():
    config = config_of(**CLOSE, **{"coverage-min": "75"})
    assert config.coveralls.coverage_min == 75.0


def test_coverage_results_need_a_posted_status():
    error = error_of(**CLOSE, **{"bitbucket-url": "", "bitbucket-token": "", "state": "", "coverage-results": "c.xml"})
    assert error.name == "coverage-results" and "no Bitbucket status is posted" in error.message


def test_coverage_results_with_a_gate_are_refused():
    error = error_of(check="true", state="", **{"coverage-results": "c.xml"})
    assert error.name == "coverage-results" and "check: true" in error.message


def test_insights_true_on_the_commit_only_endpoint_is_an_input_error():
    error = error_of(insights="true", **{"test-results": "*.xml"})
    assert error.name == "insights" and "bitbucket-project and bitbucket-repo" in error.message


def test_insights_true_with_nothing_to_report_is_an_input_error():
    error = error_of(insights="true", **REPO)
    assert error.name == "insights" and "nothing to report" in error.message


def test_insights_true_with_a_gate_only_is_an_input_error():
    error = error_of(insights="true", check="true", state="", **REPO)
    assert error.name == "insights" and "publishes no report" in error.message


def test_insights_true_on_cloud_with_test_results_is_taken():
    changes = {"bitbucket-workspace": "acme", "bitbucket-repo": "app", "test-results": "*.xml", "insights": "true"}
    assert config_of(**changes).post.insights.mode == ON


def test_the_main_stage_of_a_deferred_end_reads_no_results():
    changes = {**REPO, "state": "", "job-status": "success", "test-results": "*.xml", "coverage-results": "c.xml"}
    post = config_of("main", **changes).post
    assert post.ends_later and post.status.test_results == () and post.insights.coverage_results == ()
    later = config_of("post", **changes).post
    assert later.status.test_results == ("*.xml",) and later.insights.coverage_results == ("c.xml",)


def test_coveralls_status_needs_a_close():
    error = error_of(**{"coveralls-status": "true"})
    assert error.name == "coveralls-status" and "coveralls-parallel-finished" in error.message


def test_coveralls_status_needs_a_bitbucket():
    error = error_of(**CLOSE, **{"coveralls-status": "true", "bitbucket-url": "", "bitbucket-token": ""}, state="")
    assert error.name == "coveralls-status" and "bitbucket-url" in error.message


def test_coveralls_status_replaces_the_jobs_own_status_with_key_and_name_coveralls():
    config = config_of(**CLOSE, **{"coveralls-status": "true"}, state="")
    assert config.post is None
    status = config.coveralls.bitbucket.status
    assert (status.key, status.name, status.commits) == ("coveralls", "Coveralls", (SHA,))
    assert config.coveralls.reads_coverage and config.coveralls.commit == SHA


def test_coveralls_status_takes_the_key_and_name_given():
    status = config_of(
        **CLOSE, **{"coveralls-status": "true"}, state="", key="cov", name="Cov"
    ).coveralls.bitbucket.status
    assert (status.key, status.name) == ("cov", "Cov")


def test_coveralls_status_refuses_an_explicit_state():
    error = error_of(**CLOSE, **{"coveralls-status": "true"}, state="SUCCESSFUL")
    assert error.name == "state" and "coverage gives the state" in error.message


def test_a_close_without_bitbucket_reads_the_coverage_unless_insights_is_false():
    alone = {**CLOSE, "bitbucket-url": "", "bitbucket-token": "", "state": ""}
    assert config_of(**alone).coveralls.reads_coverage
    assert config_of(**alone).coveralls.bitbucket is None
    assert not config_of(**alone, insights="false").coveralls.reads_coverage


def test_a_close_beside_the_jobs_status_publishes_to_the_same_commits():
    config = config_of(**CLOSE, **REPO)
    assert config.post is not None
    assert config.coveralls.bitbucket.status is None and config.coveralls.bitbucket.commits == (SHA,)
