"""The action's image holds the client only: the Dockerfile copies no path of the sandbox (sandbox/, its own
distribution), and the build context (.dockerignore) lets none in."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copies() -> list[tuple[list[str], bool]]:
    """Each COPY instruction of the Dockerfile: its sources, and whether they come from the build context
    (not ``--from`` another stage)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            flags = [word for word in words[1:] if word.startswith("--")]
            paths = [word for word in words[1:] if not word.startswith("--")]
            found.append((paths[:-1], not any(flag.startswith("--from=") for flag in flags)))
    return found


def test_the_dockerfile_copies_no_sandbox_path():
    instructions = copies()
    assert instructions
    context = [source for sources, from_context in instructions if from_context for source in sources]
    assert "src/build_status" in context
    for sources, _ in instructions:
        for source in sources:
            assert "sandbox" not in source and "demo" not in source, source
    for source in context:  # what the context holds: files of the repository, none of them the sandbox's
        path = (ROOT / source).resolve()
        assert path.exists(), source
        assert ROOT / "sandbox" not in (path, *path.parents), source


def test_the_build_context_lets_no_sandbox_path_in():
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    assert lines[0] == "*"  # nothing but what is let in again below
    let_in = [line[1:] for line in lines if line.startswith("!")]
    assert "src/build_status/" in let_in
    assert not [path for path in let_in if "sandbox" in path], let_in
