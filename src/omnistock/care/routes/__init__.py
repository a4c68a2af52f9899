"""The complaint desk's HTTP routes, gathered by omnistock.api.routes.care."""
