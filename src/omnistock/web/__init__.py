"""The web console: server-rendered pages (Jinja2 + htmx) for operations staff, store managers and customer
service, in Chinese and English, signed in as people (users), acting through the same services as the API."""
