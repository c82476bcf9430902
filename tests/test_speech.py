"""encourage, the friend test, phrase commands and the phrase after a hard moment."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pulse_sink import RATE, need, sox_stat, stop_recording

from companion import speech
from companion.adapters.speaker import Speaker
from companion.cli.common import ClickUi
from companion.clock import SystemClock
from companion.config import load_settings
from companion.content import load_pack
from companion.paths import resolve_paths


class RecordingSpeaker:
    """A speaker that only remembers what it was asked to say."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def prepare(self) -> RecordingSpeaker:
        return self

    def __enter__(self) -> RecordingSpeaker:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def speak(self, text: str) -> None:
        self.said.append(text)

    def start_speaking(self, text: str) -> None:
        self.said.append(text)

    def finish(self) -> None:
        pass


def app_with(store: object, **speech_changes: object) -> SimpleNamespace:
    settings = load_settings(None)
    changed = settings.speech._replace(**speech_changes)
    return SimpleNamespace(
        settings=settings._replace(speech=changed),
        store=store,
        paths=resolve_paths(),
        ui=ClickUi(),
        clock=SystemClock(),
    )


def write_config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text)


# ---------------------------------------------------------------- encourage
def test_encourage_print_shows_a_phrase_for_the_context_and_records_it(cli, store) -> None:
    out = cli("encourage", "--context", "tired", "--print").stdout.strip()
    assert out in load_pack("phrases")["tired"]
    assert len(store.uses("phrase")) == 1


def test_encourage_does_not_repeat_the_last_few(cli) -> None:
    seen = [cli("encourage", "--context", "proud", "--print").stdout.strip() for _ in range(6)]
    assert len(set(seen)) == 6


def test_favourites_then_own_phrases_come_first(cli) -> None:
    cli("phrase", "add", "You are allowed to go slowly.")
    cli("phrase", "add", "Breathe; this will pass.", "--context", "anxious")
    cli("phrase", "favourite", "phrase:2")
    assert (
        cli("encourage", "--context", "anxious", "--print").stdout.strip()
        == "Breathe; this will pass."
    )
    assert (
        cli("encourage", "--context", "anxious", "--print").stdout.strip()
        == "You are allowed to go slowly."
    )


def test_encourage_to_file_writes_speech(cli, tmp_path: Path) -> None:
    need("espeak-ng")
    target = tmp_path / "phrase.wav"
    data = json.loads(cli("encourage", "--to-file", str(target), "--json").stdout)
    words = len(data["text"].split())
    stat = sox_stat(target)
    assert data["path"] == str(target)
    assert words / 165 * 60 * 0.4 < stat.seconds < words / 165 * 60 * 2.5
    assert stat.peak > 0.1


def test_encourage_with_speech_off_only_prints(cli, home: Path) -> None:
    write_config(home, "[speech]\nenabled = false\n")
    result = cli("encourage")
    assert result.stdout.strip()
    assert "Reading aloud is off" in result.stderr


def test_encourage_unknown_context_is_a_usage_error(cli) -> None:
    result = cli("encourage", "--context", "sunny", ok=False)
    assert result.exit_code == 2


def test_encourage_without_a_sound_output_shows_it_and_says_how_to_fix(
    cli, store, monkeypatch, tmp_path
) -> None:
    need("espeak-ng")
    monkeypatch.setenv("PATH", str(tmp_path))  # no player anywhere
    result = cli("encourage")  # the phrase was shown: only its sound is missing
    assert result.stdout.strip() in {p for ps in load_pack("phrases").values() for p in ps}
    (note,) = result.stderr.splitlines()
    assert note.startswith("(It could not be read aloud: ") and "pulseaudio-utils" in note
    assert len(store.uses("phrase")) == 1


def test_friend_test_kinder_without_a_sound_output_keeps_the_words(
    cli, store, monkeypatch, tmp_path
) -> None:
    need("espeak-ng")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("friend-test", "--kinder", "You are learning; that is enough.")
    assert "  You are learning; that is enough." in result.stdout.splitlines()
    assert result.stderr.splitlines()[0].startswith("(It could not be read aloud: ")
    assert result.stderr.splitlines()[1] == "(Kept with your phrases as phrase:1.)"
    assert [r["text"] for r in store.rows("phrases")] == ["You are learning; that is enough."]


@pytest.mark.slow
def test_encourage_is_heard_at_the_default_output(cli, pulse_sink, tmp_path: Path) -> None:
    need("espeak-ng")
    recording = tmp_path / "monitor.raw"
    recorder = pulse_sink.record(recording)
    try:
        cli("encourage", "--context", "hard-day")
    finally:
        stop_recording(recorder)
    assert sox_stat(recording, raw_rate=RATE).peak > 0.05


# ---------------------------------------------------------------- phrase commands
def test_phrase_remove_deletes_it(cli, store) -> None:
    cli("phrase", "add", "Gentle does it.")
    assert "Removed phrase:1" in cli("phrase", "remove", "1").stdout
    assert store.rows("phrases") == []
    assert "Gentle does it." not in cli("phrase", "list").stdout


def test_phrase_remove_unknown_id_is_one_clear_error(cli) -> None:
    result = cli("phrase", "remove", "7", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: there is no phrase with id 7."
    assert cli("phrase", "remove", "seven", ok=False).exit_code == 2


def test_phrase_favourite_and_back(cli, store) -> None:
    cli("phrase", "add", "One thing at a time.")
    cli("phrase", "favourite", "1")
    assert store.get("phrase", 1)["favourite"] == 1
    cli("phrase", "favourite", "1", "--off")
    assert store.get("phrase", 1)["favourite"] == 0


# ---------------------------------------------------------------- friend test
def test_friend_test_keeps_kinder_words_as_a_phrase(cli, store) -> None:
    result = cli("friend-test", "--kinder", "You tried, and that counts.", "--print")
    assert "friend" in result.stdout
    assert "You tried, and that counts." in result.stdout
    [row] = store.rows("phrases")
    assert row["text"] == "You tried, and that counts." and row["context"] == "mistake"
    assert [u["key"] for u in store.rows("content_uses")] == [f"user:{row['id']}"]


def test_friend_test_without_words_offers_a_kinder_phrase(cli, store) -> None:
    result = cli("friend-test", "--context", "setback", "--print")
    offered = result.stdout.strip().splitlines()[-1].strip()
    assert offered in load_pack("phrases")["setback"]
    assert store.rows("phrases") == []


# ---------------------------------------------------------------- after a hard moment
@pytest.mark.parametrize(
    ("mood", "intensity", "text", "context"),
    [
        (1, None, None, "hard-day"),
        (2, None, "so anxious before the call", "anxious"),
        (None, 8, None, "anxious"),
        (None, 9, "I messed up again", "mistake"),
        (None, None, "an awful, exhausted day", "tired"),
        (3, None, None, None),
        (None, 6, None, None),
        (None, None, "a calm walk", None),
    ],
)
def test_hard_context(mood, intensity, text, context) -> None:
    assert speech.hard_context(mood=mood, intensity=intensity, text=text) == context


def test_low_mood_reads_a_phrase(store) -> None:
    speaker, said = RecordingSpeaker(), []
    spoken = speech.after_hard_moment(app_with(store), mood=1, say=said.append, speaker=speaker)
    assert spoken is not None and speaker.said == [spoken.text]
    assert spoken.text in load_pack("phrases")["hard-day"]
    assert said == [f"A kind word: {spoken.text}"]


@pytest.mark.parametrize("changes", [{"after_hard_checkin": False}, {"enabled": False}])
def test_no_phrase_when_switched_off(store, changes) -> None:
    speaker = RecordingSpeaker()
    assert (
        speech.after_hard_moment(app_with(store, **changes), mood=1, say=print, speaker=speaker)
        is None
    )
    assert speaker.said == []


def test_a_steady_moment_reads_nothing(store) -> None:
    speaker = RecordingSpeaker()
    assert (
        speech.after_hard_moment(app_with(store), mood=4, intensity=3, speaker=speaker, say=print)
        is None
    )
    assert speaker.said == []


def test_a_hanging_voice_is_stopped_and_said_once(store) -> None:
    need("espeak-ng")
    app = app_with(store)
    hang = Speaker(
        app.settings.speech,
        timeout=1.0,
        child_argv=[sys.executable, "-c", "import time; time.sleep(600)"],
    )
    said: list[str] = []
    spoken = speech.after_hard_moment(app, intensity=9, say=said.append, speaker=hang)
    assert spoken is not None and not spoken.spoken and spoken.not_played
    assert len(said) == 2 and said[0].startswith("A kind word:")
    assert "longer than 1 second and" in said[1] and "Your entry is saved" in said[1]


def test_checkin_with_low_mood_is_saved_even_when_speaking_fails(
    cli, store, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # the voice cannot play here
    result = cli("checkin", "--text", "a really hard day", "--mood", "1")
    assert result.exit_code == 0
    assert "A kind word:" in result.stderr
    assert "could not be read aloud" in result.stderr
    assert [e["text"] for e in store.entries()] == ["a really hard day"]


@pytest.mark.slow
def test_low_mood_checkin_is_heard(cli, store, pulse_sink, tmp_path: Path) -> None:
    need("espeak-ng")
    recording = tmp_path / "monitor.raw"
    recorder = pulse_sink.record(recording)
    try:
        result = cli("checkin", "--text", "long day", "--mood", "2")
    finally:
        stop_recording(recorder)
    assert "A kind word:" in result.stderr and "could not" not in result.stderr
    assert sox_stat(recording, raw_rate=RATE).peak > 0.05
    assert len(store.entries()) == 1


# ---------------------------------------------------------------- setbacks don't erase growth
def _old_win(store, text: str, days: int) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from companion.store import EntryDraft

    store.add_entry(EntryDraft("win", text, when=store.clock.now() - timedelta(days=days)))


def test_a_low_moment_reads_back_an_older_win(store) -> None:
    _old_win(store, "Said no to the extra shift.", days=9)
    _old_win(store, "Asked for help today.", days=2)  # too recent to be read back
    speaker, said = RecordingSpeaker(), []
    spoken = speech.after_hard_moment(
        app_with(store), mood=1, say=said.append, speaker=speaker, own_words=True
    )
    assert spoken is not None and len(said) == 2
    assert said[1].startswith("A win of yours, from ")
    assert "“Said no to the extra shift.” Setbacks don't erase growth." in said[1]
    assert speaker.said[0] == spoken.text
    assert "you wrote down a win: Said no to the extra shift." in speaker.said[1]


def test_the_win_is_only_heard_where_words_must_not_be_shown(store) -> None:
    _old_win(store, "Walked instead of scrolling.", days=30)
    from companion.app import LogUi

    speaker, said, daemon = RecordingSpeaker(), [], app_with(store)
    daemon.ui = LogUi()  # the daemon's notes go to its log: never the person's words
    speech.after_hard_moment(daemon, intensity=9, say=said.append, speaker=speaker)
    assert len(said) == 1 and "Walked" not in said[0]
    assert "Walked instead of scrolling." in speaker.said[1]


@pytest.mark.parametrize("changes", [{"read_back_win": False}, {}])
def test_no_win_without_one_a_week_old_or_when_turned_off(store, changes) -> None:
    _old_win(store, "Rested when tired.", days=8 if changes else 3)
    speaker, said = RecordingSpeaker(), []
    speech.after_hard_moment(
        app_with(store, **changes), mood=2, say=said.append, speaker=speaker, own_words=True
    )
    assert len(said) == 1 and len(speaker.said) == 1


def test_a_low_checkin_shows_an_older_win_on_the_terminal(
    cli, store, monkeypatch, tmp_path: Path
) -> None:
    _old_win(store, "Went to the appointment even though it was hard.", days=12)
    monkeypatch.setenv("PATH", str(tmp_path))  # no sound here: the words still show
    result = cli("checkin", "--text", "a rough evening", "--mood", "1")
    assert "A kind word:" in result.stderr
    assert "“Went to the appointment even though it was hard.”" in result.stderr
