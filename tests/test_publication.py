"""The publication: nothing public before the head publishes (not even while a draft exists), only
the head publishes (API, CLI, the review page), the audit log has each publish, the JSON, the files,
the embed and the export bundle after it, a correction, and a session published without video."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import time
import zipfile
from typing import Any

import aiohttp
from PIL import Image
from sqlalchemy import select, update

from moderation import schema as s
from moderation.accounts import Accounts
from server.keys import accounts_key

from .conftest import RunningServer, run_cli
from .publication_media import closed_session, files_for, public_paths, write_media
from .staff import PASSWORD, PHONE
from .test_authorization import sign_in

ADDRESS = "12 Lạch Tray"


async def accounts(server: RunningServer) -> dict[str, str]:
    """biên tập viên, trưởng ban, quản trị: their API tokens."""
    found: Accounts = server.app[accounts_key]
    tokens = {}
    for name, role in (("bientap", "editor"), ("truongban", "head"), ("quantri", "admin")):
        await found.add_user(name, role, PASSWORD)
        tokens[role] = (await found.issue_token(name))["token"]
    return tokens


async def status(http: aiohttp.ClientSession, url: str, **kw: Any) -> int:
    async with http.get(url, allow_redirects=False, **kw) as resp:
        await resp.read()
        return resp.status


async def act(server: RunningServer, http: aiohttp.ClientSession, session_id: int, token: str) -> tuple[int, Any]:
    async with http.post(f"{server.url}/api/v1/sessions/{session_id}/actions", json={"action": "publish"},
                         headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.json()


async def audit_actions(server: RunningServer, session_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    async with server.store.read_engine.connect() as conn:
        rows = await conn.execute(select(s.audit_log).where(s.audit_log.c.session_id == session_id)
                                  .order_by(s.audit_log.c.id))
        return [(r.action, r.role, r.detail) for r in rows]


async def open_draft(server: RunningServer, http: aiohttp.ClientSession, session_id: int) -> str:
    async with http.get(f"{server.url}/staff/sessions/{session_id}/publication") as resp:
        assert resp.status == 200, resp.status
        return await resp.text()


async def form_csrf(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as resp:
        found = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert found, f"{url} has a CSRF field"
    return found.group(1)


async def test_nothing_is_public_before_the_head_publishes(server: RunningServer, http: aiohttp.ClientSession,
                                                          tmp_path: Any) -> None:
    session, live, written = await closed_session(server)
    await asyncio.to_thread(write_media, files_for(server, session.id), live)
    await accounts(server)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as editor:
        await sign_in(server, editor, "bientap")
        page = await open_draft(server, editor, session.id)  # the draft now exists
        assert "Câu hỏi thứ 1" in page and PHONE not in page
        async with editor.get(f"{server.url}/staff/sessions/{session.id}/publication/review") as resp:
            review = await resp.text()
        assert resp.status == 200 and "Chưa công bố" in review and 'id="pub-publish"' not in review  # editor: no button
    async with server.store.read_engine.connect() as conn:
        row = (await conn.execute(select(s.publications).where(s.publications.c.session_id == session.id))).one()
    assert row.draft["video"] is True and row.published is None
    assert [i["start_s"] for i in row.draft["items"] if i["state"] == "answered_live"] == [0.0, 4.0]
    for path in public_paths(session.id, live[0]):
        assert await status(http, server.url + path) == 404, path
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        assert resp.status == 200 and 'id="archive"' not in await resp.text()  # the session page, not the archive
    async with http.get(f"{server.url}/archive") as resp:
        assert session.title not in await resp.text()


async def test_only_the_head_publishes_and_the_public_then_sees_it(server: RunningServer,
                                                                   http: aiohttp.ClientSession) -> None:
    session, live, written = await closed_session(server)
    files = files_for(server, session.id)
    await asyncio.to_thread(write_media, files, live)
    tokens = await accounts(server)
    for role in ("admin", "editor"):
        code, body = await act(server, http, session.id, tokens[role])
        assert code == 403 and body["error"]["code"] == "forbidden", (role, code, body)
    refused = await asyncio.to_thread(run_cli, "session", "publish", str(session.id), "--as", "bientap",
                                      data_dir=server.settings.data_dir, check=False)
    assert refused.returncode != 0
    refused = await asyncio.to_thread(run_cli, "session", "publish", str(session.id),
                                      data_dir=server.settings.data_dir, check=False)  # the CLI's own admin
    assert refused.returncode != 0
    for path in public_paths(session.id, live[0]):
        assert await status(http, server.url + path) == 404, path

    code, body = await act(server, http, session.id, tokens["head"])
    assert code == 200, body
    published = [a for a in await audit_actions(server, session.id) if a[0] == "session_published"]
    assert len(published) == 1 and published[0][1] == "head" and published[0][2]["version"] == 1

    async with http.get(f"{server.url}/api/v1/sessions/{session.id}/publication") as resp:
        assert resp.status == 200 and "max-age=60" in resp.headers["Cache-Control"]
        data = await resp.json()
    assert data["version"] == 1 and data["video"] is True
    assert data["intro"]["topic"] == session.title
    assert [c["start_s"] for c in data["chapters"]] == [0.0, 4.0]
    states = sorted(i["state"] for i in data["items"])
    assert states == ["answered_in_writing", "answered_live", "answered_live"]
    writ = next(i for i in data["items"] if i["state"] == "answered_in_writing")
    assert "30 ngày làm việc" in writ["answer"]
    assert data["urls"]["mp4"] == f"/archive/{session.id}/portal.mp4"
    assert PHONE not in json.dumps(data, ensure_ascii=False) and ADDRESS not in json.dumps(data, ensure_ascii=False)

    async with http.get(f"{server.url}{data['urls']['mp4']}", headers={"Range": "bytes=0-99"}) as resp:
        assert resp.status == 206 and len(await resp.read()) == 100  # the player seeks by range
    async with http.get(f"{server.url}{data['urls']['hls']}") as resp:
        playlist = await resp.text()
        assert resp.status == 200 and "max-age=60" in resp.headers["Cache-Control"] and "#EXT-X-ENDLIST" in playlist
    segment = next(line for line in playlist.splitlines() if line.endswith(".ts"))
    async with http.get(f"{server.url}/archive/{session.id}/vod/{segment}") as resp:
        assert resp.status == 200 and "immutable" in resp.headers["Cache-Control"]
        await resp.read()
    assert await status(http, f"{server.url}/archive/{session.id}/vod/..%2Fprogramme.ts") == 404
    assert await status(http, f"{server.url}/archive/{session.id}/chapters.vtt") == 200
    assert await status(http, f"{server.url}/archive/{session.id}/pictures/{live[0]}.jpg") == 200
    assert await status(http, f"{server.url}/archive/{session.id}/pictures/999999.jpg") == 404

    async with http.get(f"{server.url}/s/{session.id}") as resp:
        page = await resp.text()
    assert 'id="archive"' in page and "trả lời lúc 0:00:04" in page and "Cập nhật lần cuối" in page
    assert PHONE not in page and ADDRESS not in page
    async with http.get(f"{server.url}/embed/{session.id}") as resp:
        assert resp.status == 200 and "frame-ancestors *" in resp.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in resp.headers
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]  # only the embed is framed
    async with http.get(f"{server.url}/archive/{session.id}/export.zip") as resp:
        assert resp.status == 200
        bundle = zipfile.ZipFile(io.BytesIO(await resp.read()))
    names = set(bundle.namelist())
    assert {"index.html", "publication.json", "portal.mp4", "chapters.vtt", f"pictures/{live[0]}.jpg"} <= names
    assert json.loads(bundle.read("publication.json"))["version"] == 1
    assert session.title in bundle.read("index.html").decode()
    async with http.get(f"{server.url}/archive", params={"q": "dat dai"}) as resp:  # no diacritics
        assert f'href="/s/{session.id}"' in await resp.text()
    async with http.get(f"{server.url}/archive", params={"q": "giao thông vận tải"}) as resp:
        assert f'href="/s/{session.id}"' not in await resp.text()


async def test_a_correction_goes_through_the_head_again(server: RunningServer, http: aiohttp.ClientSession) -> None:
    session, live, written = await closed_session(server)
    await asyncio.to_thread(write_media, files_for(server, session.id), live)
    tokens = await accounts(server)
    assert (await act(server, http, session.id, tokens["head"]))[0] == 200
    async with server.store.read_engine.connect() as conn:
        first = (await conn.execute(select(s.publications).where(s.publications.c.session_id == session.id))).one()
    directory = files_for(server, session.id).directory
    async with http.get(f"{server.url}/archive/{session.id}/export.zip") as resp:
        assert resp.status == 200 and (directory / "export-v1-vi.zip").is_file()
    # what a crash during a bundle's writing leaves: an old piece, and one being written now
    stale, fresh = directory / "export-v1-vi.zip.dead0001.part", directory / "export-v1-en.zip.live0001.part"
    for piece in (stale, fresh):
        piece.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as editor:
        await sign_in(server, editor, "bientap")
        url = f"{server.url}/staff/sessions/{session.id}/publication"
        csrf = await form_csrf(editor, url)
        form = aiohttp.FormData()
        form.add_field("csrf", csrf)
        form.add_field("intro", "Lời giới thiệu đã sửa: buổi đối thoại về đất đai.")
        form.add_field(f"summary_{live[0]}", "Tóm tắt: 30 ngày làm việc.")
        png = io.BytesIO()
        Image.new("RGB", (64, 36), (200, 30, 30)).save(png, "PNG")
        form.add_field(f"picture_{live[1]}", png.getvalue(), filename="anh.png", content_type="image/png")
        async with editor.post(url, data=form, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
        uploaded = files_for(server, session.id).uploaded_picture(live[1])
        with Image.open(uploaded) as saved:
            assert saved.format == "JPEG"
        # a file that says it is a picture and is not: refused, naming the field
        bad = aiohttp.FormData()
        bad.add_field("csrf", csrf)
        bad.add_field(f"picture_{live[0]}", b"not an image at all", filename="x.jpg", content_type="image/jpeg")
        async with editor.post(url, data=bad) as resp:
            text = await resp.text()
            assert 'id="pub-error"' in text and "JPEG hoặc PNG" in text
            assert re.search(rf'id="picture-{live[0]}"[^>]*aria-invalid="true"', text)  # that picture is marked
        async with editor.post(url, data={"csrf": csrf, "intro": "x" * 4001}) as resp:
            assert "4000" in await resp.text()
        async with editor.post(url, data={"intro": "không có mã"}, allow_redirects=False) as resp:
            assert resp.status == 403
        # the editor cannot publish from the review page either
        async with editor.post(f"{url}/publish", data={"csrf": csrf}, allow_redirects=False) as resp:
            assert resp.status == 403, await resp.text()

    async with http.get(f"{server.url}/s/{session.id}") as resp:
        assert "Lời giới thiệu đã sửa" not in await resp.text()  # the draft is not what the public reads

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as head:
        await sign_in(server, head, "truongban")
        review_url = f"{server.url}/staff/sessions/{session.id}/publication/review"
        async with head.get(review_url) as resp:
            review = await resp.text()
        assert 'id="pub-publish"' in review and "Lời giới thiệu đã sửa" in review
        token = re.search(r'name="csrf" value="([^"]+)"', review)
        assert token
        async with head.post(f"{server.url}/staff/sessions/{session.id}/publication/publish",
                             data={"csrf": token.group(1)}, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == f"/s/{session.id}"

    async with server.store.read_engine.connect() as conn:
        second = (await conn.execute(select(s.publications).where(s.publications.c.session_id == session.id))).one()
    assert second.version == 2 and second.first_published_at == first.first_published_at
    assert second.published_at > first.published_at
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        page = await resp.text()
    assert "Lời giới thiệu đã sửa" in page and "Tóm tắt: 30 ngày làm việc." in page and "lần 2" in page
    assert second.published_at.isoformat() in page  # "cập nhật lần cuối": the correction's time
    # the export follows the correction, and the first version's bundle (a whole video's size) is gone
    async with http.get(f"{server.url}/archive/{session.id}/export.zip") as resp:
        bundle = zipfile.ZipFile(io.BytesIO(await resp.read()))
    assert json.loads(bundle.read("publication.json"))["version"] == 2
    assert sorted(p.name for p in directory.glob("export-*")) == ["export-v1-en.zip.live0001.part", "export-v2-vi.zip"]
    assert [a[0] for a in await audit_actions(server, session.id) if a[0].startswith(("session_pub", "publication_"))
            ] == ["session_published", "publication_edit", "publication_correction"]


async def test_without_video_the_article_is_published_alone(server: RunningServer,
                                                            http: aiohttp.ClientSession) -> None:
    session, live, written = await closed_session(server, title="Đối thoại không có video")
    async with server.store.write_engine.begin() as conn:  # a complaint, moved to the formal channel
        await conn.execute(update(s.questions).where(s.questions.c.id == live[1]).values(protected=True))
    files = files_for(server, session.id)
    files.directory.mkdir(parents=True)
    files.video.write_bytes(b"\x47" * 188)  # a recording whose finalising never made the portal MP4
    await accounts(server)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as head:
        await sign_in(server, head, "truongban")
        async with head.get(f"{server.url}/staff/sessions/{session.id}/publication/review") as resp:
            review = await resp.text()
        assert 'id="pub-recording-failed"' in review and 'id="pub-publish"' in review
    moved = await asyncio.to_thread(run_cli, "session", "publish", str(session.id), "--as", "truongban",
                                    data_dir=server.settings.data_dir)
    assert json.loads(moved.stdout)["state"] == "published"
    async with http.get(f"{server.url}/api/v1/sessions/{session.id}/publication") as resp:
        data = await resp.json()
    assert data["video"] is False and data["chapters"] == [] and data["urls"]["mp4"] is None
    assert all(i["start_s"] is None for i in data["items"])
    for path in (f"/archive/{session.id}/portal.mp4", f"/archive/{session.id}/vod/index.m3u8", f"/embed/{session.id}"):
        assert await status(http, server.url + path) == 404, path
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        page = await resp.text()
    assert 'id="archive"' in page and "<video" not in page and "Câu hỏi thứ 3" in page
    assert "Câu hỏi thứ 2" not in page and len(data["items"]) == 2  # the complaint is not in the article
