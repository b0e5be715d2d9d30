"""Bitbucket Cloud on the overview page: a table per repository and commit, beside Data Center's, escaped."""

from __future__ import annotations

from sandbox_helpers import OTHER_SHA, SHA, cloud_path, cloud_status, legacy_path, status

from build_status_sandbox.bitbucket_cloud_config import DEFAULT_ACCESS_TOKEN

HOSTILE = "<script>alert(1)</script>"


def test_the_page_shows_the_cloud_statuses_beside_data_center_s(cloud, client):
    client.post(legacy_path(), json=status("dc-build")).raise_for_status()
    cloud.post(
        cloud_path(),
        json=cloud_status("unit", "FAILED", name="Unit tests", description="2 failed", refname="feature/x"),
    ).raise_for_status()
    cloud.post(cloud_path(), json=cloud_status("lint", "STOPPED")).raise_for_status()
    cloud.post(cloud_path(OTHER_SHA, workspace="team", repo="tool"), json=cloud_status("e2e", "INPROGRESS"))
    page = client.get("/").text
    assert page.index("Bitbucket build statuses") < page.index("Bitbucket Cloud commit statuses")
    assert "dc-build" in page
    cloud_part = page[page.index("Bitbucket Cloud commit statuses") :]
    assert f"acme/app @ {SHA}" in cloud_part and f"team/tool @ {OTHER_SHA}" in cloud_part
    assert cloud_part.index(f"team/tool @ {OTHER_SHA}") < cloud_part.index(f"acme/app @ {SHA}")  # newest first
    assert "1 failed, 1 stopped → red" in cloud_part
    assert '<span class="badge red">FAILED</span>' in cloud_part
    assert '<span class="badge grey">STOPPED</span>' in cloud_part
    assert '<span class="badge blue">INPROGRESS</span>' in cloud_part
    assert '<a href="https://ci.example.com/unit" rel="noopener noreferrer nofollow">Unit tests</a>' in cloud_part
    assert "2 failed" in cloud_part and "<code>feature/x</code>" in cloud_part
    assert "sandbox-access-token" in cloud_part  # the creator
    assert DEFAULT_ACCESS_TOKEN not in page


def test_the_page_escapes_cloud_text(cloud, client):
    cloud.post(
        cloud_path(),
        json=cloud_status("k", name=HOSTILE, description='"><img src=x>', refname=HOSTILE, url="https://x.example/"),
    ).raise_for_status()
    page = client.get("/").text
    assert "<script" not in page.lower() and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
