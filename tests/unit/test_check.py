"""The pure parts of check: tally, decision, the log's table, the summary; the reader with a stub client."""

from __future__ import annotations

import json

import pytest
import requests

from build_status.errors import RemoteError
from build_status.model import naming
from build_status.model import tally as gate_tally
from build_status.model.auth import Auth
from build_status.model.tally import GREEN, MISSING, PENDING, RED, Reading, Status
from build_status.remotes.bitbucket_dc.api import Api, NoEndpoint, NotInRepository
from build_status.remotes.bitbucket_dc.reading import status_from_rest
from build_status.remotes.bitbucket_dc.remote import BitbucketDataCenter, Connection
from build_status.remotes.bitbucket_dc.target import Target
from build_status.tasks import gate_view
from build_status.transport.deadline import Deadline
from build_status.workflow import Console

SHA = "0123456789abcdef0123456789abcdef01234567"
SHA2 = "89abcdef0123456789abcdef0123456789abcdef"
ZERO = {"successful": 0, "failed": 0, "inProgress": 0, "cancelled": 0, "unknown": 0}


def reading(*statuses, sha=SHA, own=None, stats=None, patterns=()):
    statuses = gate_tally.sort_statuses(statuses)
    tally, unlisted = gate_tally.combine(statuses, own, stats or {})
    return Reading(sha, statuses, own, tally, unlisted, gate_tally.unmatched(statuses, patterns))


def reader_for(client, console, patterns=(), **target):
    """The gate's reader (own key CI/gate) over ``client``, made as the Bitbucket Data Center remote makes it
    for a target with ``target`` (project, repo, api): the remote decides whether it reads by key."""
    remote = BitbucketDataCenter(Target("https://bitbucket.example.com", Auth("Bearer", "t0ken-secret"), **target))
    return Connection(remote, client).reader("CI/gate", patterns, console)


# -- tally and decision --------------------------------------------------------------------------------
def test_count_uses_bitbucket_s_words_in_its_order():
    tally = gate_tally.count(["SUCCESSFUL", "FAILED", "SUCCESSFUL", "INPROGRESS", "CANCELLED", "UNKNOWN"])
    assert list(tally) == ["successful", "failed", "inProgress", "cancelled", "unknown"]
    assert tally == {"successful": 2, "failed": 1, "inProgress": 1, "cancelled": 1, "unknown": 1}


def test_tally_text_is_stable():
    assert gate_view.tally_text({"successful": 3, "failed": 1, "inProgress": 1, "cancelled": 0, "unknown": 0}) == (
        "3 successful, 1 failed, 1 in progress, 0 cancelled, 0 unknown"
    )


def test_combine_takes_the_lists_counts_when_everything_is_listed():
    statuses = [Status("a", "SUCCESSFUL"), Status("b", "FAILED")]
    own = Status("gate", "INPROGRESS")
    tally, unlisted = gate_tally.combine(statuses, own, {"successful": 1, "failed": 1, "inProgress": 1})
    assert (tally, unlisted) == ({**ZERO, "successful": 1, "failed": 1}, 0)


def test_combine_takes_the_larger_counts_when_some_are_not_listed():
    statuses = [Status(f"k{n}", "SUCCESSFUL") for n in range(99)]
    own = Status("gate", "SUCCESSFUL")
    stats = {"successful": 118, "failed": 2, "inProgress": 0, "cancelled": 0, "unknown": 0}
    tally, unlisted = gate_tally.combine(statuses, own, stats)
    assert tally == {**ZERO, "successful": 117, "failed": 2}  # the own key is out of the counts too
    assert unlisted == 20


def test_combine_ignores_nonsense_counts():
    tally, unlisted = gate_tally.combine([Status("a", "FAILED")], None, {"failed": -3, "weird": 9})
    assert (tally["failed"], unlisted) == (1, 0)


@pytest.mark.parametrize(
    ("states", "result"),
    [
        (["SUCCESSFUL", "FAILED", "INPROGRESS"], RED),
        (["SUCCESSFUL", "INPROGRESS"], PENDING),
        (["SUCCESSFUL", "CANCELLED", "UNKNOWN"], GREEN),
        ([], MISSING),  # a commit without statuses: nothing reported on it
    ],
)
def test_decide(states, result):
    verdict = gate_tally.decide([reading(*(Status(f"k{n}", state) for n, state in enumerate(states)))])
    assert verdict.result == result


@pytest.mark.parametrize(
    ("states", "patterns", "result"),
    [
        (["FAILED", "INPROGRESS"], ["k0", "nope"], RED),  # red beats missing
        (["SUCCESSFUL", "INPROGRESS"], ["k*", "nope"], MISSING),  # missing beats pending
        (["SUCCESSFUL", "INPROGRESS"], ["k0", "k1"], PENDING),
        (["SUCCESSFUL", "SUCCESSFUL"], ["k?", "k1"], GREEN),
    ],
)
def test_decide_puts_red_before_missing_before_pending(states, patterns, result):
    statuses = [Status(f"k{n}", state) for n, state in enumerate(states)]
    verdict = gate_tally.decide([reading(*statuses, patterns=patterns)])
    assert verdict.result == result
    assert verdict.missing_keys == (["nope"] if "nope" in patterns else [])


def test_decide_names_the_empty_commits_and_the_missing_patterns_per_commit():
    first = reading(Status("CI/build", "SUCCESSFUL"), patterns=["CI/build", "CI/lint"])
    second = reading(sha=SHA2, own=Status("CI/gate", "INPROGRESS"), patterns=["CI/build", "CI/lint"])
    verdict = gate_tally.decide([first, second])
    assert verdict.result == MISSING
    assert verdict.empty == (SHA2,)
    # The empty commit has its own problem; its patterns are not listed once more.
    assert verdict.missing == ((SHA, "CI/lint"),)
    assert verdict.missing_keys == ["CI/lint"]


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("CI/test", "CI/test", True),
        ("CI/test", "CI/test2", False),  # the whole key
        ("CI/test", "ci/test", False),  # case-sensitive
        ("CI/*", "CI/test/unit", True),  # * crosses /
        ("*", "anything at all", True),
        ("CI/test-?", "CI/test-1", True),
        ("CI/test-?", "CI/test-12", False),
        ("CI/test[os=ubuntu,py=3.12]", "CI/test[os=ubuntu,py=3.12]", True),  # brackets are themselves
        ("CI/test[os=ubuntu,py=3.12]", "CI/testo", False),  # not a character class
        ("CI/test[*]", "CI/test[os=windows,py=3.9]", True),
        ("CI/test[*]", "CI/test", False),
        ("CI/test[*py=3.12]", "CI/test[os=macos,py=3.12]", True),
        ("a.b+c(d)", "a.b+c(d)", True),  # other regular-expression characters are themselves too
        ("a.b", "axb", False),
    ],
)
def test_key_patterns(pattern, key, matches):
    assert (gate_tally.unmatched([Status(key, "SUCCESSFUL")], [pattern]) == ()) is matches


def test_unmatched_keeps_the_patterns_order():
    statuses = [Status("CI/build", "SUCCESSFUL"), Status("CI/lint", "FAILED")]
    assert gate_tally.unmatched(statuses, ["z", "CI/*", "a", "CI/lint"]) == ("z", "a")
    assert gate_tally.unmatched([], ["*"]) == ("*",)


def test_decide_sums_commits_and_names_keys_once():
    first = reading(Status("CI/test", "FAILED"), Status("CI/lint", "INPROGRESS"))
    second = reading(Status("CI/test", "FAILED"), Status("CI/build", "SUCCESSFUL"), sha=SHA2)
    verdict = gate_tally.decide([first, second])
    assert verdict.result == RED
    assert verdict.tally == {**ZERO, "successful": 1, "failed": 2, "inProgress": 1}
    assert verdict.failed_keys == ["CI/test"]
    assert [sha for sha, _ in verdict.failed] == [SHA, SHA2]
    assert verdict.running_keys == ["CI/lint"]


def test_decide_counts_unlisted_failures():
    many = reading(*(Status(f"k{n}", "SUCCESSFUL") for n in range(100)), stats={"successful": 100, "failed": 1})
    verdict = gate_tally.decide([many])
    assert (verdict.result, verdict.failed, verdict.unlisted_failed) == (RED, (), 1)


# -- texts ---------------------------------------------------------------------------------------------
def test_table_is_aligned_failures_first_with_details():
    lines = gate_view.table(
        reading(
            Status("CI/build", "SUCCESSFUL", "Build", "https://ci/b"),
            Status("CI/test", "FAILED", "Unit tests", "https://ci/t", "17", 90_000, (10, 1, 2)),
            own=Status("CI/gate", "INPROGRESS"),
        )
    )
    assert lines[0] == f"Build statuses of {SHA}:"
    assert (
        lines[1]
        == "  FAILED      CI/test   Unit tests  10 passed, 1 failed, 2 skipped · 1m 30s · build 17  https://ci/t"
    )
    assert lines[2].startswith("  SUCCESSFUL  CI/build  Build       ") and lines[2].endswith("  https://ci/b")
    assert lines[1].index("https://") == lines[2].index("https://")  # columns line up
    assert lines[3:] == [
        "  1 successful, 1 failed, 0 in progress, 0 cancelled, 0 unknown",
        "  Left out: this step's own key CI/gate (INPROGRESS); a fan-in job does not wait for itself.",
    ]


def test_table_shows_missing_patterns_after_the_failures():
    lines = gate_view.table(
        reading(
            Status("CI/build", "SUCCESSFUL", "Build", "https://ci/b"),
            Status("CI/test", "FAILED", "Unit tests", "https://ci/t"),
            patterns=["CI/build", "CI/lint", "CI/e2e[*]"],
        )
    )
    states = [line.split()[0] for line in lines[1:5]]
    assert states == ["FAILED", "MISSING", "MISSING", "SUCCESSFUL"]
    assert lines[2].split()[1] == "CI/lint" and lines[3].split()[1] == "CI/e2e[*]"
    assert lines[2].rstrip().endswith("no key matches this check-keys pattern")
    assert lines[5] == "  1 successful, 1 failed, 0 in progress, 0 cancelled, 0 unknown"


def test_table_of_a_commit_without_statuses_shows_its_missing_patterns():
    lines = gate_view.table(reading(patterns=["CI/build"]))
    assert lines[1] == "  (none)"
    assert lines[2].split()[:2] == ["MISSING", "CI/build"]


def test_summary_shows_missing_patterns():
    first = reading(Status("CI/build", "SUCCESSFUL"), patterns=["CI/lint|x"])
    text = gate_view.gate_summary([first], gate_tally.decide([first]))
    assert "⚠️ **missing** · 1 successful, 0 failed" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[2:] == [
        "| ⚠️ MISSING | `CI/lint\\|x` |  | no key matches this check-keys pattern |",
        "| ✅ SUCCESSFUL | `CI/build` | CI/build |  |",
    ]
    empty = reading(sha=SHA2, patterns=["CI/build"])
    text = gate_view.gate_summary([empty], gate_tally.decide([empty]))
    assert "No build statuses.\n\n| State | Key | Name | Details |" in text
    assert "| ⚠️ MISSING | `CI/build` |  |" in text


def test_waiting_for_says_what_the_wait_is_for():
    verdict = gate_tally.decide(
        [
            reading(Status("CI/test", "INPROGRESS"), patterns=["CI/lint", "CI/e2e"]),
            reading(sha=SHA2, patterns=["CI/lint"]),
        ]
    )
    assert gate_view.waiting_for(verdict) == (
        "a first build status on 1 commit(s) and 2 check-keys pattern(s) to be matched (CI/lint, CI/e2e) and "
        "1 build(s) in progress (CI/test)"
    )


def test_table_keeps_server_text_on_one_line_and_cuts_long_cells():
    (_, row, *_) = gate_view.table(reading(Status("k" * 60, "FAILED", "two\nlines\n::error::x", "https://ci/1")))
    assert "\n" not in row and "two lines ::error::x" in row
    assert "k" * 39 + "…" in row and "k" * 41 not in row


def test_table_of_a_commit_without_statuses():
    assert gate_view.table(reading())[:2] == [f"Build statuses of {SHA}:", "  (none)"]


def test_table_says_when_statuses_are_not_listed():
    lines = gate_view.table(reading(Status("a", "SUCCESSFUL"), stats={"successful": 5}))
    assert lines[-1] == (
        "  Bitbucket counts 5 statuses but lists only the 1 newest: the tally takes its counts (4 not shown above)."
    )


def test_named_shortens_long_lists():
    pairs = [(SHA, Status(f"k{n}", "FAILED", f"Job {n}", f"https://ci/{n}")) for n in range(12)]
    text = gate_view.named(pairs, several_commits=False, limit=3)
    assert text == "k0 (Job 0) https://ci/0, k1 (Job 1) https://ci/1, k2 (Job 2) https://ci/2, … and 9 more"
    assert gate_view.named(pairs[:1], several_commits=True) == f"k0 (Job 0) on {SHA[:12]} https://ci/0"
    assert gate_view.named([(SHA, Status("k", "FAILED", "k"))], several_commits=False) == "k"


def test_changes_between_rounds():
    before = [reading(Status("a", "INPROGRESS"), Status("b", "INPROGRESS"), Status("gone", "SUCCESSFUL"))]
    after = [reading(Status("a", "SUCCESSFUL"), Status("b", "INPROGRESS"), Status("new", "FAILED"))]
    assert gate_view.changes(before, after) == [
        f"{SHA[:12]} new: new, FAILED",
        f"{SHA[:12]} a: INPROGRESS → SUCCESSFUL",
        f"{SHA[:12]} gone: no longer listed",
    ]


def test_summary_escapes_and_links():
    first = reading(Status("CI/x|y", "FAILED", "a <b> | c", "https://ci/1?a=(1)"), own=Status("CI/gate", "INPROGRESS"))
    text = gate_view.gate_summary([first], gate_tally.decide([first]), note="Waited 3s (2 readings).")
    assert text.startswith("### Bitbucket build statuses\n\n❌ **red** · 0 successful, 1 failed,")
    assert "| ❌ FAILED | `CI/x\\|y` | [a &lt;b&gt; \\| c](https://ci/1?a=%281%29) |  |" in text
    assert "Waited 3s (2 readings)." in text
    assert "This step's own key `CI/gate` is left out." in text


@pytest.mark.parametrize(
    ("milliseconds", "text"), [(850, "850ms"), (12_400, "12s"), (90_000, "1m 30s"), (7_500_000, "2h 5m")]
)
def test_format_duration(milliseconds, text):
    """One format for durations everywhere: the check's table and the posted descriptions."""
    assert naming.format_duration(milliseconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(0.2, "0.2s"), (1, "1s"), (30, "30s"), (1800, "30m")])
def test_format_seconds(seconds, text):
    assert gate_view.format_seconds(seconds) == text


def test_status_from_odd_answers():
    status = status_from_rest({"key": "k", "state": "weird", "duration": -1, "testResults": {"failed": 2}})
    assert status == Status("k", "UNKNOWN", tests=(0, 2, 0))
    assert status_from_rest({"key": 7, "state": "failed", "testResults": "x", "duration": True}) == Status(
        "7", "FAILED"
    )


# -- the reader ----------------------------------------------------------------------------------------
class StubClient:
    """Answers like Bitbucket: a list, counts, and (optionally) GET by key."""

    def __init__(self, listed, stats=None, by_key=None):
        self.listed = listed
        self.stats_answer = stats
        self.by_key = by_key if by_key is not None else {}
        self.asked = []

    def statuses(self, sha, *, limit=100):
        return [dict(value) for value in self.listed]

    def stats(self, sha):
        return self.stats_answer or gate_tally.count(value["state"] for value in self.listed)

    def build(self, sha, project, repo, key):
        self.asked.append(key)
        answer = self.by_key.get(key) if isinstance(self.by_key, dict) else self.by_key
        if isinstance(answer, Exception):
            raise answer
        return answer


def listed(*pairs):
    return [{"key": key, "state": state, "url": f"https://ci/{key}"} for key, state in pairs]


def test_reader_leaves_out_the_own_key_and_reads_each_key_by_key():
    client = StubClient(
        listed(("CI/gate", "INPROGRESS"), ("a", "FAILED"), ("b", "SUCCESSFUL")),
        by_key={"a": {"key": "a", "state": "CANCELLED", "testResults": {"successful": 1, "failed": 0, "skipped": 0}}},
    )
    reader = reader_for(client, Console({}), project="PRJ", repo="app")
    result = reader.read(SHA)
    assert client.asked == ["a", "b"]
    assert result.own == Status("CI/gate", "INPROGRESS", url="https://ci/CI/gate")
    assert [(s.key, s.state, s.tests) for s in result.statuses] == [
        ("b", "SUCCESSFUL", None),
        ("a", "CANCELLED", (1, 0, 0)),
    ]
    assert result.tally == {**ZERO, "successful": 1, "cancelled": 1}


def test_reader_does_not_count_the_own_key_for_a_pattern():
    client = StubClient(listed(("CI/gate", "INPROGRESS"), ("CI/build", "SUCCESSFUL")))
    reader = reader_for(client, Console({}), patterns=["CI/*", "CI/g*"])
    assert reader.read(SHA).missing == ("CI/g*",)


def test_reader_asks_for_a_named_key_that_bitbucket_does_not_list():
    # 100 listed, 102 counted: a key named exactly may be among the two not listed; a wildcard cannot be asked.
    client = StubClient(
        listed(*((f"k{n}", "SUCCESSFUL") for n in range(100))),
        stats={"successful": 101, "failed": 1},
        by_key={"CI/old": {"key": "CI/old", "state": "FAILED", "url": "https://ci/old"}, "CI/gone": None},
    )
    reader = reader_for(client, Console({}), patterns=["CI/old", "CI/gone", "x*"], project="PRJ", repo="app")
    result = reader.read(SHA)
    assert client.asked[100:] == ["CI/old", "CI/gone"]
    assert result.missing == ("CI/gone", "x*")
    assert result.statuses[0] == Status("CI/old", "FAILED", url="https://ci/old")
    assert (result.tally["failed"], result.tally["successful"], result.unlisted) == (1, 101, 1)
    verdict = gate_tally.decide([result])
    assert (verdict.result, verdict.failed_keys, verdict.crowded) == (RED, ["CI/old"], (SHA,))


def test_reader_asks_for_no_unlisted_key_when_everything_is_listed_or_it_cannot():
    client = StubClient(listed(("a", "SUCCESSFUL")))
    assert reader_for(client, Console({}), ["b"], project="PRJ", repo="app").read(SHA).missing == ("b",)
    assert client.asked == ["a"]  # the list is whole: b is not asked for
    client = StubClient(listed(("a", "SUCCESSFUL")), stats={"successful": 5})
    assert reader_for(client, Console({}), ["b"]).read(SHA).missing == ("b",)
    assert client.asked == []  # no repository: no GET by key


def test_reader_asks_again_only_for_changed_entries():
    client = StubClient(listed(("a", "INPROGRESS"), ("b", "SUCCESSFUL")))
    reader = reader_for(client, Console({}), project="PRJ", repo="app")
    reader.read(SHA)
    client.listed = listed(("a", "SUCCESSFUL"), ("b", "SUCCESSFUL"))
    reader.read(SHA)
    assert client.asked == ["a", "b", "a"]


def test_reader_without_the_endpoint_falls_back_once(capsys):
    client = StubClient(listed(("a", "FAILED"), ("b", "SUCCESSFUL")), by_key=NoEndpoint("404"))
    reader = reader_for(client, Console({"RUNNER_DEBUG": "1"}), project="PRJ", repo="app")
    first = reader.read(SHA)
    reader.read(SHA)
    assert client.asked == ["a"]
    assert [s.state for s in first.statuses] == ["FAILED", "SUCCESSFUL"]
    assert capsys.readouterr().err.count("older than 7.14") == 1


def test_reader_with_a_commit_outside_the_repository_uses_the_list(capsys):
    client = StubClient(listed(("a", "FAILED"), ("b", "SUCCESSFUL")), by_key=NotInRepository("no such commit"))
    reader = reader_for(client, Console({}), project="PRJ", repo="app")
    assert [s.state for s in reader.read(SHA).statuses] == ["FAILED", "SUCCESSFUL"]
    assert client.asked == ["a"]
    assert f"Commit {SHA[:12]} is not in PRJ/app (no such commit)" in capsys.readouterr().out


def test_reader_keeps_the_list_entry_when_the_key_is_not_found():
    client = StubClient(listed(("a", "FAILED")), by_key={"a": None})
    reader = reader_for(client, Console({}), project="PRJ", repo="app")
    assert reader.read(SHA).statuses == (Status("a", "FAILED", url="https://ci/a"),)


@pytest.mark.parametrize("changes", [{}, {"project": "PRJ", "repo": "app", "api": "commits"}])
def test_reader_without_a_repository_does_not_read_by_key(changes):
    client = StubClient(listed(("a", "FAILED")))
    reader_for(client, Console({}), **changes).read(SHA)
    assert client.asked == []


# -- the client's GET by key ---------------------------------------------------------------------------
class StubSession:
    verify = True

    def __init__(self, status, body):
        self.status, self.body = status, body
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs.get("params")))
        response = requests.Response()
        response.status_code = self.status
        response._content = json.dumps(self.body).encode()
        response.headers["Content-Type"] = "application/json"
        return response


def errors(name):
    return {"errors": [{"context": None, "message": "m", "exceptionName": name}]}


def client_for(status, body):
    session = StubSession(status, body)
    return Api(session, Deadline(10), "https://bb.example.com", Auth("Bearer", "t")), session


def test_build_reads_one_key():
    client, session = client_for(200, {"key": "k", "state": "CANCELLED"})
    assert client.build(SHA, "PRJ", "app", "k")["state"] == "CANCELLED"
    assert session.calls == [
        ("GET", f"https://bb.example.com/rest/api/latest/projects/PRJ/repos/app/commits/{SHA}/builds", {"key": "k"})
    ]


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (404, errors("com.atlassian.bitbucket.build.status.NoSuchBuildStatusException"), None),
        (404, errors("com.atlassian.bitbucket.commit.NoSuchCommitException"), NotInRepository),
        (404, errors(None), NoEndpoint),  # what a server older than 7.14 answers
        (404, "<html>Not found</html>", NoEndpoint),
        (405, errors(None), NoEndpoint),
        (404, errors("com.atlassian.bitbucket.repository.NoSuchRepositoryException"), "hint"),
        (401, errors("com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"), "hint"),
    ],
)
def test_build_tells_the_404s_apart(status, body, outcome):
    client, _ = client_for(status, body)
    if outcome is None:
        assert client.build(SHA, "PRJ", "app", "k") is None
        return
    with pytest.raises(RemoteError) as caught:
        client.build(SHA, "PRJ", "app", "k")
    if outcome == "hint":
        assert type(caught.value) is RemoteError and caught.value.status == status
        assert "Check" in caught.value.message
    else:
        assert type(caught.value) is outcome


def test_statuses_stop_on_a_page_that_does_not_advance():
    client, session = client_for(
        200, {"values": [{"key": "a", "state": "FAILED"}], "isLastPage": False, "nextPageStart": 0}
    )
    assert client.statuses(SHA) == [{"key": "a", "state": "FAILED"}]
    assert len(session.calls) == 1
