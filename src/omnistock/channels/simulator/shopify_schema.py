"""The slice of Shopify's Admin GraphQL schema the simulator answers: variants, inventory items and levels,
locations, orders, and the inventorySetQuantities mutation with its version-dependent compare-and-set rules.

Objects are plain mappings for `gql.execute`; resolvers take the field's arguments.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from omnistock.channels.simulator.gql import GraphQLError
from omnistock.channels.simulator.state import SimListing, SimOrder, SimShop

MAX_PAGE = 250
MAX_QUANTITIES = 250
# Shopify's documented inventory adjustment reasons.
REASONS = frozenset({
    "correction", "cycle_count_available", "damaged", "movement_canceled", "movement_created",
    "movement_received", "movement_updated", "other", "promotion", "quality_control", "received",
    "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
    "shrinkage",
})
_group_ids = itertools.count(1)


def gid(kind: str, ident: str | int) -> str:
    return f"gid://shopify/{kind}/{ident}"


def numeric(value: str) -> str:
    """`gid://shopify/Kind/123` or `123` → `123`."""
    return value.rsplit("/", 1)[-1]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def inventory_item_id(listing: SimListing) -> str:
    """The listing's inventory item id, assigned once (a variant id offset, as real ids differ from it)."""
    item = listing.extra.get("inventory_item_id")
    if item is None:
        base = int(listing.external_id) if listing.external_id.isdigit() else abs(hash(listing.external_id))
        item = str(base + 40_000_000_000)
        listing.extra["inventory_item_id"] = item
    return item


def location_id(shop: SimShop) -> str:
    return numeric(shop.credentials.get("location_id", "1"))


def items_by_id(shop: SimShop) -> dict[str, SimListing]:
    return {inventory_item_id(listing): listing for listing in shop.listings.values()}


# --- connections --------------------------------------------------------------------------------------


def _cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _uncursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise GraphQLError(f"Invalid cursor {cursor!r}", "BAD_REQUEST") from None


def connection(typename: str, items: Sequence[Any], key: Callable[[Any], str],
               node: Callable[[Any], dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """A Relay connection over `items` (already in order), paged by `first`/`after` like Shopify."""
    first = args.get("first")
    if not isinstance(first, int):
        raise GraphQLError("you must provide one of first or last", "BAD_REQUEST")
    if not 0 <= first <= MAX_PAGE:
        raise GraphQLError(f"The first argument must be between 0 and {MAX_PAGE}", "BAD_REQUEST")
    start = 0
    if args.get("after"):
        last = _uncursor(args["after"])
        keys = [key(i) for i in items]
        start = keys.index(last) + 1 if last in keys else next(
            (n for n, k in enumerate(keys) if k > last), len(keys))
    page = list(items[start:start + first])
    nodes = [node(i) for i in page]
    return {
        "__typename": f"{typename}Connection",
        "nodes": nodes,
        "edges": [{"__typename": f"{typename}Edge", "cursor": _cursor(key(i)), "node": n}
                  for i, n in zip(page, nodes, strict=True)],
        "pageInfo": {"__typename": "PageInfo", "hasNextPage": start + len(page) < len(items),
                     "hasPreviousPage": start > 0,
                     "startCursor": _cursor(key(page[0])) if page else None,
                     "endCursor": _cursor(key(page[-1])) if page else None},
    }


# --- catalogue ----------------------------------------------------------------------------------------


def location_obj(shop: SimShop) -> dict[str, Any]:
    def levels(args: dict[str, Any]) -> dict[str, Any]:
        with shop.lock:
            listings = sorted(shop.listings.values(), key=lambda li: int(inventory_item_id(li)))
        return connection("InventoryLevel", listings, lambda li: f"{int(inventory_item_id(li)):020d}",
                          lambda li: level_obj(shop, li), args)

    return {"__typename": "Location", "id": gid("Location", location_id(shop)), "name": "Shop location",
            "legacyResourceId": location_id(shop), "isActive": True, "inventoryLevels": levels}


def level_obj(shop: SimShop, listing: SimListing) -> dict[str, Any]:
    item = inventory_item_id(listing)

    def quantities(args: dict[str, Any]) -> list[dict[str, Any]]:
        names = args.get("names")
        if not isinstance(names, list):
            raise GraphQLError("Field 'quantities' is missing required arguments: names",
                               "missingRequiredArguments")
        shown = {"available": listing.quantity, "on_hand": listing.quantity}
        return [{"__typename": "InventoryQuantity", "name": n, "quantity": shown.get(n, 0),
                 "updatedAt": None} for n in names]

    return {"__typename": "InventoryLevel",
            "id": gid("InventoryLevel", f"{location_id(shop)}?inventory_item_id={item}"),
            "quantities": quantities, "item": lambda _: item_obj(shop, listing),
            "location": lambda _: location_obj(shop)}


def item_obj(shop: SimShop, listing: SimListing) -> dict[str, Any]:
    def level(args: dict[str, Any]) -> dict[str, Any] | None:
        wanted = args.get("locationId")
        if not isinstance(wanted, str):
            raise GraphQLError("Field 'inventoryLevel' is missing required arguments: locationId",
                               "missingRequiredArguments")
        return level_obj(shop, listing) if numeric(wanted) == location_id(shop) else None

    return {"__typename": "InventoryItem", "id": gid("InventoryItem", inventory_item_id(listing)),
            "legacyResourceId": inventory_item_id(listing), "sku": listing.external_sku, "tracked": True,
            "variant": lambda _: variant_obj(shop, listing), "inventoryLevel": level}


def variant_obj(shop: SimShop, listing: SimListing) -> dict[str, Any]:
    return {"__typename": "ProductVariant", "id": gid("ProductVariant", listing.external_id),
            "legacyResourceId": listing.external_id, "sku": listing.external_sku, "barcode": listing.barcode,
            "title": listing.title, "displayName": listing.title, "price": str(listing.price),
            "inventoryQuantity": listing.quantity, "inventoryItem": lambda _: item_obj(shop, listing)}


# --- orders -------------------------------------------------------------------------------------------

_TERM = re.compile(r"""(?P<field>\w+):(?P<op><=|>=|<|>)?(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>\S+))""")
_OPS: dict[str, Callable[[datetime, datetime], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    "": lambda a, b: a == b,
}


def order_filter(query: str | None) -> Callable[[SimOrder], bool]:
    """Shopify search syntax, the part omnistock needs: `updated_at`/`created_at` comparisons, ANDed."""
    tests: list[Callable[[SimOrder], bool]] = []
    for match in _TERM.finditer(query or ""):
        name = match["field"]
        if name not in ("updated_at", "created_at"):
            continue  # Shopify ignores filters it does not know (with a search warning)
        raw = match["sq"] or match["dq"] or match["bare"] or ""
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            raise GraphQLError(f"Invalid date in search query: {raw!r}", "BAD_REQUEST") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # Shopify reads zone-less dates in the shop's zone; ours is UTC
        op = _OPS[match["op"] or ""]
        attr = "modified_at" if name == "updated_at" else "created_at"
        tests.append(_compare(attr, op, when))
    return lambda order: all(test(order) for test in tests)


def _compare(attr: str, op: Callable[[datetime, datetime], bool],
             when: datetime) -> Callable[[SimOrder], bool]:
    return lambda order: op(getattr(order, attr), when)


def order_obj(shop: SimShop, order: SimOrder) -> dict[str, Any]:
    name_parts = order.customer.get("name", "").split(" ", 1)

    def line_items(args: dict[str, Any]) -> dict[str, Any]:
        lines = list(enumerate(order.lines))
        return connection("LineItem", lines, lambda pair: f"{pair[0]:06d}",
                          lambda pair: line_obj(shop, order, pair[0]), args)

    return {
        "__typename": "Order", "id": gid("Order", order.id), "legacyResourceId": order.id,
        "name": f"#{order.id}", "createdAt": iso(order.created_at), "updatedAt": iso(order.modified_at),
        "cancelledAt": iso(order.modified_at) if order.status == "cancelled" else None,
        "cancelReason": "CUSTOMER" if order.status == "cancelled" else None,
        "displayFinancialStatus": "REFUNDED" if order.status == "refunded" else "PAID",
        "displayFulfillmentStatus": "FULFILLED" if order.status == "shipped" else "UNFULFILLED",
        "currencyCode": order.currency, "email": order.customer.get("email"),
        "phone": order.customer.get("phone"),
        "customer": None if not order.customer else {
            "__typename": "Customer", "displayName": order.customer.get("name"),
            "firstName": name_parts[0] or None, "lastName": name_parts[1] if len(name_parts) > 1 else None,
            "email": order.customer.get("email"), "phone": order.customer.get("phone")},
        "lineItems": line_items,
    }


def line_obj(shop: SimShop, order: SimOrder, index: int) -> dict[str, Any]:
    line = order.lines[index]
    money = {"__typename": "MoneyV2", "amount": str(line.unit_price), "currencyCode": order.currency}
    variant = {"__typename": "ProductVariant", "id": gid("ProductVariant", line.external_id),
               "legacyResourceId": line.external_id, "sku": line.external_sku}
    return {"__typename": "LineItem", "id": gid("LineItem", f"{order.id}{index + 1:03d}"),
            "sku": line.external_sku, "name": line.external_sku or line.external_id, "quantity": line.qty,
            "currentQuantity": 0 if order.status == "cancelled" else line.qty, "variant": variant,
            "originalUnitPriceSet": {"__typename": "MoneyBag", "shopMoney": money, "presentmentMoney": money}}


def orders_connection(shop: SimShop, args: dict[str, Any]) -> dict[str, Any]:
    keep = order_filter(args.get("query"))
    sort_key = str(args.get("sortKey") or "ID")
    with shop.lock:
        found = [o for o in shop.orders.values() if keep(o)]
    stamps = {"UPDATED_AT": lambda o: iso(o.modified_at), "CREATED_AT": lambda o: iso(o.created_at)}
    stamp = stamps.get(sort_key, lambda o: "")
    found.sort(key=lambda o: (stamp(o), int(o.id)), reverse=bool(args.get("reverse")))
    return connection("Order", found, lambda o: f"{stamp(o)}|{int(o.id):020d}",
                      lambda o: order_obj(shop, o), args)


# --- inventorySetQuantities ---------------------------------------------------------------------------


def _check_guard(version: str, ignore_compare: bool, q: dict[str, Any], current: int,
                 where: list[str]) -> dict[str, Any] | None:
    """Shopify's compare-and-set rules by API version; a user error, or None when the quantity may change."""
    if "changeFromQuantity" in q and version >= "2026-01":
        expected = q["changeFromQuantity"]
        if expected is not None and expected != current:
            return {"code": "CHANGE_FROM_QUANTITY_STALE", "field": [*where, "changeFromQuantity"],
                    "message": "The specified changeFromQuantity is stale."}
        return None
    if version >= "2026-04":
        return {"code": "CHANGE_FROM_QUANTITY_REQUIRED", "field": [*where, "changeFromQuantity"],
                "message": "changeFromQuantity must be given for each quantity (null to skip the check)."}
    if ignore_compare:
        return None
    if q.get("compareQuantity") is None:
        return {"code": "COMPARE_QUANTITY_REQUIRED", "field": [*where, "compareQuantity"],
                "message": "The compareQuantity argument must be given to each quantity or ignored using "
                           "ignoreCompareQuantity."}
    if q["compareQuantity"] != current:
        return {"code": "COMPARE_QUANTITY_STALE", "field": [*where, "compareQuantity"],
                "message": "The specified compare quantity does not match the current quantity."}
    return None


def validate_set_input(version: str, data: Any) -> None:
    """Schema-level checks (a GraphQL error, not a user error)."""
    if not isinstance(data, dict) or not isinstance(data.get("quantities"), list):
        raise GraphQLError("Variable $input of type InventorySetQuantitiesInput! was provided invalid value",
                           "INVALID_VARIABLE")
    if len(data["quantities"]) > MAX_QUANTITIES:
        raise GraphQLError(f"The input array size of {len(data['quantities'])} is greater than the maximum "
                           f"allowed of {MAX_QUANTITIES}.", "MAX_INPUT_SIZE_EXCEEDED",
                           ["inventorySetQuantities"])
    newer = version >= "2026-04"
    if newer and "ignoreCompareQuantity" in data:
        raise GraphQLError("InputObject 'InventorySetQuantitiesInput' doesn't accept argument "
                           "'ignoreCompareQuantity'", "argumentNotAccepted")
    for q in data["quantities"]:
        if not isinstance(q, dict) or not isinstance(q.get("quantity"), int) or not q.get("inventoryItemId"):
            raise GraphQLError("Variable $input of type InventorySetQuantitiesInput! was provided invalid "
                               "value", "INVALID_VARIABLE")
        if "changeFromQuantity" in q and version < "2026-01":
            raise GraphQLError("InputObject 'InventoryQuantityInput' doesn't accept argument "
                               "'changeFromQuantity'", "argumentNotAccepted")
        if newer and "compareQuantity" in q:
            raise GraphQLError("InputObject 'InventoryQuantityInput' doesn't accept argument "
                               "'compareQuantity'", "argumentNotAccepted")


def set_quantities(shop: SimShop, version: str, data: Any) -> dict[str, Any]:
    """Apply all quantities or none (Shopify rejects the whole mutation when one quantity is wrong)."""
    validate_set_input(version, data)
    errors: list[dict[str, Any]] = []
    if data.get("name") not in ("available", "on_hand"):
        errors.append({"code": "INVALID_NAME", "field": ["input", "name"],
                       "message": "The quantity name must be either 'available' or 'on_hand'."})
    if data.get("reason") not in REASONS:
        errors.append({"code": "INVALID_REASON", "field": ["input", "reason"],
                       "message": "The specified reason is invalid."})
    with shop.lock:
        items = items_by_id(shop)
        targets: list[tuple[SimListing, int]] = []
        for n, q in enumerate(data["quantities"]):
            where = ["input", "quantities", str(n)]
            listing = items.get(numeric(str(q["inventoryItemId"])))
            if listing is None:
                errors.append({"code": "INVALID_INVENTORY_ITEM", "field": [*where, "inventoryItemId"],
                               "message": "The specified inventory item could not be found."})
                continue
            if numeric(str(q.get("locationId", ""))) != location_id(shop):
                errors.append({"code": "INVALID_LOCATION", "field": [*where, "locationId"],
                               "message": "The specified location could not be found."})
                continue
            guard = _check_guard(version, bool(data.get("ignoreCompareQuantity")), q, listing.quantity, where)
            if guard is not None:
                errors.append(guard)
                continue
            targets.append((listing, q["quantity"]))
        if errors:
            return {"__typename": "InventorySetQuantitiesPayload", "inventoryAdjustmentGroup": None,
                    "userErrors": [{"__typename": "InventorySetQuantitiesUserError", **e} for e in errors]}
        changes = []
        for listing, quantity in targets:
            before = listing.quantity
            shop.set_quantity(listing.external_id, quantity, "api")
            changes.append({"__typename": "InventoryChange", "name": data["name"],
                            "delta": listing.quantity - before, "quantityAfterChange": listing.quantity,
                            "item": item_obj(shop, listing), "location": location_obj(shop)})
    group = {"__typename": "InventoryAdjustmentGroup",
             "id": gid("InventoryAdjustmentGroup", next(_group_ids)),
             "reason": data["reason"], "referenceDocumentUri": data.get("referenceDocumentUri"),
             "changes": lambda _: changes}
    return {"__typename": "InventorySetQuantitiesPayload", "inventoryAdjustmentGroup": group,
            "userErrors": []}
