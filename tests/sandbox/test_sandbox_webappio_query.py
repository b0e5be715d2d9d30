"""The webapp.io search language on its own: parsing, matching, quoting (no HTTP)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from build_status_sandbox.webappio_query import (
    CALCULATED_STATUSES,
    FAILED_STATUSES,
    RUNNING_STATUSES,
    Query,
    QueryError,
    Term,
    parse,
    quote,
)


def job(**fields: object) -> dict:
    record = {
        "repository_name": "sandbox-app",
        "id": 7,
        "branch": "main",
        "calculated_status": "SUCCEEDED",
        "author": "Alice Example",
        "title": "Fix the login page",
        "body": 'Closes #12 and says "hello"\nSecond line: C:\\temp',
    }
    record.update(fields)
    return record


# -- parsing -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("", ()),
        ("   \t\n ", ()),
        ("fix", (Term("text", "fix"),)),
        ("Fix  LOGIN", (Term("text", "Fix"), Term("text", "LOGIN"))),
        ('"exact text"', (Term("phrase", "exact text"),)),
        (r'"say \"hi\" \\ok"', (Term("phrase", 'say "hi" \\ok'),)),
        ("-wip", (Term("text", "wip", negated=True),)),
        ('-"work in progress"', (Term("phrase", "work in progress", negated=True),)),
        ("--x", (Term("text", "-x", negated=True),)),
        ("repo:sandbox-app", (Term("repo", "sandbox-app"),)),
        ('repo:"a b"', (Term("repo", "a b"),)),
        ("branch:main", (Term("branch", "main"),)),
        ('branch:"feature x"', (Term("branch", "feature x"),)),
        (r'branch:"say \"hi\""', (Term("branch", 'say "hi"'),)),
        (r"branch:back\slash", (Term("branch", "back\\slash"),)),
        (r'branch:"back\\slash"', (Term("branch", "back\\slash"),)),
        ("branch:a:b", (Term("branch", "a:b"),)),
        ("branch:-x", (Term("branch", "-x"),)),
        ("BRANCH:Main", (Term("branch", "Main"),)),
        ("id:42", (Term("id", 42),)),
        ("id:007", (Term("id", 7),)),
        ('id:"5"', (Term("id", 5),)),
        ("status:failure", (Term("status", "FAILURE"),)),
        ("Status:Runner_Cancelled", (Term("status", "RUNNER_CANCELLED"),)),
        ("running DONE Failed", (Term("running"), Term("done"), Term("failed"))),
        ('"running"', (Term("phrase", "running"),)),
        ("foo:bar", (Term("text", "foo:bar"),)),
        ("-foo:bar", (Term("text", "foo:bar", negated=True),)),
        ("http://x.example/a", (Term("text", "http://x.example/a"),)),
        (":colon", (Term("text", ":colon"),)),
        ("C:\\temp", (Term("text", "C:\\temp"),)),
        (
            'branch:main -wip "Fix the" status:succeeded id:7 done',
            (
                Term("branch", "main"),
                Term("text", "wip", negated=True),
                Term("phrase", "Fix the"),
                Term("status", "SUCCEEDED"),
                Term("id", 7),
                Term("done"),
            ),
        ),
    ],
)
def test_parse(text, terms):
    assert parse(text) == Query(terms)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ('"open', "unterminated quote starting at character 1"),
        ('fix "open phrase', "unterminated quote starting at character 5"),
        ('"ends in backslash\\', "unterminated quote"),
        ('branch:"open', "unterminated quote starting at character 8"),
        ('"a\\nb"', "unknown escape \\n at character 3"),
        ('"a"b', "text right after the closing quote at character 4"),
        ('branch:"a"b', "text right after the closing quote"),
        ('do"nt', "a double quote inside the word starting at character 1"),
        ('branch:a"b', "a double quote inside the word"),
        ("id:abc", "id: must be a decimal number, not 'abc'"),
        ("id:-1", "id: must be a decimal number"),
        ("id:1.5", "id: must be a decimal number"),
        ("id:٣", "id: must be a decimal number"),
        ("status:NOPE", "status: must be one of NEW, STARTING_RUNNERS, RUNNING, SUCCEEDED"),
        ("status:ERROR", "not 'ERROR'"),
        ("status:SEE_RUNNERS", "status: must be one of"),
        ("branch:", "branch: needs a value at character 1"),
        ("fix branch: main", "branch: needs a value at character 5"),
        ('repo:""', "repo: needs a value"),
        ("id:", "id: needs a value"),
        ("status:", "status: needs a value"),
        ('""', "an empty quoted phrase at character 1"),
        ('-""', "an empty quoted phrase"),
        ("-", '"-" at character 1 must be followed by a word or a quoted phrase'),
        ("fix - bug", '"-" at character 5'),
        ("-branch:main", "only words and quoted phrases can be negated, not the branch: filter"),
        ("-running", "only words and quoted phrases can be negated, not the keyword running"),
        ("-Failed", "not the keyword failed"),
    ],
)
def test_malformed_queries(text, wanted):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert wanted in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert not str(caught.value).startswith("Invalid search query")  # the emulation adds that


def test_parse_takes_only_text():
    with pytest.raises(QueryError, match="must be text"):
        parse(None)  # type: ignore[arg-type]


# -- matching ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("fix", True),
        ("FIX login", True),
        ("alice", True),
        ("closes", True),
        ("second", True),
        ("c:\\temp", True),
        ("fix nothing-here", False),
        ('"Fix the"', True),
        ('"fix the"', False),
        ('"Alice Example"', True),
        (r'"says \"hello\""', True),
        (r'"C:\\temp"', True),
        ("-wip", True),
        ("-ALICE", False),
        ('-"alice"', True),
        ('-"Alice"', False),
        ("repo:sandbox-app", True),
        ("repo:Sandbox-app", False),
        ("repo:sandbox", False),
        ("branch:main", True),
        ("branch:Main", False),
        ("branch:mai", False),
        ("id:7", True),
        ("id:007", True),
        ("id:8", False),
        ("status:succeeded", True),
        ("status:FAILURE", False),
        ("done", True),
        ("running", False),
        ("failed", False),
        ("branch:main fix done -wip", True),
        ("branch:main fix done -login", False),
        ("foo:bar", False),
    ],
)
def test_matches(text, matches):
    assert parse(text).matches(job()) is matches


@pytest.mark.parametrize("status", CALCULATED_STATUSES)
def test_status_keywords(status):
    record = job(calculated_status=status)
    assert parse("running").matches(record) is (status in {"NEW", "STARTING_RUNNERS", "RUNNING"})
    assert parse("done").matches(record) is (status not in {"NEW", "STARTING_RUNNERS", "RUNNING"})
    failed = {"JOB_ERROR", "BAD_LAYERFILE", "FAILURE", "RUNNER_ERROR"}
    assert parse("failed").matches(record) is (status in failed)
    assert parse(f"status:{status.lower()}").matches(record)
    assert parse("running").matches(record) != parse("done").matches(record)
    assert (status in RUNNING_STATUSES, status in FAILED_STATUSES) == (
        status in {"NEW", "STARTING_RUNNERS", "RUNNING"},
        status in failed,
    )


def test_runner_cancelled_is_done_but_not_failed():
    record = job(calculated_status="RUNNER_CANCELLED")
    assert parse("done").matches(record) and not parse("failed").matches(record)


def test_free_text_in_missing_or_odd_fields():
    record = {"repository_name": "r", "id": 1, "branch": "b", "calculated_status": "NEW", "title": None}
    assert parse("").matches(record)
    assert not parse("anything").matches(record)
    assert parse("-anything").matches(record)
    assert not parse("id:1").matches({**record, "id": True})  # a bool is no id
    assert not parse("id:1").matches({**record, "id": "1"})


def test_case_insensitive_text_uses_casefold():
    assert parse("STRASSE").matches(job(title="Große Straße"))
    assert not parse('"STRASSE"').matches(job(title="Große Straße"))


# -- quoting -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("main", "main"),
        ("feature/x-1.2", "feature/x-1.2"),
        ("-x", "-x"),
        ("running", "running"),
        ("a:b", "a:b"),
        ("", '""'),
        ("feature x", '"feature x"'),
        ("tab\there", '"tab\there"'),
        ("line\nbreak", '"line\nbreak"'),
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ('\\"', r'"\\\""'),
        ("non\u00a0breaking", '"non\u00a0breaking"'),
    ],
)
def test_quote(value, quoted):
    assert quote(value) == quoted
    if value:
        assert parse(f"branch:{quoted}") == Query((Term("branch", value),))


def test_quote_takes_only_text():
    with pytest.raises(TypeError):
        quote(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "fix",
        'branch:"feature x" -wip "exact \\"text\\"" id:7 status:failure running done failed',
        "foo:bar -foo:baz --x repo:sandbox-app",
        r'branch:"back\\slash" "C:\\temp"',
    ],
)
def test_str_parses_back(text):
    query = parse(text)
    assert parse(str(query)) == query


# -- properties --------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1))
@example("a b")
@example('"')
@example("\\")
@example("\\\"'")
@example("-running")
@example("branch:x")
@example("\x1c")
def test_branch_filter_finds_exactly_the_branch(branch):
    query = parse(f"branch:{quote(branch)}")
    assert query == Query((Term("branch", branch),))
    assert query.matches(job(branch=branch))
    assert not query.matches(job(branch=branch + "x"))
    assert not query.matches(job(branch="x" + branch))
    if branch.swapcase() != branch:
        assert not query.matches(job(branch=branch.swapcase()))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_parses_or_raises_query_error(text):
    try:
        query = parse(text)
    except QueryError:
        return
    assert parse(str(query)) == query
    query.matches(job())


_WORD = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda word: (
        not any(char.isspace() or char == '"' for char in word)
        and word[0] != "-"
        and ":" not in word
        and word.lower() not in ("running", "done", "failed")
    )
)
_TERM = st.one_of(
    st.builds(Term, st.just("text"), _WORD, st.booleans()),
    st.builds(Term, st.just("phrase"), st.text(min_size=1), st.booleans()),
    st.builds(Term, st.sampled_from(["repo", "branch"]), st.text(min_size=1)),
    st.builds(Term, st.just("id"), st.integers(min_value=0, max_value=10**12)),
    st.builds(Term, st.just("status"), st.sampled_from(CALCULATED_STATUSES)),
    st.builds(Term, st.sampled_from(["running", "done", "failed"])),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TERM, max_size=6))
def test_printed_queries_parse_back(terms):
    query = Query(tuple(terms))
    assert parse(str(query)) == query
