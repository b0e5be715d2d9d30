"""Bitbucket Cloud's input (``bitbucket-workspace``), and the remote it configures with the Bitbucket inputs
it shares with Data Center (``bitbucket-url``, ``-token``, ``-username``, ``-password``, ``-repo``)."""

from __future__ import annotations

import re

from ..errors import InputError
from ..remotes.bitbucket_cloud.remote import API_ROOT, DEFAULT_BASE_URL, BitbucketCloud
from ..remotes.bitbucket_cloud.target import CloudTarget
from . import bitbucket_dc, values
from .bitbucket_dc import AuthWords
from .entries import Input, reader
from .values import show

#: A workspace or repository: its slug, or its UUID in braces.
SLUG_OR_UUID = re.compile(r"^(?:[A-Za-z0-9_.-]{1,128}|\{[0-9a-fA-F-]{36}\})$")
WORDS = AuthWords(
    bearer="an access token of the repository, project or workspace, or an OAuth token, sent as Bearer",
    basic="bitbucket-username (your Atlassian account e-mail) + bitbucket-password (an API token)",
    second="an API token of that Atlassian account",
)

INPUTS: tuple[Input, ...] = (
    Input(
        "bitbucket-workspace",
        "Bitbucket Cloud: the workspace (its slug or {UUID}); with it the statuses go to Bitbucket Cloud's "
        "repository bitbucket-workspace/bitbucket-repo (bitbucket-url defaults to https://api.bitbucket.org).",
        metavar="WORKSPACE",
    ),
)
value = reader(INPUTS)


def wanted(raw: dict[str, str]) -> bool:
    """Whether the statuses go to Bitbucket Cloud."""
    return bool(value(raw, "bitbucket-workspace"))


def parse_cloud_remote(raw: dict[str, str]) -> BitbucketCloud:
    """Where the statuses go on Bitbucket Cloud and with which credentials."""
    url = values.base_url("bitbucket-url", raw["bitbucket-url"].strip() or DEFAULT_BASE_URL, example=DEFAULT_BASE_URL)
    if url.endswith(API_ROOT) or f"{API_ROOT}/" in url.split("://", 1)[1]:
        raise InputError("bitbucket-url", f"should be the base URL without {API_ROOT}/...; e.g. {DEFAULT_BASE_URL}.")
    auth = bitbucket_dc.parse_auth(raw, WORDS)
    workspace = value(raw, "bitbucket-workspace")
    if not SLUG_OR_UUID.match(workspace):
        raise InputError("bitbucket-workspace", f"'{show(workspace)}' is not a workspace slug or {{UUID}}.")
    if raw["bitbucket-project"].strip():
        raise InputError(
            "bitbucket-project",
            "is for Bitbucket Data Center; with bitbucket-workspace (Bitbucket Cloud) leave it out: the repository "
            "is bitbucket-workspace/bitbucket-repo.",
        )
    repo = raw["bitbucket-repo"].strip()
    if not repo:
        raise InputError("bitbucket-repo", "is required with bitbucket-workspace: the repository's slug (or {UUID}).")
    if not SLUG_OR_UUID.match(repo):
        raise InputError("bitbucket-repo", f"'{show(repo)}' is not a repository slug or {{UUID}}.")
    if raw["bitbucket-api"].strip().lower() not in ("", "auto"):
        raise InputError(
            "bitbucket-api",
            "chooses between Bitbucket Data Center's two endpoints; leave it at auto with bitbucket-workspace "
            "(Bitbucket Cloud has one).",
        )
    return BitbucketCloud(CloudTarget(url, auth, workspace, repo))
