"""A channel's money terms: the platform fee (percentage of revenue) and whether it may sell on-order stock
as pre-sale (what that changes is money.presale)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from omnistock.domain.profit import check_fee_percent
from omnistock.money.tables import ChannelTerms
from omnistock.services import audit
from omnistock.services.lookup import channel_by_code
from omnistock.store.types import utcnow
from omnistock.sync import dirty
from omnistock.sync.tables import Listing


def terms_of(session: Session, channel_id: int) -> ChannelTerms:
    """The channel's terms; the defaults (no fee, no pre-sale) when never set."""
    row = session.get(ChannelTerms, channel_id)
    return row if row is not None else ChannelTerms(channel_id=channel_id, fee_percent=Decimal(0), presale=False)


def set_terms(session: Session, channel: str, *, fee_percent: Decimal | None, presale: bool | None,
              actor: str) -> tuple[str, ChannelTerms]:
    ch = channel_by_code(session, channel, field="code")
    row = session.get(ChannelTerms, ch.id)
    before = None if row is None else {"fee_percent": str(row.fee_percent), "presale": row.presale}
    if row is None:
        row = ChannelTerms(channel_id=ch.id, fee_percent=Decimal(0), presale=False)
        session.add(row)
    if fee_percent is not None:
        row.fee_percent = check_fee_percent(fee_percent)
    if presale is not None and presale != row.presale:
        row.presale = presale
        # What the channel may show changes at once: every listing of it is pushed again.
        dirty.mark_listings(session, Listing.channel_id == ch.id)
    row.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=actor, action="channel.terms", entity=f"channel:{ch.code}", before=before,
                 after={"fee_percent": str(row.fee_percent), "presale": row.presale})
    return ch.code, row
