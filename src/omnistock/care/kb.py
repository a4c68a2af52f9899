"""The knowledge base: SOP articles and reply templates, full-text search (SQLite FTS5 table kept in sync
by triggers; PostgreSQL to_tsvector('simple', ...) under a GIN index), and suggestions for a case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omnistock.care.categories import check_category
from omnistock.care.flow import check_locale
from omnistock.care.search_text import fts5_match, index_text, query_terms, tsquery
from omnistock.care.tables import CareArticle, CareCase
from omnistock.care.templates import check_syntax
from omnistock.errors import Conflict, Invalid, NotFound
from omnistock.store.paging import Page, check_limit, page_query
from omnistock.store.types import utcnow

KINDS = ("sop", "template")
FTS_TABLE = "care_kb_fts"


@dataclass(frozen=True)
class ArticleSpec:
    kind: str
    title: str
    body: str
    locale: str = "zh"
    category: str | None = None
    key: str | None = None
    subject: str | None = None
    tags: Sequence[str] = ()


def _check(session: Session, spec: ArticleSpec) -> None:
    if spec.kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    check_locale(spec.locale)
    if not spec.title.strip():
        raise Invalid("title cannot be empty", field="title")
    if not spec.body.strip():
        raise Invalid("body cannot be empty", field="body")
    if spec.category is not None:
        check_category(session, spec.category)
    if spec.kind == "template":
        if not spec.key:
            raise Invalid("a template needs a key (the name rules and bulk messages use)", field="key")
        check_syntax(spec.body, field="body")
        check_syntax(spec.subject or spec.title, field="subject")
    elif spec.key is not None:
        raise Invalid("only a template has a key", field="key")


def _fill(row: CareArticle, spec: ArticleSpec, now: datetime) -> None:
    row.kind, row.key, row.locale, row.category = spec.kind, spec.key, spec.locale, spec.category
    row.title, row.subject, row.body = spec.title.strip(), spec.subject, spec.body
    row.tags = list(spec.tags)
    row.search_text = index_text(spec.title, spec.subject, spec.body, " ".join(spec.tags))
    row.updated_at = now


def create_article(session: Session, spec: ArticleSpec, actor: str) -> CareArticle:
    _check(session, spec)
    now = utcnow()
    row = CareArticle(created_by=actor, created_at=now)
    _fill(row, spec, now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"a template {spec.key!r} in {spec.locale!r} exists already", field="key") from None
    return row


def get_article(session: Session, article_id: int) -> CareArticle:
    row = session.get(CareArticle, article_id)
    if row is None:
        raise NotFound(f"no article {article_id}", field="id")
    return row


def replace_article(session: Session, article_id: int, spec: ArticleSpec) -> CareArticle:
    row = get_article(session, article_id)
    _check(session, spec)
    _fill(row, spec, utcnow())
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"a template {spec.key!r} in {spec.locale!r} exists already", field="key") from None
    return row


def delete_article(session: Session, article_id: int) -> None:
    session.delete(get_article(session, article_id))
    session.flush()


def list_articles(session: Session, *, kind: str | None = None, category: str | None = None,
                  locale: str | None = None, limit: int = 50, cursor: str | None = None) -> Page[CareArticle]:
    stmt = select(CareArticle)
    if kind:
        if kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
        stmt = stmt.where(CareArticle.kind == kind)
    if category:
        stmt = stmt.where(CareArticle.category == category)
    if locale:
        stmt = stmt.where(CareArticle.locale == check_locale(locale))
    return page_query(session, stmt, CareArticle.id, limit=limit, cursor=cursor)


def search(session: Session, query: str, *, kind: str | None = None, category: str | None = None,
           limit: int = 20) -> list[CareArticle]:
    """Articles containing every term of `query`, best first. Chinese and English both work: see
    care.search_text for how CJK text is indexed."""
    check_limit(limit)
    terms = query_terms(query)
    if not terms:
        raise Invalid("the query has no letters, digits or characters to search for", field="q")
    if session.get_bind().dialect.name == "postgresql":
        # The configuration is written as a literal so the expression is the GIN index's own
        # (a bound parameter would call to_tsvector(text, text), which the index does not cover).
        simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
        tsq = func.to_tsquery(simple, tsquery(terms))
        vector = func.to_tsvector(simple, CareArticle.search_text)
        stmt = select(CareArticle).where(vector.op("@@")(tsq)).order_by(func.ts_rank(vector, tsq).desc(),
                                                                       CareArticle.id.desc())
        return list(session.scalars(_narrowed(stmt, kind, category).limit(limit)))
    ranked = session.scalars(text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match ORDER BY rank"),
                             {"match": fts5_match(terms)}).all()
    position = {article_id: i for i, article_id in enumerate(ranked)}
    rows = session.scalars(_narrowed(select(CareArticle).where(CareArticle.id.in_(ranked)), kind, category))
    return sorted(rows, key=lambda row: position[row.id])[:limit]


def _narrowed(stmt: Select[Any], kind: str | None, category: str | None) -> Select[Any]:
    if kind:
        stmt = stmt.where(CareArticle.kind == kind)
    if category:
        stmt = stmt.where(or_(CareArticle.category == category, CareArticle.category.is_(None)))
    return stmt


def suggestions(session: Session, case: CareCase, *, limit: int = 5) -> list[CareArticle]:
    """Articles for the case's category in its language first, then general ones (no category)."""
    stmt = (select(CareArticle)
            .where(or_(CareArticle.category == case.category, CareArticle.category.is_(None)))
            .order_by((CareArticle.category == case.category).desc(), (CareArticle.locale == case.locale).desc(),
                      (CareArticle.kind == "sop").desc(), CareArticle.id.desc())
            .limit(limit))
    return list(session.scalars(stmt))


def article_view(row: CareArticle, when: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "key": row.key, "locale": row.locale, "category": row.category,
            "title": row.title, "subject": row.subject, "body": row.body, "tags": row.tags,
            "created_by": row.created_by, "created_at": when(row.created_at), "updated_at": when(row.updated_at)}
