"""The overview page: escaped, coloured, self-contained."""

from __future__ import annotations

import re

from sandbox_helpers import OTHER_SHA, PERSONAL_TOKEN, REPO_TOKEN, SHA, builds_path, legacy_path, status

HOSTILE = "<script>alert(1)</script>"


def test_hostile_text_is_escaped(client):
    client.post(
        legacy_path(),
        json=status(
            HOSTILE, "FAILED", name=HOSTILE, description='"><img src=x onerror=alert(1)>', url="javascript:alert(1)"
        ),
    ).raise_for_status()
    client.post(builds_path(), json=status("safe", "SUCCESSFUL", name="Good <b>", url="https://ci.example/1?a=1&b=2"))
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = response.text
    assert "<script" not in page.lower()
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page  # only http(s) URLs become links
    assert '<a href="https://ci.example/1?a=1&amp;b=2" rel="noopener noreferrer nofollow">Good &lt;b&gt;</a>' in page


def test_badges_colours_and_tally(client):
    for key, state in (("a", "SUCCESSFUL"), ("b", "SUCCESSFUL"), ("c", "FAILED")):
        client.post(legacy_path(), json=status(key, state)).raise_for_status()
    client.post(builds_path(OTHER_SHA), json=status("d", "INPROGRESS")).raise_for_status()
    client.post(builds_path(OTHER_SHA), json=status("e", "CANCELLED")).raise_for_status()
    client.post(builds_path(OTHER_SHA), json=status("f", "UNKNOWN")).raise_for_status()
    page = client.get("/_sandbox/").text
    assert "2 successful, 1 failed → red" in page
    assert "1 in progress, 1 cancelled, 1 unknown → blue" in page
    assert '<span class="badge green">SUCCESSFUL</span>' in page
    assert '<span class="badge red">FAILED</span>' in page
    assert '<span class="badge blue">INPROGRESS</span>' in page
    assert '<span class="badge grey">CANCELLED</span>' in page
    assert '<span class="badge grey">UNKNOWN</span>' in page
    for colour in ("green", "red", "blue", "grey"):
        assert re.search(rf"\.{colour}\{{background:#[0-9a-f]{{6}}\}}", page)
    assert SHA in page and OTHER_SHA in page
    assert page.index(OTHER_SHA) < page.index(SHA)  # most recently updated commit first
    assert 'href="/_sandbox/state"' in page


def test_page_is_self_contained_and_shows_no_secrets(client):
    client.post(legacy_path(), json=status()).raise_for_status()
    page = client.get("/").text
    assert not re.search(r"<(link|script|img|iframe)\b|src=|url\(|@import", page)  # no external assets
    assert "<style>" in page
    for secret in ("sandbox-password", PERSONAL_TOKEN, REPO_TOKEN):
        assert secret not in page


def test_page_is_not_logged(sandbox, client):
    client.get("/")
    client.get("/_sandbox/")
    client.get("/favicon.ico")
    assert sandbox.requests() == []
