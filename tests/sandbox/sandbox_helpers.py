"""Helpers shared by the sandbox tests (a uniquely named module, so imports never pick another conftest)."""

from __future__ import annotations

from urllib.parse import quote

import requests

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"
USER = ("sandbox", "sandbox-password")
PERSONAL_TOKEN = "sandbox-token"
REPO_TOKEN = "sandbox-repo-token"
TIMEOUT = 5
WEBAPPIO_TOKEN = "webappio-token"
WEBAPPIO_REPO = "sandbox-app"
WEBAPPIO_API = "/webappio/api/v1"


def legacy_path(sha: str = SHA, version: str = "1.0") -> str:
    return f"/rest/build-status/{version}/commits/{sha}"


def builds_path(sha: str = SHA, project: str = "PROJ", slug: str = "repo") -> str:
    return f"/rest/api/latest/projects/{project}/repos/{slug}/commits/{sha}/builds"


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

    def delete(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()
