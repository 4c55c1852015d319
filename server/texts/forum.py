"""Words of the standing forum "Trao đổi và tháo gỡ" (Huế, QĐ 1834/2013, seed 000): key -> (Vietnamese,
English). See server/texts/__init__.py. Keys are prefixed `forum_`, except the field labels, which are
the fields' own names (the session draft's `kind`, `rule_set`, `chair_position`, `place`, `description`)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "forum_bad_kind": ("{label} phải là một trong: {choices}.", "{label} must be one of: {choices}."),
    "forum_bad_rule_set": ("Phiên loại “{kind}” áp dụng quy chế: {choices}.",
                           "A session of kind “{kind}” follows the rules: {choices}."),
    "forum_no_minutes": ("Diễn đàn thường xuyên không có thời lượng; bỏ trống {label}.",
                         "A standing forum has no length; leave {label} out."),
    "forum_no_live": ("Diễn đàn thường xuyên không có buổi trực tiếp: không thể bắt đầu phát.",
                      "A standing forum has no live hour: it cannot be started."),
    "forum_retire_admin": ("Diễn đàn thường xuyên không tự kết thúc; chỉ quản trị hệ thống mới ngừng (đóng) được.",
                           "A standing forum does not close; only an administrator can retire (close) it."),
    "forum_no_script": ("Diễn đàn thường xuyên không có kịch bản buổi đối thoại để duyệt.",
                        "A standing forum has no session script to approve."),
    "forum_no_video": ("Diễn đàn thường xuyên không có hình trực tiếp; không chọn được nguồn hình.",
                       "A standing forum has no live video; it takes no feed."),
}
LABELS: dict[str, tuple[str, str]] = {
    "kind": ("Loại phiên", "Session kind"),
    "rule_set": ("Quy chế áp dụng", "Rules followed"),
    "chair_position": ("Chức vụ người chủ trì", "Chair's position"),
    "place": ("Địa điểm", "Place"),
    "description": ("Mô tả", "Description"),
}
UI: dict[str, tuple[str, str]] = {
    "forum_kicker": ("Diễn đàn đối thoại thường xuyên", "Standing dialogue forum"),
    "forum_list_title": ("Diễn đàn “Trao đổi và tháo gỡ”", "The “Trao đổi và tháo gỡ” forum"),
    "forum_list_intro": (
        "Cá nhân, tổ chức, doanh nghiệp gửi kiến nghị, vướng mắc vào bất kỳ ngày nào; Ban Điều hành tiếp nhận, "
        "chuyển cơ quan có chức năng trả lời và đăng câu trả lời đã được thông qua.",
        "Individuals, organisations and businesses send their questions and difficulties on any day; the "
        "steering board receives them, passes them to the competent agency, and publishes the approved answers."),
    "forum_list_none": ("Hiện chưa có diễn đàn nào đang mở.", "No forum is open at the moment."),
    "forum_list_retired": ("Diễn đàn đã ngừng nhận câu hỏi", "Forums no longer taking questions"),
    "forum_open": ("Vào diễn đàn", "Open the forum"),
    "forum_state_open": ("Đang nhận câu hỏi hằng ngày", "Taking questions every day"),
    "forum_state_retired": ("Đã ngừng nhận câu hỏi", "No longer taking questions"),
    "forum_opened": ("Mở từ ngày", "Open since"),
    "forum_board": ("Trưởng Ban Điều hành", "Head of the steering board"),
    "forum_promise_title": ("Thời hạn trả lời", "When you get an answer"),
    "forum_promise": (
        "Thời hạn trả lời câu hỏi được Ban Điều hành tiếp nhận là {days} ngày làm việc kể từ ngày nhận câu hỏi "
        "(không tính ngày nghỉ hằng tuần, ngày lễ, Tết). Hạn của từng câu hỏi ghi trên trang tra cứu theo mã tra "
        "cứu của bạn và được theo dõi đến khi có câu trả lời. Câu trả lời chỉ được đăng tại đây sau khi Trưởng "
        "Ban Điều hành duyệt.",
        "A question the steering board takes up is due for an answer {days} working days after the day it was "
        "received (weekly rest days, public holidays and Tết do not count). Each question's deadline is on its "
        "receipt page and is followed until the answer comes. An answer is published here only once the head "
        "of the steering board has approved it."),
    "forum_source": ("Quy chế ban hành kèm theo {source}, Điều 9.", "Rules issued with {source}, Article 9."),
    "forum_retired_notice": ("Diễn đàn này đã ngừng nhận câu hỏi; các câu trả lời vẫn được lưu tại đây.",
                             "This forum no longer takes questions; its answers stay here."),
    "forum_jump_answers": ("Xem câu trả lời", "Read the answers"),
    "forum_answers_title": ("Câu hỏi đã được trả lời", "Questions answered"),
    "forum_search_title": ("Tìm câu trả lời", "Find an answer"),
    "forum_search_words": ("Từ khóa", "Words"),
    "forum_search_words_hint": ("Có thể gõ không dấu, ví dụ: dat dai.",
                                "Diacritics may be left out, e.g. dat dai."),
    "forum_search_field": ("Lĩnh vực", "Field"),
    "forum_search_all": ("Tất cả lĩnh vực", "All fields"),
    "forum_search_submit": ("Tìm", "Search"),
    "forum_search_clear": ("Bỏ lọc", "Clear"),
    "forum_found": ("{n} câu hỏi đã trả lời phù hợp.", "{n} answered questions match."),
    "forum_total": ("{n} câu hỏi đã trả lời.", "{n} questions answered."),
    "forum_none_found": ("Không có câu trả lời nào phù hợp với điều kiện tìm.", "No answer matches the search."),
    "forum_none_yet": ("Chưa có câu trả lời nào được đăng.", "No answer has been published yet."),
    "forum_asked_on": ("Gửi ngày", "Sent on"),
    "forum_answered_on": ("Trả lời ngày", "Answered on"),
    "forum_answered_by": ("Cơ quan trả lời", "Answered by"),
    "forum_answer": ("Trả lời", "Answer"),
    "forum_page_of": ("Trang {page}/{pages}", "Page {page} of {pages}"),
    "forum_prev": ("Trang trước", "Previous page"),
    "forum_next": ("Trang sau", "Next page"),
    "forum_pages": ("Các trang kết quả", "Result pages"),
    "forum_ask_title": ("Gửi kiến nghị, vướng mắc", "Send a question"),
    "forum_ask_any_day": ("Diễn đàn nhận câu hỏi vào mọi ngày, không cần chờ buổi đối thoại.",
                          "The forum takes questions on any day; there is no session to wait for."),
    "forum_nav": ("Diễn đàn", "Forum"),
}
STAFF: dict[str, tuple[str, str]] = {
    "forum_console_note": ("Diễn đàn thường xuyên: không có hàng chờ trực tiếp, không phát hình; mỗi câu hỏi "
                           "có hạn trả lời 5 ngày làm việc kể từ ngày nhận.",
                           "Standing forum: no live queue, no video; each question is due 5 working days "
                           "after its receipt."),
}
STAFF_JS_PREFIXES: tuple[str, ...] = ()
