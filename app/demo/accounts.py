"""Demo accounts: an admin, two organizers, three attendees (development passwords).

The admin and organizers have two-factor login on with fixed, printed secrets, so a
developer can reach the dashboards at once: add the secret to an authenticator app, or
print the current code with the command shown on the console.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.accounts.models import Role, User
from app.domain.accounts.passwords import hash_password
from app.domain.base import utcnow

# (key, name, email, password, role, organization, TOTP secret)
DEMO_USERS = (
    (
        "admin",
        "Ada Admin",
        "admin@eventhall.test",
        "admin-demo-pass",
        Role.ADMIN,
        None,
        "EVENTHALLDEMOADMIN234567ABCDEFGH",
    ),
    (
        "org1",
        "Olivia Organizer",
        "olivia@eventhall.test",
        "olivia-demo-pass",
        Role.ORGANIZER,
        "Riverside Music Collective",
        "EVENTHALLDEMOORGONE234567ABCDEFG",
    ),
    (
        "org2",
        "Oscar Organizer",
        "oscar@eventhall.test",
        "oscar-demo-pass",
        Role.ORGANIZER,
        "Northwind Tech Meetups",
        "EVENTHALLDEMOORGTWO234567ABCDEFG",
    ),
    (
        "att1",
        "Alice Attendee",
        "alice@eventhall.test",
        "alice-demo-pass",
        Role.ATTENDEE,
        None,
        None,
    ),
    ("att2", "Bob Attendee", "bob@eventhall.test", "bob-demo-pass", Role.ATTENDEE, None, None),
    (
        "att3",
        "Carol Attendee",
        "carol@eventhall.test",
        "carol-demo-pass",
        Role.ATTENDEE,
        None,
        None,
    ),
)


def load(session: Session) -> tuple[dict[str, User], list[str]]:
    """Create the demo users; return them by key and the lines that print their logins."""
    now = utcnow()
    users: dict[str, User] = {}
    lines = ["Demo accounts (development only):"]
    for key, name, email, password, role, organization, secret in DEMO_USERS:
        user = User(
            name=name,
            email=email,
            password_hash=hash_password(password),
            role=role,
            organization_name=organization,
            email_verified_at=now,
            created_at=now,
            preferences={},
            totp_secret=secret,
            totp_enabled_at=now if secret else None,
        )
        session.add(user)
        users[key] = user
        line = f"  {role.value:<9} {email:<24} password: {password:<18}"
        if secret:
            line += f"  2FA secret: {secret}"
        lines.append(line)
    session.flush()
    lines.append(
        "  Admin and organizers log in with a 2FA code: add the secret to an authenticator "
        "app, or run"
    )
    lines.append("  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('<secret>').now())\"")
    return users, lines
