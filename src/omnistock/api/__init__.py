"""The HTTP edge: FastAPI routers under /api/v1, problem responses, authentication."""
