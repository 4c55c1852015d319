"""Words of the publication feature (docs/recording.md). key -> (Vietnamese, English); see
server/texts/__init__.py. Every key starts with `pub_`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "pub_bad_text": ("Nội dung không hợp lệ.", "This text is not valid."),
    "pub_too_long": ("Nội dung dài quá {max} ký tự.", "The text is longer than {max} characters."),
    "pub_not_live": ("Chỉ câu hỏi trả lời trực tiếp mới có phần tóm tắt.",
                     "Only a question answered live has a summary."),
    "pub_bad_picture": ("Ảnh phải là tệp JPEG hoặc PNG.", "The picture must be a JPEG or PNG file."),
    "pub_picture_too_large": ("Ảnh lớn quá {max} MB.", "The picture is larger than {max} MB."),
}
LABELS: dict[str, tuple[str, str]] = {
    "intro": ("Lời giới thiệu", "Introduction"),
    "summary": ("Tóm tắt câu trả lời trực tiếp", "Summary of the live answer"),
    "summaries": ("Các tóm tắt", "Summaries"),
    "picture": ("Ảnh", "Picture"),
}
UI: dict[str, tuple[str, str]] = {
    "pub_archive_badge": ("Đã công bố", "Published"),
    "pub_last_updated": ("Cập nhật lần cuối", "Last updated"),
    "pub_version": ("lần {n}", "version {n}"),
    "pub_video": ("Video", "Video"),
    "pub_video_label": ("Video buổi đối thoại: {topic}", "Video of the dialogue: {topic}"),
    "pub_chapters": ("Các câu hỏi trong video", "Questions in the video"),
    "pub_download_video": ("Tải video (MP4)", "Download the video (MP4)"),
    "pub_items": ("Các câu hỏi đã trả lời ({n})", "Questions answered ({n})"),
    "pub_no_items": ("Chưa có câu hỏi nào được trả lời.", "No question has been answered yet."),
    "pub_picture_alt": ("Hình ảnh câu hỏi số {n}", "Picture for question {n}"),
    "pub_question_n": ("Câu hỏi số {n}", "Question {n}"),
    "pub_answered_live": ("Trả lời trực tiếp tại buổi đối thoại", "Answered live at the session"),
    "pub_answered_at": ("trả lời lúc {t}", "answered at {t}"),
    "pub_answered_in_writing": ("Trả lời bằng văn bản", "Answered in writing"),
    "pub_export": ("Tải gói bài viết (ZIP)", "Download the article bundle (ZIP)"),
    "pub_archive_all": ("Tất cả các buổi đã công bố", "All published sessions"),
    "pub_embed": ("Nhúng video vào trang khác", "Embed the video in another page"),
    "pub_embed_hint": ("Sao chép mã sau:", "Copy this code:"),
    "pub_embed_source": ("Xem bài viết đầy đủ", "Read the full article"),
    "pub_archive_title": ("Lưu trữ các buổi đối thoại", "Archive of the dialogues"),
    "pub_nav": ("Lưu trữ", "Archive"),
    "pub_search": ("Tìm theo chủ đề, lĩnh vực hoặc nội dung câu hỏi",
                   "Search by topic, field or question text"),
    "pub_search_go": ("Tìm", "Search"),
    "pub_archive_empty": ("Không có buổi đối thoại nào.", "No sessions found."),
}
STAFF: dict[str, tuple[str, str]] = {
    "pub_not_published": ("Chưa công bố", "Not published"),
    "pub_review_hint": ("Đây là bản xem trước, công chúng chưa thấy trang này.",
                        "This is a preview: the public cannot see this page yet."),
    "pub_recording_failed": ("Xử lý bản ghi hình bị lỗi: bài viết vẫn có thể công bố, không kèm video.",
                             "The recording could not be finalised: the article can still be published, "
                             "without video."),
    "pub_no_video": ("Không có video: bài viết sẽ được công bố không kèm video.",
                     "No video: the article will be published without it."),
    "pub_back_to_draft": ("Quay lại bản thảo", "Back to the draft"),
    "pub_publish": ("Công bố", "Publish"),
    "pub_publish_again": ("Công bố bản cập nhật", "Publish the update"),
    "pub_head_only": ("Chỉ Trưởng ban được công bố.", "Only the head of the board may publish."),
    "pub_draft_title": ("Bài viết công bố", "The publication"),
    "pub_published_at": ("Đã công bố lúc {at} (lần {n})", "Published at {at} (version {n})"),
    "pub_saved": ("Đã lưu bản thảo.", "The draft is saved."),
    "pub_intro": ("Lời giới thiệu của biên tập viên", "The editor's introduction"),
    "pub_summary": ("Tóm tắt câu trả lời trực tiếp", "Summary of the live answer"),
    "pub_picture": ("Thay ảnh (JPEG hoặc PNG, tối đa 5 MB)", "Replace the picture (JPEG or PNG, at most 5 MB)"),
    "pub_save": ("Lưu bản thảo", "Save the draft"),
    "pub_review": ("Xem trước và công bố", "Review and publish"),
}
STAFF_JS_PREFIXES: tuple[str, ...] = ()
