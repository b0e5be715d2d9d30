"""action.yml, the CLI and the README agree with each other."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from build_status.cli import make_parser
from build_status.config.catalogue import INPUTS, OUTPUTS

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
    assert ACTION["runs"] == {
        "using": "docker",
        "image": "Dockerfile",
        # report-job-end: the runner runs it when the job ends, whatever the job's status.
        "post-entrypoint": "/action/post.py",
        "post-if": "always()",
    }


def test_the_post_entrypoint_is_in_the_image_and_runs_by_itself():
    """The runner passes --entrypoint /action/post.py: the file must be executable, with a shebang the
    image's interpreter takes (a Linux shebang passes one argument: the flags are joined)."""
    post = ROOT / "post.py"
    assert post.stat().st_mode & 0o111
    assert post.read_text(encoding="utf-8").splitlines()[0] == "#!/usr/bin/python3 -Iu"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY entrypoint.py post.py /rootfs/action/" in dockerfile
    assert "!post.py" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    tracked = subprocess.run(["git", "ls-files", "-s", "post.py"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout.startswith("100755 ") or not tracked.stdout  # git keeps the executable bit


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
    assert released["runs"] == {**ACTION["runs"], "image": image}
    assert {k: v for k, v in released.items() if k != "runs"} == {k: v for k, v in ACTION.items() if k != "runs"}
    assert ACTION["runs"]["image"] == "Dockerfile"


def test_the_release_image_must_carry_a_digest():
    for image in ("docker://ghcr.io/acme/build-status:1.2.3", "ghcr.io/acme/build-status@sha256:" + "ab" * 32):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "sync_docs.py"), "--check", "--image", image],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 2 and "--image: expected docker://" in proc.stderr


PORTABLE_TEXT = (ROOT / "portable" / "action.yml").read_text(encoding="utf-8")
PORTABLE = yaml.safe_load(PORTABLE_TEXT)


def test_portable_action_is_generated_and_composite():
    assert PORTABLE_TEXT.startswith(
        "# Generated from the input catalogue (src/build_status/config/) by scripts/sync_docs.py"
    )
    assert PORTABLE["name"] == "Bitbucket Build Status (portable)"
    assert PORTABLE["runs"]["using"] == "composite"
    assert [step["id"] for step in PORTABLE["runs"]["steps"]] == ["setup", "run"]
    assert all(step["shell"] == "bash" for step in PORTABLE["runs"]["steps"])


def test_portable_inputs_and_outputs_equal_action_yml():
    assert list(PORTABLE["inputs"]) == list(ACTION["inputs"])
    assert PORTABLE["inputs"] == ACTION["inputs"]  # descriptions, defaults, required: all of it
    assert list(PORTABLE["outputs"]) == list(ACTION["outputs"])
    for name, output in PORTABLE["outputs"].items():
        assert output == {**ACTION["outputs"][name], "value": f"${{{{ steps.run.outputs.{name} }}}}"}


def test_portable_run_step_maps_every_input_and_nothing_else():
    setup, run = PORTABLE["runs"]["steps"]
    mapped = {name: value for name, value in run["env"].items() if name.startswith("INPUT_")}
    assert mapped == {item.env_names[1]: f"${{{{ inputs.{item.name} }}}}" for item in INPUTS}
    assert set(run["env"]) - set(mapped) == {"BUILD_STATUS_PYTHON", "BUILD_STATUS_DEPS"}
    assert run["run"] == '"$BUILD_STATUS_PYTHON" -I -X utf8 "$GITHUB_ACTION_PATH/run.py" "$BUILD_STATUS_DEPS"'
    # No input reaches the setup step, no script is traced, and no expression is pasted into a script.
    assert "env" not in setup
    for step in (setup, run):
        assert "${{" not in step["run"]
        assert "set -x" not in step["run"] and "xtrace" not in step["run"]


def test_portable_action_passes_the_github_actions_schema():
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-actions",
            str(ROOT / "portable" / "action.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sync_docs_check_fails_when_portable_action_is_stale(tmp_path, capsys):
    sync_docs = _sync_docs()
    for name in ("action.yml", "README.md", "portable/action.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    assert sync_docs.main(["--check"], root=tmp_path) == 0
    stale = (tmp_path / "portable" / "action.yml").read_text(encoding="utf-8").replace("-I -X utf8", "-X utf8")
    (tmp_path / "portable" / "action.yml").write_text(stale, encoding="utf-8")
    assert sync_docs.main(["--check"], root=tmp_path) == 1
    assert "out of date: portable/action.yml;" in capsys.readouterr().err
    assert sync_docs.main([], root=tmp_path) == 0  # rewrites it
    assert (tmp_path / "portable" / "action.yml").read_text(encoding="utf-8") == PORTABLE_TEXT
    (tmp_path / "portable" / "action.yml").unlink()
    assert sync_docs.main(["--check"], root=tmp_path) == 1
