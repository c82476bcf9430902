"""A learnt second opinion beside the crisis patterns: a logistic regression over the
words, word pairs and letter runs (3-6) of a normalised text.

The patterns only catch wording someone thought of; this scores how much a text reads
like the thousands of labelled crisis statements in tests/data/crisis/ (written by many
writers, in several languages) rather than the ordinary entries next to them. Features
are hashed (CRC-32) into a fixed table of weights, `config/crisis_model.bin` (one signed
byte each, times a scale), made by tests/tools/train_crisis_model.py, which also chose the
threshold on lines the weights were not fitted to. The file (256 KB) is read on first use.

Pure: no settings, no output. A missing or damaged file means no second opinion (the
patterns still decide), never an error.
"""

from __future__ import annotations

import json
import math
import zlib
from array import array
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from .logs import get_log
from .resources import pack_file

log = get_log("companion.crisis_model")

MAGIC = b"companion crisis model 4\n"  # 4: runs of 6 letters too; 3: weights over n ** 0.25
CHAR_SIZES = (3, 4, 5, 6)  # 6 too: +0.4-0.5 points of recall out of fold, same false positives
# A text's summed weights are divided by its number of features to this power: 0.25
# generalised better to unseen writers than 0.5 (grouped cross-validation, +1.5 points of
# recall at the same false positives) and keeps a lone strong word from deciding a short text.
LENGTH_POWER = 0.25


def features(norm: str) -> set[str]:
    """The words ("w:"), word pairs ("b:") and letter runs of 3-6 ("c:") of normalised
    text (crisis_match.normalise)."""
    words = [w for w in norm.replace(".", " ").replace(",", " ").split() if w]
    found = {f"w:{w}" for w in words}
    found.update(f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False))
    padded = f" {' '.join(words)} "
    for size in CHAR_SIZES:
        found.update(f"c:{padded[i : i + size]}" for i in range(len(padded) - size + 1))
    return found


def slots(found: set[str], size: int) -> Iterator[int]:
    """Where each feature's weight lies in a table of `size` (a power of two)."""
    mask = size - 1
    return (zlib.crc32(f.encode("utf-8")) & mask for f in found)


STRETCH = 400  # characters: about what a labelled line holds (one to four sentences)


def stretches(norm: str) -> Iterator[str]:
    """Normalised text in stretches of whole sentences of about STRETCH characters (a
    longer sentence is a stretch of its own), each scored alone, as the model learnt from
    single entries: crisis said once in a long page is not drowned by the rest of it."""
    if len(norm) <= STRETCH:
        yield norm
        return
    start = 0
    while start < len(norm):
        end = norm.rfind(".", start, start + STRETCH)
        end = norm.find(".", start + STRETCH) if end <= start else end
        end = len(norm) if end < 0 else end + 1
        yield norm[start:end]
        start = end


class Model:
    """Hashed weights (signed bytes, times `scale`), a bias, and the score at or above
    which a text counts."""

    def __init__(self, weights: array[int], scale: float, bias: float, threshold: float) -> None:
        if len(weights) & (len(weights) - 1):
            raise ValueError("the table of weights is not a power of two long")
        self.weights, self.scale = weights, scale
        self.bias, self.threshold = bias, threshold

    def score(self, norm: str) -> float:
        """How much normalised text reads like crisis language, from 0 to 1."""
        found = features(norm)
        if not found:
            return 0.0
        weights = self.weights
        total = self.scale * sum(weights[i] for i in slots(found, len(weights)))
        z = self.bias + total / len(found) ** LENGTH_POWER
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_bytes(self) -> bytes:
        head = json.dumps(
            {
                "bias": self.bias,
                "scale": self.scale,
                "threshold": self.threshold,
                "size": len(self.weights),
            }
        )
        return MAGIC + head.encode() + b"\n" + self.weights.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        if not data.startswith(MAGIC):
            raise ValueError("not a crisis model")
        end = data.index(b"\n", len(MAGIC))
        head = json.loads(data[len(MAGIC) : end])
        weights = array("b")  # signed bytes
        weights.frombytes(data[end + 1 :])
        if len(weights) != int(head["size"]):
            raise ValueError("a crisis model cut short")
        return cls(weights, float(head["scale"]), float(head["bias"]), float(head["threshold"]))


def model_file() -> Path:
    return pack_file("config", "crisis_model.bin")


@lru_cache(maxsize=1)
def shipped() -> Model | None:
    """The shipped model, or None when it cannot be read (the patterns still decide)."""
    try:
        return Model.from_bytes(model_file().read_bytes())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the crisis model could not be read (%s); the patterns alone decide", exc)
        return None
