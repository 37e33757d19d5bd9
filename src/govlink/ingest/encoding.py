"""Which text encoding a department's file is in: detected, or checked when the steward names one.

A file is decoded strictly in every candidate encoding, never with replacement characters; when none fits,
the error gives the byte offset where the best candidate failed, so the steward can find the broken bytes.
GBK files are reported as GBK (a subset of GB 18030) so a re-export keeps the department's own label.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
# Tried in this order when a file has no byte-order mark; the first that decodes the whole file wins.
CANDIDATES = ("utf-8", "gbk", "gb18030")
ALIASES = {"utf8": "utf-8", "utf-8-bom": "utf-8-sig", "utf8-sig": "utf-8-sig", "cp936": "gbk", "gb2312": "gbk",
           "utf16": "utf-16", "utf-16le": "utf-16", "utf-16be": "utf-16"}


class EncodingProblem(ValueError):
    """Raised with the byte offset (0-based) where decoding failed."""

    def __init__(self, message: str, offset: int | None = None, code: str = "encoding.undecodable") -> None:
        super().__init__(message)
        self.offset = offset
        self.code = code


@dataclass(frozen=True)
class Detected:
    encoding: str  # a Python codec name: utf-8-sig, utf-16, utf-8, gbk, gb18030
    bom: bool


def normalise_name(encoding: str) -> str:
    """The codec name for what a steward types (UTF8, GBK, GB2312, UTF-16LE …); unknown names are refused."""
    name = encoding.strip().lower().replace("_", "-")
    name = ALIASES.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise EncodingProblem(f"unknown encoding {encoding!r}", code="encoding.unknown") from exc
    return name


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def first_error(path: Path, encoding: str) -> int | None:
    """The byte offset where ``encoding`` first fails on the file, or None when it decodes entirely."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        for chunk in _chunks(handle):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start is relative to the bytes the decoder held: the unfinished tail of the last chunk
                # plus this one.
                held = len(exc.object) - len(chunk)
                return offset - held + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset - len(exc.object) + exc.start
    return None


def detect(path: Path) -> Detected:
    """The encoding of a text file: a byte-order mark decides; otherwise the first candidate that decodes it."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return Detected("utf-8-sig", True) if first_error(path, "utf-8-sig") is None else _refuse(path, "utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Detected("utf-16", True) if first_error(path, "utf-16") is None else _refuse(path, "utf-16")
    furthest: tuple[int, str] = (-1, CANDIDATES[0])
    for candidate in CANDIDATES:
        failed_at = first_error(path, candidate)
        if failed_at is None:
            return Detected(candidate, False)
        furthest = max(furthest, (failed_at, candidate))
    return _refuse(path, furthest[1], furthest[0])


def check(path: Path, encoding: str) -> Detected:
    """Check that the file decodes entirely in the encoding the steward named."""
    name = normalise_name(encoding)
    failed_at = first_error(path, name)
    if failed_at is not None:
        raise EncodingProblem(
            f"the file is not {encoding}: byte {failed_at} cannot be decoded", failed_at, "encoding.mismatch"
        )
    with path.open("rb") as handle:
        head = handle.read(3)
    return Detected(name, name in {"utf-8-sig", "utf-16"} or head.startswith(codecs.BOM_UTF8))


def utf8_copy(path: Path, detected: Detected, folder: Path) -> Path:
    """The file as UTF-8 without BOM: the original when it already is, else a copy transcoded into ``folder``."""
    if detected.encoding == "utf-8":
        return path
    target = folder / "utf8.txt"
    decoder = codecs.getincrementaldecoder(detected.encoding)(errors="strict")
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as sink:
        for chunk in _chunks(source):
            sink.write(decoder.decode(chunk))
        sink.write(decoder.decode(b"", final=True))
    return target


def _refuse(path: Path, encoding: str, offset: int | None = None) -> Detected:
    failed_at = offset if offset is not None else first_error(path, encoding)
    tried = ", ".join(CANDIDATES)
    raise EncodingProblem(
        f"{path.name} decodes in none of UTF-8 (with or without BOM), UTF-16, {tried}: the best guess, "
        f"{encoding}, fails at byte {failed_at}; re-export the file or name its encoding",
        failed_at,
    )
