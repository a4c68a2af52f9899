"""A day of work on a fresh install, entirely in the browser and in Chinese, against a real `omnistock serve` and a
simulated Douyin shop: the administrator creates the warehouse, connects the shop and maps its item from a small
CSV (dry run first, then confirmed); the operator creates the SKU, receives stock, watches the dashboard show the
shop in sync and releases a held order; the agent answers the case it opened. No API call and no command changes
anything; the simulator plays the platform and its shopper. Screenshots of the new pages go to docs/screenshots/."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from omnistock.channels.simulator import SimListing, SimShop, WebhookConfig
from support.platforms import CREDENTIALS

from .conftest import FreshConsole, shot, sign_in

ITEM = "3001/4001"  # the shop's item, as Douyin names a product and its SKU


@contextmanager
def person(browser: Browser, console: FreshConsole, username: str) -> Iterator[Page]:
    """One person's browser (their own cookies), signed in, in Chinese."""
    context = browser.new_context(base_url=console.url, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        sign_in(page, username)
        yield page
    finally:
        context.close()


def _until(check: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _reload_until(page: Page, path: str, text: str, timeout_s: float = 60) -> None:
    """Reload until the page shows `text` (the workers and the platform's webhooks run in the background)."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.goto(path)
        if text in page.content():
            return
        assert time.monotonic() < deadline, f"{path} never showed {text!r}"
        time.sleep(0.5)


def _the_shop(console: FreshConsole) -> SimShop:
    shop = console.sim.registry.add_shop("dy-tea", "douyin", dict(CREDENTIALS["douyin"]),
                                         webhook=WebhookConfig(url=f"{console.url}/webhooks/dy"))
    shop.upsert_listing(SimListing(ITEM, 0, external_sku="TEA-9", title="龙井茶礼盒"))
    return shop


def _create_the_warehouse(page: Page) -> None:
    page.get_by_role("link", name="数据导入").click()
    expect(page.locator("h1")).to_have_text("数据导入")
    shot(page, "onboarding-zh-CN")
    page.get_by_role("link", name="手动新建单个商品或仓库/门店").click()
    form = page.locator("#form-location")
    form.get_by_label("仓库/门店编码").fill("WH")
    form.get_by_role("button", name="创建仓库/门店").click()
    expect(form.locator("#loc-name-error")).to_contain_text("必填")  # checked on the server, shown by the field
    form = page.locator("#form-location")
    form.get_by_label("名称").fill("主仓")
    form.get_by_role("button", name="创建仓库/门店").click()
    expect(page.locator("[role=status]")).to_contain_text("仓库/门店 WH 已创建")
    expect(page.get_by_role("row", name=re.compile("主仓"))).to_contain_text("仓库")


def _create_the_sku(page: Page) -> None:
    page.get_by_role("link", name="商品", exact=True).click()
    page.get_by_role("link", name="新建商品或仓库/门店").click()
    form = page.locator("#form-sku")
    form.get_by_role("textbox", name="商品编码", exact=True).fill("TEA-9")
    form.get_by_role("textbox", name="名称", exact=True).fill("龙井茶礼盒")
    form.get_by_label("安全库存").fill("0")
    shot(page, "catalogue-zh-CN")
    form.get_by_role("button", name="创建商品").click()
    expect(page.locator("[role=status]")).to_contain_text("商品已创建")
    expect(page.locator("h1")).to_contain_text("TEA-9 · 龙井茶礼盒")


def _connect_the_shop(page: Page, console: FreshConsole) -> None:
    page.get_by_role("link", name="渠道", exact=True).click()
    page.get_by_label("平台", exact=True).select_option("douyin")
    page.get_by_role("button", name="下一步").click()
    form = page.locator("form[action='/channels/new']")
    form.get_by_role("textbox", name="代码", exact=True).fill("dy")
    form.get_by_label("显示名称").fill("抖音小店 茶")
    for name, value in {**CREDENTIALS["douyin"], "gateway_url": f"{console.sim.url}/douyin/dy-tea"}.items():
        form.locator(f"[name='settings.{name}']").fill(value)
    form.get_by_role("button", name="测试连接").click()
    expect(page.locator("#new-test-result")).to_contain_text("连接成功")
    form.get_by_role("button", name="连接", exact=True).click()
    expect(page.locator("[role=status]")).to_contain_text("渠道已连接")


def _map_the_listing(page: Page, tmp: Path) -> None:
    csv = tmp / "抖音商品映射.csv"
    csv.write_text(f"商品编码,平台商品ID,每包数量\nTEA-9,{ITEM},1\n", encoding="utf-8")
    form = page.locator("#form-import")
    form.locator("input[type=file]").set_input_files(str(csv))
    form.get_by_role("button", name="检查（试运行）").click()
    expect(page.locator("#report [role=status]")).to_contain_text("试运行，未写入任何数据：将新建 1")
    expect(page.locator("#changes")).to_contain_text(ITEM)
    shot(page, "import-dry-run-zh-CN")
    page.get_by_role("button", name="确认并导入").click()
    expect(page.locator("#report [role=status]")).to_contain_text("已导入 1 行：新建 1")
    expect(page.locator("#report")).to_contain_text("导入前已备份")
    shot(page, "import-applied-zh-CN")


def _receive(page: Page, qty: int, reason: str) -> None:
    page.goto("/skus/TEA-9")
    form = page.locator("#form-receipt")
    form.get_by_label("仓库/门店").select_option("WH")
    form.get_by_label("入库数量").fill(str(qty))
    form.get_by_label("原因").fill(reason)
    form.get_by_role("button", name="入库").click()
    expect(page.locator("[role=status]")).to_contain_text("已保存：入库")


def test_a_day_of_work_in_the_browser_in_chinese(browser: Browser, fresh_console: FreshConsole,
                                                tmp_path: Path) -> None:
    shop = _the_shop(fresh_console)
    with person(browser, fresh_console, "boss") as boss, person(browser, fresh_console, "li") as li:
        _create_the_warehouse(boss)
        _create_the_sku(li)
        _connect_the_shop(boss, fresh_console)
        _map_the_listing(boss, tmp_path)
        boss.goto("/onboarding/rollout/dy")
        expect(boss.locator("#mode")).to_have_text("正式")
        shot(boss, "rollout-zh-CN")

        _receive(li, 5, "供应商到货")
        expect(li.locator("[data-figure=on_hand]")).to_have_text("5")
        _reload_until(li, "/", "已同步")
        expect(li.locator("#sync").get_by_role("row", name=re.compile("抖音小店 茶"))).to_contain_text("已同步")
        _until(lambda: shop.listings[ITEM].quantity == 5, "the shop to show 5")

        # Someone sets the shop's stock by hand (有货下单无货发货): a shopper buys more than there is.
        shop.set_quantity(ITEM, 20, source="manual")
        assert shop.buy(ITEM, 8, {"name": "王芳", "phone": "13900000000"}) is not None
        _reload_until(li, "/orders?status=held", "TEA-9")
        held = li.get_by_role("row", name=re.compile("TEA-9"))
        expect(held).to_contain_text("库存不足")
        _receive(li, 10, "补货")
        li.goto("/orders?status=held")
        li.get_by_role("row", name=re.compile("TEA-9")).get_by_role("button", name=re.compile("释放")).click()
        expect(li.locator("[role=status]")).to_contain_text("订单已释放")
        expect(li.get_by_role("row", name=re.compile("TEA-9"))).to_have_count(0)

    with person(browser, fresh_console, "kefu") as kefu:
        kefu.goto("/care")
        kefu.locator("#queue tbody a").first.click()
        expect(kefu.locator("h1")).to_contain_text("#")
        reply = kefu.locator("form[action$='/reply']")
        reply.get_by_label("发送方式").select_option("manual")
        reply.get_by_label("消息内容").fill("您好，您的订单已备货，今天发出。")
        reply.get_by_role("button", name="发送").click()
        expect(kefu.locator("[role=status]")).to_contain_text("已保存")
        expect(kefu.locator("main")).to_contain_text("您好，您的订单已备货，今天发出。")
        shot(kefu, "day-case-answered-zh-CN")
