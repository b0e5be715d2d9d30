"""The request bodies of Bitbucket's build-status endpoints, as JSON Schemas.

Copied from Atlassian's published contract (Bitbucket Data Center 9.2 OpenAPI document, build-status
extract; see ``tests/data/README.md``).  A test keeps these equal to the contract, so the client and the
sandbox validate exactly what Bitbucket validates.
"""

from __future__ import annotations

#: ``POST /rest/build-status/1.0/commits/{commitId}`` (the commit-only endpoint, Stash 2.1+).
LEGACY_REQUEST = {
    "type": "object",
    "required": ["state", "key", "url"],
    "properties": {
        "state": {"type": "string", "enum": ["SUCCESSFUL", "FAILED", "INPROGRESS"]},
        "key": {"type": "string", "minLength": 1, "maxLength": 255},
        "name": {"type": "string", "maxLength": 255},
        "url": {"type": "string", "minLength": 1, "maxLength": 450},
        "description": {"type": "string", "maxLength": 255},
    },
}

#: ``POST /rest/api/latest/projects/{projectKey}/repos/{repositorySlug}/commits/{commitId}/builds`` (7.4+).
BUILDS_REQUEST = {
    "type": "object",
    "required": ["key", "state", "url"],
    "properties": {
        "buildNumber": {"type": "string", "maxLength": 255, "minLength": 0},
        "description": {"type": "string"},
        "duration": {"type": "integer", "format": "int64"},
        "key": {"type": "string", "maxLength": 255, "minLength": 0},
        "lastUpdated": {"type": "integer", "format": "int64"},
        "name": {"type": "string", "maxLength": 255, "minLength": 0},
        "parent": {"type": "string", "maxLength": 1024, "minLength": 0},
        "ref": {"type": "string", "maxLength": 1024, "minLength": 0, "pattern": "^refs\\/.*"},
        "state": {"type": "string", "enum": ["CANCELLED", "FAILED", "INPROGRESS", "SUCCESSFUL", "UNKNOWN"]},
        "testResults": {
            "type": "object",
            "properties": {
                "failed": {"type": "integer", "format": "int32"},
                "skipped": {"type": "integer", "format": "int32"},
                "successful": {"type": "integer", "format": "int32"},
            },
        },
        "url": {"type": "string", "maxLength": 450, "minLength": 0},
    },
}

#: The two endpoints, as the ``bitbucket-api`` input names them, and what messages call them.
COMMITS = "commits"
BUILDS = "builds"
ENDPOINT_LABEL = {COMMITS: "commit-only endpoint", BUILDS: "repository-scoped builds endpoint"}
