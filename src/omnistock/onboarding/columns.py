"""The columns of each import, with the English and Chinese headers that mean them (the issue's names
first: they are what the downloadable templates use)."""

from __future__ import annotations

from omnistock.onboarding.tabular import Column

CATALOGUE = (
    Column("code", ("编码",)),
    Column("name", ("名称",)),
    Column("unit", ("单位",), required=False),
    Column("barcode", ("条码",), required=False),
    Column("safety_stock", ("安全库存",), required=False),
    Column("components", ("组件",), required=False),
)

STOCK = (
    Column("sku", ("商品编码",)),
    Column("qty", ("数量", "实盘数量", "counted")),
    Column("batch", ("批次",), required=False),
    Column("expiry", ("有效期",), required=False),
    Column("unit", ("单位",), required=False),
    Column("location", ("库位", "仓库"), required=False),
)

# The listings import belongs to the channels side; its template is offered here with the headers.
LISTINGS = (
    Column("sku", ("商品编码",)),
    Column("external_id", ("平台商品ID",)),
    Column("pack_size", ("每包数量",), required=False),
)

KINDS = {"catalogue": CATALOGUE, "stock": STOCK, "listings": LISTINGS}
