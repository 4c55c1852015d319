"""Vietnamese first, English switchable. One catalog for pages, error messages and acks."""

from __future__ import annotations

from typing import Any

from . import texts

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "session_id": ("Phiên đối thoại", "Session"),
    "idempotency_key": ("Mã gửi", "Idempotency key"),
    "asker": ("Người hỏi", "Asker"),
    "asker.kind": ("Loại người hỏi", "Asker type"),
    "asker.name": ("Họ tên / tên tổ chức", "Name"),
    "asker.address": ("Địa chỉ", "Address"),
    "asker.phone": ("Số điện thoại", "Phone"),
    "asker.name_shown": ("Cách hiển thị tên", "How your name is shown"),
    "field": ("Lĩnh vực", "Field"),
    "text": ("Nội dung câu hỏi", "Question"),
    "consent": ("Đồng ý xử lý dữ liệu cá nhân", "Consent to personal data processing"),
    "csrf": ("Biểu mẫu", "Form"),
    "version": ("Phiên bản", "Version"),
    "department": ("Sở, ngành", "Department"),
    "answer": ("Nội dung trả lời", "Answer"),
    "reason": ("Lý do", "Reason"),
    "note": ("Lý do cụ thể", "Reason in words"),
    "into": ("Câu hỏi gộp vào", "Merge target"),
    # the staff's side (console, API, command line): every field a DomainError can name has a label,
    # or a message would show the raw key (tests/test_cli.py checks every raise site)
    "title": ("Tiêu đề phiên", "Title"),
    "chair": ("Người chủ trì", "Chair"),
    "start": ("Thời gian bắt đầu", "Start time"),
    "minutes": ("Thời lượng (phút)", "Length (minutes)"),
    "fields": ("Lĩnh vực của phiên", "The session's fields"),
    "state": ("Trạng thái", "State"),
    "name": ("Tên người dùng", "User name"),
    "role": ("Vai trò", "Role"),
    "password": ("Mật khẩu", "Password"),
    "old_password": ("Mật khẩu hiện tại", "Current password"),
    "new_password": ("Mật khẩu mới", "New password"),
    "new_password_again": ("Nhập lại mật khẩu mới", "New password again"),
    "token_id": ("Mã truy cập", "Token"),
    "question_id": ("Câu hỏi", "Question"),
    "action": ("Thao tác", "Action"),
    "starred": ("Đánh dấu sao", "Star"),
    "position": ("Vị trí trong hàng chờ", "Queue position"),
    "feed": ("Nguồn hình", "Video feed"),
    "url": ("Địa chỉ nguồn hình", "Feed URL"),
    "since": ("Mốc đồng bộ", "Sync point"),
    "format": ("Định dạng", "Format"),
    "identities": ("Danh tính người hỏi trong sổ", "Identities in the register"),
    "receipt": ("Mã tra cứu", "Receipt"),
    "viewer_key": ("Mã người xem", "Viewer key"),
    "segment": ("Đoạn video", "Video segment"),
    "scope": ("Phạm vi chặn", "Block scope"),
    "duration": ("Thời hạn chặn", "Block duration"),
    "kinds": ("Cách nhận ra người gửi", "Ways to recognise the sender"),
    "block_id": ("Lệnh chặn", "Block"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    # validation
    "not_an_object": ("Dữ liệu gửi lên không đúng định dạng.", "The payload must be a JSON object."),
    "bad_session_id": ("Mã phiên đối thoại không hợp lệ.", "The session id is not valid."),
    "bad_idempotency_key": (
        "Mã gửi (idempotency_key) phải dài 8–80 ký tự, chỉ gồm chữ, số và - _ : .",
        "idempotency_key must be 8–80 characters of letters, digits and - _ : .",
    ),
    "required": ("Vui lòng nhập {label}.", "{label} is required."),
    "required_name_person": ("Vui lòng nhập họ và tên.", "Please enter your full name."),
    "required_name_org": ("Vui lòng nhập tên cơ quan, tổ chức, doanh nghiệp.", "Please enter the organisation's name."),
    "required_address_person": ("Vui lòng nhập địa chỉ thường trú.", "Please enter your permanent address."),
    "required_address_org": ("Vui lòng nhập địa chỉ trụ sở.", "Please enter the head-office address."),
    "required_phone": ("Vui lòng nhập số điện thoại.", "Please enter a phone number."),
    "full_name": ("Vui lòng nhập đầy đủ họ và tên (ví dụ: Nguyễn Văn An).", "Please enter your full name (e.g. Nguyễn Văn An)."),
    "bad_phone": (
        "Số điện thoại không hợp lệ: nhập số Việt Nam bắt đầu bằng 0 hoặc +84 (ví dụ 0912 345 678).",
        "Not a Vietnamese phone number: start with 0 or +84 (e.g. 0912 345 678).",
    ),
    "bad_choice": ("Giá trị của {label} không hợp lệ.", "{label} has an invalid value."),
    "bad_field": ("Lĩnh vực không thuộc phiên đối thoại này.", "That field is not one of this session's fields."),
    "required_text": ("Vui lòng nhập nội dung câu hỏi.", "Please write your question."),
    "too_short": ("{label} quá ngắn (ít nhất {min} ký tự).", "{label} is too short (at least {min} characters)."),
    "too_long": ("{label} quá dài (tối đa {max} ký tự).", "{label} is too long (at most {max} characters)."),
    "consent_required": (
        "Bạn cần đồng ý với việc xử lý dữ liệu cá nhân để gửi câu hỏi.",
        "You need to consent to the processing of your personal data to send a question.",
    ),
    "bad_consent_version": ("Phiên bản điều khoản đồng ý không hợp lệ.", "Unknown consent text version."),
    "reused_idempotency_key": (
        "Mã gửi này đã được dùng cho một câu hỏi khác. Vui lòng tải lại trang và gửi lại.",
        "This idempotency_key was already used for a different question. Reload the page and send again.",
    ),
    "bad_question_id": ("Mã câu hỏi không hợp lệ.", "The question id is not valid."),
    "busy": ("Máy chủ đang bận, vui lòng gửi lại sau {retry_after} giây.",
             "The server is busy; please send again in {retry_after} seconds."),
    "bad_viewer_key": ("Mã người xem không hợp lệ.", "The viewer key is not valid."),
    "bad_decline_reason": ("Lý do từ chối không hợp lệ.", "Unknown decline reason."),
    "bad_role": ("Vai trò phải là một trong: {roles}.", "Role must be one of: {roles}."),
    "weak_password": ("Mật khẩu cần ít nhất {min} ký tự.", "The password needs at least {min} characters."),
    "user_exists": ("Tên người dùng đã tồn tại.", "That user name is taken."),
    "minutes_range": (
        "Thời lượng phiên phải từ {min} đến {max} phút (Quy chế, Điều 5); đã nhập {got}.",
        "A session lasts {min} to {max} minutes (Rules, Art. 5); got {got}.",
    ),
    "start_needs_timezone": (
        "Thời gian bắt đầu cần có múi giờ, ví dụ 2026-12-15T09:00:00+07:00.",
        "The start time needs a timezone, e.g. 2026-12-15T09:00:00+07:00.",
    ),
    "bad_start": ("Thời gian bắt đầu không đúng định dạng ISO 8601.", "The start time is not ISO 8601."),
    "csrf": (
        "Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và gửi lại.",
        "The form expired or is invalid. Please reload the page and send again.",
    ),
    "bad_json": ("Nội dung gửi lên không phải JSON hợp lệ.", "The body is not valid JSON."),
    "bad_content_type": ("Cần gửi với Content-Type: application/json.", "Send with Content-Type: application/json."),
    "bad_origin": ("Nguồn yêu cầu (Origin) không được phép.", "That Origin is not allowed."),
    # states
    "too_large": ("Nội dung gửi lên quá lớn (tối đa {limit} byte).", "The message is too large (at most {limit} bytes)."),
    "session_not_found": ("Không tìm thấy phiên đối thoại.", "No such session."),
    "question_not_found": ("Không tìm thấy câu hỏi.", "No such question."),
    "receipt_not_found": ("Không tìm thấy mã tra cứu này.", "No question has that receipt."),
    "session_not_open": (
        "Phiên đối thoại chưa mở nhận câu hỏi. Câu hỏi được nhận từ khi phiên được thông báo.",
        "This session is not taking questions yet; intake opens when it is announced.",
    ),
    "session_closed": (
        "Phiên đối thoại đã kết thúc nên không nhận thêm câu hỏi.",
        "The session has closed and takes no more questions.",
    ),
    "rate_limited": (
        "Bạn gửi quá nhanh. Vui lòng thử lại sau {retry_after} giây.",
        "Too many requests. Please try again in {retry_after} seconds.",
    ),
    "session_transition": (
        "Không thể chuyển phiên từ trạng thái “{current}” sang “{target}”.",
        "A session cannot move from “{current}” to “{target}”.",
    ),
    "question_transition": (
        "Không thể thực hiện “{action}” với câu hỏi ở trạng thái “{current}”.",
        "Cannot “{action}” a question in state “{current}”.",
    ),
    # the editorial board
    "stale_version_conflict": (
        "Câu hỏi vừa được {by} thay đổi (phiên bản {current}); màn hình đã được cập nhật, vui lòng xem lại rồi thao tác.",
        "{by} changed this question a moment ago (version {current}); your screen now shows it: check and try again.",
    ),
    "version_required": ("Cần gửi kèm phiên bản (version) của câu hỏi.", "Send the question's version."),
    "forbidden_action": ("Vai trò “{role}” không được thực hiện “{action}”.", "The role “{role}” may not “{action}”."),
    "forbidden": ("Bạn không có quyền thực hiện thao tác này.", "You may not do that."),
    "forbidden_department": ("Câu hỏi này không được chuyển cho đơn vị của bạn.",
                             "This question was not routed to your department."),
    "protected_identity": ("Danh tính người khiếu nại, tố cáo chỉ Trưởng Ban Biên tập được xem.",
                           "Only the head of the board may see the identity of a complainant."),
    "unauthorized": ("Vui lòng đăng nhập.", "Please sign in."),
    # one answer for every refused sign-in (no such name, wrong password, disabled, locked from this
    # address): which one it was would tell a guesser that the name exists
    "login_failed": (
        "Không đăng nhập được: tên đăng nhập hoặc mật khẩu không đúng. Sau {tries} lần sai liên tiếp, việc đăng "
        "nhập từ máy này tạm ngừng {minutes} phút.",
        "Sign-in refused: wrong user name or password. After {tries} wrong tries in a row, sign-in from this "
        "computer pauses for {minutes} minutes.",
    ),
    "wrong_password": (
        "Mật khẩu hiện tại không đúng (hoặc đã sai nhiều lần: thử lại sau {minutes} phút).",
        "The current password is wrong (or was wrong too often: try again in {minutes} minutes).",
    ),
    "passwords_differ": ("Hai lần nhập mật khẩu mới không khớp.", "The two new passwords differ."),
    "disable_self": ("Không thể tự khóa tài khoản của chính mình.", "You cannot disable your own account."),
    "another_on_air": ("Câu hỏi số {number} đang phát sóng; hãy kết thúc câu đó trước.",
                       "Question {number} is on air; finish it first."),
    "not_held": ("Câu hỏi này không chờ duyệt.", "This question is not awaiting approval."),
    "held_needs_head": ("Câu hỏi đang chờ Trưởng Ban Biên tập duyệt; chưa thể đưa vào hàng chờ hay lên sóng.",
                        "This question awaits the head's approval: it cannot be queued or aired yet."),
    "on_air_needs_head": ("Câu hỏi đang phát sóng; chỉ Trưởng Ban Biên tập được sửa câu hỏi muộn hoặc sau khi phiên kết thúc.",
                          "The question is on air: only the head may change a late question, or any after the close."),
    "protected_matter": ("Nội dung khiếu nại, tố cáo đã chuyển sang kênh chính thức; không thể đưa lại vào buổi đối thoại.",
                         "This complaint or denunciation went to the formal channel: it cannot come back into the dialogue."),
    "question_session_over": ("Phiên đã kết thúc; không thể đưa câu hỏi vào hàng chờ hay lên sóng.",
                              "The session is over: nothing can be queued or aired."),
    "interest_closed": ("Phiên đã kết thúc nên không ghi nhận thêm lượt quan tâm.",
                        "The session has closed: interest marks are no longer counted."),
    "not_on_air": ("Câu hỏi này không còn đang phát sóng.", "That question is no longer on air."),
    "needs_answer": ("Câu hỏi chưa có nội dung trả lời.", "The question has no answer yet."),
    "bad_merge_target": ("Không thể gộp vào câu hỏi này.", "Cannot merge into that question."),
    "bad_department": ("Vui lòng nhập tên sở, ngành (tối đa 200 ký tự).", "Name the department (at most 200 characters)."),
    "bad_answer": ("Nội dung trả lời cần từ 1 đến {max} ký tự.", "The answer needs 1 to {max} characters."),
    "bad_decline_note": ("Với câu hỏi không trả lời, cần nêu lý do cho người hỏi (5 đến {max} ký tự).",
                         "Give the asker the reason in words (5 to {max} characters)."),
    "bad_edit": ("Nội dung hiển thị cần từ 1 đến {max} ký tự.", "The text shown needs 1 to {max} characters."),
    "bad_position": ("Vị trí trong hàng chờ không hợp lệ.", "Not a valid queue position."),
    "bad_flag": ("Giá trị “{name}” phải là true hoặc false.", "“{name}” must be true or false."),
    "reason_required": ("Vui lòng nêu lý do xem thông tin người hỏi (ít nhất 5 ký tự).",
                        "State why you need the asker's identity (at least 5 characters)."),
    "script_already_approved": ("Kịch bản đã được duyệt lúc {at}.", "The script was already approved at {at}."),
    "bad_cursor": ("Mốc đồng bộ (since) không hợp lệ.", "`since` must be an ISO 8601 time with a timezone."),
    "internal_staff": ("Lỗi máy chủ; thao tác chưa được thực hiện, vui lòng thử lại.",
                       "Server error; nothing was changed. Please try again."),
    "format_not_found": ("Định dạng phải là csv, xlsx hoặc json.", "The format must be csv, xlsx or json."),
    "bad_identities": ("Tham số identities phải là full (đủ danh tính, cần lý do) hoặc masked (đã che).",
                       "identities must be full (names, addresses, phones: give a reason) or masked."),
    "user_not_found": ("Không tìm thấy người dùng.", "No such user."),
    "token_not_found": ("Không tìm thấy mã truy cập (hoặc đã bị thu hồi).", "No such token (or it was revoked)."),
    "bad_feed": ("Nguồn hình phải là test, whip hoặc url.", "The feed must be test, whip or url."),
    "feed_url_required": ("Nguồn kéo (url) cần địa chỉ của nó.", "A pull feed needs its URL."),
    "bad_feed_url": ("Địa chỉ nguồn phải bắt đầu bằng một trong: {schemes}.",
                     "The feed URL must start with one of: {schemes}."),
    "session_over": ("Phiên đã kết thúc; không đổi được nguồn hình.", "The session is over; its feed cannot change."),
    "media_unavailable": ("Máy chủ hình ảnh chưa sẵn sàng, vui lòng thử lại.",
                          "The media worker is not ready; please try again."),
    "stream_not_found": ("Phiên này chưa phát hình.", "This session is not streaming."),
    "sdp_content_type": ("Cần gửi với Content-Type: application/sdp.", "Send with Content-Type: application/sdp."),
    "bad_sdp": ("Nội dung phải là một SDP offer.", "The body must be an SDP offer."),
    "bad_action": ("Thao tác “{action}” không tồn tại.", "Unknown action “{action}”."),
    # the feed URL (stream/feed_policy.py)
    "feed_url_host": ("Địa chỉ nguồn cần có tên máy chủ hoặc địa chỉ IP.", "The feed URL needs a host name or an address."),
    "feed_url_unresolved": ("Không tra được địa chỉ của máy chủ nguồn “{host}”.", "The feed's host “{host}” could not be resolved."),
    "feed_url_private": (
        "Nguồn “{host}” trỏ tới địa chỉ nội bộ ({address}); chỉ nhận địa chỉ công cộng, trừ máy, mạng được "
        "khai báo trong feed_allowed_networks.",
        "The feed's host “{host}” is an internal address ({address}); only public addresses are allowed, besides "
        "the hosts and networks listed in feed_allowed_networks.",
    ),
    # blocking senders (moderation/blocks.py)
    "sender_blocked": (
        "Ban Biên tập đã tạm dừng nhận câu hỏi và lượt quan tâm từ người gửi này.",
        "The editorial board has stopped taking questions and interest marks from this sender.",
    ),
    "sender_blocked_until": (
        "Ban Biên tập đã tạm dừng nhận câu hỏi và lượt quan tâm từ người gửi này đến {until}.",
        "The editorial board has stopped taking questions and interest marks from this sender until {until}.",
    ),
    "bad_block_scope": ("Phạm vi chặn phải là session (phiên này) hoặc everywhere (mọi phiên).",
                        "The scope must be session (this session) or everywhere (every session)."),
    "bad_block_duration": ("Thời hạn chặn phải là một trong: {durations}.", "The duration must be one of: {durations}."),
    "bad_block_kinds": ("Cần chọn ít nhất một cách nhận ra người gửi: {kinds}.",
                        "Choose at least one way to recognise the sender: {kinds}."),
    "block_reason_required": ("Vui lòng nêu lý do chặn ({min} đến {max} ký tự).",
                              "State the reason ({min} to {max} characters)."),
    "nothing_to_block": ("Câu hỏi này không lưu thông tin nào để chặn theo cách đã chọn (ví dụ gửi qua API không "
                         "có cookie); hãy chọn cách khác.",
                         "This question holds nothing to block by the ways chosen (e.g. sent through the API "
                         "without a cookie); choose another."),
    "block_everywhere_needs_head": ("Chỉ Trưởng Ban Biên tập hoặc quản trị được chặn, bỏ chặn ở mọi phiên.",
                                    "Only the head of the board or an admin may block, or lift a block, everywhere."),
    "block_not_found": ("Không tìm thấy lệnh chặn.", "No such block."),
    "block_already_lifted": ("Lệnh chặn này đã được {by} bỏ.", "{by} already lifted this block."),
    "internal": ("Lỗi máy chủ, câu hỏi chưa được lưu. Vui lòng gửi lại.", "Server error; the question was not stored. Please send it again."),
    "shutting_down": ("Máy chủ đang khởi động lại, vui lòng gửi lại sau giây lát.", "The server is restarting; please send again shortly."),
}

# the follow-up features' words (server/texts/)
FIELD_LABELS = texts.merged("LABELS", FIELD_LABELS)
MESSAGES = texts.merged("MESSAGES", MESSAGES)


def lang_of(value: Any) -> str:
    return value if value in LANGS else DEFAULT_LANG


def label(field: str | None, lang: str) -> str:
    if not field:
        return ""
    pair = FIELD_LABELS.get(field)
    return pair[LANGS.index(lang)] if pair else field


def message(reason: str, lang: str, field: str | None = None, **params: Any) -> str:
    pair = MESSAGES.get(reason)
    if pair is None:
        return reason
    template = pair[LANGS.index(lang_of(lang))]
    try:
        return template.format(label=label(field, lang_of(lang)), **params)
    except (KeyError, IndexError):
        return template
