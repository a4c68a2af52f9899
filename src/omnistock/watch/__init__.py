"""Watching over the stock: reconciliation with every platform, the per-SKU trace, alerts and the notifiers
that carry them to the team's chat, automatic order holds, and the weekly sync report.

Importing the package registers its hooks on the core and the sync engine (see `install`)."""

from omnistock.watch.hooks import install as _install

_install()
