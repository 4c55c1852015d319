"""Words of the responder feature (the departments' side: server/answer_pages.py, the console's
return/forward/extend dialogs, an approved answer's files): key -> (Vietnamese, English).
See server/texts/__init__.py."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "rsp_file_too_large": ("Tệp quá lớn: tối đa {max_mb} MB.", "The file is too large: {max_mb} MB at most."),
    "rsp_file_missing": ("Hãy chọn một tệp PDF để đính kèm.", "Choose a PDF file to attach."),
    "rsp_file_not_pdf": ("Chỉ nhận tệp PDF (nội dung tệp không phải PDF).",
                         "Only PDF files are accepted (this file's content is not a PDF)."),
    "rsp_attachment_not_found": ("Không tìm thấy tệp đính kèm.", "No such attachment."),
}
LABELS: dict[str, tuple[str, str]] = {
    "file": ("Tệp đính kèm", "Attachment"),
    "attachment_id": ("Tệp đính kèm", "Attachment"),
}
UI: dict[str, tuple[str, str]] = {
    "rsp_attachments": ("Tệp đính kèm", "Attachments"),
    "rsp_pdf_size": ("PDF, {kb} KB", "PDF, {kb} KB"),
}
STAFF: dict[str, tuple[str, str]] = {
    # the page
    "rsp_title": ("Trả lời của sở, ngành", "Departments' answers"),
    "rsp_nav": ("Trả lời sau phiên", "Answers after the session"),
    "rsp_intro": ("Câu hỏi được chuyển đến đơn vị, hạn trả lời và nội dung trả lời. Trả lời được Trưởng Ban "
                  "Biên tập duyệt rồi mới công khai.",
                  "Questions routed to the department, their deadlines and answers. An answer is public only "
                  "after the head of the board approves it."),
    "rsp_tab_all": ("Tất cả câu hỏi", "All questions"),
    "rsp_tab_pending": ("Chờ Trưởng Ban duyệt ({n})", "Waiting for the head ({n})"),
    "rsp_filter_department": ("Sở, ngành", "Department"),
    "rsp_all_departments": ("Tất cả sở, ngành", "All departments"),
    "rsp_filter": ("Lọc", "Filter"),
    "rsp_empty": ("Không có câu hỏi nào.", "No questions."),
    "rsp_empty_pending": ("Không có trả lời nào đang chờ duyệt.", "No answer is waiting for approval."),
    "rsp_no_department": ("Tài khoản của bạn chưa gắn với sở, ngành nào.", "Your account has no department."),
    "rsp_question": ("Câu hỏi #{n}", "Question #{n}"),
    "rsp_session": ("Phiên", "Session"),
    "rsp_state": ("Trạng thái", "State"),
    "rsp_department": ("Sở, ngành", "Department"),
    "rsp_asker": ("Người hỏi", "Asker"),
    "rsp_due": ("Hạn trả lời", "Deadline"),
    "rsp_no_due": ("Chưa có hạn (được tính khi phiên kết thúc)", "No deadline yet (set when the session closes)"),
    "rsp_overdue": ("Quá hạn", "Overdue"),
    "rsp_met": ("Đúng hạn", "On time"),
    "rsp_missed": ("Quá hạn", "Late"),
    "rsp_return_note": ("Trưởng Ban trả lại, yêu cầu sửa", "Returned by the head for correction"),
    "rsp_submitted": ("Đã gửi duyệt lúc {t} ({by})", "Submitted at {t} ({by})"),
    "rsp_answer_label": ("Nội dung trả lời", "Answer"),
    "rsp_answer_hint": ("Người hỏi và công chúng đọc nội dung này sau khi Trưởng Ban duyệt.",
                        "The asker and the public read this after the head approves it."),
    "rsp_save_draft": ("Lưu nháp", "Save draft"),
    "rsp_submit": ("Gửi Trưởng Ban duyệt", "Submit to the head"),
    "rsp_approve": ("Duyệt", "Approve"),
    "rsp_return": ("Trả lại", "Return"),
    "rsp_note_label": ("Lý do trả lại (đơn vị sẽ thấy)", "Why it is returned (the department sees it)"),
    "rsp_answer_shown": ("Nội dung trả lời", "Answer"),
    "rsp_files": ("Tệp đính kèm", "Attachments"),
    "rsp_no_files": ("Chưa có tệp đính kèm.", "No attachments."),
    "rsp_file_label": ("Công văn trả lời (PDF, tối đa {mb} MB)", "Reply letter (PDF, at most {mb} MB)"),
    "rsp_file_hint": ("Tệp được công khai cùng câu trả lời khi Trưởng Ban duyệt: không để địa chỉ, số điện thoại "
                      "hay thư điện tử của người hỏi trong tệp.",
                      "The file is published with the answer once the head approves it: leave the asker's address, "
                      "phone and e-mail out of it."),
    "rsp_upload": ("Tải lên", "Upload"),
    "rsp_remove": ("Gỡ tệp", "Remove"),
    "rsp_remove_named": ("Gỡ tệp {f}", "Remove {f}"),
    "rsp_done_draft_answer": ("Đã lưu nháp.", "Draft saved."),
    "rsp_done_answer": ("Đã gửi Trưởng Ban duyệt.", "Submitted to the head."),
    "rsp_done_approve_answer": ("Đã duyệt: trả lời đã công khai.", "Approved: the answer is public."),
    "rsp_done_return_answer": ("Đã trả lại cho đơn vị.", "Returned to the department."),
    "rsp_done_attach": ("Đã đính kèm tệp.", "File attached."),
    "rsp_done_detach": ("Đã gỡ tệp.", "File removed."),
    "rsp_public": ("Xem trang công khai", "Public page"),
    # the console's cards and dialogs (static/js/moderator.js)
    "act_return_answer": ("Trả lại trả lời…", "Return the answer…"),
    "act_forward": ("Đã chuyển cơ quan…", "Sent on…"),
    "act_extend": ("Gia hạn…", "Extend…"),
    "q_rsp_due": ("Hạn: {d}", "Due {d}"),
    "q_rsp_overdue": ("quá hạn", "overdue"),
    "q_rsp_due_done": ("xong {d}", "done {d}"),
    "q_rsp_returned": ("Trả lại: {r}", "Returned: {r}"),
    "q_rsp_submitted": ("Đã gửi duyệt ({by})", "Submitted ({by})"),
    "q_rsp_files": ("{n} tệp đính kèm", "{n} attachment(s)"),
    "q_rsp_forwarded": ("Đã chuyển đến: {u}", "Sent on to: {u}"),
    "dlg_rsp_return": ("Trả lại trả lời câu hỏi #{n}", "Return the answer to question #{n}"),
    "dlg_rsp_return_note": ("Lý do trả lại (đơn vị sẽ thấy)", "Why it is returned (the department sees it)"),
    "dlg_rsp_forward": ("Câu hỏi #{n} đã được chuyển đến cơ quan", "Question #{n} was sent on to an agency"),
    "dlg_rsp_unit": ("Cơ quan có thẩm quyền đã nhận", "The competent agency it was sent to"),
    "dlg_rsp_unit_hint": ("Người hỏi được báo tên cơ quan này.", "The asker is told this agency's name."),
    "dlg_rsp_extend": ("Gia hạn trả lời câu hỏi #{n}", "Extend the deadline of question #{n}"),
    "dlg_rsp_due": ("Hạn mới (sau {d})", "New last day (after {d})"),
    "dlg_rsp_reason": ("Lý do gia hạn (người hỏi được báo)", "Reason (the asker is told)"),
}
STAFF_JS_PREFIXES: tuple[str, ...] = ()  # act_, q_ and dlg_ keys already reach the console
