"""An embedded local emulation of Bitbucket's build-status REST API (Data Center and Cloud), Coveralls and
webapp.io's CI-jobs API.

::

    from build_status_sandbox import Sandbox

    with Sandbox() as sandbox:           # 127.0.0.1, a free port
        ...                               # point the client at sandbox.url
        sandbox.bitbucket.statuses(sha)   # what was posted
        sandbox.bitbucket_cloud.statuses("acme", "app", sha)  # what was posted to Cloud's /2.0/repositories/…
        sandbox.coveralls.build("42")     # a Coveralls parallel build (uploads + webhook at sandbox.url)
        sandbox.coveralls.build_json("42")  # its coverage, as GET /builds/<id>.json answers it
        sandbox.webappio.add_job(script=("RUNNING", "SUCCEEDED"))  # a webapp.io run, API at sandbox.webappio_url

Also served: an overview page at ``/``, the JSON state at ``/_sandbox/state``, the request log at
``/_sandbox/requests``, faults at ``/_sandbox/faults``.  ``build-status-sandbox serve`` runs it from the command
line (:func:`build_status_sandbox.command.serve`).

Names are imported on first use, so ``import build_status_sandbox`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .bitbucket import BitbucketConfig, BitbucketEmulation
    from .bitbucket_cloud import BitbucketCloudEmulation
    from .bitbucket_cloud_config import BitbucketCloudConfig
    from .coveralls import CoverallsConfig, CoverallsEmulation
    from .emulation import Emulation
    from .faults import FaultRule, Faults
    from .messages import Request, Response
    from .server import Sandbox
    from .webappio import WebappioConfig, WebappioEmulation

__all__ = [
    "BitbucketCloudConfig",
    "BitbucketCloudEmulation",
    "BitbucketConfig",
    "BitbucketEmulation",
    "CoverallsConfig",
    "CoverallsEmulation",
    "Emulation",
    "FaultRule",
    "Faults",
    "Request",
    "Response",
    "Sandbox",
    "WebappioConfig",
    "WebappioEmulation",
]

_WHERE = {
    "BitbucketCloudConfig": "bitbucket_cloud_config",
    "BitbucketCloudEmulation": "bitbucket_cloud",
    "BitbucketConfig": "bitbucket",
    "BitbucketEmulation": "bitbucket",
    "CoverallsConfig": "coveralls",
    "CoverallsEmulation": "coveralls",
    "Emulation": "emulation",
    "FaultRule": "faults",
    "Faults": "faults",
    "Request": "messages",
    "Response": "messages",
    "Sandbox": "server",
    "WebappioConfig": "webappio",
    "WebappioEmulation": "webappio",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
