"""What a revision would change, as an admin reviews it: each changed material field, the
public value beside the proposed one, and for the description the words taken out and put in."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.events.models import Event, EventRevision, EventType
from app.domain.events.revisions import FIELD_LABELS, changed_fields, material_of

FORMATS = {
    EventType.OFFLINE.value: "In person",
    EventType.ONLINE.value: "Online",
    EventType.HYBRID.value: "Hybrid (in person and online)",
}
# Words with the spaces after them (and any spaces the text starts with): spaces alone never
# match, so a changed phrase reads as one run taken out and one put in.
_TOKENS = re.compile(r"^\s+|\S+\s*")


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: Any  # text to show; a storage key for the cover; a list of speakers (dicts)
    after: Any
    # For the description: ("same" | "del" | "ins", text) runs, in reading order.
    words: list[tuple[str, str]] = field(default_factory=list)


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The runs of words kept, taken out and put in; joined up they give each text back."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", "".join(old[a1:a2])))
            continue
        if a2 > a1:
            runs.append(("del", "".join(old[a1:a2])))
        if b2 > b1:
            runs.append(("ins", "".join(new[b1:b2])))
    return runs


def _shown(name: str, value: Any, zone: str) -> Any:  # noqa: ANN401 - one of several kinds
    if name in ("starts_at", "ends_at"):
        return (
            datetime.fromisoformat(value).astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M")
        )
    if name == "event_type":
        return FORMATS[value]
    return value if value is not None else ""


def revision_changes(event: Event, revision: EventRevision) -> list[FieldChange]:
    """The fields `revision` changes against the event's public version, in form order.
    Dates are shown in the zone each version names."""
    before, after = material_of(event), revision.changes
    changes = []
    for name in changed_fields(event, after):
        change = FieldChange(
            name=name,
            label=FIELD_LABELS[name],
            before=_shown(name, before[name], before["timezone"]),
            after=_shown(name, after[name], after["timezone"]),
        )
        if name == "description":
            change.words.extend(word_diff(before[name], after[name]))
        changes.append(change)
    return changes
