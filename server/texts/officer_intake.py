"""Words of the officer intake feature: key -> (Vietnamese, English). See server/texts/__init__.py.

A question received by phone, e-mail, letter or in person, entered by an officer of the editorial
board (moderation/officer_intake.py, server/officer_intake.py)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "oi_sign_in": (
        "Chỉ cán bộ Ban Biên tập đã đăng nhập (hoặc dùng mã API của mình) mới được ghi kênh tiếp nhận "
        "(channel) của câu hỏi; người xem gửi câu hỏi không kèm trường này.",
        "Only a signed-in member of the editorial board (or their API token) may give the channel a question "
        "was received through; viewers send their questions without this field.",
    ),
    "oi_board_only": (
        "Chỉ thành viên Ban Biên tập (biên tập viên, Trưởng ban, quản trị) được nhập câu hỏi nhận qua điện thoại, "
        "thư điện tử, thư hoặc trực tiếp.",
        "Only the editorial board (editors, the head, admins) may enter a question received by phone, e-mail, "
        "letter or in person.",
    ),
    "oi_channel_required": ("Hãy chọn câu hỏi được nhận qua kênh nào.", "Choose how the question was received."),
    "oi_bad_channel": (
        "Kênh tiếp nhận phải là một trong: phone (điện thoại), email (thư điện tử), letter (thư), "
        "in_person (trực tiếp).",
        "The channel must be one of: phone, email, letter, in_person.",
    ),
}

LABELS: dict[str, tuple[str, str]] = {
    "channel": ("Kênh tiếp nhận", "Received through"),
}

UI: dict[str, tuple[str, str]] = {}

STAFF: dict[str, tuple[str, str]] = {
    "oi_link": ("Nhập câu hỏi nhận qua điện thoại, thư", "Enter a phone or letter question"),
    "oi_title": ("Nhập câu hỏi nhận qua điện thoại, thư điện tử, thư hoặc trực tiếp",
                 "Enter a question received by phone, e-mail, letter or in person"),
    "oi_intro": (
        "Ghi câu hỏi thay cho người hỏi. Câu hỏi vào sổ tiếp nhận như câu hỏi gửi qua cổng, với kênh tiếp nhận "
        "và tên của bạn là cán bộ tiếp nhận (Quy chế, Điều 8).",
        "Enter the question on the asker's behalf. It goes into the register like a question sent on the portal, "
        "with the channel and your name as the receiving officer (Rules, Art. 8).",
    ),
    "oi_officer": ("Cán bộ tiếp nhận", "Receiving officer"),
    "oi_session": ("Phiên đối thoại", "Session"),
    "oi_closed": ("Phiên này không còn nhận câu hỏi: không thể nhập thêm.",
                  "This session no longer takes questions: nothing more can be entered."),
    "oi_not_open": ("Phiên này chưa được thông báo: câu hỏi chỉ được nhận từ khi thông báo.",
                    "This session has not been announced: questions are taken from the announcement on."),
    "oi_channel": ("Nhận qua", "Received"),
    "oi_channel_phone": ("Điện thoại", "Phone"),
    "oi_channel_email": ("Thư điện tử", "E-mail"),
    "oi_channel_letter": ("Thư (bưu điện)", "Letter (post)"),
    "oi_channel_in_person": ("Trực tiếp", "In person"),
    # the channel inside a sentence ("received by phone"): the read-out text below
    "oi_via_phone": ("qua điện thoại", "by phone"),
    "oi_via_email": ("qua thư điện tử", "by e-mail"),
    "oi_via_letter": ("qua thư gửi Ban Biên tập", "by letter"),
    "oi_via_in_person": ("trực tiếp tại Ban Biên tập", "in person"),
    "oi_asker": ("Người hỏi", "The asker"),
    "oi_kind": ("Người hỏi là", "The asker is"),
    "oi_kind_person": ("Cá nhân", "A person"),
    "oi_kind_organization": ("Tổ chức, doanh nghiệp", "An organisation or business"),
    "oi_name": ("Họ tên (cá nhân) hoặc tên tổ chức", "Full name (a person) or the organisation's name"),
    "oi_address": ("Địa chỉ thường trú hoặc trụ sở", "Permanent address or head office"),
    "oi_phone": ("Số điện thoại", "Phone number"),
    "oi_email": ("Thư điện tử (không bắt buộc)", "E-mail (optional)"),
    "oi_email_hint": ("Để báo kết quả cho người hỏi, nếu họ cho địa chỉ.",
                      "To tell the asker what became of it, if they gave one."),
    "oi_name_shown": ("Tên hiển thị công khai", "Name shown in public"),
    "oi_name_shown_short": ("Viết tắt (Nguyễn V. A.)", "Short (Nguyễn V. A.)"),
    "oi_name_shown_full": ("Đầy đủ", "In full"),
    "oi_name_shown_anonymous": ("Ẩn danh", "Anonymous"),
    "oi_field": ("Lĩnh vực", "Field"),
    "oi_field_none": ("Chưa xác định", "Not chosen"),
    "oi_text": ("Nội dung câu hỏi", "The question"),
    "oi_text_hint": ("Ghi đúng ý người hỏi; 10 đến 2.000 ký tự.", "As the asker put it; 10 to 2,000 characters."),
    "oi_required": ("(bắt buộc)", "(required)"),
    "oi_consent_note": ("Đọc cho người hỏi (hoặc bảo đảm thư của họ đã nêu) nội dung sau, rồi hỏi họ có đồng ý:",
                        "Read this to the asker (or make sure their letter says it), then ask whether they agree:"),
    "oi_consent_label": (
        "Người hỏi đã đồng ý với cán bộ tiếp nhận cho Ban Biên tập dùng họ tên, địa chỉ, số điện thoại của mình "
        "như trên (phiên bản {v}).",
        "The asker consented, to the receiving officer, to the board using their name, address and phone as "
        "above (version {v}).",
    ),
    "oi_submit": ("Ghi vào sổ tiếp nhận", "Enter in the register"),
    "oi_errors": ("Chưa ghi được: hãy sửa các mục được đánh dấu.", "Not entered: correct the marked fields."),
    "oi_done": ("Đã ghi vào sổ tiếp nhận", "Entered in the register"),
    "oi_receipt": ("Mã tra cứu", "Receipt"),
    "oi_number": ("Số thứ tự", "Number"),
    "oi_received_at": ("Thời gian nhận", "Received"),
    "oi_readout": ("Đọc hoặc gửi cho người hỏi", "Read out or send to the asker"),
    "oi_print": ("In phiếu tiếp nhận", "Print the receipt slip"),
    "oi_next": ("Nhập câu hỏi khác", "Enter another question"),
    "oi_back": ("Về bàn điều phối", "Back to the console"),
    "oi_slip_title": ("Phiếu tiếp nhận câu hỏi", "Question receipt slip"),
    "oi_slip_board": ("Ban Biên tập cổng thông tin điện tử", "The portal's editorial board"),
    "oi_slip_lookup": ("Tra cứu kết quả tại", "Follow it at"),
    "oi_slip_signature": ("Cán bộ tiếp nhận (ký, ghi rõ họ tên)", "Receiving officer (signature and name)"),
    "oi_not_found": ("Không có câu hỏi với mã này trong phiên.", "No question of this session has that receipt."),
    # what the officer reads out or sends: {channel} is one of oi_via_*, {url} the receipt page
    "oi_readout_text": (
        "Ban Biên tập đã tiếp nhận câu hỏi của ông/bà {channel} cho phiên \u201c{session}\u201d, số thứ tự {number}, "
        "mã tra cứu {receipt}. Ông/bà theo dõi kết quả tại {url}.",
        "The editorial board received your question {channel} for the session \u201c{session}\u201d, number "
        "{number}, receipt {receipt}. Follow it at {url}.",
    ),
}

STAFF_JS_PREFIXES: tuple[str, ...] = ()
