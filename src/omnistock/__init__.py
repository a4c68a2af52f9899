"""omnistock: one trustworthy stock for every sales channel, and the complaint desk for when it goes wrong."""

__version__ = "0.1.0"
