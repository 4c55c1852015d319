"""Near-duplicate questions, so a moderator can merge the ones on the same matter.

Hundreds of citizens ask about the same road or the same fee in their own words, with or without
diacritics. A question is reduced to a set of features (its content words, folded, and the pairs of
consecutive content words); two questions are similar by the cosine of those sets,
|A ∩ B| / sqrt(|A| |B|), which forgives one question being a little longer than the other.

Sessions hold 10,000 questions and more, so a search reads an inverted index (feature -> questions)
instead of every question, and only for A's rarer features: a question B scoring at least t shares
at least t² |A| features with A, so it cannot miss all of A's |A| - ceil(t² |A|) + 1 rarest ones.
The search is exact while those features' lists fit a fixed budget. Past it (a feature common to
hundreds of questions, as when hundreds ask the same thing) the newest questions of that feature
stand for the rest: the suggestions are then good ones, not provably the best.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from itertools import pairwise

from .text import fold

# Folded, so "có" and "cỏ" are one word here: the price of matching text typed without diacritics.
# Question words and courtesies go too: they say nothing about the matter. Kept out on purpose,
# because folded they are also nouns of the matter: tai (tái định cư), bao (bảo hiểm), thi (thi cử),
# chung (chung cư), de (đê), den (đèn), do (đổ rác), lai (lãi suất), vay (vay vốn), the (thẻ).
STOP_WORDS = frozenset(
    """
    a ah ak oi u da
    xin hoi cho toi em anh ba minh
    la cua co khong duoc va voi ma nhu ve
    nao khi gio gi sao nay o ra len
    cac nhung mot se bi neu rat
    """.split()
)

_WORDS = re.compile(r"[^\W_]+")
_EPSILON = 1e-9  # so a score of exactly the threshold counts, whatever the rounding
_WALKED = 2048  # posting entries read per search, at most: what keeps add() fast at 10,000+ questions
_VERIFIED = 50  # candidates scored exactly, those sharing the most rare features first


def features(text: str) -> frozenset[str]:
    """Content words of text, folded, and each pair of consecutive content words ("lach tray")."""
    words = [w for w in _WORDS.findall(fold(text)) if w not in STOP_WORDS]
    return frozenset(words + [f"{a} {b}" for a, b in pairwise(words)])


def _score(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / math.sqrt(len(a) * len(b))


class DuplicateIndex:
    """Questions of one session, indexed for near-duplicate suggestions."""

    def __init__(self, threshold: float = 0.5, limit: int = 5) -> None:
        if not 0 < threshold <= 1:
            raise ValueError("threshold must be in (0, 1]")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.threshold = threshold
        self.limit = limit
        self._features: dict[int, frozenset[str]] = {}
        # feature -> ids, in the order added (a dict is an ordered set): the newest come last.
        self._postings: defaultdict[str, dict[int, None]] = defaultdict(dict)

    def __len__(self) -> int:
        return len(self._features)

    def add(self, question_id: int, text: str) -> list[tuple[int, float]]:
        """Index a question (again, if its text was edited); the similar ones already indexed."""
        self.remove(question_id)
        mine = features(text)
        found = self._search(question_id, mine)
        self._features[question_id] = mine
        for feature in mine:
            self._postings[feature][question_id] = None
        return found

    def remove(self, question_id: int) -> None:
        """Forget a question (merged, declined); forgetting one not indexed is harmless."""
        mine = self._features.pop(question_id, None)
        for feature in mine or ():
            ids = self._postings[feature]
            del ids[question_id]
            if not ids:
                del self._postings[feature]

    def similar(self, question_id: int) -> list[tuple[int, float]]:
        """The similar questions to one indexed, earlier or later; [] for one not indexed."""
        mine = self._features.get(question_id)
        return self._search(question_id, mine) if mine else []

    def _search(self, question_id: int, mine: frozenset[str]) -> list[tuple[int, float]]:
        """(id, score) of the indexed questions scoring at least the threshold, best first."""
        if not mine:
            return []
        counts = self._candidates(mine)
        counts.pop(question_id, None)
        t2 = self.threshold * self.threshold
        # A much shorter or much longer question cannot reach t: |B| must lie in [t²|A|, |A|/t²].
        low, high = t2 * len(mine) - _EPSILON, len(mine) / t2 + _EPSILON
        scored = []
        for other in _most_shared(counts, _VERIFIED):
            theirs = self._features[other]
            if low <= len(theirs) <= high:
                score = _score(mine, theirs)
                if score >= self.threshold - _EPSILON:
                    scored.append((other, round(score, 3)))
        scored.sort(key=lambda hit: (-hit[1], hit[0]))
        return scored[: self.limit]

    def _candidates(self, mine: frozenset[str]) -> Counter[int]:
        """Questions sharing one of the rarer features of mine -> how many of those they share."""
        shared = max(1, math.ceil(self.threshold**2 * len(mine) - _EPSILON))  # least overlap scoring t
        rarest = sorted(mine, key=lambda f: len(self._postings.get(f, ())))[: len(mine) - shared + 1]
        counts: Counter[int] = Counter()
        budget = _WALKED
        for left, feature in zip(range(len(rarest), 0, -1), rarest, strict=True):
            ids = self._postings.get(feature, {})
            share = budget // left  # rare features use little, so the common ones get more
            if len(ids) <= share:
                counts.update(ids.keys())
                budget -= len(ids)
            else:
                # A feature of hundreds of questions: its newest stand for the rest (a moderator
                # merges into a recent question as well as into an old one).
                counts.update(itertools.islice(reversed(ids), share))
                budget -= share
        return counts


def _most_shared(counts: Counter[int], n: int) -> list[int]:
    """The n ids sharing the most features; between equals, the newest (largest id)."""
    if len(counts) <= n:
        return list(counts)
    # How many ids share each number of features: a handful of numbers, so the cutoff is cheap.
    cutoff, taken = 0, 0
    for shared, ids in sorted(Counter(counts.values()).items(), reverse=True):
        cutoff, taken = shared, taken + ids
        if taken >= n:
            break
    best = [other for other, shared in counts.items() if shared >= cutoff]
    if len(best) > n:
        best.sort(key=lambda other: (counts[other], other), reverse=True)
        del best[n:]
    return best
