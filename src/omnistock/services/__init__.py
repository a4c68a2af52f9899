"""Service functions: one business action each, one transaction each (opened here, never in a route)."""
