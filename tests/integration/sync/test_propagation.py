"""A stock change anywhere reaches every platform; a sale on one platform is seen on all the others."""

from __future__ import annotations

import httpx

from omnistock.sync import poller
from omnistock.sync.worker import Worker
from support.core_api import seed, sku
from support.platforms import connect, list_item, wait_until
from support.server import LiveServer

PLATFORMS = ["shopify", "woocommerce", "taobao", "jd", "pinduoduo", "douyin"]


def test_receipt_reaches_every_platform(api: httpx.Client, sim, server: LiveServer, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    seed(api)
    shops = [connect(api, sim, p) for p in PLATFORMS]
    items = {c.code: list_item(api, c, "A", i, shown=99) for i, c in enumerate(shops)}
    # A new mapping is pushed at once: nothing is in stock yet, so every platform is set to 0.
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == 0, what=f"{c.platform} set to 0")
    api.post("/api/v1/moves", json={"sku": "A", "location": "WH", "kind": "receipt", "qty": 10})
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == 10, what=f"{c.platform} shows 10")


def test_sale_by_push_is_reserved_and_shown_everywhere_else(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                            worker: Worker) -> None:
    seed(api, stock=10)
    douyin = connect(api, sim, "douyin", webhook_base=server.url)
    taobao = connect(api, sim, "taobao")
    d_item, t_item = list_item(api, douyin, "A", 1), list_item(api, taobao, "A", 2)
    wait_until(lambda: douyin.shows(d_item) == 10 and taobao.shows(t_item) == 10, what="both show 10")
    order = douyin.shop.buy(d_item, 3, {"name": "张三", "phone": "13900000000"})
    assert order is not None
    wait_until(lambda: sku(api)["reserved"] == 3, what="the order reserved")
    wait_until(lambda: taobao.shows(t_item) == 7, what="taobao shows 7")
    wait_until(lambda: douyin.shows(d_item) == 7, what="douyin shows 7 (absolute value pushed back)")
    held = api.get("/api/v1/orders", params={"channel": douyin.code}).json()["items"]
    assert [o["status"] for o in held] == ["reserved"] and held[0]["customer"]["name"] == "张三"


def test_a_sale_on_one_platform_is_shown_on_every_other(api: httpx.Client, sim, server: LiveServer,  # type: ignore[no-untyped-def]
                                                        worker: Worker) -> None:
    seed(api, stock=10)
    shops = [connect(api, sim, p, webhook_base=server.url) for p in PLATFORMS]
    items = {c.code: list_item(api, c, "A", 20 + i) for i, c in enumerate(shops)}
    wait_until(lambda: all(c.shows(items[c.code]) == 10 for c in shops), what="all show 10")
    seller = shops[0]  # Shopify: its order arrives by webhook
    assert seller.shop.buy(items[seller.code], 4) is not None
    for c in shops:
        wait_until(lambda c=c: c.shows(items[c.code]) == 6, what=f"{c.platform} shows 6")
    assert sku(api)["reserved"] == 4


def test_sale_found_by_polling_is_taken_in(api: httpx.Client, sim, server: LiveServer, worker: Worker,  # type: ignore[no-untyped-def]
                                           clean) -> None:
    seed(api, stock=10)
    taobao = connect(api, sim, "taobao")
    pdd = connect(api, sim, "pinduoduo")
    t_item, p_item = list_item(api, taobao, "A", 3), list_item(api, pdd, "A", 4)
    wait_until(lambda: taobao.shows(t_item) == 10 and pdd.shows(p_item) == 10, what="both show 10")
    sold = taobao.shop.buy(t_item, 4)
    assert sold is not None
    with clean.db.reading() as s:
        from omnistock.services.lookup import channel_by_code
        channel_id = channel_by_code(s, taobao.code).id
    report = poller.poll_once(clean.db, clean.settings, channel_id)
    assert report.error is None and report.applied == 1
    assert poller.poll_once(clean.db, clean.settings, channel_id).applied == 0  # overlap is de-duplicated
    wait_until(lambda: pdd.shows(p_item) == 6, what="pinduoduo shows 6")
    taobao.shop.cancel(sold.id)
    poller.poll_once(clean.db, clean.settings, channel_id)
    wait_until(lambda: pdd.shows(p_item) == 10, what="cancellation gives the units back")
    assert sku(api)["reserved"] == 0


def test_pack_sizes_show_whole_packs(api: httpx.Client, sim, server: LiveServer, worker: Worker) -> None:  # type: ignore[no-untyped-def]
    seed(api, stock=20)
    jd = connect(api, sim, "jd")
    single, six = list_item(api, jd, "A", 5), list_item(api, jd, "A", 6, pack=6)
    wait_until(lambda: jd.shows(single) == 20 and jd.shows(six) == 3, what="20 singles and 3 six-packs")
