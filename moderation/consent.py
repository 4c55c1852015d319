"""The consent text askers accept before personal data is collected (Law 91/2025/QH15, Decree 356/2025).

Texts are versioned: a new wording gets a new version and the old ones stay here, because every
consent record points at the version that was shown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsentText:
    version: str
    retention_months: int
    purpose_vi: str
    purpose_en: str
    # The same in two plain sentences, always shown beside the consent box: why, who sees it, how
    # long it is kept. It says no more than the full text, so it belongs to the same version.
    summary_vi: str
    summary_en: str


CONSENT_TEXTS: dict[str, ConsentText] = {
    "2026-11-v1": ConsentText(
        version="2026-11-v1",
        retention_months=12,
        purpose_vi=(
            "Họ tên, địa chỉ và số điện thoại của bạn chỉ dùng để Ban Biên tập ghi vào sổ tiếp nhận, "
            "liên hệ khi cần làm rõ câu hỏi và thông báo kết quả trả lời (Quy chế, Điều 21). "
            "Chỉ Ban Biên tập được xem đầy đủ; công chúng, người chủ trì và màn hình trực tiếp không bao giờ "
            "thấy địa chỉ và số điện thoại. Thông tin được lưu 12 tháng kể từ khi phiên đối thoại kết thúc "
            "rồi được xoá hoặc ẩn danh; bạn có quyền yêu cầu xem hoặc xoá dữ liệu của mình (trả lời trong "
            "2 ngày làm việc)."
        ),
        purpose_en=(
            "Your name, address and phone number are used only by the editorial board to register the "
            "question, contact you if it needs clarifying and tell you how it was answered (Rules, Art. 21). "
            "Only the board sees them in full; the public, the chair and the on-air screen never see your "
            "address or phone. They are kept for 12 months after the session ends, then erased or anonymised; "
            "you may ask to see or erase your data (answered within 2 working days)."
        ),
        summary_vi=(
            "Họ tên, địa chỉ và số điện thoại chỉ dùng để Ban Biên tập ghi nhận câu hỏi, liên hệ khi cần làm rõ "
            "và báo kết quả trả lời; chỉ Ban Biên tập được xem đầy đủ, địa chỉ và số điện thoại không bao giờ "
            "công khai. Thông tin được lưu 12 tháng sau khi phiên đối thoại kết thúc, rồi được xoá hoặc ẩn danh."
        ),
        summary_en=(
            "Your name, address and phone number are used only by the editorial board to register your question, "
            "contact you if it needs clarifying and tell you how it was answered; only the board sees them in "
            "full, and your address and phone are never made public. They are kept for 12 months after the "
            "session ends, then erased or anonymised."
        ),
    ),
    # v2 says what the system does not do yet: it erases nothing by itself after the retention
    # period, and a request to see or erase one's data is answered by the board, not the system
    # (issue 13). Promising either without the code to keep it would be a false consent text.
    "2026-12-v2": ConsentText(
        version="2026-12-v2",
        retention_months=12,
        purpose_vi=(
            "Họ tên, địa chỉ và số điện thoại của bạn chỉ dùng để Ban Biên tập ghi vào sổ tiếp nhận, "
            "liên hệ khi cần làm rõ câu hỏi và thông báo kết quả trả lời (Quy chế, Điều 21). "
            "Chỉ Ban Biên tập được xem đầy đủ; công chúng, người chủ trì và màn hình trực tiếp không bao giờ "
            "thấy địa chỉ và số điện thoại. Thông tin được lưu 12 tháng kể từ khi phiên đối thoại kết thúc. "
            "Lưu ý: hệ thống chưa tự động xoá hoặc ẩn danh thông tin khi hết thời hạn này, và chưa có chức năng "
            "để bạn tự xem hoặc xoá dữ liệu; bạn có quyền yêu cầu việc đó, hãy gửi yêu cầu đến Ban Biên tập "
            "(theo Nghị định 356/2025/NĐ-CP, yêu cầu được trả lời trong 2 ngày làm việc)."
        ),
        purpose_en=(
            "Your name, address and phone number are used only by the editorial board to register the "
            "question, contact you if it needs clarifying and tell you how it was answered (Rules, Art. 21). "
            "Only the board sees them in full; the public, the chair and the on-air screen never see your "
            "address or phone. They are kept for 12 months after the session ends. Note: the system does not "
            "yet erase or anonymise them by itself when that period ends, nor let you see or erase your data "
            "yourself; you have the right to ask for either: send the request to the editorial board (under "
            "Decree 356/2025 it is answered within 2 working days)."
        ),
        summary_vi=(
            "Họ tên, địa chỉ và số điện thoại chỉ dùng để Ban Biên tập ghi nhận câu hỏi, liên hệ khi cần làm rõ "
            "và báo kết quả trả lời; chỉ Ban Biên tập được xem đầy đủ, địa chỉ và số điện thoại không bao giờ "
            "công khai. Thông tin được lưu 12 tháng sau khi phiên đối thoại kết thúc; việc xoá sau thời hạn đó "
            "hiện do Ban Biên tập thực hiện theo yêu cầu, hệ thống chưa tự động xoá."
        ),
        summary_en=(
            "Your name, address and phone number are used only by the editorial board to register your question, "
            "contact you if it needs clarifying and tell you how it was answered; only the board sees them in "
            "full, and your address and phone are never made public. They are kept for 12 months after the "
            "session ends; erasure after that is done by the board on request: the system does not erase them "
            "by itself yet."
        ),
    ),
    # v3 says what the system now does (moderation/retention.py, moderation/data_requests.py): it
    # erases the identity by itself when the period ends (the standing forum: from each question's
    # receipt), the published question keeps no name, and a request to see or erase one's data is
    # made on the receipt page, checked with the phone number, and answered within 2 working days.
    "2026-12-v3": ConsentText(
        version="2026-12-v3",
        retention_months=12,
        purpose_vi=(
            "Họ tên, địa chỉ, số điện thoại (và thư điện tử nếu bạn cung cấp) của bạn chỉ dùng để Ban Biên tập "
            "ghi vào sổ tiếp nhận, liên hệ khi cần làm rõ câu hỏi và thông báo kết quả trả lời (Quy chế, Điều 21). "
            "Chỉ Ban Biên tập được xem đầy đủ; công chúng, người chủ trì và màn hình trực tiếp không bao giờ "
            "thấy địa chỉ và số điện thoại. Hết 12 tháng kể từ khi phiên đối thoại kết thúc (với diễn đàn thường "
            "xuyên: kể từ khi gửi câu hỏi), hệ thống tự động xoá họ tên, địa chỉ, số điện thoại và thư điện tử của "
            "bạn; câu hỏi, câu trả lời và số liệu thống kê được giữ lại và vẫn công khai nhưng không kèm tên. "
            "Bạn có quyền yêu cầu xem hoặc xoá dữ liệu của mình bất cứ lúc nào ngay trên trang tra cứu câu hỏi "
            "(bằng mã tra cứu và số điện thoại đã gửi kèm câu hỏi); theo Nghị định 356/2025/NĐ-CP, yêu cầu được "
            "trả lời trong 2 ngày làm việc."
        ),
        purpose_en=(
            "Your name, address, phone number (and e-mail, if you give one) are used only by the editorial board "
            "to register the question, contact you if it needs clarifying and tell you how it was answered "
            "(Rules, Art. 21). Only the board sees them in full; the public, the chair and the on-air screen "
            "never see your address or phone. When 12 months have passed since the session ended (the standing "
            "forum: since you sent the question), the system erases your name, address, phone number and e-mail "
            "by itself; the question, its answer and the statistics are kept and stay public, without your name. "
            "You may ask to see or erase your data at any time on the question's receipt page (with the receipt "
            "code and the phone number you sent with the question); under Decree 356/2025 the request is "
            "answered within 2 working days."
        ),
        summary_vi=(
            "Họ tên, địa chỉ và số điện thoại chỉ dùng để Ban Biên tập ghi nhận câu hỏi, liên hệ khi cần làm rõ "
            "và báo kết quả trả lời; chỉ Ban Biên tập được xem đầy đủ, địa chỉ và số điện thoại không bao giờ "
            "công khai. Hệ thống tự động xoá các thông tin này 12 tháng sau khi phiên đối thoại kết thúc; bạn có "
            "thể yêu cầu xem hoặc xoá sớm hơn trên trang tra cứu câu hỏi (trả lời trong 2 ngày làm việc)."
        ),
        summary_en=(
            "Your name, address and phone number are used only by the editorial board to register your question, "
            "contact you if it needs clarifying and tell you how it was answered; only the board sees them in "
            "full, and your address and phone are never made public. The system erases them by itself 12 months "
            "after the session ends; you may ask to see or erase them sooner on the question's receipt page "
            "(answered within 2 working days)."
        ),
    ),
}
CURRENT_CONSENT = "2026-12-v3"


class Channel:
    """How a question reached us; recorded with the consent."""

    SOCKET = "socketio"
    API = "api"
    FORM = "form"
