"""Small checkers for the brief tests: a JSON Schema subset validator and a PNG reader."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}


def _is(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def schema_errors(
    value: Any, schema: dict[str, Any], where: str = "$", root: dict[str, Any] | None = None
) -> list[str]:
    """Errors of `value` against the subset of JSON Schema that tests/brief_schema.json uses
    (types, enum, bounds, patterns, required, additionalProperties, "$ref": "#/$defs/...")."""
    root = schema if root is None else root
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_errors(value, target, where, root)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return [f"{where}: {value!r} is not {'/'.join(kinds)}"]
    errors = _scalar_errors(value, schema, where)
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: too short")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: fewer than {schema['minItems']} items")
        for i, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), f"{where}[{i}]", root)
    if isinstance(value, dict):
        errors += _object_errors(value, schema, where, root)
    return errors


def _scalar_errors(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > {schema['maximum']}")
    return errors


def _object_errors(
    value: dict[str, Any], schema: dict[str, Any], where: str, root: dict[str, Any]
) -> list[str]:
    errors = [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], f"{where}.{key}", root)
        elif extra is False:
            errors.append(f"{where}: unexpected key {key}")
        elif isinstance(extra, dict):
            errors += schema_errors(item, extra, f"{where}.{key}", root)
    return errors


def read_png(path: Path) -> tuple[int, int, list[bytearray], int]:
    """(width, height, rows of raw pixel bytes, bytes per pixel) of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, "unsupported PNG layout"
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, bpp)
        rows.append(row)
        previous = row
    return width, height, rows, bpp


def _unfilter(kind: int, row: bytearray, above: bytearray, bpp: int) -> bytearray:
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up, corner = above[i], (above[i - bpp] if i >= bpp else 0)
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            guess = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            row[i] = (row[i] + guess) & 0xFF
    return row


def pixel_counts(path: Path, colour: tuple[int, int, int], tolerance: int = 18) -> tuple[int, int]:
    """(pixels that are not near-white, pixels close to `colour`) in a PNG screenshot."""
    _, _, rows, bpp = read_png(path)
    ink = near = 0
    for row in rows:
        for i in range(0, len(row), bpp):
            r, g, b = row[i], row[i + 1], row[i + 2]
            ink += r < 245 or g < 245 or b < 245
            near += (
                abs(r - colour[0]) <= tolerance
                and abs(g - colour[1]) <= tolerance
                and abs(b - colour[2]) <= tolerance
            )
    return ink, near
