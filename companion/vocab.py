"""Every fixed word of companion in one place: areas, kinds, statuses, sources.

Importable at no cost (no other companion module, no third-party library), so the CLI's
--help, the config parser and the store share one spelling of each word. The kinds are
StrEnums: a member equals its string ("weekly" == EntryKind.WEEKLY), so rows read from
SQLite compare with them directly.
"""

from enum import StrEnum

AREAS = ("awareness", "regulation", "choices", "boundaries", "self-compassion", "tracking")
CHECKIN_AREAS = AREAS[:5]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PHRASE_CONTEXTS = ("hard-day", "anxious", "mistake", "setback", "tired", "proud")


class EntryKind(StrEnum):
    """What an entry is (the `kind` column of entries)."""

    REFLECTION = "reflection"
    CHECKIN = "checkin"
    WEEKLY = "weekly"
    FRIEND = "friend"
    WIN = "win"
    SESSION_PREP = "session-prep"
    FOLLOW_UP = "follow-up"
    # What the therapist noticed or suggested, written after a session (`companion
    # session note`), linked to that session.
    THERAPIST = "therapist"


ENTRY_KINDS = tuple(EntryKind)


class CheckinKind(StrEnum):
    """What a check-in delivery is (the `kind` column of deliveries)."""

    CHECKIN = "checkin"
    WEEKLY = "weekly"
    FRIEND = "friend"
    SESSION_PREP = "session-prep"
    SESSION_FOLLOW_UP = "session-follow-up"


# The kinds a [[checkins.schedule]] entry may have; the session ones come from sessions.
SCHEDULE_KINDS = (CheckinKind.CHECKIN, CheckinKind.WEEKLY, CheckinKind.FRIEND)
SESSION_KINDS = (CheckinKind.SESSION_PREP, CheckinKind.SESSION_FOLLOW_UP)

# What an answer to each kind of check-in is stored as.
ANSWER_KIND: dict[str, EntryKind] = {
    CheckinKind.CHECKIN: EntryKind.CHECKIN,
    CheckinKind.WEEKLY: EntryKind.WEEKLY,
    CheckinKind.FRIEND: EntryKind.FRIEND,
    CheckinKind.SESSION_PREP: EntryKind.SESSION_PREP,
    CheckinKind.SESSION_FOLLOW_UP: EntryKind.FOLLOW_UP,
}
# Entry kinds that answer a check-in about how the person is: their words can sound hard.
FEELING_KINDS = (EntryKind.CHECKIN, EntryKind.WEEKLY, EntryKind.FRIEND, EntryKind.FOLLOW_UP)


def answer_kind(checkin_kind: str | None) -> EntryKind:
    """The entry kind an answer to a check-in of `checkin_kind` is stored as."""
    return ANSWER_KIND.get(checkin_kind or CheckinKind.CHECKIN, EntryKind.CHECKIN)


class Status(StrEnum):
    """Where a check-in delivery stands (the `status` column of deliveries)."""

    DUE = "due"
    NOTIFIED = "notified"
    ANSWERED = "answered"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"
    MISSED = "missed"


# A check-in in one of these is still waiting for an answer.
OPEN_STATUSES = (Status.DUE, Status.NOTIFIED, Status.SNOOZED)


class Source(StrEnum):
    """How an entry's words came in."""

    TYPED = "typed"
    VOICE = "voice"
    AUDIO_FILE = "audio-file"
    IMPORT = "import"


class Record(StrEnum):
    """The kinds of record `forget KIND:ID` accepts."""

    ENTRY = "entry"
    SKILL = "skill"
    MOMENT = "moment"
    PATTERN = "pattern"
    NOTICE = "notice"
    PHRASE = "phrase"
    SESSION = "session"


# The records a person saves besides entries: each has its place in the brief too.
RECORD_KINDS = (Record.SKILL, Record.MOMENT, Record.NOTICE)

# `forget pending:NAME`: words set aside while the database could not take them.
PENDING = "pending"
