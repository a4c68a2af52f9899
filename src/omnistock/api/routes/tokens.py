"""API tokens (admin only): the token is in the answer once and never again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from omnistock.api.deps import DB, require, run
from omnistock.api.schemas import TokenIn
from omnistock.domain.access import Permission, Principal
from omnistock.services import tokens

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", status_code=201)
def create_token(body: TokenIn, principal: Annotated[Principal, Depends(require(Permission.CONFIG_WRITE))],
                 db: DB) -> dict[str, Any]:
    def action(session: Any) -> dict[str, Any]:
        row, token = tokens.create_token(session, name=body.name, role=body.role, locations=body.locations,
                                         channels=body.channels, actor=principal.name)
        return {"id": row.id, "name": row.name, "role": row.role, "locations": row.scope_locations,
                "channels": row.scope_channels, "token": token}
    return run(db, action)
