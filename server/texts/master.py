"""Words of the broadcast master's report page (stream/master.py, stream/conformance.py). key ->
(Vietnamese, English); see server/texts/__init__.py. Every key starts with `mst_`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {}
LABELS: dict[str, tuple[str, str]] = {}
UI: dict[str, tuple[str, str]] = {}
STAFF: dict[str, tuple[str, str]] = {
    "mst_title": ("Biên bản kiểm tra bản phát sóng", "Broadcast master conformance report"),
    "mst_back": ("← Về trang bản ghi hình", "← Back to the recording"),
    "mst_basis": ("Đo độc lập trên tệp giao bằng bộ lọc ebur128 (EBU R128 / ITU-R BS.1770) và ffprobe.",
                  "Measured independently on the delivered file with the ebur128 filter (EBU R128 / "
                  "ITU-R BS.1770) and ffprobe."),
    "mst_none": ("Chưa có bản phát sóng theo hồ sơ này.", "No master for this profile yet."),
    "mst_profile": ("Hồ sơ", "Profile"),
    "mst_file": ("Tệp", "File"),
    "mst_sha256": ("Mã băm SHA-256", "SHA-256"),
    "mst_measured_with": ("Đo bằng", "Measured with"),
    "mst_measured_at": ("Thời điểm đo", "Measured at"),
    "mst_checks": ("Các hạng mục kiểm tra", "Checks"),
    "mst_check": ("Hạng mục", "Check"),
    "mst_value": ("Đo được", "Measured"),
    "mst_limit": ("Yêu cầu", "Required"),
    "mst_result": ("Kết quả", "Result"),
    "mst_pass": ("Đạt", "Pass"),
    "mst_fail": ("Không đạt", "Fail"),
    "mst_overall_pass": ("Bản phát sóng đạt mọi yêu cầu.", "The master passes every check."),
    "mst_overall_fail": ("Bản phát sóng không đạt.", "The master fails."),
    "mst_fallback": ("Chuẩn hoá tuyến tính không đạt được mục tiêu; các đỉnh đã được hạn chế.",
                     "Linear normalisation could not reach the target; the peaks were limited."),
    "mst_extra": ("Đo thêm", "Also measured"),
    "mst_downloads": ("Tải về", "Downloads"),
    "mst_download_pdf": ("Biên bản PDF (để ký)", "Report PDF (to sign)"),
    "mst_download_json": ("Số liệu JSON", "Figures JSON"),
    "mst_download_master": ("Bản phát sóng", "The master"),
    "mst_c_integrated_lufs": ("Độ lớn tích hợp", "Integrated loudness"),
    "mst_c_true_peak_dbtp": ("Đỉnh thực", "True peak"),
    "mst_c_loudness_range_lu": ("Dải độ lớn (LRA)", "Loudness range"),
    "mst_c_frame_rate": ("Tốc độ khung hình", "Frame rate"),
    "mst_c_video_codec": ("Mã hoá hình", "Video codec"),
    "mst_c_audio_codec": ("Mã hoá tiếng", "Audio codec"),
    "mst_c_sample_rate": ("Tần số lấy mẫu", "Sample rate"),
    "mst_c_channels": ("Số kênh tiếng", "Channels"),
    "mst_c_duration_s": ("Thời lượng", "Duration"),
    "mst_c_resolution": ("Độ phân giải", "Resolution"),
    "mst_c_max_momentary_lufs": ("Độ lớn tức thời lớn nhất (M)", "Max momentary loudness"),
    "mst_c_max_short_term_lufs": ("Độ lớn ngắn hạn lớn nhất (S)", "Max short-term loudness"),
}
