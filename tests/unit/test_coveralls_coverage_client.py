"""Reading a closed Coveralls build's coverage (its build JSON) against a real HTTP server on loopback."""

from __future__ import annotations

import pytest

from build_status.errors import RemoteError
from build_status.remotes.coveralls import Coveralls, coverage_request
from build_status.transport.deadline import Deadline
from build_status.transport.session import build_session

TOKEN = "cov-token-XYZ"
SHA = "0123456789abcdef0123456789abcdef01234567"
BUILD = {"covered_percent": 97.0042987641053, "coverage_change": 0.421, "commit_sha": SHA, "branch": "main"}


def client(server):
    deadline = Deadline(10)
    return Coveralls(build_session(deadline), deadline, server.url_for("/").rstrip("/"), TOKEN)


def test_the_build_page_named_by_the_webhook_is_read_as_json_with_the_repo_token(httpserver):
    page = httpserver.url_for("/builds/7")
    httpserver.expect_request("/builds/7.json", method="GET").respond_with_json({**BUILD, "url": page})
    coverage = client(httpserver).coverage(page, SHA)
    assert (coverage.percent, coverage.change, coverage.url) == (97.0042987641053, 0.421, page)
    ((request, _),) = httpserver.log
    assert request.args.to_dict() == {"repo_token": TOKEN}
    assert coverage.describe() == "97.00% (+0.42)"


def test_without_a_build_page_on_the_endpoint_the_commits_json_is_read(httpserver):
    httpserver.expect_request(f"/builds/{SHA}.json").respond_with_json(BUILD)
    coverage = client(httpserver).coverage("https://elsewhere.example/builds/7", SHA)
    # the token never goes to another host; the page the webhook named stays the link
    assert coverage.url == "https://elsewhere.example/builds/7"
    assert [request.path for request, _ in httpserver.log] == [f"/builds/{SHA}.json"]


def test_the_dry_run_shows_the_read_with_the_token_masked():
    request = coverage_request("https://coveralls.io/", "secret", "", SHA)
    assert request.url == f"https://coveralls.io/builds/{SHA}.json"
    assert request.shown_query == "repo_token=***" and "secret" not in repr(request.shown_lines)


def test_no_change_is_none(httpserver):
    httpserver.expect_request(f"/builds/{SHA}.json").respond_with_json({**BUILD, "coverage_change": None})
    coverage = client(httpserver).coverage("", SHA)
    assert coverage.change is None and coverage.describe() == "97.00%"


def test_a_404_html_page_is_a_remote_error_that_says_so(httpserver):
    httpserver.expect_request(f"/builds/{SHA}.json").respond_with_data(
        "<html><head><title>Page not found</title></head></html>", status=404, content_type="text/html"
    )
    with pytest.raises(RemoteError) as info:
        client(httpserver).coverage("", SHA)
    assert "404" in info.value.message and "HTML page titled 'Page not found'" in info.value.message


@pytest.mark.parametrize("percent", [None, "97", True, -1, 100.5])
def test_a_percentage_that_is_not_one_is_a_remote_error(httpserver, percent):
    httpserver.expect_request(f"/builds/{SHA}.json").respond_with_json({**BUILD, "covered_percent": percent})
    with pytest.raises(RemoteError) as info:
        client(httpserver).coverage("", SHA)
    assert "no coverage for the build yet" in info.value.message


def test_json_without_a_percentage_quotes_its_error(httpserver):
    httpserver.expect_request(f"/builds/{SHA}.json").respond_with_json({"error": "Build not found"}, status=404)
    with pytest.raises(RemoteError) as info:
        client(httpserver).coverage("", SHA)
    assert "Build not found" in info.value.message and TOKEN not in info.value.message
