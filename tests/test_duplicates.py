"""Near-duplicate suggestions: the same matter in other words or without diacritics is found."""

from __future__ import annotations

import pytest

from moderation.duplicates import DuplicateIndex, features

LACH_TRAY = "Khi nào làm xong đường Lạch Tray?"
LACH_TRAY_UNACCENTED = "khi nao lam xong duong lach tray"
LACH_TRAY_REWORDED = "Bao giờ đường Lạch Tray làm xong ạ"
TUITION = "Xin hỏi học phí năm học mới của các trường công lập có tăng không?"


def test_same_text_without_diacritics_case_or_punctuation_scores_one() -> None:
    index = DuplicateIndex()
    assert index.add(1, LACH_TRAY) == []
    assert index.add(2, LACH_TRAY_UNACCENTED) == [(1, 1.0)]
    assert index.add(3, "KHI NÀO LÀM XONG ĐƯỜNG LẠCH TRAY!!!") == [(1, 1.0), (2, 1.0)]


def test_reworded_question_is_above_the_threshold() -> None:
    index = DuplicateIndex(threshold=0.5)
    index.add(1, LACH_TRAY)
    [(found, score)] = index.add(2, LACH_TRAY_REWORDED)
    assert found == 1
    assert 0.5 <= score < 1


def test_unrelated_question_is_not_suggested() -> None:
    index = DuplicateIndex()
    index.add(1, LACH_TRAY)
    assert index.add(2, TUITION) == []
    found = index.add(3, "Học phí các trường công lập năm học mới tăng bao nhiêu?")
    assert found == [(2, pytest.approx(0.67, abs=0.1))]


def test_stop_words_alone_make_no_match() -> None:
    index = DuplicateIndex()
    index.add(1, "Xin hỏi tôi có được không ạ?")
    assert index.add(2, "Cho tôi hỏi là có được không") == []
    assert features("Xin hỏi tôi có được không ạ?") == frozenset()


def test_similar_lists_earlier_and_later_questions_both_ways() -> None:
    index = DuplicateIndex()
    index.add(1, LACH_TRAY)
    index.add(2, TUITION)
    index.add(3, LACH_TRAY_REWORDED)
    index.add(4, LACH_TRAY_UNACCENTED)
    assert [found for found, _ in index.similar(1)] == [4, 3]
    assert [found for found, _ in index.similar(3)] == [1, 4]
    assert index.similar(2) == []
    assert dict(index.similar(1))[3] == dict(index.similar(3))[1]


def test_best_first() -> None:
    index = DuplicateIndex()
    index.add(1, LACH_TRAY_REWORDED)
    index.add(2, LACH_TRAY_UNACCENTED)
    found = index.add(3, LACH_TRAY)
    assert [question for question, _ in found] == [2, 1]
    assert found[0][1] > found[1][1]


def test_limit_is_respected() -> None:
    index = DuplicateIndex(limit=3)
    for question in range(1, 11):
        index.add(question, LACH_TRAY)
    found = index.add(11, LACH_TRAY_UNACCENTED)
    assert len(found) == 3
    assert all(score == 1.0 for _, score in found)
    assert len(index.similar(1)) == 3


def test_removed_question_is_no_longer_suggested() -> None:
    index = DuplicateIndex()
    index.add(1, LACH_TRAY)
    index.add(2, LACH_TRAY_REWORDED)
    index.remove(1)
    assert len(index) == 1
    assert index.similar(2) == []
    assert index.similar(1) == []
    assert index.add(3, LACH_TRAY_UNACCENTED) == [(2, pytest.approx(0.8, abs=0.05))]
    index.remove(1)  # harmless twice
    assert len(index) == 2


def test_adding_again_replaces_the_text() -> None:
    index = DuplicateIndex()
    index.add(1, LACH_TRAY)
    index.add(2, TUITION)
    assert index.add(2, LACH_TRAY_UNACCENTED) == [(1, 1.0)]
    assert len(index) == 2
    assert index.add(3, TUITION) == []


def test_threshold_is_respected() -> None:
    strict = DuplicateIndex(threshold=0.9)
    strict.add(1, LACH_TRAY)
    assert strict.add(2, LACH_TRAY_REWORDED) == []
    assert strict.add(3, LACH_TRAY_UNACCENTED) == [(1, 1.0)]


def test_scores_stay_within_zero_and_one() -> None:
    index = DuplicateIndex(threshold=0.01, limit=100)
    texts = [LACH_TRAY, LACH_TRAY_REWORDED, TUITION, "Đường Lạch Tray ngập nước", "học phí đường"]
    for question, text in enumerate(texts):
        index.add(question, text)
    scores = [score for question in range(len(texts)) for _, score in index.similar(question)]
    assert scores
    assert all(0 < score <= 1 for score in scores)


def test_many_questions_still_found() -> None:
    # Enough questions that common words overflow what one search reads: the duplicate of a
    # distinctive question is still found, and the common ones still get suggestions.
    index = DuplicateIndex()
    for question in range(3000):
        index.add(question, f"Xin hỏi thủ tục cấp giấy chứng nhận quyền sử dụng đất ở tổ {question}")
    index.add(5000, "Bao giờ đường Lạch Tray ở phường Cầu Đất làm xong")
    found = index.add(5001, "đường lạch tray phường cầu đất khi nào làm xong")
    assert [question for question, _ in found] == [5000]
    assert len(index.add(5002, "thủ tục cấp giấy chứng nhận quyền sử dụng đất")) == 5
    assert len(index) == 3003


@pytest.mark.parametrize(("threshold", "limit"), [(0, 5), (1.5, 5), (0.5, 0)])
def test_bad_settings_refused(threshold: float, limit: int) -> None:
    with pytest.raises(ValueError):
        DuplicateIndex(threshold=threshold, limit=limit)
