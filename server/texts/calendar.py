"""Words of the calendar feature: the working-day calendar's admin side (/staff/calendar,
moderation/calendar_store.py) and the deadline lists (/staff/deadlines, moderation/due_lists.py).
key -> (Vietnamese, English). See server/texts/__init__.py. Every key starts with `cal_`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "cal_bad_date": ("{label}: cần một ngày dạng YYYY-MM-DD.", "{label}: give a date as YYYY-MM-DD."),
    "cal_bad_year": ("{label}: cần một năm từ {min} đến {max}.", "{label}: give a year from {min} to {max}."),
    "cal_bad_kind": ("{label}: chọn working (ngày làm việc) hoặc off (ngày nghỉ).",
                     "{label}: choose working (a working day) or off (a day off)."),
    "cal_note_required": ("{label}: bắt buộc (căn cứ, ví dụ số văn bản), tối đa {max} ký tự.",
                          "{label}: required (why, e.g. the decision's number), at most {max} characters."),
    "cal_admin_only": ("Chỉ quản trị được sửa lịch ngày làm việc.", "Only an administrator may change the calendar."),
    "cal_override_exists": ("Ngày {day} đã có điều chỉnh; hãy bỏ điều chỉnh đó trước khi nhập điều chỉnh khác.",
                            "{day} already has an override; remove it before entering another."),
    "cal_no_change": ("Ngày {day} vốn đã là ngày làm việc; điều chỉnh này không thay đổi gì.",
                      "{day} is already a working day; this override would change nothing."),
    "cal_no_change_off": ("Ngày {day} vốn đã là ngày nghỉ; điều chỉnh này không thay đổi gì.",
                          "{day} is already a day off; this override would change nothing."),
    "cal_override_not_found": ("Ngày {day} không có điều chỉnh nào.", "{day} has no override."),
    "cal_due_bad_status": ("{label} phải là một trong: {statuses}.", "{label} must be one of: {statuses}."),
    "cal_due_bad_as_of": ("{label}: cần một thời điểm ISO 8601, ví dụ 2026-12-08T09:00+07:00.",
                          "{label}: give an ISO 8601 moment, e.g. 2026-12-08T09:00+07:00."),
    "cal_due_bad_soon": ("{label}: số ngày làm việc từ 0 đến {max}.", "{label}: a number of working days, 0 to {max}."),
    "cal_due_bad_session": ("{label}: mã phiên là một số nguyên dương.", "{label}: a session id is a positive number."),
    "cal_due_bad_department": ("{label} không hợp lệ.", "{label} is not valid."),
    "cal_due_other_department": ("Sở, ngành chỉ xem được thời hạn của đơn vị mình.",
                                 "A department sees its own deadlines only."),
}
# "as_of" (the deadline lists' moment) is labelled in server/texts/reports.py, which uses the same field
LABELS: dict[str, tuple[str, str]] = {
    "day": ("Ngày", "Date"),
    "working": ("Loại ngày", "Kind of day"),
    "year": ("Năm", "Year"),
    "soon": ("Số ngày làm việc coi là sắp đến hạn", "Working days counted as due soon"),
    "session": ("Phiên", "Session"),
    "status": ("Tình trạng thời hạn", "Deadline status"),
}
UI: dict[str, tuple[str, str]] = {}
STAFF: dict[str, tuple[str, str]] = {
    # ---- the calendar (/staff/calendar) ----
    "cal_nav": ("Lịch ngày làm việc", "Working-day calendar"),
    "cal_title": ("Lịch ngày làm việc năm {year}", "Working-day calendar {year}"),
    "cal_intro": (
        "Thời hạn tính theo ngày làm việc bỏ qua thứ Bảy, Chủ nhật, ngày nghỉ lễ, Tết và ngày nghỉ bù (theo gói "
        "holidays), cùng các điều chỉnh dưới đây: ngày hoán đổi theo thông báo của Chính phủ (một thứ Bảy làm "
        "việc, một ngày thường được nghỉ) và ngày nghỉ của địa phương. Thời hạn có ngày cuối rơi vào ngày nghỉ "
        "được lùi đến hết ngày làm việc tiếp theo (Bộ luật Dân sự 2015, Điều 148.5). Một thay đổi ở đây áp dụng "
        "cho các thời hạn được tính sau đó; thời hạn đã ấn định không tự tính lại.",
        "Periods in working days skip Saturdays, Sundays, public holidays, Tết and the days off in lieu (from "
        "the holidays package), and the overrides below: the government's day swaps (a Saturday worked, a "
        "weekday off) and local days off. A period whose last day is a day off ends at the end of the next "
        "working day (Civil Code 2015, art. 148.5). A change here applies to deadlines computed after it; "
        "deadlines already set are not recomputed.",
    ),
    "cal_year_nav": ("Chọn năm", "Choose the year"),
    "cal_year": ("Năm", "Year"),
    "cal_show": ("Xem", "Show"),
    "cal_prev": ("Năm {year}", "{year}"),
    "cal_days_title": ("Ngày nghỉ và ngày làm việc khác thường lệ", "Days off and days worked out of the usual"),
    "cal_days_intro": ("Mọi ngày thường được nghỉ và mọi ngày cuối tuần phải làm việc trong năm, kèm lý do.",
                       "Every weekday off and every weekend day worked this year, with why."),
    "cal_col_day": ("Ngày", "Date"),
    "cal_col_status": ("Tình trạng", "Status"),
    "cal_col_why": ("Lý do", "Why"),
    "cal_col_source": ("Nguồn", "Source"),
    "cal_col_by": ("Người nhập", "Entered by"),
    "cal_col_action": ("Thao tác", "Action"),
    "cal_off": ("Nghỉ", "Off"),
    "cal_working": ("Làm việc", "Working"),
    "cal_swap_worked": ("Ngày làm bù (hoán đổi đã có trong gói holidays)", "Worked in a swap the holidays package knows"),
    "cal_source_package": ("Lịch nghỉ lễ (gói holidays)", "Public holidays (holidays package)"),
    "cal_source_override": ("Điều chỉnh của quản trị", "Administrator's override"),
    "cal_wd_1": ("Thứ Hai", "Monday"),
    "cal_wd_2": ("Thứ Ba", "Tuesday"),
    "cal_wd_3": ("Thứ Tư", "Wednesday"),
    "cal_wd_4": ("Thứ Năm", "Thursday"),
    "cal_wd_5": ("Thứ Sáu", "Friday"),
    "cal_wd_6": ("Thứ Bảy", "Saturday"),
    "cal_wd_7": ("Chủ nhật", "Sunday"),
    "cal_overrides_title": ("Điều chỉnh trong năm", "This year's overrides"),
    "cal_no_overrides": ("Chưa có điều chỉnh nào trong năm này.", "No override this year."),
    "cal_remove": ("Bỏ điều chỉnh", "Remove"),
    "cal_remove_label": ("Bỏ điều chỉnh ngày {day}", "Remove the override of {day}"),
    "cal_add_title": ("Thêm điều chỉnh", "Add an override"),
    "cal_field_day": ("Ngày", "Date"),
    "cal_field_kind": ("Ngày này là", "This day is"),
    "cal_kind_working": ("Ngày làm việc (ví dụ một thứ Bảy làm bù)", "A working day (e.g. a Saturday worked in a swap)"),
    "cal_kind_off": ("Ngày nghỉ (ví dụ ngày nghỉ hoán đổi, ngày nghỉ của địa phương)",
                     "A day off (e.g. a swapped day off, a local day off)"),
    "cal_field_note": ("Căn cứ", "Why"),
    "cal_note_hint": ("Bắt buộc, tối đa 200 ký tự: ví dụ số văn bản của Chính phủ hoặc của tỉnh.",
                      "Required, at most 200 characters: e.g. the government's or the province's decision."),
    "cal_add": ("Thêm điều chỉnh", "Add the override"),
    "cal_done_add": ("Đã thêm điều chỉnh ngày {day}.", "Override of {day} added."),
    "cal_done_remove": ("Đã bỏ điều chỉnh ngày {day}.", "Override of {day} removed."),
    # ---- the deadline lists (/staff/deadlines) ----
    "cal_due_nav": ("Thời hạn xử lý", "Deadlines"),
    "cal_due_title": ("Thời hạn xử lý sau phiên", "Follow-up deadlines"),
    "cal_due_intro": (
        "Câu hỏi cần xử lý tiếp sau phiên (chuyển cơ quan có thẩm quyền, trả lời bằng văn bản), với hạn cuối "
        "và căn cứ. Hạn cuối hết lúc 24 giờ (giờ Việt Nam) của ngày đó. Sắp đến hạn: hạn cuối trong vòng "
        "{n} ngày làm việc.",
        "Questions that need follow-up after the session (sent on to the competent agency, answered in "
        "writing), with their last day and the rule. A last day ends at midnight, Vietnam time. Due soon: the "
        "last day is within {n} working days.",
    ),
    "cal_due_as_of": ("Tính đến", "As of"),
    "cal_due_filters": ("Lọc danh sách", "Filter the lists"),
    "cal_due_session": ("Phiên", "Session"),
    "cal_due_all_sessions": ("Mọi phiên", "Every session"),
    "cal_due_department": ("Đơn vị", "Unit"),
    "cal_due_all_departments": ("Mọi đơn vị", "Every unit"),
    "cal_due_own_department": ("Đơn vị của bạn: {d}", "Your unit: {d}"),
    "cal_due_apply": ("Lọc", "Filter"),
    "cal_due_json": ("Dữ liệu JSON", "As JSON"),
    "cal_due_overdue": ("Quá hạn", "Overdue"),
    "cal_due_due_soon": ("Sắp đến hạn", "Due soon"),
    "cal_due_pending": ("Còn hạn", "Not yet due"),
    "cal_due_met": ("Đã xử lý đúng hạn", "Done on time"),
    "cal_due_missed": ("Đã xử lý, trễ hạn", "Done late"),
    "cal_due_empty": ("Không có câu hỏi nào.", "None."),
    "cal_due_col_question": ("Câu hỏi", "Question"),
    "cal_due_col_session": ("Phiên", "Session"),
    "cal_due_col_unit": ("Đơn vị", "Unit"),
    "cal_due_col_step": ("Việc cần làm", "Next step"),
    "cal_due_col_due": ("Hạn cuối", "Last day"),
    "cal_due_col_rule": ("Căn cứ", "Rule"),
    "cal_due_col_left": ("Tình trạng", "Standing"),
    "cal_due_number": ("Số {n}", "No. {n}"),
    "cal_due_left": ("còn {n} ngày làm việc", "{n} working days left"),
    "cal_due_today": ("hết hạn trong hôm nay", "ends today"),
    "cal_due_late": ("quá hạn {n} ngày", "{n} days late"),
    "cal_due_done_on": ("xử lý ngày {d}", "done on {d}"),
    "cal_due_extended": ("gia hạn từ {d}", "extended from {d}"),
    "cal_due_protected": ("(nội dung được bảo vệ)", "(protected content)"),
    "cal_due_unassigned": ("(chưa giao đơn vị)", "(no unit yet)"),
    "cal_due_by_unit": ("Theo đơn vị", "By unit"),
    "cal_due_by_session": ("Theo phiên", "By session"),
    "cal_due_counts": ("Số câu hỏi theo tình trạng", "Questions by standing"),
    "cal_due_unknown_rule": ("(không rõ)", "(unknown)"),
}
STAFF_JS_PREFIXES: tuple[str, ...] = ()
