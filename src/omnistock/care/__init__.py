"""The complaint desk: cases, incidents, SLA clocks, compensation, outreach and the knowledge base.

Importing the package registers its hooks: the proactive case on held orders (services.hooks.order_held), and
cases from platform refunds taken in by the order intake (sync.intake.event_taken)."""

from omnistock.care import platform_intake, proactive

proactive.register()
platform_intake.register()
