"""Getting a merchant's existing data in: spreadsheet imports (validate, dry-run, apply), units and SKU
aliases, duplicate merging, repair of bad data, backup and restore.

Importing the package lets SKU lookups accept aliases (services.lookup.sku_resolvers) and merges carry batches."""

from omnistock.onboarding.aliases import install as _install_aliases
from omnistock.onboarding.batch_merge import install as _install_batch_merge

_install_aliases()
_install_batch_merge()
