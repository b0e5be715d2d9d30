"""Reading what Coveralls clients send into plain dicts.

A job upload (``POST /api/v1/jobs``) comes as multipart/form-data with a ``json_file`` part (coveralls-python,
coveralls-ruby; the official coverage-reporter gzips that part), as a form field ``json`` (node-coveralls), or
as a JSON body: the job itself or ``{"json": "<the job as a JSON string>"}`` (older coverage-reporter).

The parallel build webhook (``POST /webhook``) comes as JSON (``{"payload": {...}}``, maybe with
``repo_token`` and ``carryforward``) or as the form the Coveralls documentation shows with curl
(``payload[build_num]=1&payload[status]=done``).
"""

from __future__ import annotations

import json
import re
import zlib
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any, Optional
from urllib.parse import parse_qsl

from .messages import Request

#: A gzipped ``json_file`` may not inflate beyond this many bytes.
MAX_REPORT = 64 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"

_NESTED_FIELD = re.compile(r"([^\[\]]+)\[([^\[\]]*)\]")


class PayloadError(ValueError):
    """The body is not something a Coveralls client would send; the message says what is wrong."""


# -- multipart ---------------------------------------------------------------------------------
def _header_param(header: str, value: str, param: str) -> Optional[str]:
    message = Message()
    message[header] = value
    found = message.get_param(param, header=header)
    if found is None:
        return None
    return str(collapse_rfc2231_value(found))


def multipart_fields(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by field name (first one wins), as raw bytes."""
    boundary = _header_param("Content-Type", content_type, "boundary")
    if not boundary:
        raise PayloadError("The multipart/form-data body has no boundary in its Content-Type.")
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    if len(pieces) < 3:
        raise PayloadError("The multipart/form-data body has no parts.")
    fields: dict[str, bytes] = {}
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        _, _, piece = piece.partition(b"\n")  # the rest of the delimiter line
        head, separator, content = piece.partition(b"\r\n\r\n")
        if not separator:
            head, separator, content = piece.partition(b"\n\n")
        if not separator:
            raise PayloadError("A part of the multipart/form-data body has no blank line after its headers.")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        name = None
        for line in head.decode("latin-1").splitlines():
            header, colon, value = line.partition(":")
            if colon and header.strip().lower() == "content-disposition":
                name = _header_param("Content-Disposition", value.strip(), "name")
        if name is not None:
            fields.setdefault(name, content)
    return fields


# -- job uploads -------------------------------------------------------------------------------
def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(data, MAX_REPORT)
    except zlib.error as exc:
        raise PayloadError(f"The gzipped json_file could not be inflated: {exc}.") from None
    if inflater.unconsumed_tail:
        raise PayloadError(f"The gzipped json_file inflates to more than {MAX_REPORT} bytes.")
    return inflated


def _json_document(data: bytes | str, what: str) -> Any:
    if isinstance(data, bytes):
        if data.startswith(GZIP_MAGIC):
            data = _inflate(data)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError(f"The {what} is not UTF-8.") from None
    try:
        return json.loads(data)
    except ValueError as exc:
        raise PayloadError(f"The {what} is not valid JSON: {exc}.") from None


def read_upload(request: Request) -> dict[str, Any]:
    """The job document of a ``POST /api/v1/jobs``; :class:`PayloadError` if there is none."""
    media = request.content_type
    if media == MULTIPART_TYPE:
        fields = multipart_fields(request.headers.get("Content-Type", ""), request.body)
        for name in ("json_file", "json"):
            if name in fields:
                document = _json_document(fields[name], f"{name} part")
                break
        else:
            raise PayloadError("The multipart/form-data body has no json_file part.")
    elif media == FORM_TYPE:
        form = dict(parse_qsl(request.text(), keep_blank_values=True))
        if "json" not in form:
            raise PayloadError("The form has no json field.")
        document = _json_document(form["json"], "json field")
    else:
        if not request.body.strip():
            raise PayloadError("The request body is empty; send the job as a multipart json_file or as JSON.")
        document = _json_document(request.body, "request body")
        if isinstance(document, dict) and "json" in document and "source_files" not in document:
            inner = document["json"]
            document = _json_document(inner, "json field") if isinstance(inner, str) else inner
    if not isinstance(document, dict):
        raise PayloadError("The job must be a JSON object.")
    return document


def text_field(value: object) -> Optional[str]:
    """A scalar field as text (numbers too, as clients differ); None when absent or empty."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    text = str(value)
    return text if text else None


def is_true(value: object) -> bool:
    return value is True or (isinstance(value, (str, int)) and str(value).strip().lower() in ("true", "1"))


def _is_count(hits: object) -> bool:
    return isinstance(hits, (int, float)) and not isinstance(hits, bool)


def _mask(bits: list[bool]) -> int:
    """Bit ``i`` set when ``bits[i]``: line ``i + 1`` (built from text, so long files cost linear time)."""
    return int("".join("1" if bit else "0" for bit in reversed(bits)) or "0", 2)


def count_lines(mask: int) -> int:
    return bin(mask).count("1")


def source_lines(source_files: list) -> dict[str, tuple[int, int]]:
    """Per file name, (relevant lines, covered lines) as bit masks (bit ``i`` = line ``i + 1``) from the
    ``coverage`` arrays: null = not relevant, 0 = missed, > 0 = hit.  A name given twice is merged line by
    line; a file without a string name is kept apart (never merged with another)."""
    lines: dict[str, tuple[int, int]] = {}
    for index, source_file in enumerate(source_files):
        coverage = source_file.get("coverage") if isinstance(source_file, dict) else None
        if not isinstance(coverage, list):
            continue
        name = source_file.get("name")
        key = name if isinstance(name, str) else f"\0unnamed file {index}"
        relevant = _mask([_is_count(hits) for hits in coverage])
        covered = _mask([_is_count(hits) and hits > 0 for hits in coverage])
        before = lines.get(key, (0, 0))
        lines[key] = (before[0] | relevant, before[1] | covered)
    return lines


def _text(mapping: object, name: str) -> Optional[str]:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) and value else None


def read_job(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """What the emulation keeps of a job (never the repo token), and its lines (see :func:`source_lines`)."""
    source_files = document.get("source_files")
    if source_files is None:
        source_files = []
    if not isinstance(source_files, list):
        raise PayloadError("source_files must be a list of source files.")
    lines = source_lines(source_files)
    relevant = sum(count_lines(masks[0]) for masks in lines.values())
    covered = sum(count_lines(masks[1]) for masks in lines.values())
    git = document.get("git")
    head = git.get("head") if isinstance(git, dict) else None
    summary = {
        "service_name": text_field(document.get("service_name")),
        "service_number": text_field(document.get("service_number")),
        "service_job_id": text_field(document.get("service_job_id")),
        "flag_name": text_field(document.get("flag_name")),
        "parallel": is_true(document.get("parallel")),
        "source_files": len(source_files),
        "relevant_lines": relevant,
        "covered_lines": covered,
        "covered_percent": round(100.0 * covered / relevant, 2) if relevant else None,
        "commit": _text(head, "id"),
        "branch": _text(git, "branch"),
        "commit_message": _text(head, "message"),
        "committer_name": _text(head, "committer_name") or _text(head, "author_name"),
        "committer_email": _text(head, "committer_email") or _text(head, "author_email"),
        "repo_name": _text(document, "repo_name"),
    }
    return summary, lines


def job_summary(document: dict[str, Any]) -> dict[str, Any]:
    """What the emulation keeps of a job (never the repo token)."""
    return read_job(document)[0]


# -- the parallel build webhook ----------------------------------------------------------------
def read_webhook(request: Request) -> dict[str, Any]:
    """The webhook body as a dict (``{}`` when empty); :class:`PayloadError` if it is neither a JSON
    object nor a form."""
    if not request.body.strip():
        return {}
    if request.content_type == FORM_TYPE:
        return _nested_form(request.text())
    document = _json_document(request.body, "webhook body")
    if not isinstance(document, dict):
        raise PayloadError('The webhook body must be a JSON object: {"payload":{"build_num":"…","status":"done"}}.')
    return document


def _nested_form(text: str) -> dict[str, Any]:
    """``payload[build_num]=1&payload[status]=done&repo_token=t`` → nested dicts."""
    result: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        match = _NESTED_FIELD.fullmatch(name)
        if match is None:
            result.setdefault(name, value)
            continue
        inner = result.setdefault(match.group(1), {})
        if isinstance(inner, dict):
            inner.setdefault(match.group(2), value)
    return result


def flag_list(value: object) -> list[str]:
    """Carry-forward flags from ``"a,b"`` or ``["a", "b"]``: stripped, without blanks or repeats."""
    if isinstance(value, str):
        items: list = value.split(",")
    elif isinstance(value, list):
        items = [item for item in value if isinstance(item, str)]
    else:
        items = []
    flags: list[str] = []
    for item in items:
        flag = item.strip()
        if flag and flag not in flags:
            flags.append(flag)
    return flags
