"""Purchasing and money: suppliers, purchase orders, moving-average cost, valuation, exchange rates,
reorder suggestions and channel profit. Importing the package registers its hooks on the core (costing of
every move and shipment, on-order and unit cost in a SKU's view)."""

from omnistock.money import hooks as _hooks

_hooks.install()
