"""The vocabulary descriptor: the share of words outside the shipped English word list."""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from metrics.computations.descriptors.base import TextDescriptor, string_list, sums_between
from metrics.computations.descriptors.text_stats import WORD_PATTERN

# Package data of this package (so it ships in the wheel).
VOCABULARY_FILE = ("data", "english_words.txt.gz")


@functools.cache
def english_vocabulary() -> frozenset[str]:
    """The English words `OOVShare` knows: lowercase, one per line in the package's data file.

    102,485 entries from Debian's `wamerican` (SCOWL size 50, American spelling), names included
    and lowercased, with apostrophe forms such as "don't" and "user's"; the file's header carries
    the word list's licence. Read from the installed package (never downloaded) on first use and
    kept for the life of the process.
    """
    resource = importlib.resources.files(__package__).joinpath(*VOCABULARY_FILE)
    text = gzip.decompress(resource.read_bytes()).decode("utf-8")
    return frozenset(line for line in text.split("\n") if line and not line.startswith("#"))


class OOVShare(TextDescriptor):
    """The share (0 to 1) of the text's alphabetic words that are out of vocabulary.

    Words (see the module's definition) are lowercased, with U+2019 read as '; only alphabetic
    ones count (letters and apostrophes: "2024", "v2" and "mp3" are neither known nor unknown). A
    word is known when it is in `english_vocabulary()` or in `ignore_words` (matched lowercased:
    product names, jargon). A text without alphabetic words has a share of 0.

    The vocabulary holds inflected forms ("running", "cities") and common names, but no lemmatiser
    runs: a rare inflection or a recent coinage counts as out of vocabulary.
    """

    def __init__(
        self, *, column: str, ignore_words: Sequence[str] = (), alias: str | None = None
    ) -> None:
        self.ignore_words = sorted({w.lower() for w in string_list("ignore_words", ignore_words)})
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "out-of-vocabulary share"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        vocabulary = english_vocabulary()
        ignored = frozenset(self.ignore_words)
        normalised = texts.str.lower().str.replace("\u2019", "'", regex=False)
        words = normalised.str.findall(WORD_PATTERN)
        lengths = words.str.len().to_numpy(dtype=np.int64)
        flat = list(itertools.chain.from_iterable(words))
        if not flat:
            return np.zeros(len(texts))
        # Each distinct word is looked up once (set lookups in Python), then spread to its rows.
        codes, distinct = pd.factorize(pd.Series(flat, dtype=object))
        alphabetic = np.fromiter(
            (w.replace("'", "").isalpha() for w in distinct), dtype=bool, count=len(distinct)
        )
        known = np.fromiter(
            (w in vocabulary or w in ignored for w in distinct), dtype=bool, count=len(distinct)
        )
        ends = np.cumsum(lengths)
        counted = sums_between(alphabetic[codes], ends)
        unknown = sums_between((alphabetic & ~known)[codes], ends)
        return np.divide(unknown, counted, out=np.zeros(len(texts)), where=counted > 0)
