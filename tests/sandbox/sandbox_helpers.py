"""Helpers shared by the sandbox tests (a uniquely named module, so imports never pick another conftest)."""

from __future__ import annotations

from urllib.parse import quote

import requests

from build_status_sandbox.bitbucket_cloud_config import DEFAULT_ACCESS_TOKEN

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"
USER = ("sandbox", "sandbox-password")
PERSONAL_TOKEN = "sandbox-token"
REPO_TOKEN = "sandbox-repo-token"
TIMEOUT = 5
WEBAPPIO_TOKEN = "webappio-token"
WEBAPPIO_REPO = "sandbox-app"
WEBAPPIO_API = "/webappio/api/v1"
CLOUD_WORKSPACE = "acme"
CLOUD_REPO = "app"


def legacy_path(sha: str = SHA, version: str = "1.0") -> str:
    return f"/rest/build-status/{version}/commits/{sha}"


def builds_path(sha: str = SHA, project: str = "PROJ", slug: str = "repo") -> str:
    return f"/rest/api/latest/projects/{project}/repos/{slug}/commits/{sha}/builds"


def cloud_path(
    sha: str = SHA, tail: str = "/statuses/build", workspace: str = CLOUD_WORKSPACE, repo: str = CLOUD_REPO
) -> str:
    """``/2.0/repositories/<workspace>/<repo>/commit/<sha><tail>`` (Bitbucket Cloud)."""
    return f"/2.0/repositories/{workspace}/{repo}/commit/{sha}{tail}"


def cloud_status(key: str = "build-1", state: str = "SUCCESSFUL", **fields: object) -> dict:
    return {"key": key, "state": state, "url": f"https://ci.example.com/{key}", **fields}


def bearer(token: str = DEFAULT_ACCESS_TOKEN) -> requests.auth.AuthBase:
    """``Authorization: Bearer <token>`` as a ``requests`` auth."""
    return _Bearer(token)


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def webappio_path(*parts: object) -> str:
    """``/webappio/api/v1/<part>/<part>…``, each part percent-encoded: ``webappio_path("run", repo, "search")``."""
    return WEBAPPIO_API + "".join("/" + quote(str(part), safe="") for part in parts)


def status(key: str = "build-1", state: str = "SUCCESSFUL", **fields: object) -> dict:
    return {"state": state, "key": key, "url": f"https://ci.example.com/{key}", **fields}


class Client:
    """``requests`` with the sandbox's base URL, default credentials and a timeout on every call."""

    def __init__(self, base: str, auth: object = USER) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.auth = auth

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()
