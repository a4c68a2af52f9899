"""A day of work in the console, in a real browser against a real `omnistock serve`. Each test saves a
screenshot under docs/screenshots/ (the README and docs/console.md show them)."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from .conftest import Console, shot, sign_in


def _wait_for_text(page: Page, path: str, text: str, timeout_s: float = 60) -> None:
    """Reload until the page shows `text` (the sync workers push in the background)."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.goto(path)
        if text in page.content() or time.monotonic() > deadline:
            return
        time.sleep(0.5)


def test_sign_in_and_see_the_dashboard_in_both_languages(page: Page, console: Console) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    sign_in(page, "ops")
    _wait_for_text(page, "/", "已同步")
    sync = page.locator("#sync")
    expect(sync.get_by_role("row", name=re.compile("天猫旗舰店"))).to_contain_text("已同步")
    expect(sync.get_by_role("row", name=re.compile("静安店收银"))).to_contain_text("不推送")
    expect(page.locator("#held-title")).to_contain_text("挂起订单")
    expect(page.get_by_text("TMALL-2001", exact=False).first).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    shot(page, "dashboard-zh-CN")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#sync")).to_contain_text("In sync")
    expect(page.locator("#held-title")).to_contain_text("Held orders")
    shot(page, "dashboard-en")


def test_receive_stock_and_see_the_sku_page_change(page: Page, console: Console) -> None:
    sign_in(page, "ops")
    page.goto("/skus")
    page.get_by_label("搜索").fill("碧螺春")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name="TEA-002").click()
    expect(page.locator("[data-figure=on_hand]")).to_have_text("3")
    form = page.locator("#form-receipt")
    form.get_by_label("仓库/门店").select_option("WH")
    form.get_by_label("入库数量").fill("20")
    form.get_by_label("单据号（送货单、采购单）").fill("GRN-88")
    form.get_by_label("原因").fill("供应商到货")
    form.get_by_role("button", name="入库").click()
    expect(page.locator("[role=status]")).to_contain_text("已保存：入库")
    expect(page.locator("[data-figure=on_hand]")).to_have_text("23")
    expect(page.locator("[data-figure=available]")).to_have_text("21")  # safety stock 2
    expect(page.get_by_role("row", name=re.compile("供应商到货"))).to_contain_text("+20")
    _wait_for_text(page, "/skus/TEA-002", "1002")
    shot(page, "sku-zh-CN")
    page.goto("/skus/TEA-002?lang=en")
    for label in ("On hand", "Reserved", "Available"):
        expect(page.locator("dl.figures")).to_contain_text(label)
    shot(page, "sku-en")
    assert console.api.get("/api/v1/skus/TEA-002").json()["on_hand"] == 23


def test_a_held_order_is_released_from_the_console(page: Page, console: Console) -> None:
    sign_in(page, "ops")
    page.goto("/orders?status=held")
    row = page.get_by_role("row", name=re.compile("TMALL-2001"))
    expect(row).to_contain_text("库存不足：TEA-003：需要 2，可预占 0")
    console.api.post("/api/v1/moves", json={"sku": "TEA-003", "location": "WH", "kind": "receipt", "qty": 10,
                                            "reason": "restock"})
    row.get_by_role("button", name=re.compile("释放")).click()
    expect(page.locator("[role=status]")).to_contain_text("订单已释放")
    expect(page.get_by_role("row", name=re.compile("TMALL-2001"))).to_have_count(0)
    page.goto("/orders?channel=tmall")
    expect(page.get_by_role("row", name=re.compile("TMALL-2001"))).to_contain_text("已预占")
    shot(page, "orders-released-zh-CN")
    order = console.api.get("/api/v1/orders", params={"channel": "tmall", "status": "reserved"}).json()
    assert "TMALL-2001" in [o["external_id"] for o in order["items"]]


def test_switching_language_is_remembered_across_pages(page: Page, console: Console) -> None:
    sign_in(page, "ops")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("商品")
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("h1")).to_have_text("Orders")
    page.get_by_role("link", name="SKUs", exact=True).click()
    expect(page.get_by_role("columnheader", name="On hand")).to_be_visible()
    shot(page, "skus-en")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("商品")
    page.goto("/orders")
    expect(page.locator("h1")).to_have_text("订单")


def test_a_viewer_sees_no_forms_and_a_forged_post_is_refused(page: Page, console: Console) -> None:
    sign_in(page, "viewer")
    page.goto("/skus/TEA-001")
    expect(page.locator("[data-figure=on_hand]")).to_be_visible()
    expect(page.locator("form[action$='/moves']")).to_have_count(0)
    page.goto("/orders?status=held")
    expect(page.locator("form[action*='/release']")).to_have_count(0)
    shot(page, "viewer-sku-zh-CN")
    before = console.api.get("/api/v1/skus/TEA-001").json()["on_hand"]
    forged = page.request.post(f"{console.url}/skus/TEA-001/moves", form={
        "kind": "receipt", "location": "WH", "qty": "500", "reason": "forged", "confirmed": "1"})
    assert forged.status == 403
    assert console.api.get("/api/v1/skus/TEA-001").json()["on_hand"] == before


def test_a_store_manager_does_not_see_another_store(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})  # the store's tablet
    sign_in(page, "jingan")
    page.goto("/skus/TEA-001")
    locations = page.locator("section[aria-labelledby=loc-title] tbody th")
    expect(locations).to_have_count(1)
    expect(locations.first).to_have_text("S1")
    expect(page.locator("[data-figure=on_hand]")).to_have_text("12")
    expect(page.locator("#form-receipt select[name=location] option")).to_have_count(1)
    page.goto("/orders")
    expect(page.locator("tbody")).to_contain_text("POS1-1004")
    expect(page.locator("tbody")).not_to_contain_text("POS2-")
    expect(page.locator("tbody")).not_to_contain_text("TMALL-")
    shot(page, "store-manager-tablet-zh-CN")
    other = console.api.get("/api/v1/orders", params={"channel": "pos2"}).json()["items"][0]["id"]
    response = page.goto(f"/orders/{other}")
    assert response is not None and response.status == 403


def test_an_agent_works_the_case_queue(page: Page, console: Console) -> None:
    sign_in(page, "kefu")
    page.goto("/care")
    expect(page.locator("#queue .countdown").first).to_have_attribute("data-deadline", re.compile(r"\d{4}-"))
    page.locator("#queue tbody a").first.click()
    expect(page.locator("h1")).to_contain_text("#")
    expect(page.get_by_role("heading", name="推荐知识库文章")).to_be_visible()
    shot(page, "care-case-zh-CN")


def _location_row(page: Page, code: str) -> Locator:
    return page.locator("section[aria-labelledby=loc-title] tbody tr").filter(
        has=page.locator("th", has_text=re.compile(rf"^{re.escape(code)}$")))


def test_count_and_transfer_stock_from_the_sku_page(page: Page, console: Console) -> None:
    sign_in(page, "ops")
    page.goto("/skus/CUP-01")
    expect(_location_row(page, "S1").locator("td").first).to_have_text("6")
    count = page.locator("#form-count")
    count.get_by_label("仓库/门店").select_option("S1")
    count.get_by_label("盘点数量").fill("5")
    count.get_by_label("原因").fill("月末盘点")
    count.get_by_role("button", name="盘点").click()
    expect(page.locator("[role=status]")).to_contain_text("已保存：盘点")
    expect(_location_row(page, "S1").locator("td").first).to_have_text("5")

    # a count far from what is on hand is confirmed before it is posted
    count = page.locator("#form-count")
    count.get_by_label("仓库/门店").select_option("WH")
    count.get_by_label("盘点数量").fill("200")
    count.get_by_label("原因").fill("年度盘点")
    count.get_by_role("button", name="盘点").click()
    expect(page.locator("#form-count [role=alert]")).to_contain_text("这是一次大额变动")
    expect(_location_row(page, "WH").locator("td").first).to_have_text("40")  # nothing posted yet
    page.locator("#form-count").get_by_role("button", name="确认并提交").click()
    expect(page.locator("[role=status]")).to_contain_text("已保存：盘点")
    expect(_location_row(page, "WH").locator("td").first).to_have_text("200")

    transfer = page.locator("#form-transfer")
    transfer.get_by_label("调出").select_option("WH")
    transfer.get_by_label("调入").select_option("S2")
    transfer.get_by_label("调拨数量").fill("10")
    transfer.get_by_label("原因").fill("徐汇店补货")
    transfer.get_by_role("button", name="调拨").click()
    expect(page.locator("[role=status]")).to_contain_text("已保存：调拨")
    expect(_location_row(page, "WH").locator("td").first).to_have_text("190")
    expect(_location_row(page, "S2").locator("td").first).to_have_text("10")
    expect(page.get_by_role("row", name=re.compile("徐汇店补货")).first).to_be_visible()
    shot(page, "sku-count-transfer-zh-CN")
    levels = {f["location"]: f["on_hand"] for f in console.api.get("/api/v1/skus/CUP-01").json()["locations"]}
    assert (levels["WH"], levels["S1"], levels["S2"]) == (190, 5, 10)


def test_the_sku_list_filters_by_location_and_channel(page: Page, console: Console) -> None:
    sign_in(page, "ops")
    page.goto("/skus")
    codes = page.locator("tbody th[scope=row] a")
    expect(codes).to_have_count(5)
    page.get_by_label("仓库/门店").select_option("S1")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"location=S1"))
    expect(codes).to_have_text(["CUP-01", "TEA-001"])  # stocked at the Jing'an store
    page.get_by_label("仓库/门店").select_option("")
    page.get_by_label("渠道").select_option("jd")
    page.get_by_role("button", name="筛选").click()
    expect(codes).to_have_text(["KIT-01", "TEA-001"])  # listed on JD
    page.get_by_label("仓库/门店").select_option("S1")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"location=S1.*channel=jd|channel=jd.*location=S1"))
    expect(codes).to_have_text(["TEA-001"])
    expect(page.get_by_label("渠道")).to_have_value("jd")  # the filters stay as chosen
    shot(page, "skus-filtered-zh-CN")
