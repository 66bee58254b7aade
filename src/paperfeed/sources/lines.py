"""Read a JSON-lines file, plain or gzip, line by line, knowing how far through it we are.

Lines stay bytes: JSON parsers take bytes, and a line that is not valid UTF-8 must become one
bad record rather than stop the whole file.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from paperfeed.sources.fields import FieldError
from paperfeed.sources.record import BadRecord, PaperRecord, SourceItem

_FINGERPRINT_BYTES = 1 << 20


class LineFile:
    """Numbered lines of ``path`` (1-based) and the share of the file on disk read so far."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        self.path = path
        self.total_bytes = path.stat().st_size
        self._raw: BinaryIO | None = None

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk consumed (compressed bytes for .gz), for progress bars."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def lines(self, skip: int = 0) -> Iterator[tuple[int, bytes]]:
        """Yield ``(line number, line without its newline)``, after skipping ``skip`` lines."""
        with self.path.open("rb") as raw:
            self._raw = raw
            with _decompressed(raw) as stream:
                for number, line in enumerate(stream, start=1):
                    if number > skip:
                        yield number, line.rstrip(b"\r\n")

    def fingerprint(self) -> str:
        """Size and a hash of the first MiB: enough to tell whether a resumed file is the same."""
        digest = hashlib.sha256()
        with self.path.open("rb") as raw:
            digest.update(raw.read(_FINGERPRINT_BYTES))
        return f"{self.total_bytes}:{digest.hexdigest()[:40]}"


def _decompressed(raw: BinaryIO) -> BinaryIO:
    """The file itself, or a gzip reader over it when it starts with gzip's magic bytes."""
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


def json_objects(source: LineFile, skip: int = 0) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield ``(line number, object)`` for each JSON object line, or the reason it is not one.

    Blank lines are passed over silently: editors and ``cat`` leave them, and they hold no paper.
    """
    for number, line in source.lines(skip):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield number, _json_reason(error, line)
            continue
        if not isinstance(value, dict):
            yield number, "not a JSON object"
            continue
        yield number, value


def _json_reason(error: orjson.JSONDecodeError, line: bytes) -> str:
    message = str(error)
    if "utf-8" in message.lower():
        return "not valid UTF-8"
    if "end of data" in message or error.pos >= len(line):
        return "truncated JSON (the line ends before the object does)"
    return f"invalid JSON at character {error.pos}: {error.msg}"


def json_records(
    source: LineFile, skip: int, to_record: Callable[[dict[str, Any], int], PaperRecord]
) -> Iterator[SourceItem]:
    """Map each JSON object line through ``to_record``; unreadable lines become bad records."""
    for number, obj in json_objects(source, skip):
        if isinstance(obj, str):
            yield BadRecord(number, obj)
            continue
        try:
            yield to_record(obj, number)
        except FieldError as error:
            record_id = obj.get("id")
            yield BadRecord(number, str(error), record_id if isinstance(record_id, str) else None)
