"""A WHIP publisher and a WHEP player on GStreamer's webrtcbin: an encoder we did not write, run the
way a studio would run it (docs/video.md, "Encoders tried").

It runs on Debian's python3 with Debian's PyGObject and GStreamer (the project's venv does not see
Debian's `gi`) and uses nothing but the standard library besides, so tests start it as its own
process: `/usr/bin/python3 tests/gst_client.py publish|play URL TOKEN SECONDS`.

    publish URL TOKEN SECONDS    send a 1280x720 25 fps test picture (H.264) and a tone (Opus) for
                                 SECONDS, or until SIGTERM/SIGINT, then DELETE the resource
    play URL TOKEN SECONDS [--frames N] [--audio M]
                                 receive, decode and count; with --frames/--audio stop as soon as
                                 that much arrived (failing if SECONDS pass first)

Lines on stdout: `answered <resource URL>`, `connected`, and at the end one JSON object with what
was sent or received. A failure exits 1 with its reason on stderr.

No trickle ICE: the offer is posted once ICE gathering is complete, with every candidate in it, as
the WHIP and WHEP RFCs allow and the server expects.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import Gst, GstSdp, GstWebRTC  # noqa: E402

CONNECT_SECONDS = 30  # ICE and DTLS; generous: the machine is shared
HTTP_SECONDS = 30

# What the server's one encode speaks (docs/video.md): H.264 constrained baseline, packetization
# mode 1; Opus stereo. The payload numbers are ours to choose in an offer.
H264_CAPS = ("application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,"
             "packetization-mode=(string)1,profile-level-id=(string)42e01f,"
             "level-asymmetry-allowed=(string)1")
OPUS_CAPS = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,encoding-params=(string)2"

PUBLISH_PIPELINE = (
    "webrtcbin name=webrtc bundle-policy=max-bundle "
    "videotestsrc is-live=true pattern=smpte ! video/x-raw,width=1280,height=720,framerate=25/1 "
    "! videoconvert ! queue "
    "! x264enc tune=zerolatency speed-preset=veryfast key-int-max=25 bitrate=2000 "
    "! video/x-h264,profile=constrained-baseline "
    "! rtph264pay config-interval=-1 pt=96 ! application/x-rtp,media=video,encoding-name=H264,payload=96 "
    "! webrtc. "
    "audiotestsrc is-live=true wave=sine freq=1000 ! audio/x-raw,rate=48000,channels=2 "
    "! audioconvert ! audioresample ! opusenc "
    "! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! webrtc."
)


# SIGTERM or SIGINT: hang up (DELETE) and exit 0, as an encoder stopped by its operator would
STOP = threading.Event()


class Failure(Exception):
    """Why the run failed, for stderr."""


class Peer:
    """webrtcbin in a pipeline, driven from this thread: waits poll the pipeline's bus so an error
    posted there (DTLS, ICE, an element) ends the run with its message instead of a silent timeout."""

    def __init__(self, pipeline: Gst.Pipeline) -> None:
        self.pipeline = pipeline
        self.webrtc = pipeline.get_by_name("webrtc")
        self.gathered = threading.Event()
        self.candidates: list[tuple[int, str]] = []
        self.webrtc.connect("notify::ice-gathering-state", self._on_gathering)
        self.webrtc.connect("on-ice-candidate", self._on_candidate)

    def _on_gathering(self, webrtc: Gst.Element, _spec: Any) -> None:
        if webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            self.gathered.set()

    def _on_candidate(self, _webrtc: Gst.Element, mline: int, candidate: str) -> None:
        self.candidates.append((mline, candidate))

    def states(self) -> str:
        ice = self.webrtc.get_property("ice-connection-state").value_nick
        connection = self.webrtc.get_property("connection-state").value_nick
        return f"ice {ice}, connection {connection}"

    def wait(self, done: Callable[[], bool], seconds: float, what: str) -> bool:
        """Until done() or SIGTERM (False); Failure on a bus error or when the time runs out."""
        deadline = time.monotonic() + seconds
        bus = self.pipeline.get_bus()
        while not done():
            if STOP.is_set():
                return False
            message = bus.timed_pop_filtered(100 * Gst.MSECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
            if message is not None and message.type == Gst.MessageType.ERROR:
                err, debug = message.parse_error()
                raise Failure(f"{message.src.get_name()}: {err.message} ({debug}); {self.states()}")
            if message is not None:
                raise Failure(f"end of stream while waiting for {what}")
            if self.webrtc.get_property("connection-state") in (GstWebRTC.WebRTCPeerConnectionState.FAILED,
                                                                GstWebRTC.WebRTCPeerConnectionState.CLOSED):
                raise Failure(f"the connection broke while waiting for {what}; {self.states()}")
            if time.monotonic() > deadline:
                raise Failure(f"no {what} within {seconds:.0f} s; {self.states()}")
        return True

    def offer(self) -> str:
        """The complete offer: created, set as the local description, every candidate gathered."""
        made = Gst.Promise.new()
        self.webrtc.emit("create-offer", None, made)
        made.wait()
        # the reply belongs to its promise and the offer to the reply: all kept until the offer is
        # set (`promise.get_reply().get_value("offer")` in one expression crashes on 1.22's PyGObject)
        reply = made.get_reply()
        offer = reply.get_value("offer") if reply is not None else None
        if offer is None:
            raise Failure(f"webrtcbin made no offer: {reply.to_string() if reply else 'no reply'}")
        applied = Gst.Promise.new()
        self.webrtc.emit("set-local-description", offer, applied)
        applied.wait()
        self.wait(self.gathered.is_set, CONNECT_SECONDS, "end of ICE gathering")
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        return sdp if "a=candidate:" in sdp else _with_candidates(sdp, self.candidates)

    def answer(self, sdp: str) -> None:
        result, message = GstSdp.SDPMessage.new_from_text(sdp)
        if result != GstSdp.SDPResult.OK:
            raise Failure(f"the answer is not SDP: {sdp[:200]!r}")
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        promise = Gst.Promise.new()
        self.webrtc.emit("set-remote-description", answer, promise)
        promise.wait()
        reply = promise.get_reply()
        if reply is not None and reply.has_field("error"):
            raise Failure(f"webrtcbin refused the answer: {reply.get_value('error').message}")

    def connected(self) -> bool:
        return self.webrtc.get_property("connection-state") == GstWebRTC.WebRTCPeerConnectionState.CONNECTED


def _with_candidates(sdp: str, candidates: list[tuple[int, str]]) -> str:
    """The offer with the gathered candidates written into their m-sections (webrtcbin versions
    that leave them out of the local description)."""
    out: list[str] = []
    mline = -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            mline += 1
        out.append(line)
        if line.startswith("a=mid:"):
            out.extend(f"a={c}" for m, c in candidates if m == mline)
    return "\r\n".join(out) + "\r\n"


def _http(method: str, url: str, token: str | None, body: str | None = None) -> tuple[int, str, Any]:
    headers = {"Content-Type": "application/sdp"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_SECONDS) as response:  # noqa: S310 (our URL)
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace"), err.headers


def _exchange(peer: Peer, url: str, token: str) -> str:
    """POST the offer, apply the answer; returns the resource URL (Location)."""
    status, body, headers = _http("POST", url, token, peer.offer())
    if status != 201:
        raise Failure(f"POST {url}: {status} {body}")
    location = headers.get("Location")
    if not location:
        raise Failure(f"POST {url}: 201 without Location")
    peer.answer(body)
    return urllib.parse.urljoin(url, location)


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 (the test reads it)


def _run(peer: Peer, url: str, token: str, seconds: float, enough: Callable[[], bool] | None,
         result: Callable[[], dict[str, Any]], hang_up_token: str | None) -> None:
    if peer.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        raise Failure("the pipeline does not start (a GStreamer plugin missing?)")
    resource = None
    try:
        resource = _exchange(peer, url, token)
        _say(f"answered {resource}")
        if not peer.wait(peer.connected, CONNECT_SECONDS, "connection (ICE and DTLS)"):
            return
        _say("connected")
        until = time.monotonic() + seconds
        try:
            peer.wait(enough or (lambda: False), seconds, "media")
        except Failure:
            if enough is not None or time.monotonic() < until:
                raise  # a real error, or not enough media in time
        _say(json.dumps({**result(), "seconds": round(time.monotonic() - until + seconds, 1)}))
    finally:
        if resource is not None:
            status, body, _ = _http("DELETE", resource, hang_up_token)
            if status != 200:
                print(f"DELETE {resource}: {status} {body}", file=sys.stderr)  # noqa: T201
        peer.pipeline.set_state(Gst.State.NULL)


def publish(url: str, token: str, seconds: float) -> None:
    peer = Peer(Gst.parse_launch(PUBLISH_PIPELINE))
    # the offer is made once both payloaders' caps (sprop-parameter-sets, profile) reached webrtcbin
    sinks = [pad for pad in peer.webrtc.sinkpads]
    peer.pipeline.set_state(Gst.State.PLAYING)
    peer.wait(lambda: all(pad.get_current_caps() is not None for pad in sinks), CONNECT_SECONDS,
              "caps from the encoders")
    _run(peer, url, token, seconds, None, lambda: {"sent": True}, token)


class Counts:
    """What the player decoded: pictures with their size, and audio buffers."""

    def __init__(self) -> None:
        self.video_frames = 0
        self.audio_buffers = 0
        self.size: tuple[int, int] | None = None
        self.lock = threading.Lock()

    def on_buffer(self, _sink: Gst.Element, _buffer: Gst.Buffer, pad: Gst.Pad) -> None:
        caps = pad.get_current_caps()
        s = caps.get_structure(0) if caps is not None else None
        with self.lock:
            if s is not None and s.get_name().startswith("video/"):
                self.video_frames += 1
                self.size = (s.get_value("width"), s.get_value("height"))
            elif s is not None and s.get_name().startswith("audio/"):
                self.audio_buffers += 1

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            return {"video_frames": self.video_frames, "audio_buffers": self.audio_buffers,
                    "width": self.size[0] if self.size else None, "height": self.size[1] if self.size else None}


def play(url: str, token: str, seconds: float, frames: int | None, audio: int | None) -> None:
    pipeline = Gst.Pipeline.new("player")
    webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
    if webrtc is None:
        raise Failure("no webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice)")
    webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
    pipeline.add(webrtc)
    counts = Counts()
    for caps in (H264_CAPS, OPUS_CAPS):
        webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                    Gst.Caps.from_string(caps))

    def decoded(_decodebin: Gst.Element, pad: Gst.Pad) -> None:
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)  # count as it comes; pacing is the sender's
        sink.set_property("signal-handoffs", True)
        sink.connect("handoff", counts.on_buffer)
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    def incoming(_webrtc: Gst.Element, pad: Gst.Pad) -> None:
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        decodebin = Gst.ElementFactory.make("decodebin")
        decodebin.connect("pad-added", decoded)
        pipeline.add(decodebin)
        decodebin.sync_state_with_parent()
        pad.link(decodebin.get_static_pad("sink"))

    webrtc.connect("pad-added", incoming)
    peer = Peer(pipeline)
    enough = None
    if frames is not None or audio is not None:
        def enough() -> bool:
            got = counts.as_json()
            return got["video_frames"] >= (frames or 0) and got["audio_buffers"] >= (audio or 0)
    _run(peer, url, token, seconds, enough, counts.as_json, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["publish", "play"])
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("seconds", type=float)
    parser.add_argument("--frames", type=int, help="play: stop once this many pictures are decoded")
    parser.add_argument("--audio", type=int, help="play: ... and this many audio buffers")
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: STOP.set())
    Gst.init(None)
    missing = [name for name in ("webrtcbin", "nicesrc", "dtlssrtpenc", "x264enc", "opusenc", "avdec_h264",
                                 "opusdec") if Gst.ElementFactory.find(name) is None]
    if missing:
        print(f"GStreamer elements missing: {', '.join(missing)} (make system-packages)", file=sys.stderr)  # noqa: T201
        return 2
    try:
        if args.mode == "publish":
            publish(args.url, args.token, args.seconds)
        else:
            play(args.url, args.token, args.seconds, args.frames, args.audio)
    except Failure as failure:
        print(f"{args.mode} failed: {failure}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
