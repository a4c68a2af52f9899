"""/api/v1/kb: SOP articles and reply templates, with full-text search in Chinese and English."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from omnistock.api.deps import DB, Reader, run
from omnistock.care import kb
from omnistock.care.routes.common import CaseWriter, zone_of
from omnistock.care.schemas import ArticleIn
from omnistock.care.templates import all_templates
from omnistock.care.views import when

router = APIRouter(prefix="/api/v1/kb", tags=["care"])


def _spec(body: ArticleIn) -> kb.ArticleSpec:
    return kb.ArticleSpec(kind=body.kind, title=body.title, body=body.body, locale=body.locale,
                          category=body.category, key=body.key, subject=body.subject, tags=tuple(body.tags))


@router.post("", status_code=201)
def create_article(body: ArticleIn, principal: CaseWriter, db: DB, request: Request) -> dict[str, Any]:
    zone = zone_of(request)
    return run(db, lambda s: kb.article_view(kb.create_article(s, _spec(body), principal.name),
                                             lambda dt: when(dt, zone)))


@router.get("")
def list_or_search(principal: Reader, db: DB, request: Request, q: str | None = None, kind: str | None = None,
                   category: str | None = None, locale: str | None = None, limit: int = 20,
                   cursor: str | None = None) -> dict[str, Any]:
    """With `q`: the articles containing every word (or run of Chinese characters) of q, best first.
    Without: every article, newest first."""
    zone = zone_of(request)
    with db.reading() as session:
        if q is not None:
            found = kb.search(session, q, kind=kind, category=category, limit=limit)
            return {"items": [kb.article_view(a, lambda dt: when(dt, zone)) for a in found], "total": len(found),
                    "next": None}
        page = kb.list_articles(session, kind=kind, category=category, locale=locale, limit=limit, cursor=cursor)
        return {"items": [kb.article_view(a, lambda dt: when(dt, zone)) for a in page.items], "total": page.total,
                "next": page.next}


@router.get("/templates")
def templates(principal: Reader, db: DB) -> dict[str, Any]:
    """Every reply template in effect: the merchant's own and the built-in ones they did not replace."""
    with db.reading() as session:
        items = [{"key": t.key, "locale": t.locale, "subject": t.subject, "body": t.body, "built_in": t.built_in}
                 for t in all_templates(session)]
    return {"items": items, "total": len(items), "next": None}


@router.get("/{article_id}")
def read_article(article_id: int, principal: Reader, db: DB, request: Request) -> dict[str, Any]:
    zone = zone_of(request)
    with db.reading() as session:
        return kb.article_view(kb.get_article(session, article_id), lambda dt: when(dt, zone))


@router.put("/{article_id}")
def replace_article(article_id: int, body: ArticleIn, principal: CaseWriter, db: DB,
                    request: Request) -> dict[str, Any]:
    zone = zone_of(request)

    def action(session: Session) -> dict[str, Any]:
        return kb.article_view(kb.replace_article(session, article_id, _spec(body)), lambda dt: when(dt, zone))
    return run(db, action)


@router.delete("/{article_id}", status_code=204)
def delete_article(article_id: int, principal: CaseWriter, db: DB) -> Response:
    run(db, lambda s: kb.delete_article(s, article_id))
    return Response(status_code=204)
