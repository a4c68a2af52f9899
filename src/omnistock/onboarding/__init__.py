"""Getting a merchant's existing data in: spreadsheet imports (validate, dry-run, apply), units and SKU
aliases, duplicate merging, repair of bad data, backup and restore.

Importing the package lets SKU lookups accept aliases (services.lookup.sku_resolvers)."""

from omnistock.onboarding.aliases import install as _install_aliases

_install_aliases()
