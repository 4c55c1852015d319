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
}
CURRENT_CONSENT = "2026-11-v1"


class Channel:
    """How a question reached us; recorded with the consent."""

    SOCKET = "socketio"
    API = "api"
    FORM = "form"
