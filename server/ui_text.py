"""Words on the pages, Vietnamese first. Error messages live in server/i18n.py."""

from __future__ import annotations

from typing import Any

from . import texts
from .staff_text import STAFF_UI

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
    "video_placeholder": ("Video trực tiếp của phiên đối thoại được phát tại đây.",
                          "The session's live video plays here."),
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
    "reason_outside_chair_remit": ("Ngoài thẩm quyền của người chủ trì: chuyển cơ quan có thẩm quyền (quy chế: trong 3 ngày).",
                                   "Outside the chair's remit: forwarded to the competent agency (the rules: within 3 days)."),
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
    "why_full_text": ("Đọc toàn văn điều khoản xử lý dữ liệu cá nhân", "Read the full consent text"),
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
    "connection_back": ("Đã kết nối lại.", "Connected again."),
    # page chrome
    "skip_link": ("Bỏ qua đến nội dung chính", "Skip to content"),
    "nav_lookup": ("Tra cứu câu hỏi", "Follow a question"),
    "footer_note": (
        "Trang đối thoại trực tuyến giữa lãnh đạo chính quyền với người dân, tổ chức và doanh nghiệp.",
        "Online dialogues between government leaders and citizens, organisations and businesses.",
    ),
    "jump_ask": ("Gửi câu hỏi", "Ask a question"),
    "jump_questions": ("Câu hỏi đã duyệt", "Approved questions"),
    "view_session": ("Xem và gửi câu hỏi", "Watch and ask"),
    "video": ("Video trực tiếp", "Live video"),
    "time_zone_note": ("giờ Việt Nam", "Vietnam time"),
    # session state, live
    "countdown_days": ("{d} ngày {h} giờ {m} phút", "{d} d {h} h {m} min"),
    "starting_soon": ("Phiên sắp bắt đầu.", "The session is about to start."),
    "live_now": ("Đang diễn ra", "Live now"),
    # the form (hints; what is never public)
    "form_intro": (
        "Câu hỏi được Ban Biên tập xem xét trước khi hiển thị công khai. Các mục có dấu (bắt buộc) phải điền.",
        "Questions are screened by the editorial board before they are shown in public. Fields marked (required) "
        "must be filled in.",
    ),
    "name_hint": ("Cá nhân ghi đầy đủ họ và tên; tổ chức ghi tên đầy đủ.", "A person gives their full name; an "
                  "organisation its full name."),
    "private_hint": ("Chỉ Ban Biên tập được xem, không bao giờ công khai.", "Seen only by the editorial board, never "
                     "shown in public."),
    "phone_hint": ("Ví dụ: 0912 345 678. Chỉ Ban Biên tập được xem, không bao giờ công khai.",
                   "E.g. 0912 345 678. Seen only by the editorial board, never shown in public."),
    "name_shown_hint": ("Tên hiển thị cùng câu hỏi nếu câu hỏi được duyệt công khai.",
                        "The name shown with your question if it is approved for the public list."),
    "text_hint": ("Từ 10 đến 2.000 ký tự. Mỗi lần gửi một câu hỏi.", "10 to 2,000 characters. One question at a time."),
    "why_consent_version": ("Phiên bản điều khoản: {v}", "Consent text version: {v}"),
    # after sending (JavaScript)
    "sent_title": ("Đã gửi câu hỏi", "Question sent"),
    "sent_keep": ("Hãy lưu mã tra cứu này để theo dõi kết quả trả lời.", "Keep this receipt to follow your question."),
    "sent_view": ("Xem trạng thái câu hỏi", "See your question's state"),
    "outbox_title": ("Câu hỏi gửi lại khi có kết nối", "Questions sent when the connection is back"),
    "outbox_saved": (
        "Chưa có kết nối: câu hỏi đã được lưu trên máy này và sẽ tự động gửi khi có kết nối lại.",
        "No connection: your question is saved on this device and will be sent when the connection is back.",
    ),
    "outbox_sending": ("Đang gửi…", "Sending…"),
    "outbox_sent": ("Đã gửi. Mã tra cứu:", "Sent. Receipt:"),
    "outbox_failed": ("Không gửi được:", "Not sent:"),
    "outbox_retry_in": ("Sẽ tự gửi lại sau {n} giây.", "Will be sent again in {n} seconds."),
    "outbox_edit": ("Sửa và gửi lại", "Edit and send again"),
    "outbox_discard": ("Bỏ câu hỏi này", "Discard"),
    "sent_history": ("Mã tra cứu các câu hỏi bạn đã gửi", "Receipts of the questions you sent"),
    # public list
    "interest_marked": ("Đã quan tâm", "Marked"),
    "interest_count": ("{n} lượt quan tâm", "{n} interested"),
    "interest_help": ("Bấm “Quan tâm” nếu bạn cũng muốn câu hỏi này được trả lời.",
                      "Press “Interested” if you also want this question answered."),
    "badge_accepted": ("Đã duyệt", "Approved"),
    "badge_routed": ("Đã chuyển sở, ngành", "Routed"),
    "badge_prepared": ("Đã có trả lời", "Answer ready"),
    "badge_queued": ("Sắp được trả lời", "Up next"),
    "badge_on_air": ("Đang trả lời", "On air"),
    "badge_answered_live": ("Đã trả lời trực tiếp", "Answered live"),
    "badge_answered_in_writing": ("Đã trả lời bằng văn bản", "Answered in writing"),
    # transparency counts on the session page
    "stats_title": ("Tình hình tiếp nhận câu hỏi", "Questions so far"),
    "stats_received": ("Đã nhận", "Received"),
    "stats_accepted": ("Đã duyệt công khai", "Approved"),
    "stats_answered_live": ("Trả lời trực tiếp", "Answered live"),
    "stats_answered_in_writing": ("Trả lời bằng văn bản", "Answered in writing"),
    "stats_forwarded": ("Chuyển cơ quan có thẩm quyền", "Forwarded to the competent agency"),
    "stats_declined_outside_city_remit": ("Không chọn: ngoài thẩm quyền thành phố", "Not taken: outside the city's remit"),
    "stats_declined_will_not_answer": ("Không chọn: có nêu lý do", "Not taken: reason given"),
    "stats_declined_complaint_or_denunciation": ("Chuyển kênh khiếu nại, tố cáo", "Moved to the complaints channel"),
    "stats_declined_duplicate": ("Trùng nội dung", "Duplicates"),
    "stats_declined_abusive": ("Nội dung không phù hợp", "Inappropriate"),
    "stats_hint": ("Mỗi câu hỏi không được chọn đều có lý do, người hỏi xem được qua mã tra cứu.",
                   "Every question not taken up carries its reason, which the asker sees with the receipt."),
    # receipt page
    "forward_due": ("Hạn chuyển cơ quan có thẩm quyền", "To reach the competent agency by"),
    "written_answer": ("Nội dung trả lời bằng văn bản", "Written answer"),
    "reason": ("Lý do", "Reason"),
    "session": ("Phiên đối thoại", "Session"),
    "your_question": ("Nội dung câu hỏi", "Your question"),
    "what_next": ("Tiếp theo", "What happens next"),
    "lookup_hint": ("Mã tra cứu gồm 12 ký tự, ví dụ 7K3M-Q9XA-2B4C.", "A receipt has 12 characters, e.g. 7K3M-Q9XA-2B4C."),
    "next_received": (
        "Ban Biên tập đang xem xét. Câu hỏi chưa hiển thị công khai cho đến khi được duyệt.",
        "The editorial board is screening it. It is not public until it is approved.",
    ),
    "next_accepted": (
        "Câu hỏi đã được duyệt và hiển thị trong danh sách câu hỏi công khai của phiên đối thoại.",
        "Your question was approved and is shown in the session's public list.",
    ),
    "next_routed": (
        "Câu hỏi đã được chuyển đến sở, ngành phụ trách để chuẩn bị nội dung trả lời.",
        "It was sent to the responsible department, which is preparing an answer.",
    ),
    "next_prepared": (
        "Cơ quan chuyên môn đã chuẩn bị nội dung trả lời; câu hỏi có thể được trả lời trong phiên đối thoại.",
        "The department has prepared an answer; it may be answered during the session.",
    ),
    "next_queued": (
        "Câu hỏi nằm trong danh sách sẽ được trả lời trực tiếp. Hãy theo dõi video của phiên.",
        "It is in the live queue. Watch the session's video.",
    ),
    "next_on_air": ("Câu hỏi đang được trả lời trực tiếp. Hãy xem video của phiên.",
                    "It is being answered live now. Watch the session's video."),
    "next_answered_live": (
        "Câu hỏi đã được trả lời trong phiên. Bài tổng hợp và video ghi hình được đăng trên cổng thông tin sau phiên.",
        "It was answered during the session. The article and the recording are published on the portal afterwards.",
    ),
    "next_answered_in_writing": (
        "Câu hỏi đã được trả lời bằng văn bản; câu trả lời được công khai trên trang của phiên.",
        "It was answered in writing; the answer is public on the session's page.",
    ),
    "next_declined": ("Câu hỏi không được chọn để trả lời trong phiên. Lý do được nêu ở trên.",
                      "It was not taken up in the session. The reason is given above."),
    "next_forwarded": (
        "Câu hỏi ngoài thẩm quyền của người chủ trì nên được chuyển đến cơ quan có thẩm quyền để trả lời bạn, "
        "trong 3 ngày kể từ khi phiên kết thúc (hạn ghi ở trên). Khi việc chuyển hoàn tất, trang này ghi nơi nhận "
        "và thông báo cho bạn (cả qua thư điện tử, tin nhắn nếu bạn để lại và cổng đã bật các kênh đó).",
        "It is outside the chair's remit and is forwarded to the competent agency, which will answer you, within "
        "3 days of the session's close (the date is above). When it has been forwarded this page names the "
        "agency and tells you (by e-mail or text message too, if you left one and the portal has those on).",
    ),
    "next_merged": (
        "Câu hỏi có cùng nội dung với câu hỏi khác nên được gộp lại; câu trả lời chung cũng là câu trả lời cho bạn.",
        "It asks the same as another question and was merged with it; that answer answers yours too.",
    ),
    # the video player (static/js/player.js); the session page hands these over as data-text-*
    "player_label": ("Video trực tiếp phiên đối thoại", "The session's live video"),
    "player_waiting": ("Phiên đối thoại chưa phát sóng. Video sẽ tự hiện tại đây khi bắt đầu.",
                       "The broadcast has not started. The video will appear here when it does."),
    "player_starting": ("Đang chờ tín hiệu phát sóng…", "Waiting for the broadcast signal…"),
    "player_loading": ("Đang tải video…", "Loading the video…"),
    "player_reconnecting": ("Mất kết nối video. Đang kết nối lại…", "Video connection lost. Reconnecting…"),
    "player_unsupported": ("Trình duyệt này không phát được video trực tiếp. Vui lòng cập nhật trình duyệt.",
                           "This browser cannot play the live video. Please update it."),
    "player_unmute": ("Bật tiếng", "Unmute"),
    "player_go_live": ("Trực tiếp", "Go live"),
    "player_behind": ("Bạn đang xem chậm {n} giây so với trực tiếp. Bấm để xem trực tiếp.",
                      "You are {n} seconds behind live. Press to watch live."),
}
UI = texts.merged("UI", UI)

# Strings the viewer script (static/js/viewer.js) needs; the session page hands them over in a JSON
# data block, so every word stays here.
JS_KEYS = (
    "state_announced", "state_live", "state_closed", "state_published", "anonymous", "interest",
    "interest_marked", "interest_count", "no_public_questions", "sending", "send", "form_errors",
    "outbox_pending", "outbox_saved", "outbox_sending", "outbox_sent", "outbox_failed", "outbox_retry_in",
    "outbox_edit", "outbox_discard", "sent_title", "sent_keep", "sent_view", "receipt_code", "sent_history",
    "connection_lost", "connection_back", "countdown_label", "countdown_days", "starting_soon", "live_now",
    "intake_closed", "intake_not_open", "badge_accepted", "badge_routed", "badge_prepared", "badge_queued",
    "badge_on_air", "badge_answered_live", "badge_answered_in_writing", "written_answer",
)


def ui(key: str, lang: str, **params: Any) -> str:
    pair = UI.get(key) or STAFF_UI.get(key)
    if pair is None:
        return key
    text = pair[1 if lang == "en" else 0]
    return text.format(**params) if params else text


def js_texts(lang: str) -> dict[str, str]:
    """The viewer script's strings, unformatted: it fills {n}, {d}, {h}, {m} itself."""
    return {key: UI[key][1 if lang == "en" else 0] for key in JS_KEYS}
