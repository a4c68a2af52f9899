"""How the simulated WooCommerce shop shows its listings and orders as REST v3 JSON.

A listing "<product_id>" is a simple product; listings "<product_id>/<variation_id>" are the variations of
one variable product. Dates are whole seconds, as WooCommerce stores them, in a site zone of UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omnistock.channels.simulator.state import SimListing, SimOrder, SimShop

# neutral order status → WooCommerce status
WOO_STATUS = {"paid": "processing", "cancelled": "cancelled", "refunded": "refunded", "shipped": "completed"}


def wc_time(moment: datetime) -> str:
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


def split_id(external_id: str) -> tuple[int, int | None]:
    product, _, variation = external_id.partition("/")
    return int(product), int(variation) if variation else None


def _stock(listing: SimListing) -> dict[str, Any]:
    managed = listing.extra.get("manage_stock", "yes") == "yes"
    return {"manage_stock": managed, "stock_quantity": listing.quantity if managed else None,
            "stock_status": "instock" if listing.quantity > 0 or not managed else "outofstock",
            "backorders": "no"}


def simple_json(listing: SimListing) -> dict[str, Any]:
    product, _ = split_id(listing.external_id)
    return {"id": product, "name": listing.title or f"Product {product}", "type": "simple",
            "status": "publish",
            "sku": listing.external_sku or "", "global_unique_id": listing.barcode or "",
            "price": str(listing.price), "regular_price": str(listing.price), "variations": [],
            **_stock(listing)}


def variable_json(product: int, variations: list[SimListing]) -> dict[str, Any]:
    first = variations[0]
    return {"id": product, "name": first.extra.get("parent_name") or f"Product {product}", "type": "variable",
            "status": "publish", "sku": first.extra.get("parent_sku", ""), "global_unique_id": "",
            "price": str(min(v.price for v in variations)), "manage_stock": False, "stock_quantity": None,
            "stock_status": "instock",
            "variations": sorted(split_id(v.external_id)[1] or 0 for v in variations)}


def variation_json(listing: SimListing) -> dict[str, Any]:
    _, variation = split_id(listing.external_id)
    return {"id": variation, "name": listing.title or f"Variation {variation}",
            "sku": listing.external_sku or "",
            "global_unique_id": listing.barcode or "", "price": str(listing.price),
            "regular_price": str(listing.price), "status": "publish",
            "attributes": [{"id": 0, "name": "Option", "option": listing.title or str(variation)}],
            **_stock(listing)}


def catalog(shop: SimShop) -> dict[int, list[SimListing]]:
    """Products by id: a simple product has one listing (no variation), a variable one its variations."""
    products: dict[int, list[SimListing]] = {}
    with shop.lock:
        for listing in shop.listings.values():
            try:
                product, _ = split_id(listing.external_id)
            except ValueError:
                continue  # not a WooCommerce id
            products.setdefault(product, []).append(listing)
    return dict(sorted(products.items()))


def product_json(product: int, listings: list[SimListing]) -> dict[str, Any]:
    simple = [li for li in listings if "/" not in li.external_id]
    return simple_json(simple[0]) if simple else variable_json(product, listings)


def order_json(order: SimOrder) -> dict[str, Any]:
    first, _, last = order.customer.get("name", "").partition(" ")
    lines = []
    for n, line in enumerate(order.lines, start=1):
        product, variation = split_id(line.external_id) if line.external_id[:1].isdigit() else (0, None)
        lines.append({"id": int(order.id) * 100 + n, "name": line.external_sku or line.external_id,
                      "product_id": product, "variation_id": variation or 0, "quantity": line.qty,
                      "sku": line.external_sku or "", "price": float(line.unit_price),
                      "subtotal": f"{line.unit_price * line.qty:.2f}",
                      "total": f"{line.unit_price * line.qty:.2f}"})
    total = sum((line.unit_price * line.qty for line in order.lines), start=0)
    return {
        "id": int(order.id), "parent_id": 0, "number": order.id,
        "status": WOO_STATUS.get(order.status, "processing"),
        "currency": order.currency, "date_created": wc_time(order.created_at),
        "date_created_gmt": wc_time(order.created_at), "date_modified": wc_time(order.modified_at),
        "date_modified_gmt": wc_time(order.modified_at), "customer_id": 0, "total": f"{total:.2f}",
        "billing": {"first_name": first, "last_name": last, "email": order.customer.get("email", ""),
                    "phone": order.customer.get("phone", "")},
        "line_items": lines,
    }
