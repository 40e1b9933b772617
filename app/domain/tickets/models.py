"""The signing key pair of an event's ticket codes (see `signing`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.base import Base, utcnow


class EventSigningKey(Base):
    """One Ed25519 key pair per event. The public key goes to check-in devices, which verify
    codes with it offline; the private key is only ever read by the server that signs."""

    __tablename__ = "event_signing_keys"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
