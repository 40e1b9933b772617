"""Rate limits in PostgreSQL: attempts counted per subject and per source network in a window.

Seven actions are limited, each by its own rules (`policy`):
- "login", a password or second-factor code at login. Failures count per account from one
  network, per account from all networks together (a much higher ceiling), and per network
  over all accounts. So a stranger who fails an admin's password locks out only their own
  network, not the admin; only a crowd of networks reaches the account's ceiling. The
  network's limit spares an account that logged in from that network within KNOWN_FOR: it
  is there to stop one source trying many accounts, and behind a proxy that hides clients
  (TRUSTED_PROXIES too low, app/web/account/session_login.py warns) every client shares one
  network, which must not lock out everyone who logs in as usual.
- "reauth", a password or code asked again inside a signed-in session (2FA, email and
  password changes, deletion). Failures count per account and per network.
- "mail", a request that mails an address (registration, password reset, email change, a
  code). Every request counts, per address and per network: nobody floods a mailbox.
- "access_code", a hidden tier's access code that unlocked nothing (`ticketing.access_codes`).
  Wrong codes count per user and per network; an anonymous guess (no subject) by network only.
- "coupon", a coupon code that did not apply to a booking (`ticketing.coupons`): unknown,
  expired or used up alike, per user and per network.
- "sms", a verification code texted to a phone number (`accounts.phone`). Every code counts,
  per number and per network: the resend cap, and nobody floods a phone.
- "phone_code", a wrong phone verification code, per user and per network.

An attempt is taken before the secret is checked (`take`), under a transaction-level advisory
lock per subject and per network, and the caller commits it on its own: parallel guesses
queue at the lock and each one counts, so a burst cannot slip past the limit. It counts as a
failure until `settle`d. A success makes the subject's earlier failures stop counting; the
network's never do (or an attacker could interleave logins to an account of their own).

A client's network is its IPv4 address, or the /64 of its IPv6 address: one subscriber gets a
whole /64 and could otherwise rotate through 2^64 addresses.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.domain.accounts.errors import TooManyAttempts
from app.domain.accounts.models import Attempt, AttemptOutcome

LOGIN, REAUTH, MAIL, ACCESS_CODE, COUPON = "login", "reauth", "mail", "access_code", "coupon"
SMS, PHONE_CODE = "sms", "phone_code"
IPV6_NETWORK_PREFIX = 64
# How long attempts are kept (prune_attempts), and so how long a login makes its network known.
KNOWN_FOR = timedelta(days=1)
# The key is hashed to the advisory lock's bigint: a collision only makes two keys queue.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Rule:
    """At most `limit` counted attempts in the window for one subject, one network, or both."""

    limit: int
    by_subject: bool = False
    by_network: bool = False
    # Not for a subject that succeeded from the same network within KNOWN_FOR.
    spares_known: bool = False


@dataclass(frozen=True)
class Policy:
    action: str
    window: timedelta
    rules: tuple[Rule, ...]
    # Count only failures (a subject's only since its last success), or every attempt.
    failures_only: bool = True


def policy(action: str, config: Mapping[str, Any]) -> Policy:
    """The rules of `action` from the app's settings (README, "Configuration")."""
    per_account = int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])
    per_network = int(config["LOGIN_MAX_FAILURES_PER_IP"])
    login_window = timedelta(seconds=int(config["LOGIN_WINDOW_SECONDS"]))
    if action == LOGIN:
        rules = (
            Rule(per_account, by_subject=True, by_network=True),
            Rule(int(config["LOGIN_MAX_FAILURES_PER_ACCOUNT_ALL_NETWORKS"]), by_subject=True),
            Rule(per_network, by_network=True, spares_known=True),
        )
        return Policy(LOGIN, login_window, rules)
    if action == REAUTH:
        rules = (Rule(per_account, by_subject=True), Rule(per_network, by_network=True))
        return Policy(REAUTH, login_window, rules)
    if action == MAIL:
        rules = (
            Rule(int(config["ACCOUNT_MAILS_PER_ADDRESS"]), by_subject=True),
            Rule(int(config["ACCOUNT_MAILS_PER_NETWORK"]), by_network=True),
        )
        window = timedelta(seconds=int(config["ACCOUNT_MAILS_WINDOW_SECONDS"]))
        return Policy(MAIL, window, rules, failures_only=False)
    if action == ACCESS_CODE:
        rules = (
            Rule(int(config["ACCESS_CODE_MAX_FAILURES_PER_USER"]), by_subject=True),
            Rule(int(config["ACCESS_CODE_MAX_FAILURES_PER_NETWORK"]), by_network=True),
        )
        window = timedelta(seconds=int(config["ACCESS_CODE_WINDOW_SECONDS"]))
        return Policy(ACCESS_CODE, window, rules)
    if action == COUPON:
        rules = (
            Rule(int(config["COUPON_MAX_FAILURES_PER_USER"]), by_subject=True),
            Rule(int(config["COUPON_MAX_FAILURES_PER_NETWORK"]), by_network=True),
        )
        window = timedelta(seconds=int(config["COUPON_WINDOW_SECONDS"]))
        return Policy(COUPON, window, rules)
    if action == SMS:
        rules = (
            Rule(int(config["SMS_CODES_PER_NUMBER"]), by_subject=True),
            Rule(int(config["SMS_CODES_PER_NETWORK"]), by_network=True),
        )
        window = timedelta(seconds=int(config["SMS_CODES_WINDOW_SECONDS"]))
        return Policy(SMS, window, rules, failures_only=False)
    if action == PHONE_CODE:
        rules = (
            Rule(int(config["PHONE_CODE_MAX_FAILURES_PER_USER"]), by_subject=True),
            Rule(int(config["PHONE_CODE_MAX_FAILURES_PER_NETWORK"]), by_network=True),
        )
        window = timedelta(seconds=int(config["PHONE_CODE_WINDOW_SECONDS"]))
        return Policy(PHONE_CODE, window, rules)
    raise ValueError(f"no rate limit for {action!r}")


@lru_cache(maxsize=8192)  # the booking endpoints ask on every request; IPv6 parsing costs ~20 µs
def network_of(ip: str | None) -> str | None:
    """The source network of a client address (see the module docstring); None if unknown."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_NETWORK_PREFIX}", strict=False))
    return str(address)


def user_subject(user_id: int) -> str:
    """The subject of attempts about a signed-in user (their address may change meanwhile)."""
    return f"user:{user_id}"


def _normalize(subject: str) -> str:
    return subject.strip().lower()[:254]


def _blocked_until(
    session: Session, where: ColumnElement[bool], *, limit: int, window: timedelta, now: datetime
) -> datetime | None:
    """When the `limit`-th most recent counted attempt leaves the window, if still ahead."""
    nth = session.scalar(
        select(Attempt.created_at)
        .where(where, Attempt.created_at > now - window)
        .order_by(Attempt.created_at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if nth is None:
        return None
    until = nth + window
    return until if until > now else None


def _rule_filter(
    policy: Policy, rule: Rule, subject: str, network: str | None, since: datetime | None
) -> ColumnElement[bool] | None:
    where = Attempt.action == policy.action
    if policy.failures_only:
        where &= Attempt.outcome == AttemptOutcome.FAILED
    if rule.by_network:
        if network is None:
            return None  # an unknown origin is held by the subject's other rules
        where &= Attempt.network == network
    if rule.by_subject:
        if not subject:
            return None  # an anonymous attempt is held by the network's rules
        where &= Attempt.subject == subject
        if since is not None:
            where &= Attempt.created_at > since
    return where


def _known(
    session: Session, policy: Policy, subject: str, network: str | None, now: datetime
) -> bool:
    """Whether the subject succeeded from this network within KNOWN_FOR."""
    if network is None:
        return False
    return bool(
        session.scalar(
            select(
                exists().where(
                    Attempt.action == policy.action,
                    Attempt.subject == subject,
                    Attempt.created_at > now - KNOWN_FOR,
                    Attempt.network == network,
                    Attempt.outcome == AttemptOutcome.SUCCEEDED,
                )
            )
        )
    )


def check(
    session: Session, policy: Policy, *, subject: str, network: str | None, now: datetime
) -> None:
    """Raise TooManyAttempts (with the seconds to wait) when any rule of `policy` is full."""
    subject = _normalize(subject)
    since = None
    if policy.failures_only:
        since = session.scalar(
            select(func.max(Attempt.created_at)).where(
                Attempt.action == policy.action,
                Attempt.subject == subject,
                Attempt.outcome == AttemptOutcome.SUCCEEDED,
            )
        )
    blocks = []
    for rule in policy.rules:
        if rule.spares_known and _known(session, policy, subject, network, now):
            continue
        where = _rule_filter(policy, rule, subject, network, since)
        if where is not None:
            blocks.append(
                _blocked_until(session, where, limit=rule.limit, window=policy.window, now=now)
            )
    until = max((b for b in blocks if b is not None), default=None)
    if until is not None:
        raise TooManyAttempts(math.ceil((until - now).total_seconds()))


def take(
    session: Session, policy: Policy, *, subject: str, network: str | None, now: datetime
) -> Attempt:
    """Count one attempt if `policy` allows it (TooManyAttempts otherwise).

    Locks the subject and the network until the transaction ends: the caller commits at once,
    on a transaction of its own, so that the attempt counts whatever happens next.
    """
    subject = _normalize(subject)
    keys = sorted(
        {f"{policy.action}|subject|{subject}"}
        | ({f"{policy.action}|network|{network}"} if network else set())
    )
    try:
        for key in keys:  # sorted: two attempts never wait for each other's second lock
            session.execute(_LOCK, {"key": key})
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise TooManyAttempts(1) from exc
        raise
    check(session, policy, subject=subject, network=network, now=now)
    outcome = AttemptOutcome.FAILED if policy.failures_only else AttemptOutcome.NEUTRAL
    return record(
        session, policy.action, subject=subject, network=network, outcome=outcome, now=now
    )


def record(
    session: Session,
    action: str,
    *,
    subject: str,
    network: str | None,
    outcome: AttemptOutcome,
    now: datetime,
) -> Attempt:
    """Add an attempt without checking any limit (e.g. a sign-in through a provider)."""
    attempt = Attempt(
        action=action,
        subject=_normalize(subject),
        network=network,
        outcome=outcome,
        created_at=now,
    )
    session.add(attempt)
    session.flush()
    return attempt


def settle(session: Session, attempt_id: int, outcome: AttemptOutcome) -> None:
    """Record how a taken attempt ended (it counted as a failure until now)."""
    session.execute(update(Attempt).where(Attempt.id == attempt_id).values(outcome=outcome))


def forget_subject(session: Session, *subjects: str) -> None:
    """Drop the attempts about these subjects (an account being erased)."""
    session.execute(delete(Attempt).where(Attempt.subject.in_([_normalize(s) for s in subjects])))


def prune_attempts(session: Session, *, now: datetime, keep: timedelta = KNOWN_FOR) -> int:
    """Delete attempts older than `keep` (beyond every window); return how many went."""
    result = session.execute(delete(Attempt).where(Attempt.created_at < now - keep))
    return result.rowcount or 0
