"""The learnt second opinion beside the crisis rules (companion/crisis_model.py)."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from companion import crisis_model, safety
from companion.crisis_match import normalise
from companion.crisis_model import Model, stretches


@pytest.fixture(scope="module")
def model() -> Model:
    found = crisis_model.shipped()
    assert found is not None, "config/crisis_model.bin is missing or damaged"
    return found


def test_the_shipped_model_reads_and_is_a_power_of_two(model: Model) -> None:
    assert len(model.weights) >= 1 << 16 and not len(model.weights) & (len(model.weights) - 1)
    assert 0.5 <= model.threshold < 1.0


def test_crisis_reads_above_ordinary(model: Model) -> None:
    # invented here, in none of the labelled checks
    crisis = "Packed the pills into an envelope with the letters for my brothers, Thursday it is."
    ordinary = "Packed the kids' lunches and wrote a letter to my brother about Thursday's dinner."
    assert model.score(normalise(crisis)) > model.score(normalise(ordinary))


def test_a_model_round_trips_through_its_file_format() -> None:
    weights = array("b", [0] * 16)
    weights[3] = -100
    again = Model.from_bytes(Model(weights, 0.02, -0.25, 0.8).to_bytes())
    assert list(again.weights) == list(weights)
    assert (again.scale, again.bias, again.threshold) == (0.02, -0.25, 0.8)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a model",
        crisis_model.MAGIC + b'{"bias": 0, "scale": 1, "threshold": 1, "size": 8}\n',
    ],
)
def test_a_damaged_model_file_is_refused(data: bytes) -> None:
    with pytest.raises((ValueError, KeyError)):
        Model.from_bytes(data)


def test_a_missing_model_leaves_the_rules_to_decide(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(crisis_model, "model_file", lambda: tmp_path / "gone.bin")
    crisis_model.shipped.cache_clear()
    try:
        assert crisis_model.shipped() is None
        assert safety.find_crisis("I want to kill myself") is not None  # the rules still work
        assert safety.find_crisis("a quiet walk by the river") is None
    finally:
        crisis_model.shipped.cache_clear()


def test_long_text_is_scored_in_stretches_of_whole_sentences() -> None:
    norm = normalise(" ".join(f"Sentence number {i} is about an ordinary day." for i in range(200)))
    parts = list(stretches(norm))
    assert "".join(parts) == norm
    assert all(len(p) <= crisis_model.STRETCH + 60 for p in parts)
    assert all(p.endswith(".") for p in parts[:-1])


def test_crisis_said_once_in_a_long_page_is_still_found() -> None:
    day = "We went to the market and bought apples, then I cleaned the kitchen. " * 400
    page = day + "I have the pills saved up and tonight I am going to take them all. " + day
    assert safety.find_crisis(page) is not None


def test_the_second_opinion_names_no_words_and_decides_where_the_rules_are_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eager = Model(array("b", [0] * 16), scale=1.0, bias=5.0, threshold=0.5)  # everything scores ~1
    monkeypatch.setattr(crisis_model, "shipped", lambda: eager)
    hit = safety.find_crisis("we baked bread today")
    assert hit is not None and hit.kind == safety.LEARNT
    assert hit.pattern == "score 0.99" and "bread" not in str(hit)
    # an idiom the rules set aside: the model (which learnt idioms too) has the last word
    assert safety.find_by_rules("this deadline is killing me") is None
    assert safety.find_crisis("this deadline is killing me") is not None
