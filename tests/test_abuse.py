"""Abusive-word flags: the spellings people type are found, ordinary Vietnamese is left alone."""

from __future__ import annotations

import unicodedata

import pytest

from moderation.abuse import ACCENTED, ANY, WORDS, flags
from moderation.text import fold


def test_accented_word_found_with_its_canonical_form() -> None:
    assert flags("Trả lời kiểu gì vậy, đéo hiểu nổi") == ["đéo"]


def test_nothing_found_in_an_ordinary_question() -> None:
    assert flags("Xin hỏi khi nào đường Lạch Tray được sửa xong?") == []
    assert flags("") == []


def test_found_in_order_of_first_appearance_once_each() -> None:
    assert flags("vcl, đm cái dự án này, lại đm nữa, VCL") == ["vcl", "đm"]


def test_case_and_normal_form_do_not_matter() -> None:
    assert flags("ĐỤ MÁ") == ["đụ má"]
    assert flags(unicodedata.normalize("NFD", "Vãi Lồn thật")) == ["vãi lồn"]


def test_unaccented_spelling_of_an_unambiguous_entry() -> None:
    assert flags("dit me may") == ["địt mẹ"]
    assert flags("du ma thang nay") == ["đụ má"]
    assert flags("dm bao gio moi xong") == ["đm"]
    assert flags("ngu nhu bo") == ["ngu như bò"]


def test_partly_accented_spelling_of_an_unambiguous_entry() -> None:
    assert flags("đit me") == ["địt mẹ"]  # no tones
    assert flags("dụ má mua bảo hiểm") == []  # "lured mother": tones kept, so "d" is not "đ"


def test_marks_dropped_from_part_of_a_phrase_make_other_words() -> None:
    # "địt" keeps its marks, "me" lost them: a word of its own, so not listed.
    assert flags("địt me") == ["địt"]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("dduj", "đụ"),  # tone key at the end
        ("dditj", "địt"),
        ("ddijt", "địt"),  # tone key right after the vowel
        ("ddit", "địt"),  # no tone key
        ("loonf", "lồn"),
        ("loofn", "lồn"),
        ("cawcj", "cặc"),
        ("cuwts", "cứt"),
        ("cwts", "cứt"),  # "w" alone for ư
        ("ddm", "đm"),
        ("dduj mas", "đụ má"),
        ("vaix loonf", "vãi lồn"),
        ("ddeos", "đéo"),
    ],
)
def test_telex_typed_without_an_input_method(typed: str, canonical: str) -> None:
    assert flags(f"cái đường này {typed} thật") == [canonical]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("đ.m", "đm"), ("v.c.l", "vcl"), ("l-ồ-n", "lồn"), ("l ồ n", "lồn"), ("đmmmm", "đm"), ("lồnnn", "lồn")],
)
def test_simple_evasion(typed: str, canonical: str) -> None:
    assert flags(f"nói thật {typed} luôn") == [canonical]


def test_phrase_across_punctuation_but_not_across_lines() -> None:
    assert flags("đụ... má") == ["đụ má"]
    assert flags("đụ-má") == ["đụ má"]
    assert flags("ngu, như bò") == ["ngu như bò"]
    assert flags("vẫn ngu\nnhư bò") == []


def test_whole_words_only() -> None:
    assert flags("dmx vclub clgtv") == []
    assert flags("cặcx") == []


def test_longest_phrase_wins_and_uses_its_words() -> None:
    assert flags("vãi lồn") == ["vãi lồn"]
    assert flags("địt con mẹ") == ["địt con mẹ"]


ORDINARY = [
    "Các bạn đi làm buổi sáng rất vất vả",
    "Con lớn lên ở phường Cầu Đất",
    "Con chó nhà tôi bị bắt mất",
    "Bộ máy nhà nước cần tinh gọn",
    "Đầu buổi họp, chủ tọa có nói",
    "Vài lon bia, vài buổi nhậu",
    "Đeo khẩu trang nơi công cộng",
    "Điểm thi tốt nghiệp năm nay",
    "Nhà tôi ở ngõ cụt trên phố Lạch Tray",
    "Du lịch Cát Bà mùa hè",
    "Để đó cho tôi, tháng cho thuê nhà",
    "Mất điện do điện lực cắt, làm cho dễ",
    "Cái lớn nhất là dân được lợi",
    "Con dì tôi đi làm xa, cứ đó đi",
    "Bộ Lao động Thương binh và Xã hội",
    "Hạt óc chó nhập khẩu",
    "Lò nung gạch gây ô nhiễm",
    "Mẹ tôi và bố tôi đã nghỉ hưu",
    "Mẹ may áo cho con, ngành may mặc",
    "Kích thước 3 cm, dẫn đơn khiếu nại",
]


@pytest.mark.parametrize("sentence", ORDINARY)
def test_ordinary_words_are_not_flagged(sentence: str) -> None:
    assert flags(sentence) == []


@pytest.mark.parametrize("sentence", ORDINARY)
def test_ordinary_words_typed_without_diacritics_are_not_flagged(sentence: str) -> None:
    # "cac ban" is "các bạn" typed without diacritics, not "cặc".
    assert flags(fold(sentence)) == []


@pytest.mark.parametrize("entry", [word for word, when in WORDS if when == ACCENTED])
def test_accented_only_entry_is_not_matched_unaccented_but_is_accented(entry: str) -> None:
    assert flags(fold(entry)) == []
    assert flags(entry) == [entry]


@pytest.mark.parametrize("entry", [word for word, when in WORDS if when == ANY])
def test_every_other_entry_is_matched_unaccented(entry: str) -> None:
    assert flags(entry) == [entry]
    assert flags(fold(entry).upper()) == [entry]


def test_word_list_is_canonical() -> None:
    words = [word for word, _ in WORDS]
    assert len(words) == len(set(words))
    assert all(word == unicodedata.normalize("NFC", word).lower() == word.strip() for word in words)
    assert 30 <= len(words) <= 70
