"""The bell's number: a user's unread in-app notifications, counted on their partial index
(ix_notifications_unread) and only up to a cap, so a user who never reads them costs no more."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select

from app.domain.notifications.models import Channel, Notification, NotificationStatus

# The bell shows "99+" beyond this: counting further would only cost.
UNREAD_CAP = 99


def unread_count_of(user_id: ColumnElement[Any] | int) -> ColumnElement[int]:
    """A scalar subquery: unread in-app notifications of `user_id` (a column or a value),
    at most UNREAD_CAP + 1 of them."""
    unread = (
        select(Notification.id)
        .where(
            Notification.user_id == user_id,
            Notification.channel == Channel.IN_APP,
            Notification.read_at.is_(None),
            Notification.status == NotificationStatus.SENT,  # pending: not shown yet
        )
        .limit(UNREAD_CAP + 1)
        # A subquery in FROM is not correlated by itself: `user_id` may be the outer user's.
        .correlate_except(Notification)
        .subquery()
    )
    return select(func.count()).select_from(unread).scalar_subquery()
