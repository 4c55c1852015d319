"""Words of the follow-up deadlines (moderation/followup.py, moderation/deadlines.py): key -> (vi, en)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "already_forwarded": ("Câu hỏi này đã được chuyển đến cơ quan có thẩm quyền.",
                          "This question was already sent on to the competent agency."),
    "no_deadline": ("Câu hỏi này không có thời hạn đang chạy để gia hạn.",
                    "This question has no running deadline to extend."),
    "bad_unit": ("Hãy ghi tên cơ quan nhận câu hỏi (2 đến 200 ký tự).",
                 "Name the agency the question was sent to (2 to 200 characters)."),
    "bad_return_note": ("Hãy ghi lý do trả lại để đơn vị sửa (5 đến {max} ký tự).",
                        "Say why it is returned, for the unit to correct it (5 to {max} characters)."),
    "bad_extension": ("Hạn mới phải là một ngày (YYYY-MM-DD) sau hạn hiện tại {current}.",
                      "The new last day must be a date (YYYY-MM-DD) after the current one, {current}."),
    "bad_extension_note": ("Hãy ghi lý do gia hạn để báo cho người hỏi (5 đến {max} ký tự).",
                           "State the reason for the extension, which the asker is told (5 to {max} characters)."),
    "notice_not_applicable": ("Thông báo kết luận chỉ áp dụng cho phiên theo quy chế Hà Nam, sau khi phiên kết thúc.",
                              "The conclusions notice applies only to a session under the Hà Nam rules, after "
                              "its close."),
    "notice_already_issued": ("Thông báo kết luận đã được ban hành lúc {at}.",
                              "The conclusions notice was issued at {at}."),
}
LABELS: dict[str, tuple[str, str]] = {
    "unit": ("Cơ quan có thẩm quyền", "Competent agency"),
    "due": ("Hạn mới", "New last day"),
}

# How a deadline is said to the asker (the receipt page) and to staff
UI: dict[str, tuple[str, str]] = {
    "due_next": ("Bước tiếp theo", "Next step"),
    "due_step_forward": ("Chuyển đến cơ quan có thẩm quyền", "Sent on to the competent agency"),
    "due_step_written_answer": ("Trả lời bằng văn bản", "A written answer"),
    "due_step_notice": ("Thông báo kết luận của phiên", "The session's conclusions notice"),
    "due_step_unit_answer": ("Cơ quan chuyên môn trả lời", "The department's answer"),
    "due_step_forum_answer": ("Trả lời câu hỏi", "The answer"),
    "due_by": ("chậm nhất hết ngày {d}", "by the end of {d}"),
    "due_counting_days": ("{n} ngày", "{n} days"),
    "due_counting_working_days": ("{n} ngày làm việc", "{n} working days"),
    "due_from_close": ("kể từ khi kết thúc phiên", "from the session's close"),
    "due_from_receipt": ("kể từ khi nhận câu hỏi", "from receipt"),
    "due_from_notice": ("kể từ thông báo kết luận", "from the conclusions notice"),
    "due_moved": ("Nếu ngày cuối là ngày nghỉ, hạn là hết ngày làm việc tiếp theo (Bộ luật Dân sự 2015, Điều 148).",
                  "A last day that is a day off moves to the end of the next working day (Civil Code 2015, art. 148)."),
    "due_extended": ("Đã gia hạn từ ngày {d}. Lý do: {r}", "Extended from {d}. Reason: {r}"),
    "due_done_on_time": ("Đã thực hiện ngày {d}, đúng hạn.", "Done on {d}, on time."),
    "due_done_late": ("Đã thực hiện ngày {d}, quá hạn.", "Done on {d}, late."),
    "due_after_close": ("Thời hạn được tính khi phiên kết thúc.", "The deadline is set when the session closes."),
    "forwarded_to": ("Đã chuyển đến", "Sent on to"),
}
STAFF: dict[str, tuple[str, str]] = {
    "staff_follow_up": ("Sau phiên đối thoại", "After the session"),
}
STAFF_JS_PREFIXES: tuple[str, ...] = ()
