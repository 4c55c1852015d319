"""Settings: defaults, then an optional TOML file, then DOITHOAI_* environment variables, then the
command line (each overrides the one before)."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from moderation.store import sqlite_url
from stream.hls.rendition import DEFAULT_LADDER, parse_ladder
from stream.master import DEFAULT_PROFILE, Profile, station_profiles


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    database: str | None = None  # SQLAlchemy URL; default: SQLite under data_dir
    # Public origin(s) allowed to open the viewer websocket and post forms, besides the server's own.
    allowed_origins: list[str] = field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For we believe (CIDRs). Empty: the peer address is the client.
    trusted_proxies: list[str] = field(default_factory=list)
    rate_limit: bool = True
    # Intake limits: generous, since many viewers share one carrier-grade NAT address.
    questions_per_ip_per_minute: int = 120
    questions_per_ip_burst: int = 60
    questions_per_connection_per_minute: int = 12
    questions_per_connection_burst: int = 6
    interest_per_connection_per_minute: int = 120
    interest_per_ip_per_minute: int = 600
    sign_ins_per_ip_per_minute: int = 20
    connections_per_ip_per_minute: int = 600
    # What may wait to be sent to one Socket.IO client (any namespace) before it is dropped; it
    # reconnects and its `join` answers with a fresh snapshot (server/socket_limits.py). Home
    # Assistant drops at 2,048 messages. The bounds are on what already waits: one answer larger
    # than the byte bound (the snapshot of a big session) is still sent.
    socket_outbox_messages: int = 2048
    socket_outbox_bytes: int = 4 * 1024 * 1024
    secret_key: str = ""  # signs CSRF tokens; generated and kept in data_dir when empty
    session_poll_seconds: float = 0.5
    # How often staff sockets' sign-ins are checked again (a sign-out on another node, an expiry, a
    # token revoked or an account disabled from the CLI); a sign-out on this node closes them at once.
    staff_recheck_seconds: float = 15.0
    privacy_retention_seconds: float = 86400.0  # privacy: how often the retention job runs (moderation/retention.py)
    # Live video (docs/video.md): the media worker, and the one encode every output shares.
    media: bool = True
    video_width: int = 1280
    video_height: int = 720
    video_bitrate: int = 2_500_000
    hls_dvr_minutes: int = 30
    # The HLS renditions, the top one first (stream/hls/rendition.py): the top is the encode above
    # (its size and rate), each one below is encoded once more; "audio" is sound only.
    video_ladder: str = DEFAULT_LADDER
    # The media worker's niceness (0-19): on a busy machine the questions come before the pictures,
    # so intake keeps its latency while x264 waits (bench/video.py "intake"); 0 to run them level.
    media_worker_nice: int = 10
    # Hosts and networks (CIDRs) a pull feed may reach besides public addresses: a studio encoder on
    # the LAN, say ["10.20.0.0/24", "encoder.studio"]. Empty: public addresses only, so no feed URL
    # reaches this machine, its network or a cloud's metadata service (stream/feed_policy.py).
    feed_allowed_networks: list[str] = field(default_factory=list)
    # Low-latency (WHEP) viewers per session, and how long an answered offer may take to connect
    # before its slot is given back.
    whep_max_viewers: int = 200
    whep_connect_seconds: float = 15.0  # also how long a WHIP publisher may take before it is failed
    # ICE for WHIP/WHEP (docs/video.md "ICE"): the public address a 1:1 NAT maps to this host,
    # advertised beside the private host candidates; a STUN server (none by default: no lookups to
    # outside); TURN servers ("turn:host:3478?transport=udp", "turns:host:5349") with one username
    # and credential; loopback host candidates, for an encoder on this machine.
    ice_public_ip: str = ""
    ice_stun_url: str = ""
    ice_turn_urls: list[str] = field(default_factory=list)
    ice_turn_username: str = ""
    ice_turn_credential: str = ""
    ice_loopback: bool = True
    # The recording (docs/recording.md): live sessions are recorded under recordings_dir/<session>/
    # (default: data_dir/recordings). fsync once a second costs little and survives a power cut.
    recording: bool = True
    recordings_dir: Path | None = None
    recording_fsync: bool = False
    recording_start_free_mb: int = 2048  # refuse to start recording with less free
    recording_warn_free_mb: int = 4096  # warn the console below this
    recording_floor_free_mb: int = 512  # stop recording below this: the store keeps room for the questions
    # The broadcast master's profiles (docs/recording.md "Station profiles"): stream/master.py's
    # built-in ones and a station's own, one TOML table each giving only what differs from the
    # default profile ([master_profiles.vtv] integrated_lufs = -24.0); master_profile is the one a
    # master is made to when none is asked for.
    master_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    master_profile: str = DEFAULT_PROFILE.name
    log_level: str = "INFO"
    # -- notify: telling the askers and the departments (notify/, docs/api.md "Notifications") --
    # The public origin the receipt links in messages point to, e.g. "https://doithoai.haiphong.gov.vn".
    public_url: str = ""
    # Mail (aiosmtplib): empty smtp_host leaves e-mail rows pending in the outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    smtp_ca_file: str = ""  # a CA bundle (PEM) for a mail server whose certificate an internal CA signed
    smtp_timeout_seconds: float = 30.0
    # SMS through an HTTP gateway (POST JSON {to, text, ref}, bearer sms_token): empty sms_url leaves
    # SMS rows pending.
    sms_url: str = ""
    sms_token: str = ""
    sms_sender: str = ""  # the brandname the gateway sends as
    sms_timeout_seconds: float = 30.0
    # The sender loop (notify/sender.py): how often it looks for due rows, how long a claim holds,
    # the back-off (doubling from base, capped, with jitter) and the attempts before a row is dead.
    notify: bool = True
    notify_poll_seconds: float = 5.0
    notify_lease_seconds: float = 120.0
    notify_backoff_seconds: float = 60.0
    notify_backoff_max_seconds: float = 6 * 3600.0
    notify_max_attempts: int = 8
    # Departments are reminded this many working days before their deadline (and when overdue).
    remind_working_days_before: int = 2
    # -- end notify --

    def station_profiles(self) -> dict[str, Profile]:
        return station_profiles(self.master_profiles)

    @property
    def recordings_path(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def database_url(self) -> str:
        return self.database or sqlite_url(self.data_dir)

    def trusted_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies]

    def ensure_data_dir(self) -> None:
        try:
            self.data_dir.mkdir(parents=True)
        except FileExistsError:
            pass  # an operator's directory keeps its mode; the store's files in it are 0600 (moderation/store.py)
        else:
            # the store, its keys and the recordings: the server's account only (umask would leave 0755)
            self.data_dir.chmod(0o700)
        if not self.secret_key:
            key_file = self.data_dir / "secret_key"
            if not key_file.exists():
                # created 0600, never readable by others even for a moment
                with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                    out.write(secrets.token_urlsafe(32))
            self.secret_key = key_file.read_text().strip()


def _coerce(name: str, value: Any, current: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(current, int) and not isinstance(current, bool):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path) or name.endswith("_dir"):  # a path, set or not yet (recordings_dir)
        return Path(value) if value not in (None, "") else None
    if isinstance(current, dict):  # a TOML table, or JSON in the environment
        table = json.loads(value) if isinstance(value, str) else value
        if not isinstance(table, dict):
            raise ValueError("a table (a JSON object in the environment) is needed")
        return table
    if isinstance(current, list):
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return list(value)
    return value


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    known = {f.name for f in fields(Settings)}
    layers: list[dict[str, Any]] = []
    config_file = config_file or (Path(os.environ["DOITHOAI_CONFIG"]) if "DOITHOAI_CONFIG" in os.environ else None)
    if config_file:
        with config_file.open("rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{config_file}: unknown settings {', '.join(sorted(unknown))}")
        layers.append(data)
    layers.append(
        {name: os.environ[f"DOITHOAI_{name.upper()}"] for name in known if f"DOITHOAI_{name.upper()}" in os.environ}
    )
    layers.append({k: v for k, v in (overrides or {}).items() if v is not None})
    for layer in layers:
        for name, value in layer.items():
            try:
                setattr(settings, name, _coerce(name, value, getattr(settings, name)))
            except (ValueError, TypeError) as exc:  # "abc" for a port, bad JSON for a table: name the setting
                raise ValueError(f"setting {name}: {value!r} will not do ({exc})") from None
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    """Values a type alone does not check, refused with the setting's name at start-up rather than
    by the media worker later."""
    try:
        parse_ladder(settings.video_ladder)
    except ValueError as exc:
        raise ValueError(f"setting video_ladder: {exc}") from None
    if settings.ice_public_ip:  # a clear message at start-up, not a worker that dies in a loop
        try:
            ipaddress.ip_address(settings.ice_public_ip)
        except ValueError:
            raise ValueError(f"setting ice_public_ip: {settings.ice_public_ip!r} is not an IP address") from None
    try:
        profiles = settings.station_profiles()
    except ValueError as exc:
        raise ValueError(f"setting master_profiles: {exc}") from None
    if settings.master_profile not in profiles:
        raise ValueError(f"setting master_profile: {settings.master_profile!r} is not a profile; "
                         f"known profiles: {', '.join(profiles)}")
    if not 0 <= settings.media_worker_nice <= 19:
        raise ValueError(f"setting media_worker_nice: {settings.media_worker_nice} is not a niceness from 0 to 19")
