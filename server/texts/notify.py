"""Words of the notify feature: key -> (Vietnamese, English). See server/texts/__init__.py.

NOTICES are the messages themselves (notify/messages.py fills them): askers get Vietnamese by e-mail
and SMS; the receipt page shows them in the page's language. Placeholders: {number} (the question's
number in the session), {session} (its title), {due} (dd/mm/yyyy), {unit}, {note}, {receipt},
{link} (the receipt page, or the staff page for a department)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "notify_bad_email": ("{label}: địa chỉ e-mail không hợp lệ (ví dụ: ten@example.vn).",
                         "{label}: not a valid e-mail address (for example name@example.vn)."),
    "notify_email_too_long": ("{label}: tối đa {max} ký tự.", "{label}: at most {max} characters."),
    "notify_unknown_department": ("Không có sở, ngành tên này.", "No department of that name."),
    "notify_not_retryable": ("Chỉ gửi lại được thông báo lỗi hoặc đã dừng.",
                             "Only a failed or dead notification can be sent again."),
    "notify_notification_not_found": ("Không có thông báo này.", "No such notification."),
    "notify_bad_as_of": ("--as-of: cần một thời điểm ISO 8601, ví dụ 2026-12-07T09:00.",
                         "--as-of: an ISO 8601 moment is needed, e.g. 2026-12-07T09:00."),
    "notify_department_role": ("Chỉ Trưởng Ban Biên tập hoặc quản trị viên được đặt e-mail của sở, ngành.",
                               "Only the head of the board or an admin may set a department's e-mail."),
}

LABELS: dict[str, tuple[str, str]] = {
    "asker.email": ("E-mail", "E-mail"),
    "notification_id": ("Thông báo", "Notification"),
    "email": ("E-mail của sở, ngành", "The department's e-mail"),
}

UI: dict[str, tuple[str, str]] = {
    "notify_email_label": ("E-mail (không bắt buộc)", "E-mail (optional)"),
    "notify_email_hint": (
        "Chỉ dùng để báo cho bạn biết câu hỏi được xử lý thế nào; không công khai.",
        "Used only to tell you what became of your question; never made public.",
    ),
    "notify_messages_heading": ("Thông báo gửi bạn", "Messages to you"),
    "notify_messages_none": ("Chưa có thông báo nào.", "No messages yet."),
}

STAFF: dict[str, tuple[str, str]] = {
    "notify_outbox_title": ("Hộp thư đi: thông báo", "Outbox: notifications"),
    "notify_outbox_counts": ("Theo trạng thái và kênh", "By state and channel"),
    "notify_outbox_problems": ("Thông báo lỗi và đã dừng", "Failed and dead notifications"),
    "notify_outbox_none": ("Không có thông báo lỗi.", "No failed notifications."),
    "notify_outbox_unconfigured": ("Kênh chưa cấu hình (thông báo chờ gửi): {channels}",
                                   "Channels not configured (notifications wait): {channels}"),
    "notify_col_channel": ("Kênh", "Channel"),
    "notify_col_state": ("Trạng thái", "State"),
    "notify_col_count": ("Số lượng", "Count"),
    "notify_col_kind": ("Loại", "Kind"),
    "notify_col_question": ("Câu hỏi", "Question"),
    "notify_col_audience": ("Gửi tới", "To"),
    "notify_col_attempts": ("Số lần gửi", "Attempts"),
    "notify_col_next": ("Lần gửi tới", "Next attempt"),
    "notify_col_error": ("Lỗi", "Error"),
    "notify_col_address": ("Địa chỉ", "Address"),
    "notify_col_body": ("Nội dung", "Message"),
    "notify_retry": ("Gửi lại", "Send again"),
    "notify_retried": ("Đã đặt lại để gửi.", "Queued to be sent again."),
    "notify_state_pending": ("Chờ gửi", "Pending"),
    "notify_state_sending": ("Đang gửi", "Sending"),
    "notify_state_sent": ("Đã gửi", "Sent"),
    "notify_state_failed": ("Lỗi, sẽ thử lại", "Failed, will retry"),
    "notify_state_dead": ("Đã dừng", "Dead"),
    "notify_channel_receipt": ("Trang tra cứu", "Receipt page"),
    "notify_channel_email": ("E-mail", "E-mail"),
    "notify_channel_sms": ("SMS", "SMS"),
    "notify_audience_asker": ("Người hỏi", "Asker"),
    "notify_audience_department": ("Sở, ngành", "Department"),
}

STAFF_JS_PREFIXES: tuple[str, ...] = ()

# The messages. Asker kinds: will_forward, forwarded, outside_remit, will_not_answer, follow_up,
# answered_in_writing, extended; department kinds: routed, reminder, overdue. `sms_` texts are kept to
# two SMS parts (notify/messages.py counts them and shortens {unit}/{note} when needed).
NOTICES: dict[str, tuple[str, str]] = {
    # -- to the asker: one line on the receipt page, the same line as the SMS, a few in the mail --
    "line_will_forward": (
        "Câu hỏi số {number} không thuộc thẩm quyền của phiên; sẽ được chuyển đến cơ quan có thẩm quyền trước ngày {due}.",
        "Question {number} is outside the session's remit; it will be sent on to the competent body by {due}.",
    ),
    "line_will_forward_after_close": (
        "Câu hỏi số {number} không thuộc thẩm quyền của phiên; sẽ được chuyển đến cơ quan có thẩm quyền trong 3 ngày "
        "kể từ khi phiên kết thúc.",
        "Question {number} is outside the session's remit; it will be sent on to the competent body within 3 days of "
        "the session's close.",
    ),
    "line_forwarded": (
        "Câu hỏi số {number} đã được chuyển đến {unit} để trả lời.",
        "Question {number} was sent on to {unit} to answer.",
    ),
    "line_outside_remit": (
        "Câu hỏi số {number} không thuộc thẩm quyền của thành phố. {note}",
        "Question {number} is outside the city's remit. {note}",
    ),
    "line_will_not_answer": (
        "Câu hỏi số {number} sẽ không được trả lời. Lý do: {note}",
        "Question {number} will not be answered. Reason: {note}",
    ),
    "line_follow_up": (
        "Câu hỏi số {number} sẽ được trả lời bằng văn bản trước ngày {due}.",
        "Question {number} will be answered in writing by {due}.",
    ),
    "line_follow_up_notice": (
        "Kết luận của phiên về câu hỏi số {number} sẽ được thông báo trước ngày {due}; sau đó cơ quan chuyên môn trả "
        "lời trong 10 ngày làm việc.",
        "The session's conclusions on question {number} will be issued by {due}; the department then answers within "
        "10 working days.",
    ),
    "line_answered_in_writing": (
        "Câu hỏi số {number} đã có trả lời bằng văn bản.",
        "Question {number} has a written answer.",
    ),
    "line_answered_in_writing_merged": (
        "Câu hỏi số {number} đã được gộp với câu hỏi số {merged_into} cùng nội dung; câu hỏi đó nay đã có trả lời "
        "bằng văn bản, công khai trên trang của phiên.",
        "Question {number} was merged with question {merged_into}, which asks the same; that question now has a "
        "written answer, public on the session's page.",
    ),
    "line_extended": (
        "Thời hạn trả lời câu hỏi số {number} được gia hạn đến ngày {due}. {note}",
        "The deadline for question {number} was extended to {due}. {note}",
    ),
    "sms_link": ("Xem: {link}", "See: {link}"),
    "sms_code": ("Mã tra cứu: {receipt}", "Receipt: {receipt}"),
    "mail_subject": ("Câu hỏi số {number}: {session}", "Question {number}: {session}"),
    "mail_greeting": ("Kính gửi ông/bà,", "Dear asker,"),
    "mail_about": ("Về câu hỏi số {number} trong phiên \"{session}\" (mã tra cứu {receipt}):",
                   "About question {number} in the session \"{session}\" (receipt {receipt}):"),
    "mail_see": ("Xem trả lời và diễn biến tại: {link}", "See the answer and what happened at: {link}"),
    "mail_see_code": ("Tra cứu bằng mã {receipt} trên cổng thông tin.", "Look it up with receipt {receipt} on the portal."),
    "mail_footer": (
        "Thư này được gửi tự động vì ông/bà đã cho địa chỉ e-mail khi gửi câu hỏi; xin không trả lời thư này.",
        "This mail was sent automatically because you gave this address with your question; please do not reply.",
    ),
    # -- to a department (official e-mail) --
    "dept_subject_routed": ("[Đối thoại] Câu hỏi số {number} chuyển đến {unit}: hạn {due}",
                            "[Dialogue] Question {number} routed to {unit}: due {due}"),
    "dept_subject_reminder": ("[Đối thoại] Nhắc hạn: câu hỏi số {number}, hạn {due}",
                              "[Dialogue] Reminder: question {number}, due {due}"),
    "dept_subject_overdue": ("[Đối thoại] Quá hạn: câu hỏi số {number}, hạn {due}",
                             "[Dialogue] Overdue: question {number}, was due {due}"),
    "dept_line_routed": (
        "Câu hỏi số {number} của phiên \"{session}\" được chuyển đến {unit} để chuẩn bị trả lời. Hạn trả lời: {due}.",
        "Question {number} of the session \"{session}\" was routed to {unit} to answer. Due: {due}.",
    ),
    "dept_line_reminder": (
        "Nhắc: câu hỏi số {number} của phiên \"{session}\" cần được {unit} trả lời trước hết ngày {due}.",
        "Reminder: question {number} of the session \"{session}\" is due from {unit} by the end of {due}.",
    ),
    "dept_line_overdue": (
        "Câu hỏi số {number} của phiên \"{session}\" đã quá hạn trả lời ({due}); đề nghị {unit} trả lời ngay.",
        "Question {number} of the session \"{session}\" is overdue ({due}); {unit} is asked to answer now.",
    ),
    "dept_no_due": ("chưa có", "not set"),
    "dept_see": ("Xem và trả lời tại: {link}", "See and answer at: {link}"),
    "dept_footer": ("Thư tự động của hệ thống đối thoại trực tuyến.", "Sent automatically by the online dialogue system."),
}
