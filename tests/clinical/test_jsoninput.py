"""The one JSON reader of the commands: what it accepts and how it refuses the rest."""

from __future__ import annotations

import io

import pytest

from clinical import jsoninput
from clinical.jsoninput import JSONInputError, parse_documents, read_documents


@pytest.mark.parametrize(
    ("raw", "items", "many"),
    [
        (b'{"a": 1}', [{"a": 1}], False),
        (b'[{"a": 1}, {"b": 2}]', [{"a": 1}, {"b": 2}], True),
        (b'{"a": 1}\n\n{"b": 2}\n', [{"a": 1}, {"b": 2}], True),
        (b'\xef\xbb\xbf{"a": "caf\xc3\xa9"}', [{"a": "café"}], False),
        (b"[]", [], True),
    ],
)
def test_an_object_an_array_and_json_lines_are_read(raw, items, many):
    documents = parse_documents(raw)
    assert documents.items == items
    assert documents.many is many


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "input is empty"),
        (b" \n ", "input is empty"),
        (b'{"score": NaN}', "input is not valid JSON: NaN is not allowed"),
        (b"[Infinity]", "input is not valid JSON: Infinity is not allowed"),
        (b'{"a": 1}\n{oops', "input is not valid JSON on line 2"),
        (b"{not json", "input is not valid JSON: Expecting property name"),
        (b"[" * 100_000, "input is not valid JSON: nested too deeply"),
        (b"\xff\xfe", "input is not valid UTF-8 (byte 0)"),
        (b"3", "input must be a JSON object, an array of objects or JSON Lines"),
        (b'"text"', "input must be a JSON object, an array of objects or JSON Lines"),
    ],
)
def test_unusable_input_is_refused_saying_why(raw, message):
    with pytest.raises(JSONInputError) as error:
        parse_documents(raw)
    assert str(error.value).startswith(message)


def test_more_items_than_the_limit_are_refused():
    raw = b"[" + b",".join([b"{}"] * (jsoninput.MAX_ITEMS + 1)) + b"]"
    with pytest.raises(JSONInputError, match=r"too many items \(20001\); at most 20000"):
        parse_documents(raw)


def test_input_over_the_size_limit_is_refused_without_reading_it_all():
    stream = io.BytesIO(b" " * (jsoninput.MAX_INPUT_BYTES + 10))
    with pytest.raises(JSONInputError, match="larger than 20 MB"):
        read_documents("-", stream)
    assert stream.tell() == jsoninput.MAX_INPUT_BYTES + 1


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(JSONInputError, match="cannot read '.*missing.json': No such file"):
        read_documents(str(tmp_path / "missing.json"))


def test_a_text_stream_is_read_like_bytes():
    assert read_documents("-", io.StringIO('{"a": "é"}')).items == [{"a": "é"}]
