"""The self-contained HTML overview page, and helpers emulations use for their sections."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

#: Badge colour class of each build state.
STATE_COLOURS = {
    "SUCCESSFUL": "green",
    "FAILED": "red",
    "INPROGRESS": "blue",
    "CANCELLED": "grey",
    "UNKNOWN": "grey",
    "STOPPED": "grey",
}

#: A strict policy: no scripts, no external anything; only the inline style sheet.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;color:#172b4d;background:#f4f5f7}
header{background:#0052cc;color:#fff;padding:12px 24px}
header h1{margin:0;font-size:20px}
header a{color:#fff}
main{padding:16px 24px}
section{background:#fff;border-radius:4px;box-shadow:0 1px 2px rgba(9,30,66,.25);margin:0 0 16px;padding:12px 16px}
h2{font-size:17px;margin:4px 0 12px}
h3{font-size:14px;margin:16px 0 6px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #dfe1e6;vertical-align:top}
th{color:#5e6c84;font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.badge{display:inline-block;border-radius:3px;padding:1px 6px;font-size:11px;font-weight:700;color:#fff}
.green{background:#00875a}
.red{background:#de350b}
.blue{background:#0052cc}
.grey{background:#6b778c}
.tally{font-size:13px;color:#42526e}
.muted{color:#6b778c}
""".strip()


def esc(value: object) -> str:
    """HTML-escape any value (quotes too, so it is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def is_web_url(url: object) -> bool:
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def link(url: object, text: object) -> str:
    """``text`` linked to ``url`` when it is an http(s) URL, else just the escaped text."""
    if is_web_url(url):
        return f'<a href="{esc(str(url).strip())}" rel="noopener noreferrer nofollow">{esc(text)}</a>'
    return esc(text)


def badge(state: object) -> str:
    colour = STATE_COLOURS.get(str(state), "grey")
    return f'<span class="badge {colour}">{esc(state)}</span>'


def render_page(title: str, sections: list[tuple[str, str]], links: list[tuple[str, str]]) -> str:
    """A whole HTML document: ``sections`` are (heading, trusted HTML fragment); ``links`` (href, text)."""
    nav = " · ".join(f'<a href="{esc(href)}">{esc(text)}</a>' for href, text in links)
    body = "\n".join(
        f'<section id="{esc(heading.lower().replace(" ", "-"))}"><h2>{esc(heading)}</h2>\n{fragment}\n</section>'
        for heading, fragment in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body><header><h1>{esc(title)}</h1><nav>{nav}</nav></header>\n<main>\n{body}\n</main></body></html>\n"
    )
