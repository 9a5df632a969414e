"""Text descriptors: each against an independent per-row Python computation (hand-written texts and a
random sample), the shipped vocabulary, `add_descriptors`' checks, custom descriptors, and a report
whose statistics and drift run on descriptor columns."""

from __future__ import annotations

import gzip
import importlib.resources
import json
import math
import re
import socket
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics
from metrics.computations import descriptors as module
from metrics.computations.descriptors import (
    DESCRIPTORS,
    BeginsWith,
    Contains,
    ContainsLink,
    CustomDescriptor,
    Descriptor,
    DoesNotContain,
    EndsWith,
    ExactMatch,
    IsValidJSON,
    IsValidPython,
    IsValidSQL,
    JSONSchemaMatch,
    NonLetterShare,
    OOVShare,
    RegexMatch,
    SentenceCount,
    TextLength,
    WordCount,
    add_descriptors,
    descriptor_from_dict,
    descriptor_types,
    english_vocabulary,
    validity,
)
from metrics.core.definition import ColumnType, DataDefinitionError

# ---- the texts ----------------------------------------------------------------------------------

HAND_TEXTS: list[Any] = [
    None,
    np.nan,
    "",
    "   ",
    "Hello world.",
    "Hi. How are you? Fine!",
    "Wow!!! Great",
    "e.g. this works... or not?!",
    "It costs 3.5 dollars, i.e. $3.50 (see example.com).",
    "Ünïcode café naïve façade STRASSE Straße",
    "🙂🙂👍🏽",
    "Emoji 🙂 inside a sentence 👍🏽. Another one!",
    "don't stop, it isn\u2019t over; rock'n'roll 'quoted'",
    "e-mail me at bob@www.example.com",
    "Mixed\nlines\tand  tabs\u00a0nbsp\u2003em",
    "xyzzy qwertyuiop zzzblorp",
    "see https://example.com/x?y=1 now",
    "visit WWW.Example.ORG today",
    "https:// nothing here and xhttp://a.b",
    "HTTP://EXAMPLE.COM",
    "中文 text with 日本語 and русский",
    '{"name": "Ann", "age": 31}',
    '{"name": "Ann", "age": "31"}',
    '{"name": "Ann", "age": 31, "extra": true}',
    '{"name": "Ann", "age": 31.0, "address": {"city": "Oslo"}}',
    '{"a": NaN}',
    "[1, 2, 3]",
    "{bad json}",
    "SELECT name FROM users WHERE age > 30;",
    "SELEC name FROM users",
    "def f(x):\n    return x + 1\n",
    "def f(x) return x",
    "print('hi')",
]


def random_texts(n: int, seed: int) -> list[Any]:
    """Texts built from pieces that stress every definition: words in and out of the vocabulary,
    apostrophes, sentence ends, unusual whitespace, emoji, other scripts, links, numbers."""
    rng = np.random.default_rng(seed)
    vocabulary = sorted(english_vocabulary())
    pieces = [
        "the", "The", "a", "café", "Straße", "STRASSE", "naïve", "don't", "isn\u2019t", "user's",
        "xyzzy", "qwrtp", "zorblax", "42", "3.5", "v2", "mp3", "e.g.", "i.e.", "...", ". ", "! ",
        "? ", "?!", ".", "!", ",", ";", "'", "\u2019", "-", "_", "__init__", "(", ")", "$", "%",
        "🙂", "👍🏽", "🇳🇴", "中文", "русский", "\u0301", "http://x.io/p?q=1", "https://", "www.",
        "www.a.b", "HTTPS://Q", "xhttp://a", "a@www.b.c", ".www.x", "email@example.com",
    ]  # fmt: skip
    separators = [" ", " ", " ", "", "\n", "\t", "  ", "\u00a0", "\u2003", ". ", "! "]
    texts: list[Any] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.05:
            texts.append(None)
            continue
        if roll < 0.08:
            texts.append("")
            continue
        if roll < 0.15 and texts:  # repeated texts, as real data has
            texts.append(texts[int(rng.integers(len(texts)))])
            continue
        parts = []
        for _ in range(int(rng.integers(1, 14))):
            if rng.random() < 0.5:
                word = vocabulary[int(rng.integers(len(vocabulary)))]
                parts.append(word.capitalize() if rng.random() < 0.2 else word)
            else:
                parts.append(pieces[int(rng.integers(len(pieces)))])
            parts.append(separators[int(rng.integers(len(separators)))])
        texts.append("".join(parts))
    return texts


# ---- independent per-row computations ----------------------------------------------------------


def ref_words(text: str) -> list[str]:
    """Runs of alphanumeric characters, an apostrophe between two of them kept inside the word."""
    words, current = [], ""
    for i, char in enumerate(text):
        inner_apostrophe = (
            char in "'\u2019" and current and i + 1 < len(text) and text[i + 1].isalnum()
        )
        if char.isalnum() or inner_apostrophe:
            current += char
        elif current:
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def ref_sentences(text: str) -> int:
    count, has_content = 0, False
    for i, char in enumerate(text):
        if char.isalnum():
            has_content = True
        ends_sentence = char in ".!?" and (i + 1 == len(text) or text[i + 1].isspace())
        if ends_sentence and has_content:
            count += 1
            has_content = False
    return count + has_content


def vocabulary_from_file() -> set[str]:
    path = Path(module.__file__).parent / "data" / "english_words.txt.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return {line.rstrip("\n") for line in handle if not line.startswith("#")}


def ref_oov(text: str, vocabulary: set[str], ignore: AbstractSet[str] = frozenset()) -> float:
    words = ref_words(text.lower().replace("\u2019", "'"))
    alphabetic = [w for w in words if w.replace("'", "").isalpha()]
    if not alphabetic:
        return 0.0
    unknown = [w for w in alphabetic if w not in vocabulary and w not in ignore]
    return len(unknown) / len(alphabetic)


def ref_non_letter(text: str) -> float:
    counted = [c for c in text if not c.isspace()]
    if not counted:
        return 0.0
    return sum(not c.isalpha() for c in counted) / len(counted)


def ref_link(text: str) -> bool:
    for prefix in ("http://", "https://", "www."):
        for i in range(len(text)):
            if text[i : i + len(prefix)].lower() != prefix:
                continue
            before = text[i - 1] if i else ""
            if before and (before.isalnum() or before in "_.@"):
                continue
            rest = text[i + len(prefix) :]
            run = rest.split()[0] if rest and not rest[0].isspace() else ""
            if any(c.isalnum() for c in run):
                return True
    return False


def is_null(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def expected(texts: list[Any], func: Callable[[str], Any]) -> list[Any]:
    return [None if is_null(t) else func(t) for t in texts]


def observed(result: pd.Series) -> list[Any]:
    return [None if is_null(v) else v for v in result.tolist()]


def assert_numbers(result: pd.Series, wanted: list[Any]) -> None:
    values = observed(result)
    assert [v is None for v in values] == [w is None for w in wanted]
    got = np.array([np.nan if v is None else v for v in values], dtype=float)
    want = np.array([np.nan if w is None else w for w in wanted], dtype=float)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def as_series(texts: list[Any], dtype: str) -> pd.Series:
    return pd.Series(texts, dtype=dtype, index=np.arange(len(texts)) * 3 + 7, name="review")


DTYPES = ["object", "string", "str"]  # object, python-backed and default (pyarrow) strings


@pytest.fixture(params=DTYPES)
def dtype(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def registry() -> Iterator[None]:
    """Classes defined by a test register themselves; forget them afterwards."""
    saved = dict(DESCRIPTORS)
    yield
    DESCRIPTORS.clear()
    DESCRIPTORS.update(saved)


# ---- numerical descriptors ----------------------------------------------------------------------

NUMERICAL_CASES: list[tuple[Descriptor, Callable[[str], float]]] = [
    (TextLength(column="review"), len),
    (WordCount(column="review"), lambda t: len(ref_words(t))),
    (SentenceCount(column="review"), ref_sentences),
    (NonLetterShare(column="review"), ref_non_letter),
]


@pytest.mark.parametrize(
    ("descriptor", "reference"), NUMERICAL_CASES, ids=[type(d).__name__ for d, _ in NUMERICAL_CASES]
)
@pytest.mark.parametrize("texts", ["hand", "random"])
def test_numerical_descriptors_match_a_per_row_computation(
    descriptor: Descriptor, reference: Callable[[str], float], texts: str, dtype: str
) -> None:
    sample = HAND_TEXTS if texts == "hand" else random_texts(1500, seed=11)
    series = as_series(sample, dtype)
    result = descriptor.compute(series)
    assert result.index.equals(series.index)
    assert result.dtype == np.float64
    assert_numbers(result, expected(sample, reference))


@pytest.mark.parametrize("texts", ["hand", "random"])
def test_oov_share_matches_a_per_row_computation(texts: str, dtype: str) -> None:
    sample = HAND_TEXTS if texts == "hand" else random_texts(1500, seed=12)
    vocabulary = vocabulary_from_file()
    series = as_series(sample, dtype)
    assert_numbers(
        OOVShare(column="review").compute(series),
        expected(sample, lambda t: ref_oov(t, vocabulary)),
    )
    ignore = {"xyzzy", "zorblax", "qwertyuiop"}
    assert_numbers(
        OOVShare(column="review", ignore_words=["XYZZY", "zorblax", "Qwertyuiop"]).compute(series),
        expected(sample, lambda t: ref_oov(t, vocabulary, ignore)),
    )


def test_hand_checked_numbers() -> None:
    series = pd.Series(
        ["Hi. How are you? Fine!", "Wow!!! Great", "", "🙂🙂", "don't stop", "a1 b2!", None]
    )
    assert TextLength(column="x").compute(series).tolist()[:6] == [22, 12, 0, 2, 10, 6]
    assert WordCount(column="x").compute(series).tolist()[:6] == [5, 2, 0, 0, 2, 2]
    assert SentenceCount(column="x").compute(series).tolist()[:6] == [3, 2, 0, 0, 1, 1]
    shares = NonLetterShare(column="x").compute(series).tolist()
    assert shares[:6] == pytest.approx([3 / 18, 3 / 11, 0, 1, 1 / 9, 3 / 5])
    oov = OOVShare(column="x").compute(pd.Series(["The cat sat", "The zzzblorp sat", "42 7", ""]))
    assert oov.tolist() == [0, pytest.approx(1 / 3), 0, 0]
    assert math.isnan(TextLength(column="x").compute(series).iloc[6])


# ---- text checks --------------------------------------------------------------------------------

CHECKS: list[Descriptor] = [
    Contains(column="review", items=["the", "CAFÉ", "ss"]),
    Contains(column="review", items=["the", "a"], mode="all"),
    Contains(column="review", items=["The", "Straße"], case_sensitive=True),
    DoesNotContain(column="review", items=["www", "🙂"]),
    DoesNotContain(column="review", items=["e", "o"], mode="any"),
    BeginsWith(column="review", prefix="the"),
    BeginsWith(column="review", prefix="The", case_sensitive=True),
    EndsWith(column="review", suffix="!"),
    EndsWith(column="review", suffix="SSE"),
    RegexMatch(column="review", pattern=r"\b(\d+)\.\d"),  # a group: pandas would warn
    RegexMatch(column="review", pattern=r"^[A-Z]"),
    ContainsLink(column="review"),
]


def check_reference(descriptor: Descriptor) -> Callable[[str], bool]:
    """The same check, per row in plain Python (case-folding unless case-sensitive)."""

    def fold(text: str) -> str:
        return text if getattr(descriptor, "case_sensitive", True) else text.casefold()

    match descriptor:
        case DoesNotContain(items=items, mode=mode):
            test = all if mode == "all" else any
            return lambda t: test(fold(i) not in fold(t) for i in items)
        case Contains(items=items, mode=mode):
            test = any if mode == "any" else all
            return lambda t: test(fold(i) in fold(t) for i in items)
        case BeginsWith(prefix=prefix):
            return lambda t: fold(t).startswith(fold(prefix))
        case EndsWith(suffix=suffix):
            return lambda t: fold(t).endswith(fold(suffix))
        case RegexMatch(pattern=pattern):
            return lambda t: re.search(pattern, t) is not None
        case ContainsLink():
            return ref_link
    raise AssertionError(descriptor)


@pytest.mark.parametrize("descriptor", CHECKS, ids=repr)
@pytest.mark.parametrize("texts", ["hand", "random"])
def test_text_checks_match_a_per_row_computation(
    descriptor: Descriptor, texts: str, dtype: str
) -> None:
    sample = HAND_TEXTS if texts == "hand" else random_texts(1500, seed=13)
    series = as_series(sample, dtype)
    result = descriptor.compute(series)
    assert result.dtype == "boolean"
    assert result.index.equals(series.index)
    assert observed(result) == expected(sample, check_reference(descriptor))


def test_hand_checked_links_and_containment() -> None:
    texts = pd.Series(
        [
            "see https://example.com now",
            "WWW.EXAMPLE.ORG",
            "https:// alone",
            "xhttp://a.b",
            "mail bob@www.example.com",
            "http://[::1]:8080/",
            "no link",
        ]
    )
    assert ContainsLink(column="x").compute(texts).tolist() == [
        True, True, False, False, False, True, False,
    ]  # fmt: skip
    straße = pd.Series(["STRASSE", "Straße", "strasse"])
    assert Contains(column="x", items=["straße"]).compute(straße).tolist() == [True, True, True]
    exact = Contains(column="x", items=["Straße"], case_sensitive=True).compute(straße)
    assert exact.tolist() == [False, True, False]
    assert DoesNotContain(column="x", items=["ss", "ß"]).compute(straße).tolist() == [False] * 3
    some_missing = DoesNotContain(column="x", items=["ss", "ß"], mode="any").compute(straße)
    assert some_missing.tolist() == [False, False, False]  # casefolded, both are in each text
    assert EndsWith(column="x", suffix="!").compute(pd.Series(["Thanks! "])).tolist() == [False]


JSON_TEXTS = {
    '{"a": 1}': True,
    "[1, 2, 3]": True,
    '"text"': True,
    "42": True,
    "true": True,
    "null": True,
    ' {"a": [1, {"b": null}]} ': True,
    "": False,
    "   ": False,
    "{a: 1}": False,
    "{'a': 1}": False,
    '{"a": NaN}': False,
    "Infinity": False,
    '{"a": 1} extra': False,
    "[1, 2,]": False,
    "hello": False,
    "[" * 100_000: False,  # too deep for the parser: invalid, not a crash
}

PYTHON_TEXTS = {
    "print('hi')": True,
    "def f(x):\n    return x + 1\n": True,
    "import os\nos.path.join('a', 'b')": True,
    "x = [i ** 2 for i in range(3)]": True,
    "# just a comment": True,
    "return 1": True,  # a syntax check: top-level return parses
    "s = '\\d'": True,  # an invalid escape warns but parses
    "async def f():\n    await g()": True,
    "match x:\n    case 1:\n        pass": True,
    "": False,
    "  \n ": False,
    "def f(x) return x": False,
    "print('hi'": False,
    "SELECT * FROM t": False,
    "x = = 1": False,
    "if True:\nprint(1)": False,
    "a\x00b": False,
    "(" * 1000: False,
}

SQL_TEXTS = {
    "SELECT name FROM users WHERE age > 30;": True,
    "select count(*) from orders group by customer_id having count(*) > 2": True,
    "INSERT INTO t (a, b) VALUES (1, 'x')": True,
    "UPDATE t SET a = a + 1 WHERE id IN (SELECT id FROM u)": True,
    "DELETE FROM t WHERE a IS NULL": True,
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)": True,
    "DROP TABLE t; -- clean up": True,
    "WITH c AS (SELECT 1 AS x) SELECT x FROM c": True,
    "SELECT a, row_number() OVER (ORDER BY a) FROM t": True,
    "SELECT 1; SELECT 2;": True,
    "SELECT 'a;b' FROM t;;": True,
    "CREATE INDEX i ON t(a)": True,
    "ALTER TABLE t ADD COLUMN c TEXT": True,
    "SELECT nosuch(1)": True,
    "DROP INDEX nosuch": True,
    "EXPLAIN SELECT 1": True,
    "/* c */ SELECT 1": True,
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;": True,
    "": False,
    "   ": False,
    "-- just a comment": False,
    ";": False,
    "SELEC name FROM users": False,
    "SELECT * FROM": False,
    "SELECT 'unterminated": False,
    "SELECT 1; hello": False,
    "SELECT x::int FROM t": False,
    "SELECT TOP 10 * FROM t": False,
    "hello world": False,
    "SELECT 1 FROM t WHERE": False,
    "SELECT \x00": False,
    "SELECT " + "(" * 3000 + "1" + ")" * 3000: False,
}


@pytest.mark.parametrize(
    ("descriptor", "cases"),
    [
        (IsValidJSON(column="review"), JSON_TEXTS),
        (IsValidPython(column="review"), PYTHON_TEXTS),
        (IsValidSQL(column="review"), SQL_TEXTS),
    ],
    ids=["json", "python", "sql"],
)
def test_validity_checks_on_hand_written_texts(
    descriptor: Descriptor, cases: dict[str, bool], dtype: str
) -> None:
    texts = [*cases, None, np.nan, *cases]  # repeated texts and nulls
    result = descriptor.compute(as_series(texts, dtype))
    wanted = [*cases.values(), None, None, *cases.values()]
    assert observed(result) == wanted


def test_sql_check_never_executes(tmp_path: Path) -> None:
    vacuum, attached = tmp_path / "vacuum.db", tmp_path / "attached.db"
    texts = pd.Series(
        [
            f"VACUUM INTO '{vacuum}'",
            f"ATTACH DATABASE '{attached}' AS other",
            f"EXPLAIN VACUUM INTO '{vacuum}'",
            "PRAGMA foreign_keys = ON",
        ]
    )
    assert IsValidSQL(column="x").compute(texts).tolist() == [True] * 4
    assert not vacuum.exists()
    assert not attached.exists()


def test_parsers_run_once_per_distinct_text(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            calls.append(args[-1])
            return original(*args)

        return wrapper

    for name in ("_parse_json", "_is_python", "_is_sql"):
        monkeypatch.setattr(validity, name, counting(getattr(validity, name)))
    texts = pd.Series(["[1]", "x = 1", "SELECT 1", None] * 500)
    for descriptor in (
        IsValidJSON(column="x"),
        JSONSchemaMatch(column="x", schema={}),
        IsValidPython(column="x"),
        IsValidSQL(column="x"),
    ):
        calls.clear()
        descriptor.compute(texts)
        assert sorted(calls) == ["SELECT 1", "[1]", "x = 1"], descriptor


# ---- JSON schema --------------------------------------------------------------------------------

SCHEMAS: list[tuple[dict[str, Any], bool]] = [
    ({"name": str, "age": int}, False),
    ({"name": str, "age": int}, True),
    ({"name": "string", "age": ["integer", "null"]}, False),
    ({"age": float, "tags": list}, False),
    ({"age": (int, str), "flag": bool}, True),
    ({"address": {"city": str}, "name": "string"}, False),
    ({"address": {"city": str}, "name": "string"}, True),
    ({"meta": dict, "none": None}, False),
    ({}, False),
    ({}, True),
]


def json_documents(n: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    values = [
        "Ann", 31, 31.0, 31.5, True, False, None, [1, "a"], {}, {"city": "Oslo"},
        {"city": 5}, {"city": "Oslo", "zip": "0150"}, "31",
    ]  # fmt: skip
    keys = ["name", "age", "tags", "flag", "address", "meta", "none", "extra"]
    documents: list[Any] = [
        None, "", "not json", "[1, 2]", '"name"', '{"age": NaN}', "{}",
        '{"age": 1, "flag": true}', '{"age": "1", "flag": false}', '{"name": "Ann", "age": 3}',
        '{"name": "A", "address": {"city": "Oslo"}}', '{"meta": {}, "none": null}',
        '{"age": 2.5, "tags": []}',
    ]  # fmt: skip
    for _ in range(n):
        chosen = rng.choice(keys, size=int(rng.integers(0, 6)), replace=False)
        document = {str(k): values[int(rng.integers(len(values)))] for k in chosen}
        documents.append(json.dumps(document))
    return documents


def as_json_schema(spec: Any, exact: bool) -> dict[str, Any]:
    """The same requirement in real JSON Schema."""
    if isinstance(spec, dict):
        return {
            "type": "object",
            "required": list(spec),
            "properties": {k: as_json_schema(v, exact) for k, v in spec.items()},
            "additionalProperties": not exact,
        }
    if isinstance(spec, list):
        return {"anyOf": [as_json_schema(s, exact) for s in spec]}
    return {"type": spec}


@pytest.mark.parametrize(("schema", "exact"), SCHEMAS, ids=repr)
def test_json_schema_match_agrees_with_a_json_schema_validator(
    schema: dict[str, Any], exact: bool
) -> None:
    jsonschema = pytest.importorskip("jsonschema")  # a dev dependency, not a runtime one
    descriptor = JSONSchemaMatch(column="doc", schema=schema, exact=exact)
    validator = jsonschema.Draft202012Validator(as_json_schema(descriptor.schema, exact))

    def reference(text: str) -> bool:
        try:
            document = json.loads(text, parse_constant=lambda c: 1 / 0)
        except (ValueError, ZeroDivisionError):
            return False
        return validator.is_valid(document)

    documents = json_documents(400, seed=len(repr(schema)) + exact)
    result = descriptor.compute(pd.Series(documents))
    assert observed(result) == expected(documents, reference)
    assert any(observed(result)), "the sample should hold matching documents"


def test_json_schema_match_by_hand() -> None:
    texts = pd.Series(HAND_TEXTS)
    loose = JSONSchemaMatch(column="x", schema={"name": str, "age": int})
    matched = [t for t, v in zip(HAND_TEXTS, observed(loose.compute(texts)), strict=True) if v]
    assert matched == [
        '{"name": "Ann", "age": 31}',
        '{"name": "Ann", "age": 31, "extra": true}',
        '{"name": "Ann", "age": 31.0, "address": {"city": "Oslo"}}',  # 31.0 is an integer
    ]
    exact = JSONSchemaMatch(column="x", schema={"name": "string", "age": "integer"}, exact=True)
    assert [t for t, v in zip(HAND_TEXTS, observed(exact.compute(texts)), strict=True) if v] == [
        '{"name": "Ann", "age": 31}'
    ]
    assert loose.params() == {"schema": {"name": "string", "age": "integer"}, "exact": False}
    booleans = JSONSchemaMatch(column="x", schema={"n": "number"})
    assert booleans.compute(pd.Series(['{"n": true}', '{"n": 1}'])).tolist() == [False, True]


# ---- ExactMatch ---------------------------------------------------------------------------------


def test_exact_match_compares_stripped_values_row_by_row(dtype: str) -> None:
    answers = ["Paris", " Paris ", "paris", None, "Oslo", "", "  ", "🙂", None]
    expected_ = ["Paris", "Paris", "Paris", "Paris", None, "", "", "🙂 ", None]
    frame = pd.DataFrame(
        {"answer": pd.Series(answers, dtype=dtype), "truth": pd.Series(expected_, dtype=dtype)}
    )
    descriptor = ExactMatch(column="answer", other_column="truth")
    assert descriptor.columns() == ["answer", "truth"]
    result = descriptor.compute_frame(frame)
    reference = [
        None if is_null(a) or is_null(b) else str(a).strip() == str(b).strip()
        for a, b in zip(answers, expected_, strict=True)
    ]
    assert observed(result) == reference
    assert result.name == "answer: equals truth"
    with pytest.raises(TypeError, match="compute_frame"):
        descriptor.compute(frame["answer"])


# ---- the vocabulary -----------------------------------------------------------------------------


def test_the_vocabulary_ships_with_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the vocabulary must not be fetched over the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    english_vocabulary.cache_clear()
    vocabulary = english_vocabulary()
    assert english_vocabulary() is vocabulary  # loaded once, then cached
    resource = importlib.resources.files(module.__name__).joinpath("data", "english_words.txt.gz")
    assert resource.is_file()
    assert len(vocabulary) > 50_000
    for word in ("the", "and", "house", "running", "cities", "don't", "internet", "email", "i"):
        assert word in vocabulary, word
    for token in ("zzzblorp", "qwertyuiop", "asdfgh"):
        assert token not in vocabulary
    assert all(w == w.lower() for w in vocabulary)
    assert vocabulary == vocabulary_from_file()
    header = gzip.decompress(resource.read_bytes()).decode("utf-8").split("\n")[:400]
    notice = "\n".join(line for line in header if line.startswith("#"))
    assert "Kevin Atkinson" in notice  # the licence travels with the words
    assert "Permission to use, copy" in notice


def test_oov_share_by_hand() -> None:
    texts = pd.Series(
        ["The cat sat on the mat", "The zzzblorp sat", "Isn\u2019t it great?", "42 mp3"]
    )
    assert OOVShare(column="x").compute(texts).tolist() == [0, pytest.approx(1 / 3), 0, 0]
    ignoring = OOVShare(column="x", ignore_words=["ZZZBLORP"]).compute(texts)
    assert ignoring.tolist() == [0, 0, 0, 0]


# ---- nulls, validation, aliases, description ----------------------------------------------------

ALL_BUILT_INS: list[Descriptor] = [
    TextLength(column="review"),
    WordCount(column="review"),
    SentenceCount(column="review"),
    OOVShare(column="review", ignore_words=["xyzzy"]),
    NonLetterShare(column="review"),
    Contains(column="review", items=["a", "b"], mode="all"),
    DoesNotContain(column="review", items=["x"]),
    BeginsWith(column="review", prefix="He"),
    EndsWith(column="review", suffix="."),
    RegexMatch(column="review", pattern=r"\d"),
    ContainsLink(column="review"),
    IsValidJSON(column="review"),
    JSONSchemaMatch(column="review", schema={"name": str, "age": (int, None)}, exact=True),
    IsValidPython(column="review"),
    IsValidSQL(column="review"),
    ExactMatch(column="review", other_column="answer"),
]


def frame_of(texts: list[Any], dtype: str = "object") -> pd.DataFrame:
    texts_series = pd.Series(texts, dtype=dtype)
    return pd.DataFrame(
        {
            "review": texts_series,
            "answer": texts_series.str.upper(),
            "rating": np.arange(len(texts), dtype=float),
        }
    )


@pytest.mark.parametrize("descriptor", ALL_BUILT_INS, ids=repr)
def test_null_texts_give_null_values_and_others_do_not(descriptor: Descriptor) -> None:
    frame = frame_of(["Hello.", None, np.nan, "", "🙂", pd.NA, '{"name": "x", "age": 1}'])
    result = descriptor.compute_frame(frame)
    assert result.isna().tolist() == [False, True, True, False, False, True, False]
    assert result.name == descriptor.alias
    if descriptor.type == ColumnType.NUMERICAL:
        assert result.dtype == np.float64
    else:
        assert result.dtype == "boolean"


@pytest.mark.parametrize("descriptor", ALL_BUILT_INS, ids=repr)
def test_descriptions_are_json_and_rebuild_the_descriptor(descriptor: Descriptor) -> None:
    description = descriptor.describe()
    assert json.loads(json.dumps(description)) == description
    assert description["descriptor"] == type(descriptor).__name__
    assert description["type"] in ("numerical", "categorical")
    rebuilt = descriptor_from_dict(json.loads(json.dumps(description)))
    assert type(rebuilt) is type(descriptor)
    assert rebuilt.describe() == description
    frame = frame_of(HAND_TEXTS)
    pd.testing.assert_series_equal(rebuilt.compute_frame(frame), descriptor.compute_frame(frame))


def test_default_aliases_read_well_and_explicit_ones_win() -> None:
    assert TextLength(column="review").alias == "review: text length"
    assert OOVShare(column="review").alias == "review: out-of-vocabulary share"
    assert Contains(column="review", items=["refund", "return"]).alias == (
        'review: contains any of "refund", "return"'
    )
    assert DoesNotContain(column="review", items=["x"]).alias == 'review: contains none of "x"'
    assert BeginsWith(column="review", prefix="Hi", case_sensitive=True).alias == (
        'review: begins with "Hi" (case-sensitive)'
    )
    assert RegexMatch(column="review", pattern=r"\d+").alias == r"review: matches /\d+/"
    assert JSONSchemaMatch(column="out", schema={}, exact=True).alias == (
        "out: matches JSON schema exactly"
    )
    assert WordCount(column="review", alias="words").alias == "words"
    aliases = [d.alias for d in ALL_BUILT_INS]
    assert len(set(aliases)) == len(aliases)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: TextLength(column=3), TypeError, "column"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: TextLength(column=""), TypeError, "column"),
        (lambda: TextLength(column="x", alias=5), TypeError, "alias"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: TextLength(column="x", alias=""), TypeError, "alias"),
        (lambda: Contains(column="x", items="refund"), TypeError, "list of strings"),
        (lambda: Contains(column="x", items=[]), ValueError, "at least one"),
        (lambda: Contains(column="x", items=[""]), TypeError, "non-empty"),
        (lambda: Contains(column="x", items=["a"], mode="some"), ValueError, "mode"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: Contains(column="x", items=["a"], case_sensitive="yes"), TypeError, "True"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: DoesNotContain(column="x", items=[1]), TypeError, "non-empty strings"),  # type: ignore[list-item]  # wrong on purpose
        (lambda: BeginsWith(column="x", prefix=""), TypeError, "prefix"),
        (lambda: EndsWith(column="x", suffix=None), TypeError, "suffix"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: RegexMatch(column="x", pattern="(unclosed"), ValueError, "not a valid"),
        (lambda: RegexMatch(column="x", pattern=""), TypeError, "pattern"),
        (lambda: OOVShare(column="x", ignore_words="abc"), TypeError, "list of strings"),
        (lambda: JSONSchemaMatch(column="x", schema=["a"]), TypeError, "mapping"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: JSONSchemaMatch(column="x", schema={"a": set}), ValueError, "not a supported"),
        (lambda: JSONSchemaMatch(column="x", schema={"a": "str"}), ValueError, "unknown JSON"),
        (lambda: JSONSchemaMatch(column="x", schema={"a": ()}), ValueError, "empty choice"),
        (lambda: JSONSchemaMatch(column="x", schema={1: str}), TypeError, "keys"),  # type: ignore[dict-item]  # wrong on purpose
        (lambda: JSONSchemaMatch(column="x", schema={}, exact=1), TypeError, "True"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: ExactMatch(column="x", other_column="x"), ValueError, "differ"),
        (lambda: ExactMatch(column="x", other_column=""), TypeError, "other_column"),
        (lambda: CustomDescriptor(column="x", alias="y", func=3), TypeError, "callable"),  # type: ignore[arg-type]  # wrong on purpose
        (lambda: CustomDescriptor(column="x", alias=None, func=len), TypeError, "alias"),  # type: ignore[arg-type]  # wrong on purpose
        (
            lambda: CustomDescriptor(column="x", alias="y", func=len, type="text"),
            ValueError,
            "type",
        ),
        (lambda: CustomDescriptor(column="x", alias="y", func=len, type="x"), ValueError, "type"),
    ],
)
def test_options_are_checked_when_the_descriptor_is_made(
    build: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()


# ---- add_descriptors ----------------------------------------------------------------------------


def test_add_descriptors_appends_columns_and_leaves_the_input_alone(dtype: str) -> None:
    frame = frame_of(HAND_TEXTS, dtype)
    before = frame.copy(deep=True)
    result = add_descriptors(frame, ALL_BUILT_INS)
    pd.testing.assert_frame_equal(frame, before)
    assert list(result.columns) == [*frame.columns, *(d.alias for d in ALL_BUILT_INS)]
    pd.testing.assert_frame_equal(result[list(frame.columns)], frame)
    for descriptor in ALL_BUILT_INS:
        pd.testing.assert_series_equal(
            result[descriptor.alias], descriptor.compute_frame(frame), check_names=False
        )
    types = descriptor_types(ALL_BUILT_INS)
    assert list(types) == [d.alias for d in ALL_BUILT_INS]
    assert types["review: text length"] == ColumnType.NUMERICAL
    assert types["review: valid SQL"] == ColumnType.CATEGORICAL


def test_add_descriptors_is_deterministic_and_row_order_free() -> None:
    texts = random_texts(800, seed=21)
    frame = frame_of(texts)
    first = add_descriptors(frame, ALL_BUILT_INS)
    second = add_descriptors(frame, ALL_BUILT_INS)
    pd.testing.assert_frame_equal(first, second)
    order = np.random.default_rng(5).permutation(len(frame))
    shuffled = add_descriptors(frame.iloc[order], ALL_BUILT_INS)
    pd.testing.assert_frame_equal(shuffled.sort_index(), first)


def test_add_descriptors_keeps_a_duplicated_index() -> None:
    frame = pd.DataFrame({"review": ["a b", "c", "d e f"]}, index=[7, 7, 1])
    result = add_descriptors(frame, [WordCount(column="review")])
    assert result.index.tolist() == [7, 7, 1]
    assert result["review: word count"].tolist() == [2, 1, 3]


def test_add_descriptors_with_nothing_to_add_returns_a_copy() -> None:
    frame = frame_of(["a"])
    result = add_descriptors(frame, [])
    pd.testing.assert_frame_equal(result, frame)
    assert result is not frame


@pytest.mark.parametrize(
    ("frame", "descriptors", "message"),
    [
        (frame_of(["a"]), [TextLength(column="missing")], "'missing', which is not in the data"),
        (
            frame_of(["a"]),
            [ExactMatch(column="review", other_column="nope")],
            "'nope', which is not in the data",
        ),
        (frame_of(["a"]), [TextLength(column="rating")], "float64 values, not text"),
        (
            frame_of(["a"]),
            [ExactMatch(column="review", other_column="rating")],
            "'rating', which holds float64",
        ),
        (
            pd.DataFrame({"review": pd.Series(["a", "b"], dtype="category")}),
            [TextLength(column="review")],
            "category values, not text",
        ),
        (
            pd.DataFrame({"review": ["a", 3]}),
            [TextLength(column="review")],
            "int, str values, not text",
        ),
        (frame_of(["a"]), [TextLength(column="review", alias="rating")], "already has"),
        (
            pd.DataFrame([["a", "b"]], columns=["review", "review"]),
            [TextLength(column="review")],
            "more than once",
        ),
        (
            frame_of(["a"]),
            [TextLength(column="review"), TextLength(column="review")],
            "both add a column named 'review: text length'",
        ),
        (
            frame_of(["a"]),
            [TextLength(column="review", alias="n"), WordCount(column="review", alias="n")],
            "both add a column named 'n'",
        ),
    ],
)
def test_add_descriptors_refuses_what_does_not_fit(
    frame: pd.DataFrame, descriptors: list[Descriptor], message: str
) -> None:
    with pytest.raises(DataDefinitionError, match=re.escape(message)):
        add_descriptors(frame, descriptors)


def test_add_descriptors_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        add_descriptors({"review": ["a"]}, [TextLength(column="review")])
    with pytest.raises(TypeError, match="list of descriptors"):
        add_descriptors(frame_of(["a"]), TextLength(column="review"))  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(TypeError, match="not a Descriptor"):
        add_descriptors(frame_of(["a"]), ["review"])  # type: ignore[list-item]  # wrong on purpose
    with pytest.raises(DataDefinitionError, match="Two descriptors add"):
        descriptor_types([TextLength(column="a"), TextLength(column="a")])
    with pytest.raises(DataDefinitionError, match="needs text"):
        TextLength(column="x").compute(pd.Series([1, 2]))


def test_all_null_and_empty_text_columns() -> None:
    frame = pd.DataFrame({"review": pd.Series([None, None], dtype=object)})
    result = add_descriptors(frame, [TextLength(column="review"), ContainsLink(column="review")])
    assert result["review: text length"].isna().all()
    assert result["review: contains link"].isna().all()
    empty = add_descriptors(
        frame.iloc[:0], [OOVShare(column="review"), IsValidSQL(column="review")]
    )
    assert len(empty) == 0


# ---- custom descriptors -------------------------------------------------------------------------


def test_custom_descriptor_from_a_function(dtype: str) -> None:
    seen: list[pd.Series] = []

    def exclamations(texts: pd.Series) -> pd.Series:
        seen.append(texts)
        return texts.str.count("!")

    frame = frame_of(["Hi!", None, "Wow!!", ""], dtype)
    numerical = CustomDescriptor(column="review", alias="review: bangs", func=exclamations)
    questions = CustomDescriptor(
        column="review",
        alias="review: question",
        func=lambda texts: [t.endswith("?") for t in texts],
        type=ColumnType.CATEGORICAL,
    )
    labels = CustomDescriptor(
        column="review",
        alias="review: size",
        func=lambda texts: np.where(texts.str.len() > 3, "long", "short"),
        type="categorical",
    )
    result = add_descriptors(frame, [numerical, questions, labels])
    assert observed(result["review: bangs"]) == [1, None, 2, 0]
    assert result["review: bangs"].dtype == np.float64
    assert observed(result["review: question"]) == [False, None, False, False]
    assert result["review: question"].dtype == "boolean"
    assert observed(result["review: size"]) == ["short", None, "long", "short"]
    # The function saw only the texts, nulls left out, on their own index.
    assert seen[0].index.tolist() == [0, 2, 3]
    assert all(isinstance(t, str) for t in seen[0])
    assert numerical.describe()["options"]["func"].endswith("exclamations")
    assert descriptor_types([numerical, questions]) == {
        "review: bangs": ColumnType.NUMERICAL,
        "review: question": ColumnType.CATEGORICAL,
    }
    with pytest.raises(TypeError, match="cannot be rebuilt"):
        descriptor_from_dict(numerical.describe())


def test_custom_descriptor_results_are_checked() -> None:
    frame = frame_of(["a", "b"])
    short = CustomDescriptor(column="review", alias="n", func=lambda texts: [1])
    with pytest.raises(ValueError, match="one value per text"):
        add_descriptors(frame, [short])
    moved = CustomDescriptor(column="review", alias="n", func=lambda t: t.reset_index(drop=True))
    with pytest.raises(ValueError, match="another index"):
        add_descriptors(frame_of(["a", None, "b"]), [moved])
    words = CustomDescriptor(column="review", alias="n", func=lambda texts: texts)
    with pytest.raises(TypeError, match="non-numeric"):
        add_descriptors(frame, [words])


@pytest.mark.usefixtures("registry")
def test_subclassed_descriptors_register_and_run() -> None:
    class QuestionMarks(Descriptor):
        """How many question marks the text holds."""

        def __init__(self, *, column: str, weight: float = 1.0, alias: str | None = None) -> None:
            self.weight = weight
            super().__init__(column=column, alias=alias)

        def compute(self, texts: pd.Series) -> pd.Series:
            # Deliberately sloppy: a value for null texts too, which the run must blank out.
            return texts.fillna("").str.count(r"\?") * self.weight

    assert DESCRIPTORS["QuestionMarks"] is QuestionMarks
    descriptor = QuestionMarks(column="review", weight=2.0)
    assert descriptor.alias == "review: question marks"
    assert descriptor.type == ColumnType.NUMERICAL
    assert descriptor.params() == {"weight": 2.0}
    result = add_descriptors(frame_of(["Why? How?", None, "ok"]), [descriptor])
    assert observed(result["review: question marks"]) == [4.0, None, 0.0]
    rebuilt = descriptor_from_dict(json.loads(json.dumps(descriptor.describe())))
    assert isinstance(rebuilt, QuestionMarks)
    assert rebuilt.weight == 2.0


@pytest.mark.usefixtures("registry")
def test_categorical_subclass_and_registry_conflicts() -> None:
    def define() -> type[Descriptor]:
        class Shouting(Descriptor):
            type = ColumnType.CATEGORICAL

            def compute(self, texts: pd.Series) -> pd.Series:
                return texts.str.isupper()

        return Shouting

    first = define()
    second = define()  # the same class defined again (a re-run cell) replaces the first
    assert DESCRIPTORS["Shouting"] is second is not first
    result = add_descriptors(frame_of(["HEY", "hey", None]), [second(column="review")])
    assert observed(result["review: shouting"]) == [True, False, None]
    assert result["review: shouting"].dtype == "boolean"

    with pytest.raises(TypeError, match="already registered"):
        type("TextLength", (Descriptor,), {})  # another class taking a built-in's name

    assert DESCRIPTORS["TextLength"] is module.TextLength
    with pytest.raises(ValueError, match="Unknown descriptor"):
        descriptor_from_dict({"descriptor": "Nope", "column": "x"})
    with pytest.raises(NotImplementedError):
        Descriptor(column="x").compute(pd.Series(["a"]))


# ---- a report over descriptor columns -----------------------------------------------------------

WORDS = ["good", "bad", "great", "refund", "product", "delivery", "slow", "fast", "zzzblorp"]


def review_frame(n: int, seed: int, link_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    reviews = [
        " ".join(rng.choice(WORDS, int(rng.integers(2, 12)))).capitalize()
        + str(rng.choice([".", "!", "?"]))
        + (" More at www.shop.example" if rng.random() < link_share else "")
        for _ in range(n)
    ]
    frame = pd.DataFrame({"review": reviews, "rating": rng.integers(1, 6, n).astype(float)})
    frame.loc[rng.choice(n, n // 20, replace=False), "review"] = None
    return frame


def test_statistics_and_drift_run_on_descriptor_columns() -> None:
    reference, current = review_frame(600, 1, 0.1), review_frame(500, 2, 0.6)
    descriptors = [
        TextLength(column="review"),
        WordCount(column="review"),
        SentenceCount(column="review"),
        OOVShare(column="review"),
        NonLetterShare(column="review"),
        ContainsLink(column="review"),
        Contains(column="review", items=["refund"]),
        IsValidSQL(column="review"),
    ]
    types = descriptor_types(descriptors)
    numerical = [alias for alias, kind in types.items() if kind == ColumnType.NUMERICAL]
    categorical = [alias for alias, kind in types.items() if kind == ColumnType.CATEGORICAL]
    current2 = add_descriptors(current, descriptors)
    reference2 = add_descriptors(reference, descriptors)
    definition = metrics.DataDefinition(
        text_columns=["review"],
        numerical_columns=["rating", *numerical],
        categorical_columns=categorical,
    )
    run = metrics.Report(
        [metrics.DataSummaryPreset(), metrics.DataDriftPreset()], definition=definition
    ).run(current2, reference2)

    assert {r.status for r in run.results} == {"ok"}, [
        (r.metric_id, r.reason) for r in run.results if r.status != "ok"
    ]
    for alias in types:
        assert run.metric(metrics.ColumnSummary(column=alias)).status == "ok"
        assert run.metric(metrics.ColumnDrift(column=alias)).status == "ok"
    summary = run.metric(metrics.ColumnSummary(column="review: text length"))
    lengths = current2["review: text length"].dropna()
    assert summary.get("current.mean") == pytest.approx(lengths.mean())
    assert summary.get("current.missing") == current["review"].isna().sum()
    # More reviews carry a link now: that drift is caught.
    assert run.metric(metrics.ColumnDrift(column="review: contains link")).get("drifted")
    json.dumps(run.dict())  # the snapshot serialises with the descriptor columns in it
