"""Import every model so `Base.metadata` is complete (Alembic and tests use this)."""

from app.domain.accounts.models import (  # noqa: F401
    Attempt,
    OAuthIdentity,
    OrganizerApplication,
    PasswordResetToken,
    RecoveryCode,
    User,
    UserSession,
)
from app.domain.accounts.phone import PhoneNumber  # noqa: F401
from app.domain.api_tokens.idempotency import IdempotencyKey  # noqa: F401
from app.domain.api_tokens.models import PersonalToken, RefreshFamily, RefreshToken  # noqa: F401
from app.domain.audit import AuditEntry  # noqa: F401
from app.domain.base import Base
from app.domain.checkin.models import (  # noqa: F401
    CheckIn,
    DoubleAdmission,
    StaffGrant,
    StaffInvitation,
)
from app.domain.events.models import Category, Event, EventReport, Speaker  # noqa: F401
from app.domain.notifications.models import (  # noqa: F401
    FailingAddress,
    Notification,
    NotificationPreference,
)
from app.domain.notifications.push_models import DeviceToken, PushSubscription  # noqa: F401
from app.domain.outbox import OutboxMessage  # noqa: F401
from app.domain.payments.models import Payment, PaymentEvent, Refund  # noqa: F401
from app.domain.teams.models import TeamInvitation, TeamMember  # noqa: F401
from app.domain.ticketing.models import (  # noqa: F401
    Booking,
    Coupon,
    Ticket,
    TicketTier,
    Unit,
    WaitlistEntry,
)
from app.domain.tickets.models import EventSigningKey  # noqa: F401
from app.domain.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401

metadata = Base.metadata
