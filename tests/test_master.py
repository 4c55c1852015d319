"""The broadcast master (stream/master.py) and its conformance report (stream/conformance.py,
stream/conformance_pdf.py, server/master_pages.py), on programmes built with ffmpeg lavfi like the
recorder's (H.264 + AAC 48 kHz stereo in MPEG-TS with its index): one too loud, one too quiet, one
quiet with clicks that linear normalisation cannot lift. Real ffmpeg, a real server, a real sign-in."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from moderation.accounts import Accounts
from moderation.sessions import SessionState
from server.config import load_settings
from server.keys import accounts_key
from stream.conformance import measure_ebur128, summary
from stream.master import (
    DEFAULT_PROFILE,
    PROFILES,
    MasterError,
    Profile,
    make_master,
    master_path,
    measure_loudnorm,
    probe,
    profile_named,
)
from stream.recording_files import RecordingFiles
from tests.conftest import RunningServer
from tests.staff import PASSWORD
from tests.test_authorization import sign_in

SPEECH = ("{a}*(0.55+0.45*sin(2*PI*3.3*t+{p}))*(0.6*(random({p})*2-1)+0.4*sin(2*PI*({f}+40*sin(2*PI*0.5*t))*t))"
          "*gt(mod(t\\,2.6)\\,0.4)")  # syllables of noise and a gliding voice, with pauses
CLICK = "+0.9*lt(mod(t\\,5)\\,0.00004)"  # two samples near full scale every 5 s


def programme(directory: Path, level: float, seconds: int, *, clicks: bool = False) -> RecordingFiles:
    """recordings/<id>/programme.ts + programme.idx as the recorder leaves them (one closed run)."""
    directory.mkdir(parents=True, exist_ok=True)
    click = CLICK if clicks else ""
    left = SPEECH.format(a=level, p=0, f=180) + click
    right = SPEECH.format(a=level, p=1, f=200) + click
    files = RecordingFiles(directory)
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=s=320x180:r=25:d={seconds}",
                    "-f", "lavfi", "-i", f"aevalsrc='{left}|{right}':s=48000:d={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-b:v", "150k",
                    "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", str(files.video)], check=True)
    size = files.video.stat().st_size
    files.index.write_text(json.dumps({"origin": 1_800_000_000.0, "fps": 25}) + "\n"
                           + json.dumps({"run": 1, "t": 0.0, "wall": 1_800_000_000.0, "at": 0}) + "\n"
                           + json.dumps({"end": size, "t": float(seconds)}) + "\n")
    return files


def loudness(path: Path) -> dict[str, float]:
    return measure_ebur128(path)


class Steps:
    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []

    def __call__(self, fraction: float, step: str) -> None:
        self.seen.append((fraction, step))


def timed(files: RecordingFiles, profile: Profile) -> tuple[dict[str, Any], Steps, float]:
    steps = Steps()
    start = time.monotonic()
    made = make_master(files, profile, steps)
    return made, steps, time.monotonic() - start


def assert_conforms(made: dict[str, Any], profile: Profile, *, width: int, height: int) -> dict[str, Any]:
    master = Path(made["master"])
    assert master == master_path(RecordingFiles(master.parent.parent), profile) and master.is_file()
    # measured here again, apart from the report: the delivered file as a station's tools read it
    loud = loudness(master)
    assert abs(loud["integrated_lufs"] - profile.integrated_lufs) <= profile.tolerance_lu, loud
    assert loud["true_peak_dbtp"] <= profile.true_peak_max_dbtp, loud
    info = probe(master)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", width, height)
    assert video["avg_frame_rate"] == "25/1"
    assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == (profile.audio_codec, 48000, 2)
    report = json.loads(Path(made["report_json"]).read_text(encoding="utf-8"))
    assert report == json.loads(json.dumps(made["report"]))
    assert report["pass"] is True, [c for c in report["checks"] if not c["pass"]]
    assert {c["name"] for c in report["checks"]} >= {"integrated_lufs", "true_peak_dbtp", "loudness_range_lu",
                                                     "frame_rate", "video_codec", "audio_codec", "sample_rate",
                                                     "channels"}
    assert abs(report["integrated_lufs"] - loud["integrated_lufs"]) <= 0.05
    assert report["file"]["name"] == master.name and len(report["file"]["sha256"]) == 64
    assert report["measured_with"].startswith("ffmpeg ") and "ebur128" in report["measured_with"]
    assert report["profile"]["name"] == profile.name
    for key in ("max_momentary_lufs", "max_short_term_lufs", "loudness_range_lu", "duration_s"):
        assert isinstance(report[key], float), key
    assert report["max_momentary_lufs"] >= report["max_short_term_lufs"] > -70
    assert Path(made["report_pdf"]).read_bytes().startswith(b"%PDF")
    assert not list(master.parent.glob(".*")), "no partial file is left behind"
    return report


def assert_progress(steps: Steps) -> None:
    fractions = [f for f, _ in steps.seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"measure", "master", "done"} <= {s for _, s in steps.seen}


def test_profiles() -> None:
    assert DEFAULT_PROFILE.name in PROFILES and PROFILES["default"] is DEFAULT_PROFILE
    assert (DEFAULT_PROFILE.container, DEFAULT_PROFILE.video, DEFAULT_PROFILE.audio_codec) == ("mp4", "keep", "aac")
    assert (DEFAULT_PROFILE.sample_rate, DEFAULT_PROFILE.channels, DEFAULT_PROFILE.integrated_lufs,
            DEFAULT_PROFILE.tolerance_lu, DEFAULT_PROFILE.true_peak_max_dbtp) == (48000, 2, -23.0, 0.5, -1.0)
    assert profile_named("hd1080").video == "hd1080"
    assert profile_named("pcm").audio_codec == "pcm_s24le"
    with pytest.raises(ValueError, match="unknown master profile 'nope'; known profiles: default, hd1080, pcm"):
        profile_named("nope")
    # a station's profile from a setting: a dict, checked
    vtv = Profile.from_dict({**DEFAULT_PROFILE.to_dict(), "name": "vtv", "label": "VTV", "integrated_lufs": -24.0})
    assert vtv.integrated_lufs == -24.0 and Profile.from_dict(vtv.to_dict()) == vtv
    with pytest.raises(ValueError, match="profile x: unknown fields colour; known: name, label, container"):
        Profile.from_dict({"name": "x", "label": "x", "colour": "red"})
    with pytest.raises(ValueError, match="PCM sound needs the mov container"):
        Profile.from_dict({"name": "x", "label": "x", "audio_codec": "pcm_s24le"})


def test_station_profiles_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings file's tables (docs/recording.md's example, read from the doc so the two cannot
    drift), the environment's JSON, and every bad value refused with the setting and field named."""
    doc = (Path(__file__).parents[1] / "docs" / "recording.md").read_text(encoding="utf-8")
    example = tmp_path / "station.toml"
    example.write_text(doc.split("```toml\n", 1)[1].split("```", 1)[0], encoding="utf-8")
    settings = load_settings(example)
    profiles = settings.station_profiles()
    assert list(profiles) == ["default", "hd1080", "pcm", "thp", "hd"] and settings.master_profile == "thp"
    thp = profiles["thp"]
    assert (thp.container, thp.audio_codec, thp.tolerance_lu, thp.integrated_lufs, thp.sample_rate) == (
        "mov", "pcm_s24le", 1.0, -23.0, 48000)  # what the table does not give is the default's
    assert (profiles["hd"].video, profiles["hd"].video_bitrate, profiles["hd"].label) == (
        "hd1080", "20M", "1080p 25 at 20 Mbit/s")
    monkeypatch.setenv("DOITHOAI_MASTER_PROFILES", '{"default": {"integrated_lufs": -24}}')
    replaced = load_settings().station_profiles()["default"]  # a built-in one replaced by the station's
    assert (replaced.integrated_lufs, replaced.label) == (-24.0, "default")
    monkeypatch.setenv("DOITHOAI_MASTER_PROFILES", "{not json")
    with pytest.raises(ValueError, match="setting master_profiles: '{not json' will not do"):
        load_settings()
    monkeypatch.setenv("DOITHOAI_MASTER_PROFILES", "[]")
    with pytest.raises(ValueError, match=r"setting master_profiles: .*a table \(a JSON object in the environment\) is needed"):
        load_settings()
    monkeypatch.delenv("DOITHOAI_MASTER_PROFILES")
    for table, why in ((["sample_rate = 22050"], "sample_rate must be 32000, 44100, 48000 or 96000"),
                       (['video_bitrate = "fast"'], "video_bitrate must be a bit rate like 192k or 15M"),
                       (["true_peak_max_dbtp = 2"], "true_peak_max_dbtp -8 to 0"),
                       (["true_peak_max_dbtp = -8.5"], "true_peak_max_dbtp -8 to 0"),  # AAC aims 1 dB under
                       (["channels = true"], "channels must be a whole number, not True"),
                       (['name = "other"'], "its name is the table's name, not 'other'"),
                       (['x264_preset = "quick"'], "x264_preset must be one of ultrafast")):
        example.write_text("[master_profiles.thp]\n" + "\n".join(table) + "\n", encoding="utf-8")
        with pytest.raises(ValueError, match=f"setting master_profiles: profile thp: .*{why}"):
            load_settings(example)
    example.write_text('master_profiles = {thp = 3}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="profile thp: a table of profile fields is needed, not 3"):
        load_settings(example)
    with pytest.raises(ValueError, match="setting master_profile: 'nope' is not a profile; known profiles: default"):
        load_settings(overrides={"master_profile": "nope"})


def test_summary_parsing() -> None:
    stderr = ("[Parsed_ebur128_0 @ 0x1] t: 0.4  TARGET:-23 LUFS    M: -30.5 S: -120.7     I: -30.5 LUFS\n"
              "[Parsed_ebur128_0 @ 0x1] t: 3.0  TARGET:-23 LUFS    M: -21.2 S: -24.0     I: -25.0 LUFS\n"
              "[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -23.1 LUFS\n"
              "    Threshold: -33.5 LUFS\n\n  Loudness range:\n    LRA:         5.4 LU\n    Threshold: -43.5 LUFS\n"
              "\n  True peak:\n    Peak:       -2.6 dBFS\n")
    assert summary(stderr) == {"integrated_lufs": -23.1, "loudness_range_lu": 5.4, "true_peak_dbtp": -2.6,
                               "max_momentary_lufs": -21.2, "max_short_term_lufs": -24.0}


def test_too_loud_programme_master_keeps_video(tmp_path: Path) -> None:
    files = programme(tmp_path / "7", 0.9, 24)
    before = loudness(files.video)
    assert before["integrated_lufs"] > -12 and before["true_peak_dbtp"] > -1.5, before  # really too loud
    made, steps, took = timed(files, DEFAULT_PROFILE)
    report = assert_conforms(made, DEFAULT_PROFILE, width=320, height=180)
    assert made["fallback"] is None and report["fallback"] is None
    assert report["loudnorm"]["pass2"]["normalization_type"] == "linear"
    assert_progress(steps)
    print(f"\nmaster-keep: {took:.2f} s for {report['duration_s']:.1f} s = {took / report['duration_s']:.3f}x")  # noqa: T201 (a figure to read)


def test_too_quiet_programme_default_and_pcm(tmp_path: Path) -> None:
    files = programme(tmp_path / "8", 0.03, 20)
    before = loudness(files.video)
    assert before["integrated_lufs"] < -35, before
    made, steps, _ = timed(files, DEFAULT_PROFILE)
    assert_conforms(made, DEFAULT_PROFILE, width=320, height=180)
    assert made["fallback"] is None
    pcm = profile_named("pcm")
    made, _, _ = timed(files, pcm)
    assert Path(made["master"]).name == "pcm.mov"
    assert_conforms(made, pcm, width=320, height=180)


def test_linear_impossible_falls_back_to_a_limiter_and_says_so(tmp_path: Path) -> None:
    files = programme(tmp_path / "9", 0.03, 20, clicks=True)
    made, _, _ = timed(files, DEFAULT_PROFILE)
    first = made["report"]["loudnorm"]["pass1"]
    # the one gain that reaches -23 LUFS would put the clicks' true peak far over the limit
    assert float(first["input_tp"]) + (-23.0 - float(first["input_i"])) > 5.0
    fallback = made["fallback"]
    assert fallback is not None and fallback["mode"] == "limiter"
    assert "true peak" in fallback["reason"] and "dBTP" in fallback["reason"]
    assert made["report"]["fallback"] == fallback
    report = assert_conforms(made, DEFAULT_PROFILE, width=320, height=180)
    assert report["loudnorm"]["pass2"] is None  # loudnorm did not make this one: the limiter did
    text = subprocess.run(["pdftotext", "-layout", made["report_pdf"], "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "chế độ" in text or "Chuẩn hoá tuyến tính" in text, text
    assert "dBTP" in text and report["file"]["sha256"] in text


def test_hd1080_reencodes_with_closed_gops(tmp_path: Path) -> None:
    files = programme(tmp_path / "10", 0.9, 6)
    hd = profile_named("hd1080")
    made, steps, took = timed(files, hd)
    report = assert_conforms(made, hd, width=1920, height=1080)
    assert any(c["name"] == "resolution" and c["pass"] for c in report["checks"])
    stream = probe(Path(made["master"]))["streams"][0]
    assert stream["profile"] == "High"
    keys = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                           "-of", "csv=p=0", made["master"]], capture_output=True, text=True, check=True).stdout
    flags = keys.split()
    assert [i for i, f in enumerate(flags) if f.startswith("K")] == list(range(0, len(flags), 25))
    assert_progress(steps)
    print(f"\nmaster-1080p: {took:.2f} s for {report['duration_s']:.1f} s = {took / report['duration_s']:.3f}x")  # noqa: T201 (a figure to read)


def test_portal_mp4_preferred_and_wrong_rate_refused(tmp_path: Path) -> None:
    files = programme(tmp_path / "11", 0.9, 6)
    # a 30 fps portal MP4 beside it: the master reads it first, and "keep" cannot make 25 fps of it
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(files.video),
                    "-vf", "fps=30", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(files.portal_mp4)],
                   check=True)
    with pytest.raises(MasterError, match="30 fps.*needs 25 fps"):
        make_master(files, DEFAULT_PROFILE, Steps())
    assert not files.master("default").exists()
    silent = programme(tmp_path / "13", 0.0, 4)
    with pytest.raises(MasterError, match="is silent"):
        make_master(silent, DEFAULT_PROFILE, Steps())
    assert not silent.masters.exists() or not list(silent.masters.iterdir())
    with pytest.raises(MasterError, match="no recording"):
        make_master(RecordingFiles(tmp_path / "none"), DEFAULT_PROFILE, Steps())


async def test_staff_page_shows_the_report(start_server: Any, tmp_path: Path) -> None:
    server: RunningServer = await start_server()
    session = await server.new_session(SessionState.CLOSED)
    files = RecordingFiles.of(server.settings.recordings_path, session.id)
    made = make_master(programme(files.directory, 0.03, 12, clicks=True), DEFAULT_PROFILE, Steps())
    accounts: Accounts = server.app[accounts_key]
    await accounts.add_user("mst-editor", "editor", PASSWORD)
    await accounts.add_user("mst-responder", "responder", PASSWORD, department="Sở Xây dựng")
    base = f"{server.url}/staff/sessions/{session.id}/recording"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await sign_in(server, http, "mst-editor")
        async with http.get(f"{base}/master/default/report") as resp:
            assert resp.status == 200
            page = await resp.text()
        assert 'id="mst-verdict"' in page and 'data-pass="true"' in page
        assert made["report"]["file"]["sha256"] in page
        assert 'id="mst-fallback"' in page and "dBTP" in page  # the limiter is said
        assert page.count("<tr data-check=") == len(made["report"]["checks"])
        assert "Độ lớn tích hợp" in page and "-23.0 ± 0.5 LUFS" in page
        for link in ("default.report.pdf", "default.report.json", "default.mp4"):
            assert f"/recording/master/{link}" in page
            async with http.get(f"{base}/master/{link}") as resp:
                assert resp.status == 200, link
                body = await resp.read()
            assert body == (files.masters / link).read_bytes()
        async with http.get(f"{base}/master/hd1080/report") as resp:
            assert resp.status == 404  # not made yet
            assert 'id="mst-none"' in await resp.text()
        async with http.get(f"{base}/master/..%2Fx/report") as resp:
            assert resp.status == 404
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await sign_in(server, http, "mst-responder")
        async with http.get(f"{base}/master/default/report") as resp:
            assert resp.status == 403
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/master/default/report", allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")


def test_report_pdf_renders(tmp_path: Path) -> None:
    files = programme(tmp_path / "12", 0.9, 6)
    made = make_master(files, DEFAULT_PROFILE, Steps())
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "50", "-png", made["report_pdf"], str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and pages[0].stat().st_size > 5000
    text = subprocess.run(["pdftotext", "-layout", made["report_pdf"], "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Biên bản kiểm tra bản phát sóng" in text and "Broadcast master conformance report" in text
    assert "ĐẠT / PASS" in text and "Kỹ thuật viên kiểm tra" in text and "default.mp4" in text


async def test_report_page_on_a_phone(start_server: Any, browser: Any, tmp_path: Path) -> None:
    from tests.browser import PHONE, log_in, screenshot

    server: RunningServer = await start_server()
    session = await server.new_session(SessionState.CLOSED)
    files = RecordingFiles.of(server.settings.recordings_path, session.id)
    make_master(programme(files.directory, 0.03, 8, clicks=True), DEFAULT_PROFILE, Steps())
    await server.app[accounts_key].add_user("mst-head", "head", PASSWORD)
    path = f"/staff/sessions/{session.id}/recording/master/default/report"
    context = await browser.new_context(viewport=PHONE, locale="vi-VN")
    page = await context.new_page()
    await page.goto(f"{server.url}{path}")
    await log_in(page, "mst-head", PASSWORD, path, ready="#mst-checks")
    assert await page.locator("#mst-checks tbody tr").count() == 9
    assert await page.locator("#mst-fallback").is_visible()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off the side
    shot = await screenshot(page, "staff-master-report.png")
    assert shot.stat().st_size > 10000
    await context.close()


def test_the_first_pass_measures_the_true_peak_not_the_sample_peak(tmp_path: Path) -> None:
    """A 12 kHz tone sampled 45 degrees off its crests: every sample is 3 dB under the wave's peak.
    Pass 1's input_tp must be the true peak (ebur128's, 4x oversampled, measured apart), or the
    master's choice between linear gain and the limiter would be made on a peak 3 dB too low."""
    tone = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "aevalsrc=0.5*sin(2*PI*12000*t+PI/4)|0.5*sin(2*PI*12000*t+PI/4):s=48000:d=6", str(tone)],
                   check=True, timeout=60)
    first = measure_loudnorm(tone, DEFAULT_PROFILE, 6.0, lambda *_: None, 0.1)
    apart = measure_ebur128(tone)
    sample_peak = 20 * math.log10(0.5 * math.sqrt(0.5))  # -9.0 dBFS: what a peak read off the samples says
    assert apart["true_peak_dbtp"] > sample_peak + 2.5  # the tone's crests, between the samples: about -6
    assert float(first["input_tp"]) == pytest.approx(apart["true_peak_dbtp"], abs=0.3), (first, apart)
    assert float(first["input_i"]) == pytest.approx(apart["integrated_lufs"], abs=0.2)
