"""The webapp.io section of the overview page, and the ``/webappio/jobs/<repo>/<id>`` run page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as url_quote

from .page import esc, render_page
from .webappio_query import FAILED_STATUSES, RUNNING_STATUSES

RUNNER_COLOURS = {"SUCCESS": "green", "FAILURE": "red", "ERROR": "red", "RUNNING": "blue", "NEW": "blue"}


def status_colour(calculated: object) -> str:
    if calculated in RUNNING_STATUSES:
        return "blue"
    if calculated in FAILED_STATUSES:
        return "red"
    return "green" if calculated == "SUCCEEDED" else "grey"


def status_badge(calculated: object) -> str:
    return f'<span class="badge {status_colour(calculated)}">{esc(calculated)}</span>'


def runner_badge(status: object) -> str:
    return f'<span class="badge {RUNNER_COLOURS.get(str(status), "grey")}">{esc(status)}</span>'


def page_path(job: dict[str, Any]) -> str:
    return f"/webappio/jobs/{url_quote(str(job['repository_name']), safe='')}/{int(job['id'])}"


def _progress(job: dict[str, Any]) -> str:
    """``step 2 of 4, 3 polls`` (and how many more searches it is hidden from)."""
    text = f"step {int(job['step']) + 1} of {len(job['script'])}, {int(job['polls'])} poll(s)"
    if job["hidden_searches"]:
        text += f", hidden for {int(job['hidden_searches'])} more search(es)"
    return esc(text)


def _runners(job: dict[str, Any]) -> str:
    if not job["runners"]:
        return '<span class="muted">none</span>'
    return " ".join(f"<code>{esc(runner['id'])}</code> {runner_badge(runner['status'])}" for runner in job["runners"])


def _row(job: dict[str, Any]) -> str:
    href = esc(page_path(job))
    return (
        "<tr>"
        f'<td><a href="{href}">{esc(job["repository_name"])} #{int(job["id"])}</a></td>'
        f'<td>{status_badge(job["calculated_status"])} <span class="muted">{esc(job["status"])}</span></td>'
        f"<td><code>{esc(job['branch'])}</code></td>"
        f"<td><code>{esc(str(job['commit_sha'])[:12])}</code></td>"
        f"<td>{esc(job['title'])}{' — ' + esc(job['author']) if job['author'] else ''}</td>"
        f"<td>{_progress(job)}</td>"
        f"<td>{_runners(job)}</td>"
        f"<td>{esc(job['run_start_reason'])}</td>"
        "</tr>"
    )


def render(jobs: list[dict[str, Any]], config: dict[str, Any]) -> str:
    """The overview page's section: every job, newest first (entries of the state view, no tokens)."""
    repositories = ", ".join(f"<code>{esc(name)}</code>" for name in config["repositories"]) or "none"
    parts = [
        '<p class="muted">API base: <code>/webappio/api/v1</code> (search: <code>GET /run/&lt;repo&gt;/search</code>, '
        "start: <code>POST /run/&lt;repo&gt;</code>, runners: <code>GET /runners/&lt;repo&gt;/&lt;uuid&gt;</code>, "
        f"with <code>?token=</code>); {int(config['tokens'])} token(s) accepted; repositories: {repositories}.</p>"
    ]
    if not jobs:
        parts.append('<p class="muted">No runs yet.</p>')
        return "\n".join(parts)
    parts.append(
        "<table><thead><tr><th>Run</th><th>Status</th><th>Branch</th><th>Commit</th><th>Title</th>"
        "<th>Progress</th><th>Runners</th><th>Started by</th></tr></thead><tbody>"
        + "".join(_row(job) for job in jobs)
        + "</tbody></table>"
    )
    return "\n".join(parts)


def _table(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{esc(name)}</th><td>{value}</td></tr>" for name, value in rows) + "</table>"


def job_page(job: dict[str, Any]) -> str:
    """The run page of one job (an entry of the state view)."""
    rows = [
        ("Repository", f"<code>{esc(job['repository_name'])}</code>"),
        ("Id", str(int(job["id"]))),
        ("UUID", f"<code>{esc(job['uuid'])}</code>"),
        ("Calculated status", status_badge(job["calculated_status"])),
        ("Status", esc(job["status"])),
        ("Status changed", esc(job["status_change_time"])),
        ("Script", esc(" → ".join(job["script"]))),
        ("Progress", _progress(job)),
        ("Branch", f"<code>{esc(job['branch'])}</code>"),
        ("Merge branch", f"<code>{esc(job['merge_branch'])}</code>"),
        ("Commit", f"<code>{esc(job['commit_sha'])}</code>"),
        ("Title", esc(job["title"])),
        ("Author", esc(job["author"])),
        ("Body", f"<pre>{esc(job['body'])}</pre>" if job["body"] else ""),
        ("Started by", esc(job["run_start_reason"])),
    ]
    request = job.get("request")
    if request is not None:
        rows.extend(
            [
                ("Ref", f"<code>{esc(request['ref'])}</code>"),
                ("Accept buttons", "yes" if request["accept_buttons"] else "no"),
                ("API_EXTRA", f"<code>{esc(request['extra'])}</code>"),
                ("Skip no further than", f"<code>{esc(request['skip_no_further_than'])}</code>"),
            ]
        )
    runners = (
        "<table><thead><tr><th>#</th><th>Runner</th><th>Layerfile</th><th>Status</th><th>Retried</th></tr></thead>"
        "<tbody>"
        + "".join(
            f"<tr><td>{int(runner['runner_index'])}</td><td><code>{esc(runner['id'])}</code></td>"
            f"<td><code>{esc(runner['layerfile_relative_path'])}</code></td><td>{runner_badge(runner['status'])}</td>"
            f"<td>{'yes' if runner['was_retried'] else 'no'}</td></tr>"
            for runner in job["runners"]
        )
        + "</tbody></table>"
        if job["runners"]
        else '<p class="muted">No runners.</p>'
    )
    title = f"webapp.io run {job['repository_name']} #{int(job['id'])}"
    return render_page(title, [("Run", _table(rows)), ("Runners", runners)], [("/", "sandbox overview")])
