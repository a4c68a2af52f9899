"""Keeping every platform right: listings, dirty marks, push workers, order intake, pollers, health."""
