"""Words of the HLS origin (server/hls_origin.py): key -> (Vietnamese, English). See server/texts/__init__.py."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "hls_no_rendition": ("Không có bản phát này; các bản có thể có: {names}.",
                         "No such rendition; the renditions are {names}."),
    "hls_bad_directive": ("{label} phải là một số nguyên không âm.", "{label} must be a non-negative integer."),
    "hls_part_without_msn": ("Có _HLS_part thì phải có cả _HLS_msn.", "_HLS_part needs _HLS_msn too."),
    "hls_too_far": ("{label} vượt quá xa đoạn mới nhất ({last}).",
                    "{label} asks too far past the newest segment ({last})."),
    "hls_not_yet": ("Đoạn được hỏi theo {label} chưa có; hãy tải lại danh sách phát.",
                    "The segment asked for by {label} is not there yet; reload the playlist."),
    "hls_busy": ("Quá nhiều yêu cầu đang chờ luồng phát này; thử lại sau một giây.",
                 "Too many requests are waiting on this stream; try again in a second."),
}
LABELS: dict[str, tuple[str, str]] = {
    "_HLS_msn": ("Số thứ tự đoạn (_HLS_msn)", "Segment number (_HLS_msn)"),
    "_HLS_part": ("Số thứ tự phần đoạn (_HLS_part)", "Part number (_HLS_part)"),
    "rendition": ("Bản phát (độ phân giải)", "Rendition"),
}
