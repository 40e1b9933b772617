"""The organizer's event form: parsing (WTForms), uploads, and mapping domain errors back.

WTForms only parses and checks types here; every rule on the data is the domain's
(`validate_event_input`), whose errors are shown next to their fields.
"""

from __future__ import annotations

from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.domain.events.editing import EventInput, SpeakerInput
from app.domain.events.models import Category, Event, EventType
from app.integrations.storage import (
    COVER,
    SPEAKER_PHOTO,
    ImageRejected,
    ImageSpec,
    Storage,
    is_media_key,
    store_image,
)
from app.web.forms import AppForm

BLANK_SPEAKER_ROWS = 2
IMAGE_TYPES = "image/jpeg,image/png,image/webp,image/gif"
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
TYPE_CHOICES = [
    SelectChoice(EventType.OFFLINE.value, "In person"),
    SelectChoice(EventType.ONLINE.value, "Online"),
    SelectChoice(EventType.HYBRID.value, "Hybrid (in person and online)"),
]


class SpeakerForm(Form):
    name = StringField("Name")
    title = StringField("Title or role")
    bio = TextAreaField("Short bio")
    photo = FileField("Photo", render_kw={"accept": IMAGE_TYPES})
    current_photo = HiddenField()
    remove_photo = BooleanField("Remove photo")
    remove = BooleanField("Remove this speaker")


class EventForm(AppForm):
    title = StringField("Title", render_kw={"maxlength": 200})
    description = TextAreaField("Description", render_kw={"rows": 8})
    event_type = RadioField("Format", choices=TYPE_CHOICES, default=EventType.OFFLINE.value)
    venue_name = StringField("Venue name")
    address = StringField("Address")
    city = StringField("City")
    online_url = StringField("Join link (online and hybrid)")
    starts_at = DateTimeLocalField("Starts", format=DATETIME_FORMATS, validators=[Optional()])
    ends_at = DateTimeLocalField("Ends", format=DATETIME_FORMATS, validators=[Optional()])
    timezone = StringField("Time zone")
    category_id = SelectField("Category", choices=[], validate_choice=True)
    tags = StringField("Tags")
    cover = FileField("Cover image", render_kw={"accept": IMAGE_TYPES})
    # The cover already stored (or uploaded with a form that then needed fixing).
    cover_key = HiddenField()
    remove_cover = BooleanField("Remove the cover image")
    speakers = FieldList(FormField(SpeakerForm), max_entries=30)


def build_form(
    categories: list[Category], *, event: Event | None = None, default_zone: str = "UTC"
) -> EventForm:
    """The form, filled from the request on POST, or from `event` (or defaults) on GET."""
    form = EventForm(obj=None)
    form.category_id.choices = [SelectChoice("", "No category")] + [
        SelectChoice(str(c.id), c.name) for c in categories
    ]
    if form.is_submitted():
        return form
    if event is None:
        form.timezone.data = default_zone
    else:
        _fill_from_event(form, event)
    for _ in range(BLANK_SPEAKER_ROWS):
        form.speakers.append_entry()
    return form


def _fill_from_event(form: EventForm, event: Event) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(event.timezone)
    form.title.data = event.title
    form.description.data = event.description
    form.event_type.data = event.event_type.value
    form.venue_name.data = event.venue_name or ""
    form.address.data = event.address or ""
    form.city.data = event.city or ""
    form.online_url.data = event.online_url or ""
    form.starts_at.data = event.starts_at.astimezone(zone).replace(tzinfo=None)
    form.ends_at.data = event.ends_at.astimezone(zone).replace(tzinfo=None)
    form.timezone.data = event.timezone
    form.category_id.data = str(event.category_id) if event.category_id else ""
    form.tags.data = ", ".join(event.tags)
    form.cover_key.data = event.cover_image or ""
    for speaker in event.speakers:
        form.speakers.append_entry(
            {
                "name": speaker.name,
                "title": speaker.title or "",
                "bio": speaker.bio or "",
                "current_photo": speaker.photo or "",
            }
        )


def _upload(field: FileField, spec: ImageSpec, storage: Storage) -> str | None:
    """Store the field's file if one was sent; None when the field is empty."""
    file = field.data
    if not isinstance(file, FileStorage) or not file.filename:
        return None
    return store_image(storage, file.read(), spec)


def _kept_key(key: str | None, remove: bool) -> str | None:
    """A previously stored image key from a hidden field (only keys this app makes)."""
    return None if remove or not key or not is_media_key(key) else key


def read_form(form: EventForm, storage: Storage) -> tuple[EventInput, dict[str, list[str]]]:
    """The domain input for the submitted form, and any upload errors by field name.

    Uploads are stored at once and their keys written back into the form, so a form
    re-shown for a fix keeps them. (Images are content-addressed; an unused one is harmless.)
    """
    upload_errors: dict[str, list[str]] = {}
    cover = _kept_key(form.cover_key.data, form.remove_cover.data)
    try:
        cover = _upload(form.cover, COVER, storage) or cover
    except ImageRejected as error:
        upload_errors["cover"] = [error.message]
    form.cover_key.data = cover or ""
    speakers: list[SpeakerInput] = []
    for number, entry in enumerate(form.speakers.entries, start=1):
        row = entry.form
        if row.remove.data:
            continue
        photo = _kept_key(row.current_photo.data, row.remove_photo.data)
        try:
            photo = _upload(row.photo, SPEAKER_PHOTO, storage) or photo
        except ImageRejected as error:
            upload_errors.setdefault("speakers", []).append(
                f"Speaker {number} photo: {error.message}"
            )
        row.current_photo.data = photo or ""
        speakers.append(
            SpeakerInput(
                name=row.name.data or "",
                title=row.title.data or "",
                bio=row.bio.data or "",
                photo=photo,
            )
        )
    data = EventInput(
        title=form.title.data or "",
        description=form.description.data or "",
        event_type=form.event_type.data or "",
        venue_name=form.venue_name.data or "",
        address=form.address.data or "",
        city=form.city.data or "",
        online_url=form.online_url.data or "",
        starts_local=form.starts_at.data,
        ends_local=form.ends_at.data,
        timezone=form.timezone.data or "",
        category_id=int(form.category_id.data) if form.category_id.data else None,
        tags=form.tags.data or "",
        cover_image=cover,
        speakers=speakers,
    )
    return data, upload_errors


def show_errors(form: EventForm, errors: dict[str, list[str]]) -> None:
    """Attach domain (or upload) errors to their fields, unless the field already shows one
    (an unparseable date is not also "missing"); speaker errors go to the form's list."""
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is None or name == "speakers":
            form.form_errors.extend(messages)
        elif not field.errors:
            field.errors = list(messages)
