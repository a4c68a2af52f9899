"""The knowledge base: full-text search in Chinese and English (SQLite FTS5 / PostgreSQL tsvector),
kept in sync on edit and delete, suggestions on a case, and templates that replace the built-in ones."""

from __future__ import annotations

import httpx

from support.care_api import assert_problem, new_case, order, the_case_of
from support.core_api import seed

SOP_ZH = {"kind": "sop", "category": "out_of_stock", "locale": "zh", "title": "超卖订单处理流程",
          "body": "发现超卖后：先暂停该商品在各平台的库存同步，再逐单联系买家，按补偿标准发放优惠券。",
          "tags": ["超卖", "缺货"]}
SOP_EN = {"kind": "sop", "category": "late_shipment", "locale": "en", "title": "Handling late shipments",
          "body": "When a carrier misses pickup, rebook the shipment and tell every affected customer the new date."}


def _titles(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [a["title"] for a in r.json()["items"]]


def test_search_finds_an_article_by_a_chinese_and_an_english_query(api: httpx.Client) -> None:
    for article in (SOP_ZH, SOP_EN):
        assert api.post("/api/v1/kb", json=article).status_code == 201
    assert _titles(api.get("/api/v1/kb", params={"q": "超卖"})) == ["超卖订单处理流程"]
    assert _titles(api.get("/api/v1/kb", params={"q": "联系买家"})) == ["超卖订单处理流程"]  # inside a sentence
    assert _titles(api.get("/api/v1/kb", params={"q": "carrier pickup"})) == ["Handling late shipments"]
    assert _titles(api.get("/api/v1/kb", params={"q": "Shipment"})) == ["Handling late shipments"]
    assert _titles(api.get("/api/v1/kb", params={"q": "resch"})) == []
    assert _titles(api.get("/api/v1/kb", params={"q": "rebo"})) == ["Handling late shipments"]  # as you type
    assert _titles(api.get("/api/v1/kb", params={"q": "买超"})) == []  # characters apart are no match


def test_search_follows_edits_and_deletes(api: httpx.Client) -> None:
    aid = api.post("/api/v1/kb", json=SOP_ZH).json()["id"]
    edited = {**SOP_ZH, "title": "缺货应对", "body": "Restock first, then apologise.", "tags": []}
    assert api.put(f"/api/v1/kb/{aid}", json=edited).status_code == 200
    assert _titles(api.get("/api/v1/kb", params={"q": "超卖"})) == []
    assert _titles(api.get("/api/v1/kb", params={"q": "apologise"})) == ["缺货应对"]
    assert api.delete(f"/api/v1/kb/{aid}").status_code == 204
    assert _titles(api.get("/api/v1/kb", params={"q": "apologise"})) == []
    assert_problem(api.get(f"/api/v1/kb/{aid}"), 404, "id")


def test_case_suggestions_come_from_its_category(api: httpx.Client) -> None:
    api.post("/api/v1/kb", json=SOP_ZH)
    api.post("/api/v1/kb", json=SOP_EN)
    c = new_case(api, category="out_of_stock")
    assert _titles(api.get(f"/api/v1/cases/{c['id']}/suggestions")) == ["超卖订单处理流程"]


def test_merchant_template_replaces_the_built_in_one_in_drafts(api: httpx.Client) -> None:
    mine = {"kind": "template", "key": "oversell_apology", "locale": "zh", "title": "缺货致歉",
            "subject": "【小店】订单 {{ order }} 缺货", "body": "亲爱的{{ customer_name }}，{{ sku }} 卖完了，抱歉！"}
    assert api.post("/api/v1/kb", json=mine).status_code == 201
    seed(api, stock=0)
    draft = the_case_of(api, order(api, "o1", 1)["id"])["messages"][0]
    assert (draft["subject"], draft["body"]) == ("【小店】订单 o1 缺货", "亲爱的王小明，A 卖完了，抱歉！")
    listed = api.get("/api/v1/kb/templates").json()["items"]
    ours = next(t for t in listed if (t["key"], t["locale"]) == ("oversell_apology", "zh"))
    assert ours["built_in"] is False
    assert_problem(api.post("/api/v1/kb", json=mine), 409, "key")


def test_bad_articles_are_refused_and_nothing_is_written(api: httpx.Client) -> None:
    broken = {"kind": "template", "key": "x", "title": "t", "body": "{% if %}"}
    assert_problem(api.post("/api/v1/kb", json=broken), 422, "body")
    assert_problem(api.post("/api/v1/kb", json={**SOP_ZH, "category": "nope"}), 422, "category")
    assert_problem(api.post("/api/v1/kb", json={**SOP_ZH, "kind": "faq"}), 422, "kind")
    assert_problem(api.post("/api/v1/kb", json={"kind": "template", "title": "t", "body": "b"}), 422, "key")
    assert_problem(api.get("/api/v1/kb", params={"q": "!!!"}), 422, "q")
    assert api.get("/api/v1/kb").json()["total"] == 0
