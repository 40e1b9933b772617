"""The admin-managed category list."""

from __future__ import annotations

import pytest

from app.domain.accounts.models import Role
from app.domain.events.categories import (
    create_category,
    delete_category,
    list_categories,
    rename_category,
)
from app.domain.events.errors import EventError, EventInvalid


def test_create_rename_delete(db, make_user, now) -> None:  # noqa: ANN001
    admin = make_user(role=Role.ADMIN)
    music = create_category(db, "  Live   Music ", admin=admin, now=now)
    assert (music.name, music.slug) == ("Live Music", "live-music")
    rename_category(db, music, "Music", admin=admin, now=now)
    assert music.slug == "music"
    create_category(db, "Arts", admin=admin, now=now)
    assert [c.name for c in list_categories(db)] == ["Arts", "Music"]
    delete_category(db, music, admin=admin, now=now)
    assert [c.name for c in list_categories(db)] == ["Arts"]


@pytest.mark.parametrize(
    ("name", "message"), [("", "Enter"), ("x" * 81, "at most 80"), ("music", "already exists")]
)
def test_bad_names_are_refused(db, make_user, make_category, now, name, message) -> None:  # noqa: ANN001
    make_category(name="Music", slug="music")
    with pytest.raises(EventInvalid, match=message):
        create_category(db, name, admin=make_user(role=Role.ADMIN), now=now)


def test_a_category_in_use_cannot_be_deleted(db, make_user, make_category, make_event, now) -> None:  # noqa: ANN001
    category = make_category(name="Tech")
    make_event(category_id=category.id)
    with pytest.raises(EventError, match="used by 1 event"):
        delete_category(db, category, admin=make_user(role=Role.ADMIN), now=now)
