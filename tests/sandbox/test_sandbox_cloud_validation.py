"""Bitbucket Cloud refuses a bad status body with 400 and its error document:
``{"type": "error", "error": {"message": "<field>: <message>", "fields": {"<field>": ["<message>"]}}}``."""

from __future__ import annotations

import pytest
from sandbox_helpers import SHA, cloud_path, cloud_status

from build_status_sandbox.bitbucket_cloud_validation import NAME_MAX_LENGTH, URL_MAX_LENGTH


def refused(sandbox, cloud, body) -> dict:
    """The error document of a POST of ``body`` that must be refused (and store nothing)."""
    response = cloud.post(cloud_path(), json=body)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert sandbox.bitbucket_cloud.statuses("acme", "app", SHA) == []  # nothing stored
    return response.json()


def test_key_and_state_are_required(sandbox, cloud):
    for body in ({"url": "https://ci.example.com/1"}, {"key": None, "state": ""}):
        assert refused(sandbox, cloud, body) == {
            "type": "error",
            "error": {
                "message": "key: This field is required.\nstate: This field is required.",
                "fields": {"key": ["This field is required."], "state": ["This field is required."]},
            },
        }


def test_a_key_of_41_characters_is_refused_with_bitbucket_s_message(sandbox, cloud):
    assert refused(sandbox, cloud, cloud_status("k" * 41)) == {
        "type": "error",
        "error": {
            "message": "key: Ensure this value has at most 40 characters (it has 41).",
            "fields": {"key": ["Ensure this value has at most 40 characters (it has 41)."]},
        },
    }
    assert cloud.post(cloud_path(), json=cloud_status("k" * 40)).status_code == 201


@pytest.mark.parametrize("state", ["SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED"])
def test_the_four_states(cloud, state):
    response = cloud.post(cloud_path(), json=cloud_status(state=state))
    assert (response.status_code, response.json()["state"]) == (201, state)


@pytest.mark.parametrize("state", ["CANCELLED", "UNKNOWN", "successful", "DONE"])
def test_other_states_are_refused(sandbox, cloud, state):
    error = refused(sandbox, cloud, cloud_status(state=state))["error"]
    message = f"Select a valid choice. {state} is not one of the available choices."
    assert error == {"message": f"state: {message}", "fields": {"state": [message]}}


@pytest.mark.parametrize(
    "url",
    [
        "https://ci.example.com/job/1",
        "http://ci.example.com:8080/job/1?x=1#y",
        "http://localhost:8080/job/1",
        "http://127.0.0.1:8080/",
        "http://[::1]:8080/job",
        "https://user:secret@ci.example.com/",
        "https://ci.example.com/builds/{repository.full_name}/{commit.hash}",
        "https://{repository.name}.ci.example.com/x",
        "https://bücher.example/x",
        "",
    ],
)
def test_valid_urls(cloud, url):
    response = cloud.post(cloud_path(), json=cloud_status(url=url))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://munprdjenkins1:8080/job/1",  # a bare host name (seen refused by Bitbucket)
        "ftp://ci.example.com/x",
        "ci.example.com/x",
        "https://ci.example.com/a b",
        "http://256.1.1.1/",
        "http://[::g]/",
        "javascript:alert(1)",
        "https://{foo}.example.com/x",
        "https:///x",
    ],
)
def test_invalid_urls(sandbox, cloud, url):
    error = refused(sandbox, cloud, cloud_status(url=url))["error"]
    assert error == {"message": "url: Enter a valid URL.", "fields": {"url": ["Enter a valid URL."]}}


def test_name_and_url_lengths(sandbox, cloud):
    long_url = "https://ci.example.com/" + "x" * (URL_MAX_LENGTH - len("https://ci.example.com/"))
    error = refused(sandbox, cloud, cloud_status("a", name="n" * (NAME_MAX_LENGTH + 1), url=long_url + "x"))["error"]
    assert error["fields"] == {
        "name": [f"Ensure this value has at most {NAME_MAX_LENGTH} characters (it has {NAME_MAX_LENGTH + 1})."],
        "url": [f"Ensure this value has at most {URL_MAX_LENGTH} characters (it has {URL_MAX_LENGTH + 1})."],
    }
    assert error["message"].splitlines()[0].startswith("name: Ensure this value has at most")
    assert cloud.post(cloud_path(), json=cloud_status("a", name="n" * NAME_MAX_LENGTH, url=long_url)).ok


def test_fields_must_be_strings(sandbox, cloud):
    error = refused(sandbox, cloud, {"key": 7, "state": ["SUCCESSFUL"], "description": {"a": 1}})["error"]
    assert error["fields"] == {
        "key": ["Not a valid string."],
        "state": ["Not a valid string."],
        "description": ["Not a valid string."],
    }


def test_null_optional_fields_are_left_out_and_unknown_fields_ignored(cloud):
    response = cloud.post(cloud_path(), json={"key": "k", "state": "FAILED", "refname": None, "colour": "red"})
    assert response.status_code == 201
    assert "refname" not in response.json() and "colour" not in response.json()


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b"", b'"text"'])
def test_a_body_that_is_not_a_json_object(sandbox, cloud, body):
    response = cloud.post(cloud_path(), data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "Bad request"
    assert error["detail"]
    assert sandbox.bitbucket_cloud.statuses("acme", "app", SHA) == []


def test_only_json_is_taken(sandbox, cloud):
    response = cloud.post(cloud_path(), data={"key": "k", "state": "FAILED"})
    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.json()["error"]["message"]
    assert sandbox.bitbucket_cloud.statuses("acme", "app", SHA) == []
