"""The small fixed vocabularies (areas, days, phrase contexts), importable at no cost."""

AREAS = ("awareness", "regulation", "choices", "boundaries", "self-compassion", "tracking")
CHECKIN_AREAS = AREAS[:5]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PHRASE_CONTEXTS = ("hard-day", "anxious", "mistake", "setback", "tired", "proud")
