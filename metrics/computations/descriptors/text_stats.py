"""Text statistics: length, word and sentence counts, and the share of non-letters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.computations.descriptors.base import TextDescriptor, sums_between

# A word: runs of letters/digits ([^\W_] is exactly str.isalnum), joined by inner apostrophes.
WORD_PATTERN = r"[^\W_]+(?:['\u2019][^\W_]+)*"
# A sentence starts at its first letter or digit and runs to the first run of . ! ? that is
# followed by whitespace or the end of the text, or else to the end of the text. Counting these
# matches counts the pieces of `re.split(r"(?<=[.!?])\s+", text)` that hold a letter or digit.
SENTENCE_PATTERN = r"(?s)[^\W_].*?(?:[.!?]+(?=\s|\Z)|\Z)"


class TextLength(TextDescriptor):
    """The number of characters (Unicode code points, as `len`) in the text; 0 for "".

    An emoji built of several code points (a flag, a skin tone, a family) counts each of them.
    """

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "text length"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.len().to_numpy(dtype=np.float64)


class WordCount(TextDescriptor):
    """The number of words (see the module's definition: runs of letters and digits, apostrophes
    inside a word kept); 0 for a text without any."""

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "word count"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.count(WORD_PATTERN).to_numpy(dtype=np.float64)


class SentenceCount(TextDescriptor):
    """The number of sentences.

    The text is cut after every run of ".", "!" or "?" that is followed by whitespace or ends the
    text; each piece that holds at least one letter or digit is a sentence. So "Hi. How are you?"
    is 2, "Great!!! Thanks" is 2, a text without end punctuation is 1, and "", "..." or "🙂" are 0.
    Abbreviations followed by a space ("e.g. this") do end a sentence; "3.5" and "example.com" do
    not, since no whitespace follows their dots.
    """

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "sentence count"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        return texts.str.count(SENTENCE_PATTERN).to_numpy(dtype=np.float64)


class NonLetterShare(TextDescriptor):
    """The share (0 to 1) of the text's characters that are not letters, whitespace left out.

    Digits, punctuation, symbols and emoji count as non-letters; spaces, tabs and newlines count
    as neither, so reformatting a text does not move the share. (Combining marks, as in a
    decomposed "é", are non-letters: normalise to NFC first if that matters.) A text that is empty
    or all whitespace has a share of 0.
    """

    def __init__(self, *, column: str, alias: str | None = None) -> None:
        super().__init__(column=column, alias=alias)

    def label(self) -> str:
        return "non-letter share"

    def _compute(self, texts: pd.Series) -> np.ndarray:
        values = texts.tolist()
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        # All texts as one array of code points. Each distinct character is classified once (a
        # lookup table indexed by code point), and running sums cut at the texts' boundaries give
        # the counts per text: no sort and no loop over characters in Python.
        joined = "".join(values).encode("utf-32-le", "surrogatepass")
        points = np.frombuffer(joined, dtype="<u4")
        if points.size == 0:
            return np.zeros(len(values))
        seen = np.zeros(int(points.max()) + 1, dtype=bool)
        seen[points] = True
        distinct = np.flatnonzero(seen)
        is_letter = np.zeros(len(seen), dtype=bool)
        is_space = np.zeros(len(seen), dtype=bool)
        is_letter[distinct] = [chr(p).isalpha() for p in distinct.tolist()]
        is_space[distinct] = [chr(p).isspace() for p in distinct.tolist()]
        ends = np.cumsum(lengths)
        letters = sums_between(is_letter[points], ends)
        spaces = sums_between(is_space[points], ends)
        counted = lengths - spaces
        return np.divide(counted - letters, counted, out=np.zeros(len(values)), where=counted > 0)
