"""The console mounted beside the API: its pages and its static files (shipped in the package; nothing is
fetched from elsewhere at run time)."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, Response

from omnistock.web.render import menu_entries, whole_business_pages
from omnistock.web.routes import (
    auth,
    backups,
    care_cases,
    care_incidents,
    catalogue,
    channels,
    cleanup,
    dashboard,
    onboarding,
    orders,
    rollout,
    skus,
    watch,
)
from omnistock.web.routes import money as money_pages
from omnistock.web.routes import purchasing as purchasing_pages
from omnistock.web.routing import console_router

STATIC = Path(__file__).with_name("static")
MEDIA = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".svg": "image/svg+xml"}

router = console_router()
# watch before skus: /skus/{code}/trace must win over the SKU page's /skus/{code:path}
for module in (auth, dashboard, watch, skus, channels, orders, care_cases, care_incidents):
    router.include_router(module.router)
menu_entries.append(lambda text: ("/care", text.gettext("Customer service")))
router.include_router(money_pages.router)
router.include_router(purchasing_pages.router)
menu_entries.append(lambda text: ("/purchasing", text.gettext("Purchasing")))
menu_entries.append(lambda text: ("/money", text.gettext("Stock value & profit")))
for module in (catalogue, onboarding, backups, cleanup, rollout):
    router.include_router(module.router)
menu_entries.append(lambda text: ("/onboarding", text.gettext("Bring data in")))
whole_business_pages.add("/onboarding")


@router.get("/static/{name}")
def static(name: str) -> Response:
    # Only files that are really in the folder: no path tricks (the name cannot contain a slash here).
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file() or path.suffix not in MEDIA:
        return Response(status_code=404)
    return FileResponse(path, media_type=MEDIA[path.suffix], headers={"Cache-Control": "public, max-age=3600"})
