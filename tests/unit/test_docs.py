"""action.yml, the CLI and the README agree with each other."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from build_status.cli import make_parser
from build_status.inputs import INPUTS, OUTPUTS

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_table(header: str) -> dict[str, list[str]]:
    rows = {}
    block = README[README.index(header) :]
    for line in block.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_action_inputs_match_the_catalogue():
    assert list(ACTION["inputs"]) == [item.name for item in INPUTS]
    for item in INPUTS:
        declared = ACTION["inputs"][item.name]
        assert declared["description"] == item.description
        assert declared.get("default") == item.default
        assert declared["required"] is False  # the runner does not enforce it; we validate ourselves


def test_action_outputs_match_the_catalogue():
    assert {name: o["description"] for name, o in ACTION["outputs"].items()} == {o.name: o.description for o in OUTPUTS}


def test_action_runs_the_dockerfile():
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_readme_tables_equal_action_yml():
    inputs = readme_table("| Input | Default | Description |")
    assert list(inputs) == list(ACTION["inputs"])
    for name, (default, description) in inputs.items():
        expected = ACTION["inputs"][name].get("default")
        assert default == (f"`{expected}`" if expected else "").replace("|", "\\|")
        assert description.replace("\\|", "|") == ACTION["inputs"][name]["description"]
    outputs = readme_table("| Output | Description |")
    assert {k: v[0] for k, v in outputs.items()} == {k: v["description"] for k, v in ACTION["outputs"].items()}


def test_readme_quick_start_has_exactly_two_commands_that_exist():
    section = README[README.index("## Quick start") :]
    block = section[section.index("```sh") + 5 : section.index("```", section.index("```sh") + 5)]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["scripts/demo", "scripts/test"]
    for command in commands:
        assert (ROOT / command).stat().st_mode & 0o111
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_every_input_is_a_cli_flag():
    flags = {action.dest for action in make_parser()._actions}
    assert {item.name for item in INPUTS} <= flags


def test_sync_docs_reports_nothing_stale():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_docs.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def _sync_docs():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import sync_docs
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return sync_docs


def test_a_release_action_yml_names_the_prebuilt_image_and_nothing_else_changes():
    sync_docs = _sync_docs()
    image = "docker://ghcr.io/acme/build-status:1.2.3@sha256:" + "ab" * 32
    released = yaml.safe_load(sync_docs.render_action(image))
    assert released["runs"] == {"using": "docker", "image": image}
    assert {k: v for k, v in released.items() if k != "runs"} == {k: v for k, v in ACTION.items() if k != "runs"}
    assert ACTION["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_the_release_image_must_carry_a_digest():
    for image in ("docker://ghcr.io/acme/build-status:1.2.3", "ghcr.io/acme/build-status@sha256:" + "ab" * 32):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "sync_docs.py"), "--check", "--image", image],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2 and "--image: expected docker://" in proc.stderr
