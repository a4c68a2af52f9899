"""Files posted to the console (imports): a multipart/form-data body read with a size limit, its fields and files,
and the CSRF check every form passes. Parsed by the standard library's MIME parser (`email`), which the Python
documentation names as the replacement of the old `cgi` form reader; no other dependency is needed for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Annotated

from fastapi import Depends, Request

from omnistock.errors import Invalid, OmnistockError
from omnistock.web.context import CSRF_FIELD, CSRF_HEADER, CsrfRefused, Form, Visitor, same_token, visitor

# A merchant's catalogue of 100,000 rows is a few MB as CSV or XLSX; the limit keeps one request's memory bounded.
MAX_UPLOAD = 20 * 1024 * 1024


class TooLarge(OmnistockError):
    status = 413
    title = "Payload too large"


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Upload:
    """A multipart POST from a signed-in visitor whose CSRF token matched: its text fields and its files."""

    visitor: Visitor
    form: Form
    files: dict[str, UploadedFile] = field(default_factory=dict)


def _text(raw: str | None) -> str:
    """A header parameter as the browser wrote it: browsers send UTF-8 file names unescaped, which the MIME parser
    keeps as surrogate escapes."""
    if not raw:
        return ""
    try:
        return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return raw


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD:
        raise TooLarge(f"a file sent to the console may be at most {MAX_UPLOAD // (1024 * 1024)} MB", field="file")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise TooLarge(f"a file sent to the console may be at most {MAX_UPLOAD // (1024 * 1024)} MB",
                           field="file")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_multipart(content_type: str, body: bytes) -> tuple[Form, dict[str, UploadedFile]]:
    """The fields (in order) and the files (by field name) of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise Invalid("the form could not be read; send it again from the console", field="body")
    pairs: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    assert isinstance(message, EmailMessage)  # what policy.HTTP makes
    for part in message.iter_parts():
        name = _text(part.get_param("name", header="content-disposition"))  # type: ignore[arg-type]
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if data:  # a file input left empty sends a part without content
                files[name] = UploadedFile(_text(filename), part.get_content_type(), data)
            continue
        try:
            pairs.append((name, data.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise Invalid("the form is not UTF-8", field=name) from exc
    return Form(pairs), files


async def read_upload(request: Request, who: Annotated[Visitor, Depends(visitor)]) -> Upload:
    """The posted form with its files; refused (403) without the session's CSRF token."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        raise Invalid("send the file with the console's upload form", field="file")
    form, files = parse_multipart(content_type, await _body(request))
    token = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not same_token(token, who.csrf):
        raise CsrfRefused()
    return Upload(who, form, files)


Uploaded = Annotated[Upload, Depends(read_upload)]
