"""Text descriptors: features computed per row from a text column.

The families, one module each: `text_stats` (length, words, sentences, non-letters), `vocabulary`
(the out-of-vocabulary share and its word list), `matching` (contains, prefixes, patterns, links,
equality with another column), `validity` (JSON, JSON schema, Python, SQL), `custom` (your
function); `base` holds the `Descriptor` class and its registry, `frames` adds their columns.

A descriptor reads a text column and yields one value per row, which `add_descriptors` appends to
the frame as an ordinary column: numerical (a float64 column) or categorical (a nullable boolean
column for the True/False checks). Every statistic, test and drift method then works on it like
on any other column, so "the answers got longer" or "more answers contain a link" are ordinary
drift.

    from metrics.computations.descriptors import Contains, TextLength, add_descriptors, descriptor_types

    descriptors = [TextLength(column="review"), Contains(column="review", items=["refund"])]
    current = add_descriptors(current, descriptors)        # new frames; the inputs are untouched
    reference = add_descriptors(reference, descriptors)
    descriptor_types(descriptors)
    # {'review: text length': <ColumnType.NUMERICAL ...>, 'review: contains any of "refund"': ...}

Conventions shared by every descriptor:

- A null text (None, NaN, pandas.NA) gives a null value (NaN, or <NA> for the True/False ones).
- Values are aligned on the input's index; the new column is named after the descriptor's `alias`,
  by default "<column>: <what it measures>", e.g. "review: word count".
- Where a descriptor needs a Python call per text (parsing JSON, Python or SQL) it is made once per
  distinct text, not once per row; the others use pandas' string methods or NumPy.
- Patterns use Python's `re` semantics (texts are read as Python strings, whatever the column's
  storage, so pyarrow-backed strings behave exactly like object columns).

Definitions used below:

word
    A maximal run of letters and digits (Unicode: what `str.isalnum` accepts), where an apostrophe
    (' or the typographic U+2019) between two such runs is part of the word: "don't" and "user's"
    are one word each, "e-mail" is two, "3.5" is two, "🙂" and "--" are none.
letter
    A character for which `str.isalpha()` is True (Unicode categories L*: "é", "ß", "я", "中").
    Whitespace is what `str.isspace()` accepts.

Built-in descriptors (numerical unless said otherwise):

==========================  =======================================================================
`TextLength`                characters (code points) in the text
`WordCount`                 words
`SentenceCount`             sentences: see the class
`OOVShare`                  share of alphabetic words not in the shipped English vocabulary (0..1)
`NonLetterShare`            share of non-whitespace characters that are not letters (0..1)
`Contains`                  categorical: the text contains any / all of the items
`DoesNotContain`            categorical: the text contains none of / not all of the items
`BeginsWith`, `EndsWith`    categorical: the text starts / ends with the prefix / suffix
`RegexMatch`                categorical: `re.search(pattern, text)` finds a match
`ContainsLink`              categorical: an http(s):// or www. link appears
`IsValidJSON`               categorical: the text is one strict JSON value
`JSONSchemaMatch`           categorical: the text is a JSON object with the given keys and types
`IsValidPython`             categorical: `ast.parse` accepts the text
`IsValidSQL`                categorical: SQLite's parser accepts the text
`ExactMatch`                categorical: the text equals another column's value (both stripped)
`CustomDescriptor`          your function of the texts
==========================  =======================================================================

Your own descriptors: either wrap a function,

    CustomDescriptor(column="review", alias="review: exclamations",
                     func=lambda texts: texts.str.count("!"))

or subclass `Descriptor`: take your options as keyword-only `__init__` arguments stored under the
same names (so `params()` finds them), set the class attribute `type`, and implement
`compute(texts)`. Every subclass is registered by its class name in `DESCRIPTORS`, so
`descriptor_from_dict` can rebuild it from its `describe()` output (e.g. a stored configuration).

    class QuestionMarks(Descriptor):
        type = ColumnType.NUMERICAL

        def compute(self, texts: pd.Series) -> pd.Series:
            return texts.str.count(r"\\?")
"""

from metrics.computations.descriptors.base import DESCRIPTORS, Descriptor, descriptor_from_dict
from metrics.computations.descriptors.custom import CustomDescriptor
from metrics.computations.descriptors.frames import add_descriptors, descriptor_types
from metrics.computations.descriptors.matching import (
    BeginsWith,
    Contains,
    ContainsLink,
    DoesNotContain,
    EndsWith,
    ExactMatch,
    RegexMatch,
)
from metrics.computations.descriptors.text_stats import (
    NonLetterShare,
    SentenceCount,
    TextLength,
    WordCount,
)
from metrics.computations.descriptors.validity import (
    IsValidJSON,
    IsValidPython,
    IsValidSQL,
    JSONSchemaMatch,
)
from metrics.computations.descriptors.vocabulary import OOVShare, english_vocabulary

__all__ = [
    "DESCRIPTORS",
    "BeginsWith",
    "Contains",
    "ContainsLink",
    "CustomDescriptor",
    "Descriptor",
    "DoesNotContain",
    "EndsWith",
    "ExactMatch",
    "IsValidJSON",
    "IsValidPython",
    "IsValidSQL",
    "JSONSchemaMatch",
    "NonLetterShare",
    "OOVShare",
    "RegexMatch",
    "SentenceCount",
    "TextLength",
    "WordCount",
    "add_descriptors",
    "descriptor_from_dict",
    "descriptor_types",
    "english_vocabulary",
]
