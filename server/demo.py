"""`doithoai demo`: the embedded default with a session that is announced and live, a few questions
(some already approved and marked of interest), and the URLs to open."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from moderation.accounts import Accounts
from moderation.board import Board
from moderation.consent import Channel
from moderation.errors import ValidationError
from moderation.roles import CLI_ACTOR, Actor, Role
from moderation.sessions import SessionDraft, SessionState
from moderation.store import Store
from moderation.submission import parse_submission
from stream.feed_policy import FeedPolicy

from .config import Settings

log = logging.getLogger("doithoai.demo")
DEMO_TITLE = "Đối thoại trực tuyến về thủ tục đất đai và cấp giấy chứng nhận quyền sử dụng đất"

DEMO_QUESTIONS = [
    ("person", "Nguyễn Văn An", "12 Lạch Tray, Ngô Quyền, Hải Phòng", "0912345678", "Đất đai",
     "Gia đình tôi nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất từ tháng 3 nhưng đến nay chưa nhận được. "
     "Xin hỏi thời hạn giải quyết theo quy định là bao lâu?", True),
    ("organization", "Công ty TNHH Thương mại Biển Xanh", "45 Điện Biên Phủ, Hồng Bàng, Hải Phòng", "02253812345",
     "Đầu tư - doanh nghiệp",
     "Doanh nghiệp chúng tôi muốn thuê đất trong khu công nghiệp. Thủ tục giao đất, cho thuê đất hiện nay "
     "mất bao nhiêu ngày làm việc?", True),
    ("person", "Trần Thị Bình", "8 Tô Hiệu, Lê Chân, Hải Phòng", "+84 987 654 321", "Xây dựng - đô thị",
     "Khi nào thành phố công bố quy hoạch chi tiết khu đô thị mới phía Bắc sông Cấm?", True),
    ("person", "Lê Hoàng Cường", "22 Trần Phú, Ngô Quyền, Hải Phòng", "0356789012", "Đất đai",
     "Đất của gia đình tôi nằm trong quy hoạch treo đã hơn 10 năm. Chúng tôi có được xây nhà không?", False),
]


# Demo accounts, one per role, all with DEMO_PASSWORD (printed in the banner: a demo, not a deployment).
DEMO_PASSWORD = "doithoai-demo"  # noqa: S105 - printed in the banner on purpose
DEMO_DEPARTMENT = "Sở Tài nguyên và Môi trường"
DEMO_STAFF = [("quantri", "admin"), ("bientap", "editor"), ("bientap2", "editor"), ("truongban", "head"),
              ("chutri", "chair"), ("sotnmt", "responder")]


async def seed_staff(store: Store) -> None:
    accounts = Accounts(store)
    for name, role in DEMO_STAFF:
        try:
            await accounts.add_user(name, role, DEMO_PASSWORD,
                                    department=DEMO_DEPARTMENT if role == "responder" else None)
        except ValidationError:
            pass  # already there from an earlier run


async def seed(store: Store) -> int:
    await seed_staff(store)
    for existing in await store.list_sessions():
        if existing.title == DEMO_TITLE and existing.state in (SessionState.ANNOUNCED, SessionState.LIVE):
            return existing.id
    session = await store.create_session(
        SessionDraft(
            title=DEMO_TITLE,
            chair_name="Nguyễn Văn Tùng",
            chair_position="Phó Chủ tịch UBND thành phố",
            place="Hội trường Trung tâm Thông tin - Truyền thông, 18 Hoàng Diệu, Hải Phòng",
            description="Phiên đối thoại giữa lãnh đạo thành phố với người dân, tổ chức và doanh nghiệp.",
            starts_at=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10),
            minutes=90,
        )
    )
    await store.transition_session(session.id, SessionState.ANNOUNCED)
    for i, (kind, name, address, phone, field, text, public) in enumerate(DEMO_QUESTIONS):
        receipt = await store.submit_question(
            parse_submission(
                {"session_id": session.id, "idempotency_key": f"demo-question-{i}",
                 "asker": {"kind": kind, "name": name, "address": address, "phone": phone},
                 "field": field, "text": text, "consent": True},
                channel=Channel.FORM,
            )
        )
        if public:
            await store.apply_action(receipt.question_id, "accept")
            for v in range(3 - i):
                await store.mark_interest(receipt.question_id, f"demo-viewer-{v:04d}")
    await store.transition_session(session.id, SessionState.LIVE)
    # live video with no camera: the built-in test card (change it in the console or with
    # `doithoai stream source`)
    await Board(store).set_feed(session.id, "test", None, CLI_ACTOR, FeedPolicy(()))
    # some of the board's work already done: one routed with a prepared answer, in the live queue
    first = (await store.register(session.id))[0]["question_id"]
    await store.apply_action(first, "route", department=DEMO_DEPARTMENT)
    await store.apply_action(first, "answer", answer="Theo quy định, thời hạn cấp giấy chứng nhận lần đầu không "
                             "quá 20 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.")
    await store.apply_action(first, "queue")
    return session.id


FOLLOW_UP_TITLE = "Đối thoại về trật tự giao thông và hạ tầng đô thị (đã kết thúc)"
FORUM_TITLE = "Trao đổi và tháo gỡ khó khăn, vướng mắc của doanh nghiệp"
HEAD = Actor("truongban", Role.HEAD)


async def _ask(store: Store, session_id: int, key: str, name: str, phone: str, field: str, text: str) -> int:
    receipt = await store.submit_question(parse_submission(
        {"session_id": session_id, "idempotency_key": key,
         "asker": {"kind": "person", "name": name, "address": "5 Cầu Đất, Ngô Quyền, Hải Phòng", "phone": phone},
         "field": field, "text": text, "consent": True}, channel=Channel.FORM))
    return receipt.question_id


async def seed_follow_up(store: Store) -> None:
    """A session that closed today, with the follow-up the regulation asks for under way: a question
    routed to the demo department (the responder's list), one forwarded and sent on, one outside the
    city's remit, one answered in writing; and a standing forum with an approved answer."""
    if any(s.title == FOLLOW_UP_TITLE for s in await store.list_sessions()):
        return
    session = await store.create_session(SessionDraft(
        title=FOLLOW_UP_TITLE, chair_name="Trần Quang Minh", chair_position="Phó Chủ tịch UBND thành phố",
        place="18 Hoàng Diệu, Hải Phòng", starts_at=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3),
        minutes=90, fields=["Giao thông", "Xây dựng - đô thị", "Khác"]))
    await store.transition_session(session.id, SessionState.ANNOUNCED)
    ask = [await _ask(store, session.id, f"demo-followup-{i}", name, phone, field, text) for i, (name, phone, field, text)
           in enumerate([
               ("Phạm Thị Dung", "0912000111", "Giao thông",
                "Tuyến đường Lạch Tray thường xuyên ngập khi mưa lớn, bao giờ thành phố cải tạo hệ thống thoát nước?"),
               ("Vũ Văn Em", "0912000222", "Xây dựng - đô thị",
                "Dự án chỉnh trang vỉa hè phố Cầu Đất khi nào hoàn thành?"),
               ("Đỗ Thị Giang", "0912000333", "Khác",
                "Xin hỏi việc cấp hộ chiếu cho con tôi đang học ở nước ngoài thì làm ở đâu?"),
               ("Hoàng Văn Hải", "0912000444", "Giao thông",
                "Tỉnh lộ 354 đoạn qua xã An Hồng xuống cấp, đề nghị sửa chữa."),
           ])]
    await store.transition_session(session.id, SessionState.LIVE)
    for qid in (ask[0], ask[1]):
        await store.apply_action(qid, "accept")
    await store.apply_action(ask[0], "route", department=DEMO_DEPARTMENT)
    await store.apply_action(ask[2], "decline", reason="outside_city_remit",
                             note="Việc cấp hộ chiếu thuộc Cục Quản lý xuất nhập cảnh, Bộ Công an.")
    await store.apply_action(ask[3], "decline", reason="outside_chair_remit")
    await store.transition_session(session.id, SessionState.CLOSED, HEAD)  # the deadlines are set here
    await store.apply_action(ask[3], "forward", unit="UBND huyện An Dương")
    await store.apply_action(ask[1], "answer", answer="Dự án hoàn thành trong quý II năm sau; nhà thầu đã được chọn.")
    await store.apply_action(ask[1], "approve_answer", actor=HEAD)
    forum = await store.create_session(SessionDraft(
        title=FORUM_TITLE, chair_name="Ban Điều hành diễn đàn", starts_at=None, minutes=None, kind="forum",
        fields=["Thuế - tài chính", "Đầu tư - doanh nghiệp", "Đất đai"]))
    await store.transition_session(forum.id, SessionState.ANNOUNCED)
    qid = await _ask(store, forum.id, "demo-forum-0", "Công ty CP Dệt may Hương Thủy", "02343812345",
                     "Thuế - tài chính", "Doanh nghiệp mới thành lập có được miễn lệ phí môn bài năm đầu không?")
    await store.apply_action(qid, "accept")
    await store.apply_action(qid, "answer", answer="Có. Doanh nghiệp mới thành lập được miễn lệ phí môn bài trong "
                             "năm đầu thành lập (Nghị định 22/2020/NĐ-CP).")
    await store.apply_action(qid, "approve_answer", actor=HEAD)


def run_demo(settings: Settings) -> None:
    from .cli import serve

    if settings.data_dir == Path("data") and settings.database is None:
        settings.data_dir = Path("data/demo")
    settings.ensure_data_dir()

    async def prepare() -> int:
        store = await Store.open(settings.database_url)
        try:
            session_id = await seed(store)
            await seed_follow_up(store)
            return session_id
        finally:
            await store.close()

    session_id = asyncio.run(prepare())
    base = f"http://{settings.host}:{settings.port}"

    def banner(s: Settings) -> None:
        print(
            "\n  doithoai demo is running (Ctrl+C to stop)\n"
            f"  Sessions:        {base}/\n"
            f"  Viewer page:     {base}/s/{session_id}\n"
            f"  Staff sign-in:   {base}/login  (demo users: {', '.join(n for n, _ in DEMO_STAFF)};"
            f" password {DEMO_PASSWORD})\n"
            f"  Console:         {base}/mod/{session_id}\n"
            f"  Chair screen:    {base}/chair/{session_id}\n"
            f"  Overlay (OBS):   {base}/overlay/{session_id}\n"
            f"  Studio (WHIP):   {base}/studio/{session_id}\n"
            f"  Live video:      {base}/live/{session_id}/index.m3u8  (HLS)\n"
            f"  Session API:     {base}/api/v1/sessions/{session_id}\n"
            f"  After a session: {base}/staff/answers (responder sotnmt), {base}/staff/deadlines,"
            f" {base}/staff/reports\n"
            f"  Standing forum:  {base}/forum\n"
            f"  Health:          {base}/healthz\n"
            f"  Data directory:  {s.data_dir.resolve()}\n",
            flush=True,
        )

    serve(settings, banner=banner)
