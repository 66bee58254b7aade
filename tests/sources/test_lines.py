"""Reading plain and gzip JSON-lines files by line number."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from paperfeed.sources.lines import LineFile, json_objects


def test_plain_and_gzip_give_the_same_numbered_lines(tmp_path: Path) -> None:
    content = b'{"a": 1}\n\n{"a": 2}\r\n{"a": 3}'
    plain = tmp_path / "x.jsonl"
    plain.write_bytes(content)
    packed = tmp_path / "x.jsonl.gz"
    packed.write_bytes(gzip.compress(content))

    for path in (plain, packed):
        lines = LineFile(path)
        assert list(lines.lines()) == [
            (1, b'{"a": 1}'),
            (2, b""),
            (3, b'{"a": 2}'),
            (4, b'{"a": 3}'),
        ]
        assert list(lines.lines(skip=3)) == [(4, b'{"a": 3}')]
        assert list(json_objects(lines)) == [(1, {"a": 1}), (3, {"a": 2}), (4, {"a": 3})]


def test_fingerprint_changes_with_the_content(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    before = LineFile(path).fingerprint()
    path.write_bytes(b'{"a": 2}\n')
    assert LineFile(path).fingerprint() != before


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        LineFile(tmp_path / "missing.jsonl")
