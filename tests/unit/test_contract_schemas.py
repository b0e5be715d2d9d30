"""The payload schemas in the package are the official contract's, word for word."""

import json
from pathlib import Path

from build_status.model import states
from build_status.remotes.bitbucket_dc import contract, remote

SPEC = json.loads((Path(__file__).parent.parent / "data" / "bitbucket-dc-build-status.openapi.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]


def test_legacy_request_schema_matches_contract():
    assert {
        k: v for k, v in SCHEMAS["LegacyBuildStatusRequest"].items() if k != "description"
    } == contract.LEGACY_REQUEST


def test_builds_request_schema_matches_contract():
    official = SCHEMAS["RestBuildStatusSetRequest"]
    ours = contract.BUILDS_REQUEST
    assert ours["required"] == official["required"]
    for field, rules in official["properties"].items():
        rules = {k: v for k, v in rules.items() if k != "example"}
        if field == "testResults":
            rules["properties"] = {
                k: {kk: vv for kk, vv in v.items() if kk != "example"} for k, v in rules["properties"].items()
            }
        assert ours["properties"][field] == rules, field


def test_state_sets_match_contract():
    assert set(states.STATES) == set(SCHEMAS["RestBuildStatusSetRequest"]["properties"]["state"]["enum"])
    assert set(remote.LEGACY_STATES) == set(SCHEMAS["LegacyBuildStatusRequest"]["properties"]["state"]["enum"])
