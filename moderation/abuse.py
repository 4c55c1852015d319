"""Abusive or obscene Vietnamese words in a question, for the moderator to see at a glance.

A question is flagged, never dropped: people quote what was said to them, and the editorial board
decides. The word list is short and curated; the spellings people actually type (without
diacritics, Telex typed without an input method, letters repeated, "đ.m") are generated from it.

Typed without diacritics, several of these words are ordinary Vietnamese ("cặc" -> "cac" is "các",
"lồn" -> "lon" is "lớn"). Those entries are marked ACCENTED: only their accented and their Telex
spellings count, since the tone and the vowel marks are exactly what tells them apart.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

from .text import fold

ANY = "any"  # also counts without diacritics: the unaccented spelling is not an ordinary word
ACCENTED = "accented"  # only with diacritics or in Telex: unaccented it is an ordinary word

# (canonical spelling, when it counts). The comment after an ACCENTED entry names the ordinary
# word its unaccented spelling would be mistaken for.
WORDS: tuple[tuple[str, str], ...] = (
    ("địt", ANY),
    ("địt mẹ", ANY),
    ("địt con mẹ", ANY),
    ("đụ", ACCENTED),  # du: du lịch
    ("đụ má", ANY),
    ("đụ mẹ", ANY),
    ("đéo", ACCENTED),  # deo: đeo khẩu trang
    ("lồn", ACCENTED),  # lon: lớn, lon bia
    ("cái lồn", ACCENTED),  # cai lon: cái lớn
    ("vãi lồn", ACCENTED),  # vai lon: vài lon
    ("buồi", ACCENTED),  # buoi: buổi
    ("đầu buồi", ACCENTED),  # dau buoi: đầu buổi
    ("vãi buồi", ACCENTED),  # vai buoi: vài buổi
    ("cặc", ACCENTED),  # cac: các
    ("đĩ", ACCENTED),  # di: đi
    ("con đĩ", ACCENTED),  # con di: con dì
    ("đồ đĩ", ACCENTED),  # do di: đó đi
    ("đĩ điếm", ACCENTED),  # di diem: đi điểm (danh)
    ("điếm", ACCENTED),  # diem: điểm
    ("phò", ACCENTED),  # pho: phố
    ("cứt", ACCENTED),  # cut: cụt, cút
    ("nứng", ACCENTED),  # nung: nung gạch
    ("đm", ANY),
    ("đmm", ANY),
    ("đcm", ANY),
    ("đcmm", ANY),
    ("đkm", ANY),
    ("cmm", ANY),
    ("cmn", ANY),
    ("cmnr", ANY),
    ("clm", ANY),
    ("clgt", ANY),
    ("vcl", ANY),
    ("vkl", ANY),
    ("vl", ANY),
    ("mẹ mày", ACCENTED),  # me may: mẹ may (áo)
    ("con mẹ mày", ANY),
    ("bố mày", ACCENTED),  # bo may: bộ máy
    ("mả mẹ", ACCENTED),  # ma me: mà mẹ
    ("mẹ kiếp", ANY),
    ("tổ sư mày", ANY),
    ("tiên sư bố", ANY),
    ("óc chó", ANY),
    ("đồ chó", ACCENTED),  # do cho: đó cho
    ("thằng chó", ACCENTED),  # thang cho: tháng cho
    ("chó chết", ACCENTED),  # cho chet: (bỏ mặc) cho chết
    ("chó đẻ", ACCENTED),  # cho de: cho dễ
    ("chó má", ACCENTED),  # cho ma: cho mà (xem)
    ("ngu như bò", ANY),
    ("ngu như chó", ANY),
    ("ngu như lợn", ANY),
    ("thằng ngu", ANY),
    ("đồ ngu", ACCENTED),  # do ngu: do ngủ
    ("đồ điên", ACCENTED),  # do dien: do điện
    ("đồ súc vật", ACCENTED),  # do suc vat: do súc vật
    ("đần độn", ACCENTED),  # dan don: dẫn đơn
    ("mất dạy", ACCENTED),  # mat day: mất dây, mặt đáy
    ("bố láo", ACCENTED),  # bo lao: Bộ Lao động
    ("láo toét", ANY),
    ("khốn nạn", ANY),
    ("khốn kiếp", ANY),
    ("đồ khốn", ANY),
)

# Ordinary phrases that contain a listed one; matched first, so they hide it.
ALLOWED: tuple[str, ...] = ("hạt óc chó", "quả óc chó", "dầu óc chó", "bánh óc chó", "sữa óc chó")

# Splitting on letters gives [gap, word, gap, word, ..., gap] in one pass: the words, and what
# separates them, which decides whether a phrase or a dotted "đ.m" continues across it.
_WORDS = re.compile(r"([^\W\d_]+)")
_REPEATED = re.compile(r"([^\W\d_])\1+")
_GLUE = frozenset(".-_*")  # "đ.m", "l-ồ-n": one word with its letters set apart
_MAX_GAP = 4  # ", ", "... ", " - " between the words of a phrase; no line break

_TONE_KEYS = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"


def _strip_tones(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_KEYS))


def _telex_letters(ch: str) -> tuple[list[str], str]:
    """The keys typed for one letter (alternatives), and its tone key or ""."""
    if ch == "đ":
        return ["dd"], ""
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    tone = next((_TONE_KEYS[m] for m in marks if m in _TONE_KEYS), "")
    if _CIRCUMFLEX in marks:
        return [base + base], tone
    if _BREVE in marks:
        return ["aw"], tone
    if _HORN in marks:
        # "w" alone gives "ư" in Telex, so "cwts" is "cứt" as much as "cuwts" is.
        return (["uw", "w"] if base == "u" else [base + "w"]), tone
    return [base], tone


def _telex(word: str) -> set[str]:
    """Telex spellings of one syllable: tone key at the end, or right after its vowel."""
    letters = [_telex_letters(ch) for ch in word]
    tone = next((t for _, t in letters if t), "")
    toned = next((i for i, (_, t) in enumerate(letters) if t), -1)
    spellings: set[str] = set()
    for choice in itertools.product(*(keys for keys, _ in letters)):
        spellings.add("".join(choice) + tone)
        if tone:
            spellings.add("".join(choice[: toned + 1]) + tone + "".join(choice[toned + 1 :]))
    return spellings


def _telex_phrase(words: list[str], keep: bool) -> set[str]:
    """Telex spellings of a phrase; with keep, any word may also be typed with its marks."""
    choices = [_telex(word) | ({word} if keep else set()) for word in words]
    return {" ".join(typed) for typed in itertools.product(*choices)}


def _spellings(phrase: str, when: str) -> tuple[set[str], set[str]]:
    """How a phrase gets typed: (spellings with or without marks, Telex spellings).

    Marks are dropped from the whole phrase or from none of it: "địt me" is not listed, since a
    word without its marks next to one with them is a word of its own ("mẹ may áo" is "mẹ mày" with
    one mark dropped). Telex words mix freely with accented ones: both carry every mark.
    """
    words = phrase.split()
    telex = _telex_phrase(words, keep=True)
    if when == ACCENTED:
        return {phrase}, telex
    toneless = _strip_tones(phrase)
    # Not "đ" typed "d" with the tones kept: "dụ má" is "lured mother", not "đụ má".
    plain = {phrase, toneless, toneless.replace("đ", "d"), fold(phrase)}
    return plain, telex | _telex_phrase(toneless.split(), keep=False)


def _squeeze(word: str) -> str:
    return _REPEATED.sub(r"\1", word)


Table = dict[str, str | None]


def _build(entries: Iterable[tuple[str, str | None, str]]) -> tuple[Table, Table]:
    """Spellings -> canonical (None: allowed), exact and with repeated letters squeezed ("đmmm").

    Keys are the words joined by one space. Telex spellings stay out of the squeezed table: their
    doubled letters ("dd", "oo") are keys, and squeezing would make "dduj" "duj", which is "dụ".
    """
    exact: Table = {}
    squeezed: Table = {}
    for phrase, canonical, when in entries:
        plain, telex = _spellings(phrase, when)
        for spelling in plain | telex:
            exact.setdefault(spelling, canonical)
        for spelling in plain:
            squeezed.setdefault(_squeeze(spelling), canonical)
    return exact, squeezed


def _entries() -> list[tuple[str, str | None, str]]:
    allowed: list[tuple[str, str | None, str]] = [(phrase, None, ANY) for phrase in ALLOWED]
    listed: list[tuple[str, str | None, str]] = [
        (unicodedata.normalize("NFC", word), unicodedata.normalize("NFC", word), when) for word, when in WORDS
    ]
    return allowed + listed  # allowed first: a listed spelling never overrides an allowed one


_EXACT, _SQUEEZED = _build(_entries())
_LONGEST = max(key.count(" ") + 1 for key in _EXACT)
_STARTS = frozenset(key.split()[0] for table in (_EXACT, _SQUEEZED) for key in table if " " in key)
_FIRSTS = frozenset(key.split()[0] for table in (_EXACT, _SQUEEZED) for key in table)

_NO_MATCH: tuple[int, str | None] = (0, None)


def _lookup(key: str, short: str) -> tuple[bool, str | None]:
    if key in _EXACT:
        return True, _EXACT[key]
    # Only a word that had repeated letters may use the squeezed table: "cm" is not "cmm".
    if short != key and short in _SQUEEZED:
        return True, _SQUEEZED[short]
    return False, None


def _phrase(words: list[str], squeezed: list[str], gaps: list[str], i: int) -> tuple[int, str | None]:
    """(number of words, canonical or None if allowed) of the longest entry at words[i]."""
    longest = 1
    if words[i] in _STARTS or squeezed[i] in _STARTS:
        while longest < _LONGEST and i + longest < len(words):
            gap = gaps[i + longest - 1]
            if len(gap) > _MAX_GAP or "\n" in gap:
                break
            longest += 1
    for n in range(longest, 0, -1):
        listed, canonical = _lookup(" ".join(words[i : i + n]), " ".join(squeezed[i : i + n]))
        if listed:
            return n, canonical
    return _NO_MATCH


def _glued(words: list[str], gaps: list[str], i: int) -> tuple[int, str | None]:
    """(number of words, canonical) of an entry spelled "đ.m", "l-ồ-n" or "l ồ n" at words[i]."""
    j = i
    while j + 1 < len(words):
        gap = gaps[j]
        if not (gap in _GLUE or (gap == " " and len(words[j]) == 1 and len(words[j + 1]) == 1)):
            break
        j += 1
    if j == i:
        return _NO_MATCH
    word = "".join(words[i : j + 1])
    listed, canonical = _lookup(word, _squeeze(word))
    return (j + 1 - i, canonical) if listed and canonical else _NO_MATCH


def _scan(text: str) -> list[str]:
    parts = _WORDS.split(text)
    words, gaps = parts[1::2], parts[2::2]  # gaps[i] follows words[i]
    short_text = _squeeze(text)
    squeezed = words if short_text == text else _WORDS.split(short_text)[1::2]
    # One cheap pass picks the words an entry could start at; only those pay for the lookups.
    starts = [
        i
        for i, (word, short, gap) in enumerate(zip(words, squeezed, gaps, strict=True))
        if word in _FIRSTS or short in _FIRSTS or gap in _GLUE or (gap == " " and len(word) == 1)
    ]
    found: list[str] = []
    free = 0  # the words of a match are used up: "vãi lồn" is not also "lồn"
    for i in starts:
        if i < free:
            continue
        n, canonical = _phrase(words, squeezed, gaps, i)
        if not n:
            n, canonical = _glued(words, gaps, i)
        if canonical:
            found.append(canonical)
        free = i + n
    return found


def flags(text: str) -> list[str]:
    """Canonical forms of the listed words found in text, once each, in order of first appearance."""
    text = text.lower()
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return list(dict.fromkeys(_scan(text)))
