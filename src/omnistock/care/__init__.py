"""The complaint desk: cases, incidents, SLA clocks, compensation, outreach and the knowledge base.

Importing the package registers the proactive-case hook on held orders (services.hooks.order_held)."""

from omnistock.care import proactive

proactive.register()
