"""The small fixed vocabularies (areas, days, phrase contexts), importable at no cost."""

AREAS = ("awareness", "regulation", "choices", "boundaries", "self-compassion", "tracking")
CHECKIN_AREAS = AREAS[:5]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PHRASE_CONTEXTS = ("hard-day", "anxious", "mistake", "setback", "tired", "proud")

# What an entry is. A therapist's note holds what the therapist noticed or suggested,
# written after a session (`companion session note`), linked to that session.
THERAPIST_NOTE = "therapist"
ENTRY_KINDS = ("reflection", "checkin", "weekly", "friend", "win", "session-prep",
               "follow-up", THERAPIST_NOTE)
# The other records a person saves, by the name `forget KIND:ID` uses.
RECORD_KINDS = ("skill", "moment", "notice")
