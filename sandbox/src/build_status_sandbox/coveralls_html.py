"""The Coveralls section of the overview page, and the ``/builds/<id>`` and ``/jobs/<id>`` pages."""

from __future__ import annotations

import datetime
from typing import Any

from .messages import Response
from .page import CONTENT_SECURITY_POLICY, esc, render_page

PAGE_HEADERS = {
    "Content-Type": "text/html;charset=UTF-8",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
NO_FLAG = "(no flag)"


def html_response(page: str, status: int = 200) -> Response:
    return Response(status, page, dict(PAGE_HEADERS))


def _time(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def state_badge(build: dict[str, Any]) -> str:
    return '<span class="badge green">closed</span>' if build["closed"] else '<span class="badge blue">open</span>'


def _percent(value: object) -> str:
    return "" if value is None else f"{value}%"


def coverage(build: dict[str, Any]) -> str:
    """The build's coverage and its change, once closed (escaped)."""
    if build.get("covered_percent") is None:
        return '<span class="muted">when closed</span>'
    return esc(f"{build['covered_percent']:.2f}% ({build['coverage_change']:+.3f})")


def _lines(build: dict[str, Any]) -> str:
    if build.get("covered_percent") is None:
        return ""
    return esc(f"{build['covered_lines']} of {build['relevant_lines']} relevant lines covered")


def _flags(build: dict[str, Any]) -> str:
    uploaded = [job.get("flag_name") or NO_FLAG for job in build["jobs"]]
    carried = [f"{item['flag_name']} (carried forward)" for item in build["carried"]]
    return esc(", ".join(uploaded + carried))


def _job_count(build: dict[str, Any]) -> str:
    """The count the webhook answered (``jobs``), and what it is made of."""
    count = int(build["job_count"])
    if not build["carried"]:
        return str(count)
    return f"{count} ({len(build['jobs'])} uploaded, {len(build['carried'])} carried forward)"


def _carried(build: dict[str, Any]) -> str:
    carried = {item["flag_name"] for item in build["carried"]}
    return esc(", ".join(flag if flag in carried else f"{flag} (uploaded)" for flag in build["carryforward"]) or "none")


def _build_row(build: dict[str, Any]) -> str:
    return (
        "<tr>"
        f'<td><a href="/builds/{int(build["id"])}">#{int(build["id"])}</a></td>'
        f"<td><code>{esc(build['number'] if build['number'] is not None else '(none)')}</code></td>"
        f"<td>{state_badge(build)}</td>"
        f"<td>{coverage(build)}</td>"
        f"<td>{int(build['job_count'])}: {_flags(build)}</td>"
        f"<td>{_carried(build)}</td>"
        f"<td>{int(build['closes'])}</td>"
        f"<td>{esc(_time(build['created_at']))}</td>"
        "</tr>"
    )


def render(builds: list[dict[str, Any]], config: dict[str, Any]) -> str:
    """The overview page's section: every build, newest first."""
    parts = [
        '<p class="muted">Uploads: <code>POST /api/v1/jobs</code>; parallel build webhook: '
        f"<code>POST /webhook</code>; {int(config['repo_tokens'])} repo token(s) accepted.</p>"
    ]
    if not builds:
        parts.append('<p class="muted">No builds yet.</p>')
        return "\n".join(parts)
    parts.append(
        "<table><thead><tr><th>Build</th><th>CI build number</th><th>State</th><th>Coverage (change)</th>"
        "<th>Jobs</th><th>Carried forward</th><th>Webhook calls</th><th>Created</th></tr></thead><tbody>"
        + "".join(_build_row(build) for build in builds)
        + "</tbody></table>"
    )
    return "\n".join(parts)


def _job_row(job: dict[str, Any]) -> str:
    return (
        "<tr>"
        f'<td><a href="/jobs/{int(job["id"])}">#{int(job["id"])}</a></td>'
        f"<td>{int(job['number'])}</td>"
        f"<td><code>{esc(job.get('flag_name') or NO_FLAG)}</code></td>"
        f"<td>{esc(job.get('service_name'))}</td>"
        f"<td>{esc(job.get('service_job_id'))}</td>"
        f"<td>{int(job['source_files'])}</td>"
        f"<td>{esc(_percent(job.get('covered_percent')))}</td>"
        f"<td><code>{esc(job.get('commit'))}</code></td>"
        "</tr>"
    )


def _table(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{esc(name)}</th><td>{value}</td></tr>" for name, value in rows) + "</table>"


def build_page(build: dict[str, Any]) -> str:
    summary = _table(
        [
            ("CI build number", f"<code>{esc(build['number'])}</code>"),
            ("State", state_badge(build)),
            ("Coverage (change)", coverage(build)),
            ("Lines", _lines(build)),
            ("Commit", f"<code>{esc(build.get('commit_sha'))}</code>"),
            ("Branch", f"<code>{esc(build.get('branch'))}</code>"),
            ("As JSON", f'<a href="/builds/{int(build["id"])}.json">/builds/{int(build["id"])}.json</a>'),
            ("Jobs", _job_count(build)),
            ("Carried forward", _carried(build)),
            ("Webhook calls", str(int(build["closes"]))),
            ("Created", esc(_time(build["created_at"]))),
            ("Closed", esc(_time(build["closed_at"]))),
        ]
    )
    jobs = (
        "<table><thead><tr><th>Job</th><th>#</th><th>Flag</th><th>Service</th><th>Service job id</th>"
        "<th>Source files</th><th>Covered</th><th>Commit</th></tr></thead><tbody>"
        + "".join(_job_row(job) for job in build["jobs"])
        + "</tbody></table>"
    )
    carried = "".join(
        f"<li><code>{esc(item['flag_name'])}</code> from build "
        f"{esc(item['from_build'] if item['from_build'] is not None else '(none earlier)')}</li>"
        for item in build["carried"]
    )
    sections = [("Build", summary), ("Jobs", jobs)]
    if carried:
        sections.append(("Carried-forward flags", f"<ul>{carried}</ul>"))
    return render_page(f"Coveralls build #{int(build['id'])}", sections, [("/", "sandbox overview")])


def job_page(job: dict[str, Any]) -> str:
    summary = _table(
        [
            ("Build", f'<a href="/builds/{int(job["build_id"])}">#{int(job["build_id"])}</a>'),
            ("CI build number", f"<code>{esc(job.get('build_num'))}</code>"),
            ("Job number", str(int(job["number"]))),
            ("Flag", f"<code>{esc(job.get('flag_name') or NO_FLAG)}</code>"),
            ("Parallel", "yes" if job.get("parallel") else "no"),
            ("Service", esc(job.get("service_name"))),
            ("Service job id", esc(job.get("service_job_id"))),
            ("Source files", str(int(job["source_files"]))),
            ("Covered", esc(_percent(job.get("covered_percent")))),
            ("Commit", f"<code>{esc(job.get('commit'))}</code>"),
            ("Received", esc(_time(job.get("created_at")))),
        ]
    )
    return render_page(f"Coveralls job #{int(job['id'])}", [("Job", summary)], [("/", "sandbox overview")])
