"""Words of the privacy feature: key -> (Vietnamese, English). See server/texts/__init__.py.

The retention job and askers' requests to see or erase their data (moderation/retention.py,
moderation/data_requests.py): the receipt page's form (UI), the staff page /staff/privacy (STAFF)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "privacy_bad_as_of": ("Thời điểm tính không hợp lệ: dùng ISO 8601, ví dụ 2027-12-03T00:00:00+07:00.",
                          "Not a valid moment: use ISO 8601, e.g. 2027-12-03T00:00:00+07:00."),
    "privacy_bad_kind": ("Vui lòng chọn loại yêu cầu: xem dữ liệu hoặc xoá dữ liệu.",
                         "Please choose what you ask for: to see your data or to erase it."),
    # one answer for a wrong number and for a question whose identity is already erased
    "privacy_not_yours": (
        "Không thể xác nhận yêu cầu: số điện thoại không khớp với số đã gửi kèm câu hỏi này.",
        "The request cannot be confirmed: the phone number does not match the one sent with this question.",
    ),
    "privacy_rate_limited": (
        "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {retry_after} giây.",
        "Too many tries. Please try again in {retry_after} seconds.",
    ),
    "privacy_note_required": ("Vui lòng ghi lý do ({min} đến {max} ký tự).",
                              "Please give the reason ({min} to {max} characters)."),
    "privacy_confirm_erasure": ("Vui lòng đánh dấu xác nhận trước khi xoá: việc xoá không thể hoàn tác.",
                                "Please tick the confirmation first: erasure cannot be undone."),
    "privacy_bad_outcome": ("Kết quả xử lý không hợp lệ.", "Not a valid outcome."),
    "privacy_request_not_found": ("Không tìm thấy yêu cầu này.", "No such request."),
    "privacy_request_closed": ("Yêu cầu này đã được xử lý xong.", "This request has already been closed."),
    "privacy_not_open_access": ("Chỉ xem được dữ liệu của một yêu cầu xem dữ liệu đang chờ xử lý.",
                                "The data is shown only for an open request to see it."),
}

LABELS: dict[str, tuple[str, str]] = {
    "request_kind": ("loại yêu cầu", "what you ask for"),
    "request_phone": ("số điện thoại", "phone number"),
    "request_note": ("lý do", "reason"),
    "request_outcome": ("kết quả xử lý", "outcome"),
    "request_id": ("yêu cầu", "request"),
    "request_confirmed": ("xác nhận xoá", "confirmation"),
}

UI: dict[str, tuple[str, str]] = {
    "privacy_heading": ("Dữ liệu cá nhân của bạn", "Your personal data"),
    "privacy_intro": (
        "Bạn có quyền xem hoặc yêu cầu xoá họ tên, địa chỉ, số điện thoại đã gửi kèm câu hỏi này. "
        "Ban Biên tập trả lời trong 2 ngày làm việc (Nghị định 356/2025/NĐ-CP). Để xác nhận câu hỏi là "
        "của bạn, hãy nhập số điện thoại bạn đã gửi kèm câu hỏi. Câu hỏi và câu trả lời vẫn được giữ; "
        "chỉ thông tin về bạn bị xoá.",
        "You may see, or ask us to erase, the name, address and phone number sent with this question. The "
        "editorial board answers within 2 working days (Decree 356/2025). To confirm the question is yours, "
        "type the phone number you sent with it. The question and its answer are kept; only your details "
        "are erased.",
    ),
    "privacy_kind_legend": ("Bạn yêu cầu", "You ask"),
    "privacy_kind_access": ("Xem dữ liệu của tôi", "To see my data"),
    "privacy_kind_erasure": ("Xoá dữ liệu của tôi", "To erase my data"),
    "privacy_phone_label": ("Số điện thoại đã gửi kèm câu hỏi", "The phone number sent with the question"),
    "privacy_phone_hint": ("Không hiển thị ở đâu; chỉ dùng để xác nhận.", "Shown nowhere; used only to confirm."),
    "privacy_submit": ("Gửi yêu cầu", "Send the request"),
    "privacy_sent": ("Đã nhận yêu cầu của bạn.", "Your request has been received."),
    "privacy_requests": ("Yêu cầu của bạn", "Your requests"),
    "privacy_req_access": ("Xem dữ liệu", "To see the data"),
    "privacy_req_erasure": ("Xoá dữ liệu", "To erase the data"),
    "privacy_state_open": ("Đang xử lý, hạn trả lời: {d}", "Being handled, due by {d}"),
    "privacy_state_done_access": ("Đã gửi dữ liệu cho bạn ngày {d}", "Your data was sent to you on {d}"),
    "privacy_state_done_erasure": ("Đã xoá ngày {d}", "Erased on {d}"),
    "privacy_state_refused": ("Không thực hiện ({d}). Lý do: {note}", "Refused ({d}). Reason: {note}"),
    "privacy_received": ("gửi ngày {d}", "sent on {d}"),
    "privacy_erased": (
        "Họ tên, địa chỉ và số điện thoại gửi kèm câu hỏi này đã được xoá; câu hỏi và câu trả lời vẫn được giữ.",
        "The name, address and phone number sent with this question have been erased; the question and its "
        "answer are kept.",
    ),
}

STAFF: dict[str, tuple[str, str]] = {
    "privacy_title": ("Yêu cầu về dữ liệu cá nhân", "Personal data requests"),
    "privacy_staff_intro": (
        "Người hỏi yêu cầu xem hoặc xoá dữ liệu của mình; phải trả lời trong 2 ngày làm việc (Nghị định "
        "356/2025/NĐ-CP). Xem dữ liệu để gửi được ghi nhật ký như xem danh tính. Xoá: họ tên, địa chỉ, "
        "số điện thoại, thư điện tử của người hỏi bị xoá ngay; câu hỏi, câu trả lời và số liệu được giữ.",
        "Askers ask to see or erase their data; each must be answered within 2 working days (Decree "
        "356/2025). Showing the data to send is audited like a reveal. Erasure: the asker's name, address, "
        "phone and e-mail are erased at once; the question, its answer and the counts are kept.",
    ),
    "privacy_none": ("Không có yêu cầu nào đang chờ.", "No request is open."),
    "privacy_show_closed": ("Xem cả yêu cầu đã xử lý", "Show closed requests too"),
    "privacy_show_open": ("Chỉ yêu cầu đang chờ", "Open requests only"),
    "privacy_row": ("Yêu cầu #{id} · câu hỏi #{n} · {session}", "Request #{id} · question #{n} · {session}"),
    "privacy_kind": ("Loại", "Kind"),
    "privacy_channel": ("Nhận qua", "Received through"),
    "privacy_channel_receipt": ("trang tra cứu (người hỏi tự gửi)", "the receipt page (by the asker)"),
    "privacy_channel_staff": ("cán bộ nhập: {by}", "entered by {by}"),
    "privacy_received_at": ("Nhận lúc", "Received"),
    "privacy_due": ("Hạn", "Due"),
    "privacy_overdue": ("Quá hạn", "Overdue"),
    "privacy_state": ("Trạng thái", "State"),
    "privacy_st_open": ("Đang chờ", "Open"),
    "privacy_st_done": ("Đã xử lý", "Done"),
    "privacy_st_refused": ("Từ chối", "Refused"),
    "privacy_by": ("bởi {by}, {t}", "by {by}, {t}"),
    "privacy_show": ("Xem dữ liệu để gửi (ghi nhật ký)", "Show the data to send (audited)"),
    "privacy_done_access": ("Đã gửi dữ liệu: đóng yêu cầu", "Data sent: close the request"),
    "privacy_done_erasure": ("Xoá dữ liệu người hỏi ngay", "Erase the asker's data now"),
    "privacy_refuse": ("Từ chối", "Refuse"),
    "privacy_confirm_label": ("Tôi xác nhận xoá: không thể hoàn tác", "I confirm the erasure: it cannot be undone"),
    "privacy_note_label": ("Lý do từ chối (người hỏi sẽ đọc)", "Reason for refusing (the asker reads it)"),
    "privacy_data_title": ("Dữ liệu của người hỏi (yêu cầu #{id})", "The asker's data (request #{id})"),
    "privacy_data_hint": (
        "Gửi cho người hỏi qua kênh họ đã dùng; không sao chép đi nơi khác. Lần xem này đã được ghi nhật ký.",
        "Send it to the asker through the channel they used; copy it nowhere else. This view is in the audit log.",
    ),
    "privacy_f_name": ("Họ tên / Tổ chức", "Name / organisation"),
    "privacy_f_address": ("Địa chỉ", "Address"),
    "privacy_f_phone": ("Điện thoại", "Phone"),
    "privacy_f_email": ("Thư điện tử", "E-mail"),
    "privacy_f_public_name": ("Tên công khai", "Public name"),
    "privacy_f_question": ("Câu hỏi", "Question"),
    "privacy_f_receipt": ("Mã tra cứu", "Receipt"),
    "privacy_f_consent": ("Đồng ý", "Consent"),
    "privacy_f_consent_value": ("phiên bản {v}, lúc {t}, qua {c}", "version {v}, at {t}, through {c}"),
    "privacy_done_msg_done": ("Đã đóng yêu cầu #{id}.", "Request #{id} is closed."),
    "privacy_done_msg_erased": ("Đã xoá dữ liệu người hỏi và đóng yêu cầu #{id}.",
                                "The asker's data is erased and request #{id} is closed."),
    "privacy_done_msg_refused": ("Đã từ chối yêu cầu #{id}.", "Request #{id} is refused."),
    "privacy_nav": ("Dữ liệu cá nhân", "Personal data"),
}

STAFF_JS_PREFIXES: tuple[str, ...] = ()
