"""Vosk with the real Korean model: chunks in, partial and final text out, and when it stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from speech_fixtures import Speech, ko_model_path, similar

from companion.adapters.recognizer import (
    Listening,
    Transcript,
    load_model,
    loaded_models,
    transcribe,
)
from companion.audio import CHUNK_SAMPLES, open_audio
from companion.voice import tidy

pytest_plugins = ["speech_fixtures"]
SILENT_CHUNK = bytes(CHUNK_SAMPLES * 2)  # a quarter second of digital silence


@pytest.fixture(scope="module")
def model() -> object:
    return load_model(ko_model_path())


def chunks_of(path: Path) -> list[bytes]:
    return list(open_audio(path))


@pytest.fixture(scope="module")
def heard(model: object, ko_speech: Speech) -> Transcript:
    """The speech transcribed plainly, once (each transcription is a fresh recognizer)."""
    return transcribe(model, chunks_of(ko_speech.wav16k))


def test_the_model_is_loaded_once_per_process(model: object) -> None:
    assert load_model(ko_model_path()) is model
    assert str(ko_model_path().resolve()) in loaded_models()


def test_korean_speech_gives_words_with_confidence_and_times(heard: Transcript) -> None:
    result = heard
    assert result.text.strip()
    assert any("\uac00" <= ch <= "\ud7a3" for ch in result.text)  # Hangul syllables
    assert result.ended_by == "end"
    assert [w["word"] for w in result.words] == result.text.split()
    assert all(0 <= w["conf"] <= 1 and 0 <= w["start"] <= w["end"] for w in result.words)
    assert result.confidence == pytest.approx(
        sum(w["conf"] for w in result.words) / len(result.words), abs=1e-3
    )


def test_a_fresh_recognizer_per_utterance_hears_the_same_speech_alike(
    model: object, ko_speech: Speech, heard: Transcript
) -> None:
    first = heard
    second = transcribe(model, chunks_of(ko_speech.wav16k))
    assert similar(first.text, second.text)
    assert first.seconds == second.seconds


def test_partials_grow_as_the_words_come(model: object, ko_speech: Speech) -> None:
    seen: list[str] = []
    result = transcribe(model, chunks_of(ko_speech.wav16k), Listening(on_partial=seen.append))
    assert seen and all(s for s in seen)
    assert len(seen) >= 2
    assert similar(seen[-1], result.text)  # Vosk may revise a syllable at the end


def endless(speech: list[bytes]) -> Iterator[bytes]:
    yield from speech
    while True:
        yield SILENT_CHUNK


def test_live_listening_ends_after_the_configured_silence(
    model: object, ko_speech: Speech, heard: Transcript
) -> None:
    speech = chunks_of(ko_speech.wav16k)
    spoken = sum(len(c) for c in speech) / 32000
    result = transcribe(model, endless(speech), Listening(silence_seconds=1.0, max_seconds=60))
    assert result.ended_by == "silence"
    assert similar(result.text, heard.text)
    assert spoken < result.seconds <= spoken + 1.0 + 0.25


def test_live_listening_stops_at_the_longest_answer(model: object, ko_speech: Speech) -> None:
    result = transcribe(
        model, endless(chunks_of(ko_speech.wav16k)), Listening(silence_seconds=30, max_seconds=1.0)
    )
    assert result.ended_by == "max"
    assert result.seconds == pytest.approx(1.0)


def test_stopping_keeps_what_was_said_so_far(
    model: object, ko_speech: Speech, heard: Transcript
) -> None:
    stop = threading.Event()
    speech = chunks_of(ko_speech.wav16k)

    def stop_after_speech() -> Iterator[bytes]:
        yield from speech
        stop.set()
        yield from endless([])

    result = transcribe(
        model, stop_after_speech(), Listening(silence_seconds=30, max_seconds=600, stop=stop)
    )
    assert result.ended_by == "stopped"
    assert similar(result.text, heard.text)


def test_nobody_speaking_ends_with_no_speech(model: object) -> None:
    result = transcribe(model, endless([]), Listening(silence_seconds=1.0, start_timeout=3.0))
    assert result.ended_by == "no-speech"
    assert result.text == "" and result.confidence is None
    assert result.seconds == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("raw", "tidy_text"),
    [
        ("i think i'm doing ok", "I think I'm doing ok."),
        ("  today   was hard  ", "Today was hard."),
        ("is it i", "Is it I?"),
        ("indeed it is", "Indeed it is."),
        ("오늘은 좋았어요", "오늘은 좋았어요."),
        ("", ""),
    ],
)
def test_transcripts_become_sentences(raw: str, tidy_text: str) -> None:
    assert tidy(raw) == tidy_text


@pytest.mark.parametrize(
    ("raw", "tidy_text"),
    [
        ("what should i say to her", "What should I say to her?"),
        ("why do i always wake at four", "Why do I always wake at four?"),
        ("how can i tell her", "How can I tell her?"),
        ("should i call my sister", "Should I call my sister?"),
        ("do i need to explain myself", "Do I need to explain myself?"),
        ("can i say no without feeling guilty", "Can I say no without feeling guilty?"),
        ("is it normal to feel this tired", "Is it normal to feel this tired?"),
        ("what a day it was", "What a day it was."),
        ("do it anyway", "Do it anyway."),
        ("i wonder what she meant", "I wonder what she meant."),
        ("왜 그랬을까", "왜 그랬을까?"),
        ("어떻게 말하면 좋을까요", "어떻게 말하면 좋을까요?"),
        ("뭐 해야 하나요", "뭐 해야 하나요?"),
        ("이렇게 해도 되나요", "이렇게 해도 되나요?"),
        ("오늘은 산책을 했어요", "오늘은 산책을 했어요."),
    ],
)
def test_a_spoken_question_ends_with_a_question_mark(raw: str, tidy_text: str) -> None:
    assert tidy(raw) == tidy_text


def test_a_microphone_that_vanishes_mid_answer_keeps_what_was_said(
    model: object, ko_speech: Speech, heard: Transcript
) -> None:
    from companion.errors import AudioSourceLost

    def then_gone() -> Iterator[bytes]:
        yield from chunks_of(ko_speech.wav16k)
        raise AudioSourceLost("the microphone stopped sending sound")

    result = transcribe(model, then_gone(), Listening(silence_seconds=5.0, max_seconds=60))
    assert result.ended_by == "device-lost"
    assert similar(result.text, heard.text)


def test_a_microphone_that_vanishes_before_any_word_says_so(model: object) -> None:
    from companion.errors import AudioSourceLost

    def gone() -> Iterator[bytes]:
        yield SILENT_CHUNK
        raise AudioSourceLost("the microphone stopped sending sound")

    with pytest.raises(AudioSourceLost):
        transcribe(model, gone(), Listening(silence_seconds=5.0, max_seconds=60))


def test_the_microphone_reader_reports_a_stalled_device() -> None:
    import queue

    from companion.adapters import microphone
    from companion.audio import Resampler
    from companion.errors import AudioSourceLost

    blocks: queue.Queue[bytes] = queue.Queue()
    blocks.put(b"\x01\x00" * 1600)
    reader = microphone._chunks(blocks, Resampler(16000))
    assert next(reader)
    with pytest.raises(AudioSourceLost):
        next(reader)  # nothing more arrives: after STALL_SECONDS the device counts as gone
