"""Words of the recording feature (docs/recording.md). key -> (Vietnamese, English); see
server/texts/__init__.py. Every key starts with `rec_`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "rec_bad_kind": ("Loại việc phải là finalize hoặc master.", "The job's kind must be finalize or master."),
    "rec_bad_profile": ("Không có cấu hình bản phát sóng «{profile}»; các cấu hình có: {known}.",
                        "There is no master profile «{profile}»; the profiles are: {known}."),
}
LABELS: dict[str, tuple[str, str]] = {
    "profile": ("Cấu hình bản phát sóng", "Master profile"),
}
UI: dict[str, tuple[str, str]] = {}
STAFF: dict[str, tuple[str, str]] = {
    "rec_title": ("Bản ghi hình phiên đối thoại", "The session's recording"),
    "rec_nav": ("Bản ghi hình", "Recording"),
    "rec_live": ("Ghi hình trực tiếp", "Live recording"),
    "rec_live_recording": ("Đang ghi hình.", "Recording."),
    "rec_live_off": ("Không ghi hình (phiên không phát trực tiếp lúc này).", "Not recording (the session is not live now)."),
    "rec_live_low_disk": ("Cảnh báo: ổ đĩa ghi hình sắp đầy.", "Warning: the recordings disk is nearly full."),
    "rec_live_failed": ("Cảnh báo: việc ghi hình đã dừng do lỗi.", "Warning: the recording stopped on an error."),
    "rec_live_refused": ("Cảnh báo: không bắt đầu ghi hình được.", "Warning: the recording could not start."),
    "rec_file": ("Tệp ghi hình", "Recording file"),
    "rec_none": ("Chưa có bản ghi hình.", "No recording yet."),
    "rec_duration": ("Thời lượng", "Duration"),
    "rec_gaps": ("Đoạn gián đoạn", "Gaps"),
    "rec_gap_slate": ("màn hình chờ", "slate"),
    "rec_gap_missing": ("không ghi được", "not recorded"),
    "rec_no_gaps": ("Không có đoạn gián đoạn.", "No gaps."),
    "rec_chapters": ("Các chương (câu hỏi trả lời trực tiếp)", "Chapters (questions answered live)"),
    "rec_no_chapters": ("Chưa có chương: hoàn thiện bản ghi để tạo.", "No chapters yet: finalise the recording to make them."),
    "rec_start": ("Bắt đầu", "Start"),
    "rec_end": ("Kết thúc", "End"),
    "rec_question": ("Câu hỏi", "Question"),
    "rec_asker": ("Người hỏi", "Asker"),
    "rec_jobs": ("Công việc xử lý", "Jobs"),
    "rec_no_jobs": ("Chưa có công việc nào.", "No jobs yet."),
    "rec_job_kind": ("Việc", "Job"),
    "rec_job_state": ("Trạng thái", "State"),
    "rec_job_progress": ("Tiến độ", "Progress"),
    "rec_kind_finalize": ("Hoàn thiện (MP4, HLS, chương, ảnh)", "Finalise (MP4, HLS, chapters, pictures)"),
    "rec_kind_master": ("Bản phát sóng", "Broadcast master"),
    "rec_state_queued": ("Đang chờ", "Queued"),
    "rec_state_running": ("Đang chạy", "Running"),
    "rec_state_done": ("Xong", "Done"),
    "rec_state_failed": ("Lỗi", "Failed"),
    "rec_eta": ("còn khoảng {t}", "about {t} left"),
    "rec_finalize_again": ("Hoàn thiện lại", "Finalise again"),
    "rec_profile": ("Cấu hình bản phát sóng", "Master profile"),
    "rec_make_master": ("Làm bản phát sóng", "Make a master"),
    "rec_files": ("Tệp đã tạo", "Files made"),
    "rec_portal_mp4": ("Video cho cổng thông tin (MP4)", "Portal video (MP4)"),
    "rec_hls_vod": ("Danh sách phát HLS", "HLS playlist"),
    "rec_chapters_vtt": ("Chương (WebVTT)", "Chapters (WebVTT)"),
    "rec_master_file": ("Bản phát sóng {profile}", "Master {profile}"),
    "rec_report_file": ("Báo cáo kiểm tra {profile} ({fmt})", "Conformance report {profile} ({fmt})"),
    "rec_not_made": ("chưa tạo", "not made yet"),
    "rec_back": ("Về danh sách phiên", "Back to the sessions"),
}
STAFF_JS_PREFIXES: tuple[str, ...] = ()  # the page hands its script the few words it needs itself
