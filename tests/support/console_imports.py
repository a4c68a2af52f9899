"""Posting files to the console's import pages as a browser does (multipart/form-data), and sending back the
confirmation form that the dry-run report renders."""

from __future__ import annotations

import html
import re

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
APPLY_FORM = re.compile(r'<form[^>]*id="form-apply"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def csrf_of(client: httpx.Client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found
    return found.group(1)


def upload(client: httpx.Client, kind: str, name: str, data: bytes | str, *, content_type: str = "text/csv",
           token: str | None = None, **fields: str) -> httpx.Response:
    """The dry run: the import page's upload form with a file."""
    body = data.encode() if isinstance(data, str) else data
    token = token if token is not None else csrf_of(client, f"/onboarding/imports/{kind}")
    return client.post(f"/onboarding/imports/{kind}", data={"csrf": token, **fields},
                       files={"file": (name, body, content_type)})


def confirmation(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the report's confirmation form (the file as checked, its SHA-256...)."""
    found = APPLY_FORM.search(page.text)
    assert found, "the report offers no confirmation"
    return {name: html.unescape(value) for name, value in HIDDEN.findall(found.group(1))}


def confirm(client: httpx.Client, kind: str, page: httpx.Response) -> httpx.Response:
    """Send the confirmation back as the browser does: multipart, without a file input."""
    fields = confirmation(page)
    return client.post(f"/onboarding/imports/{kind}", files={k: (None, v) for k, v in fields.items()})


def dry_run_then_apply(client: httpx.Client, kind: str, name: str, data: bytes | str, **fields: str) -> httpx.Response:
    checked = upload(client, kind, name, data, **fields)
    assert checked.status_code == 200, checked.text
    return confirm(client, kind, checked)
