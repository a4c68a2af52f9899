"""What the full-text index of the knowledge base sees, and how a query is turned into index terms.

Neither SQLite's unicode61 tokenizer nor PostgreSQL's 'simple' configuration splits Chinese into
words: a run of CJK characters becomes one token, so "超卖" would never find "处理超卖订单". We index
every CJK character and every pair of neighbouring characters (bigrams) as separate terms, and a
query's CJK run becomes its bigrams (or the single character): a phrase is found wherever its
characters stand next to each other. Pure functions, no I/O.
"""

from __future__ import annotations

import re

# CJK ideographs (with extension A and compatibility), kana and hangul: scripts written without spaces.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")


def _runs(text: str) -> list[str]:
    return _RUN.findall(text.lower())


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def index_text(*parts: str | None) -> str:
    """The text to index for an article made of `parts` (title, body, tags...)."""
    terms: list[str] = []
    for part in parts:
        for run in _runs(part or ""):
            if _IS_CJK.match(run):
                terms.extend(run)
                terms.extend(_bigrams(run))
            else:
                terms.append(run)
    return " ".join(terms)


def query_terms(query: str) -> list[str]:
    """The index terms an article must all contain to match `query`; empty when the query has no
    searchable characters."""
    terms: list[str] = []
    for run in _runs(query):
        if _IS_CJK.match(run):
            terms.extend(_bigrams(run) if len(run) > 1 else [run])
        else:
            terms.append(run)
    return list(dict.fromkeys(terms))  # once each, in order


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression requiring every term; the last Latin term may be a prefix (typing)."""
    quoted = [f'"{t}"' for t in terms]
    if terms and not _IS_CJK.match(terms[-1]):
        quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(terms: list[str]) -> str:
    """A PostgreSQL to_tsquery('simple', ...) text requiring every term. Terms hold only word characters
    (see _RUN), so they need no escaping; the last Latin term may be a prefix."""
    parts = list(terms)
    if parts and not _IS_CJK.match(parts[-1]):
        parts[-1] += ":*"
    return " & ".join(parts)
