"""Words on the pages, Vietnamese first. Error messages live in server/i18n.py."""

from __future__ import annotations

from typing import Any

UI: dict[str, tuple[str, str]] = {
    "site_name": ("Đối thoại trực tuyến", "Online dialogue"),
    "sessions": ("Các phiên đối thoại", "Dialogue sessions"),
    "no_sessions": ("Chưa có phiên đối thoại nào được thông báo.", "No session has been announced yet."),
    "chair": ("Chủ trì", "Chair"),
    "place": ("Địa điểm", "Place"),
    "starts": ("Bắt đầu", "Starts"),
    "minutes": ("{n} phút", "{n} minutes"),
    "state_announced": ("Đang nhận câu hỏi", "Taking questions"),
    "state_live": ("Đang diễn ra", "Live now"),
    "state_closed": ("Đã kết thúc", "Ended"),
    "state_published": ("Đã đăng tải", "Published"),
    "state_draft": ("Bản nháp", "Draft"),
    "video_placeholder": ("Video trực tiếp sẽ hiển thị tại đây khi phiên bắt đầu.",
                          "The live video will appear here when the session starts."),
    "countdown_label": ("Phiên bắt đầu sau", "Starts in"),
    "ask": ("Gửi câu hỏi", "Send a question"),
    "public_questions": ("Câu hỏi đã được duyệt", "Approved questions"),
    "no_public_questions": ("Chưa có câu hỏi nào được duyệt công khai.", "No question has been approved yet."),
    "interest": ("Quan tâm", "Interested"),
    "anonymous": ("Người hỏi ẩn danh", "Anonymous"),
    "receipt_title": ("Tra cứu câu hỏi", "Follow your question"),
    "receipt_code": ("Mã tra cứu", "Receipt"),
    "receipt_lookup": ("Tra cứu", "Look up"),
    "receipt_not_found": ("Không tìm thấy câu hỏi với mã này.", "No question has that receipt."),
    "receipt_new": ("Câu hỏi của bạn đã được ghi nhận. Hãy lưu mã tra cứu để theo dõi kết quả.",
                    "Your question has been registered. Keep the receipt to follow it."),
    "question_state": ("Trạng thái", "State"),
    "received_at": ("Thời gian nhận", "Received"),
    "field": ("Lĩnh vực", "Field"),
    "q_received": ("Đã tiếp nhận, đang chờ Ban Biên tập xem xét", "Received, awaiting the editorial board"),
    "q_accepted": ("Đã được duyệt", "Approved"),
    "q_routed": ("Đã chuyển cơ quan chuyên môn", "Routed to the responsible agency"),
    "q_prepared": ("Đã có nội dung trả lời, chờ phiên đối thoại", "Answer prepared"),
    "q_queued": ("Trong danh sách trả lời trực tiếp", "In the live queue"),
    "q_on_air": ("Đang được trả lời trực tiếp", "Being answered live"),
    "q_answered_live": ("Đã được trả lời trực tiếp", "Answered live"),
    "q_answered_in_writing": ("Đã được trả lời bằng văn bản", "Answered in writing"),
    "q_declined": ("Không được chọn trả lời", "Not taken up"),
    "q_forwarded": ("Đã chuyển cơ quan có thẩm quyền", "Forwarded to the competent agency"),
    "q_merged": ("Đã gộp với câu hỏi cùng nội dung", "Merged with a question on the same matter"),
    "reason_outside_chair_remit": ("Ngoài thẩm quyền của người chủ trì: được chuyển cơ quan có thẩm quyền trong 3 ngày.",
                                   "Outside the chair's remit: forwarded to the competent agency within 3 days."),
    "reason_outside_city_remit": ("Ngoài thẩm quyền của thành phố.", "Outside the city's remit."),
    "reason_will_not_answer": ("Thuộc thẩm quyền nhưng không trả lời trong phiên; lý do được thông báo.",
                               "Within remit but not answered in the session; the reason is given."),
    "reason_complaint_or_denunciation": (
        "Khiếu nại, tố cáo được giải quyết theo quy định pháp luật qua kênh tiếp công dân, không qua đối thoại trực tuyến.",
        "Complaints and denunciations go through the formal citizen-reception channel, not the online dialogue."),
    "reason_duplicate": ("Trùng với câu hỏi khác.", "Duplicate of another question."),
    "reason_abusive": ("Nội dung không phù hợp.", "Inappropriate content."),
    # the form
    "kind": ("Bạn là", "You are"),
    "kind_person": ("Cá nhân", "A person"),
    "kind_organization": ("Cơ quan, tổ chức, doanh nghiệp", "An organisation or business"),
    "name": ("Họ và tên / Tên tổ chức", "Full name / organisation name"),
    "address": ("Địa chỉ thường trú / trụ sở", "Permanent / head-office address"),
    "phone": ("Số điện thoại", "Phone number"),
    "name_shown": ("Tên hiển thị công khai", "Name shown in public"),
    "name_shown_full": ("Họ tên đầy đủ", "Full name"),
    "name_shown_short": ("Họ và chữ cái đầu (Nguyễn V. A.)", "Family name and initials"),
    "name_shown_anonymous": ("Ẩn danh", "Anonymous"),
    "field_none": ("(Chưa chọn)", "(None)"),
    "question": ("Nội dung câu hỏi", "Your question"),
    "consent_label": ("Tôi đồng ý cho Ban Biên tập xử lý dữ liệu cá nhân nêu trên cho mục đích này.",
                      "I consent to the editorial board processing the personal data above for this purpose."),
    "why_we_ask": ("Vì sao chúng tôi cần thông tin này", "Why we ask for this"),
    "complaints_note": (
        "Khiếu nại, tố cáo về vụ việc cụ thể không được tiếp nhận qua đối thoại trực tuyến. Vui lòng gửi đến "
        "Ban Tiếp công dân hoặc cơ quan có thẩm quyền theo Luật Khiếu nại và Luật Tố cáo; danh tính người tố cáo "
        "được giữ bí mật theo quy định.",
        "Complaints and denunciations about specific cases are not taken through the online dialogue. Please send "
        "them to the Citizen Reception Office or the competent authority under the Law on Complaints and the Law on "
        "Denunciation, which keep a denouncer's identity secret.",
    ),
    "send": ("Gửi câu hỏi", "Send"),
    "sending": ("Đang gửi…", "Sending…"),
    "outbox_pending": ("Chờ gửi lại khi có kết nối", "Waiting to resend when connected"),
    "intake_closed": ("Phiên đối thoại đã kết thúc, không nhận thêm câu hỏi.", "The session has ended; no more questions."),
    "intake_not_open": ("Chưa mở nhận câu hỏi.", "Not taking questions yet."),
    "form_errors": ("Vui lòng kiểm tra lại các mục được đánh dấu.", "Please check the marked fields."),
    "required_mark": ("(bắt buộc)", "(required)"),
    "language": ("Ngôn ngữ", "Language"),
    "back_to_session": ("Về trang phiên đối thoại", "Back to the session"),
    "connection_lost": ("Mất kết nối, đang kết nối lại…", "Connection lost, reconnecting…"),
}


def ui(key: str, lang: str, **params: Any) -> str:
    pair = UI.get(key)
    if pair is None:
        return key
    text = pair[1 if lang == "en" else 0]
    return text.format(**params) if params else text
