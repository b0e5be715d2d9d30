"""Code Insights on the overview page, per commit as a pull request's Reports panel shows them (title, result
badge, data items, then the annotations: severity, path:line, message or summary), and in ``/_sandbox/state``."""

from __future__ import annotations

import datetime
from typing import Any

from .page import esc, link

RESULT_COLOURS = {"PASS": "green", "PASSED": "green", "FAIL": "red", "FAILED": "red", "PENDING": "blue"}
SEVERITY_COLOURS = {"CRITICAL": "red", "HIGH": "red", "MEDIUM": "blue", "LOW": "grey"}


def _badge(value: object, colours: dict[str, str], empty: str) -> str:
    text = empty if value is None else str(value)
    return f'<span class="badge {colours.get(text, "grey")}">{esc(text)}</span>'


def _number(value: float) -> str:
    """Bitbucket's short numbers: ``14300`` → ``14.3k``."""
    for size, suffix in ((1e9, "b"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:g}"


def _duration(millis: float) -> str:
    seconds = int(millis // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes) + [f"{seconds}s"]
    return " ".join(parts) if seconds or minutes or hours else f"{int(millis)}ms"


def data_value(item: dict[str, Any], link_text: str) -> str:
    """One data item's value as Bitbucket shows it (HTML)."""
    kind, value = item.get("type"), item.get("value")
    try:
        if kind == "BOOLEAN" or isinstance(value, bool):
            return "Yes" if value else "No"
        if kind == "DATE":
            moment = datetime.datetime.fromtimestamp(value / 1000, tz=datetime.timezone.utc)
            return esc(moment.strftime("%Y-%m-%d %H:%M UTC"))
        if kind == "DURATION":
            return esc(_duration(value))
        if kind == "LINK" and isinstance(value, dict):
            return link(value.get("href"), value.get(link_text) or value.get("href"))
        if kind == "NUMBER":
            return esc(_number(value))
        if kind == "PERCENTAGE":
            return esc(f"{value:g}%")
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    return esc(value)


def _report(report: dict[str, Any], flavour: str) -> str:
    cloud = flavour == "cloud"
    link_text, message = ("text", "summary") if cloud else ("linktext", "message")
    name = report.get("external_id") if cloud else report.get("key")
    heading = (
        f"<h4>{link(report.get('link'), report.get('title') or name)} "
        f"{_badge(report.get('result'), RESULT_COLOURS, 'NO RESULT')} "
        f'<span class="muted"><code>{esc(name)}</code>'
        + (f" · {esc(report.get('report_type'))}" if cloud and report.get("report_type") else "")
        + (f" · by {esc(report['reporter'])}" if report.get("reporter") else "")
        + "</span></h4>"
    )
    parts = [heading]
    if report.get("details"):
        parts.append(f'<p class="details">{esc(report["details"]).replace(chr(10), "<br>")}</p>')
    items = [item for item in report.get("data") or [] if isinstance(item, dict)]
    if items:
        parts.append(
            "<table><tbody>"
            + "".join(
                f"<tr><th>{esc(item.get('title'))}</th><td>{data_value(item, link_text)}</td></tr>" for item in items
            )
            + "</tbody></table>"
        )
    annotations = report.get("annotations") or []
    parts.append(f'<p class="tally">{len(annotations)} annotation{"s" * (len(annotations) != 1)}</p>')
    if annotations:
        rows = []
        for item in annotations:
            where = str(item.get("path") or "(no file)")
            if item.get("line"):
                where += f":{item['line']}"
            kind = item.get("annotation_type" if cloud else "type")
            rows.append(
                "<tr>"
                f"<td>{_badge(item.get('severity'), SEVERITY_COLOURS, '—')}</td>"
                f"<td><code>{esc(where)}</code></td>"
                f"<td>{link(item.get('link'), item.get(message))}</td>"
                f'<td class="muted">{esc(kind)}'
                + (f" · {esc(item['result'])}" if cloud and item.get("result") else "")
                + f'</td><td class="muted"><code>{esc(item.get("external_id" if cloud else "externalId"))}</code></td>'
                "</tr>"
            )
        parts.append(
            "<table><thead><tr><th>Severity</th><th>Where</th><th>Message</th><th>Type</th><th>External id</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
    return '<div class="report">' + "".join(parts) + "</div>"


def _render(groups: list[tuple[str, list[dict[str, Any]]]], flavour: str, intro: str) -> str:
    parts = [f'<h3 class="insights">Code Insights ({esc(intro)})</h3>']
    if not groups:
        parts.append('<p class="muted">No reports yet.</p>')
    for heading, reports in groups:
        parts.append(f"<h3>Reports · {esc(heading)}</h3>" + "".join(_report(report, flavour) for report in reports))
    return "\n" + "\n".join(parts)


# -- Data Center ---------------------------------------------------------------------------------
def dc_snapshot(commits: dict[tuple, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """``[{project, repository, commit, reports: [report + creator + annotations]}]``, newest change first."""
    from .insights_dc import annotation_view, report_view

    result = []
    for reports in commits.values():
        first = reports[0]
        result.append(
            {
                "project": first["project"],
                "repository": first["repository"],
                "commit": first["commit"],
                "reports": [
                    {
                        **report_view(report),
                        "annotations": [annotation_view(item) for item in report["annotations"]],
                    }
                    for report in reports
                ],
            }
        )
    return result


def render_dc(commits: dict[tuple, list[dict[str, Any]]]) -> str:
    groups = [
        (f"{entry['project']}/{entry['repository']} @ {entry['commit']}", entry["reports"])
        for entry in dc_snapshot(commits)
    ]
    return _render(groups, "dc", "Data Center, /rest/insights")


# -- Cloud ---------------------------------------------------------------------------------------
def cloud_snapshot(commits: dict[tuple, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """``[{repository: "workspace/slug", commit, reports: [report + annotations]}]``, newest change first."""
    from .insights_cloud import annotation_view, report_view

    return [
        {
            "repository": reports[0]["repository"],
            "commit": reports[0]["commit"],
            "reports": [
                {**report_view(report), "annotations": [annotation_view(item) for item in report["annotations"]]}
                for report in reports
            ],
        }
        for reports in commits.values()
    ]


def render_cloud(commits: dict[tuple, list[dict[str, Any]]]) -> str:
    groups = [(f"{entry['repository']} @ {entry['commit']}", entry["reports"]) for entry in cloud_snapshot(commits)]
    return _render(groups, "cloud", "Cloud, /2.0/…/commit/<sha>/reports")
