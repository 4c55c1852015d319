"""Fan-out benchmark: a moderator's action reaching 2,000 viewers and 5 moderators.

Issue (moderation): "2,000 connected viewers and 5 moderators; a moderator action reaches every
client; prints p50/p99 delivery latency. Goal: p99 under 500 ms on this machine with the load
generator on the same machine."

Targets, one after the other, each a single server process on 127.0.0.1:

  1. baseline  bench/broadcast_server.py: a bare python-socketio AsyncServer whose `action` handler
               bumps an in-memory version and emits `question` to the moderators' room, then to the
               viewers' room, payloads of the real shapes: python-socketio's own fan-out cost. It
               runs with the settings `doithoai serve` applies (gc.freeze, a young-generation GC
               threshold of 50,000, a 0.5 ms switch interval; JSON without \\u escapes), so that it
               is the floor;
     stock     (only with --targets ...,stock) the same with python-socketio's and CPython's
               defaults (stdlib JSON with \\u escapes, default GC thresholds);
  2. doithoai  `doithoai serve --no-rate-limit` on a fresh SQLite data dir: a live session (CLI
               `session create/announce/start`), 5 editors (`user add`, `user token`), a few
               questions sent to `POST /api/v1/sessions/{id}/questions` and accepted over
               `/moderator` (`action accept`).

Clients (the same for both):
  - viewers: split over --workers processes (bench/fanout_worker.py, a light raw-websocket
    Socket.IO v5 client, like bench/sio_load.py), each connects `/viewer`, emits `join {session_id}`
    (ack awaited), then listens;
  - moderators: in this process, the same light client on `/moderator` with `auth: {token}`, each
    `join {session_id}`; the first one is the driver.

Drive: the driver performs --actions actions on one accepted public question, one every --interval
seconds (the next one waits for the previous ack, which carries the new version), alternating
`star {starred: true}` / `star {starred: false}`; t_send(k) = time.monotonic() just before the emit.
Every action bumps the question's version; the server then emits `question` to the staff room (a
staff dict with `version`) and to the viewers' room (the public dict, no version).

Correlation: a moderator's event is matched to its action by `version` (the ack of action k tells
its version). A viewer gets exactly one `question` event per action for that question id, so its
k-th event is the k-th action (matched in order; an event arriving before t_send(k) while action k
is being matched can only be a duplicate of an earlier one and is counted as an extra). Latency =
arrival (time.monotonic() in the listener, one clock for every process on Linux) - t_send(k), for
every (client, action) pair. Printed per target and audience: delivered/expected, misses, extras,
p50/p99/max, and the "last client" latency of each action (the slowest of its 2,000 deliveries:
median and max over actions); the driver's ack latency; CPU seconds of the server (process tree),
the listeners and this process in the drive window; the p99 ratio doithoai/baseline.

    .venv/bin/python bench/fanout.py                         # 2,000 viewers, 5 moderators, 60 actions
    .venv/bin/python bench/fanout.py --repeat 3              # rounds; medians at the end
    .venv/bin/python bench/fanout.py --targets baseline --viewers 500 --actions 20
    .venv/bin/python bench/fanout.py --json > out.json       # the full result on stdout (tables on stderr)

The full result also goes to bench/results/fanout-<time>.json (gitignored).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import aiohttp

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from fanout_worker import LightClient, raise_nofile  # noqa: E402
from intake import (  # noqa: E402
    HOST,
    ROOT,
    Server,
    default_doithoai,
    free_port,
    healthy,
    loadavg,
    machine_cpu,
    parse_session_id,
    percentile,
    run_cli,
    wait_quiet,
)
from sio_load import make_payload  # noqa: E402

RESULTS = BENCH / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway account in a temporary data dir
GOAL_P99_MS = 500.0
OUT: IO[str] = sys.stdout  # human-readable output (stderr with --json)


def say(*parts: Any) -> None:
    print(*parts, file=OUT, flush=True)


# --- CPU of a process tree -------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out += [int(x) for x in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return out


def _cpu_of(pid: int) -> float | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of a process and its descendants (doithoai's writer process is a child)."""
    out: dict[int, float] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        c = _cpu_of(p)
        if c is not None:
            out[p] = c
            todo += _children(p)
    return out


def tree_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[p] - before.get(p, 0.0) for p in after)


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --- servers ---------------------------------------------------------------------------------


def start_baseline(workdir: Path, questions: int, name: str) -> Server:
    port = free_port()
    log_path = workdir / f"{name}.log"
    stock = name == "stock"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(BENCH / "broadcast_server.py"), "--host", HOST, "--port", str(port),
             "--questions", str(questions), "--gc", "default" if stock else "tuned",
             "--json", "stdlib" if stock else "utf8"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    server = healthy(Server(name, proc, port, log_path, session_id=1))
    server.extra.update(tokens=["baseline"], question_ids=list(range(1, questions + 1)))
    return server


def _cli_ok(r: subprocess.CompletedProcess[str], what: str) -> str:
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def _parallel_cli(commands: list[list[str]], stdin: str | None = None) -> list[str]:
    """Several CLI calls at once (each is ~1 s of interpreter start-up); SQLite serialises the writes."""
    procs = [
        subprocess.Popen(c, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]  # fmt: skip
    outs = []
    for c, p in zip(commands, procs, strict=True):
        out, err = p.communicate(stdin, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(c[1:4])} failed ({p.returncode}):\n{out}\n{err}")
        outs.append(out)
    return outs


def start_doithoai(exe: str, workdir: Path, moderators: int) -> Server:
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    dd = ["--data-dir", str(data_dir)]
    out = _cli_ok(
        run_cli([exe, "session", "create", *dd, "--title", "Bench fan-out", "--chair", "Chủ trì",
                 "--start", "2030-01-01T09:00:00+07:00", "--minutes", "90"]),
        "session create",
    )  # fmt: skip
    session_id = parse_session_id(out)
    for verb in ("announce", "start"):
        _cli_ok(run_cli([exe, "session", verb, str(session_id), *dd]), f"session {verb}")
    names = [f"bench-ed{i + 1}" for i in range(moderators)]
    _parallel_cli([[exe, "user", "add", n, "--role", "editor", *dd] for n in names], stdin=PASSWORD + "\n")
    tokens = []
    for text in _parallel_cli([[exe, "user", "token", n, *dd, "--label", "bench"] for n in names]):
        obj = json.loads(text.strip().splitlines()[-1])
        tokens.append(obj["token"])
    port = free_port()
    log_path = workdir / "doithoai.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [exe, "serve", "--host", HOST, "--port", str(port), *dd, "--no-rate-limit"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    server = healthy(Server("doithoai", proc, port, log_path, session_id=session_id, data_dir=data_dir))
    server.extra["tokens"] = tokens
    return server


async def seed_doithoai(server: Server, count: int) -> list[int]:
    """A few questions through the public HTTP API; their ids."""
    ids = []
    url = f"{server.base_url}/api/v1/sessions/{server.session_id}/questions"
    async with aiohttp.ClientSession() as http:
        for n in range(count):
            payload = make_payload(server.session_id, f"fanout-{time.time_ns()}-{n}", n)
            async with http.post(url, json=payload) as resp:
                body = await resp.json()
            if not body.get("ok"):
                raise RuntimeError(f"seeding a question failed: HTTP {resp.status} {body}")
            ids.append(int(body["question_id"]))
    return ids


def log_issues(server: Server) -> list[str]:
    """Tracebacks, errors and warnings in the server's log (whole blocks, trimmed)."""
    try:
        lines = server.log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    issues: list[str] = []
    block: list[str] = []
    for line in lines:
        starts_record = line[:4].isdigit() and " " in line  # "2026-11-23 22:12:00,876 LEVEL ..."
        if starts_record and block:
            issues.append("\n".join(block[:60]))
            block = []
        if " ERROR " in line or " WARNING " in line or " CRITICAL " in line or line.startswith("Traceback"):
            block = [line]
        elif block:
            block.append(line)
    if block:
        issues.append("\n".join(block[:60]))
    return issues


# --- moderators ------------------------------------------------------------------------------


class ModListener:
    """What a moderator records: (arrival, version) of `question` events about the target."""

    def __init__(self) -> None:
        self.target_id: int | None = None
        self.arrivals: list[tuple[float, int | None]] = []
        self.other: dict[str, int] = {}

    def on_event(self, t: float, name: str, args: list[Any]) -> None:
        if name == "question" and args and isinstance(args[0], dict):
            q = args[0].get("question")
            if isinstance(q, dict) and q.get("id") == self.target_id:
                self.arrivals.append((t, q.get("version")))
                return
            name = "question(other id)"
        self.other[name] = self.other.get(name, 0) + 1


async def connect_moderators(
    http: aiohttp.ClientSession, ws_url: str, server: Server, count: int
) -> tuple[list[LightClient], list[ModListener], list[dict[str, Any]]]:
    clients, listeners, joins = [], [], []
    for i in range(count):
        listener = ModListener()
        client = await LightClient.connect(
            http,
            ws_url,
            "/moderator",
            listener.on_event,
            auth={"token": server.extra["tokens"][i % len(server.extra["tokens"])]},
        )
        ack = await client.call("join", {"session_id": server.session_id}, within=30)
        if not (isinstance(ack, dict) and ack.get("ok")):
            raise RuntimeError(f"moderator join failed: {json.dumps(ack, ensure_ascii=False)[:500]}")
        clients.append(client)
        listeners.append(listener)
        joins.append(ack)
    return clients, listeners, joins


async def accept_all(
    driver: LightClient, snapshot: list[dict[str, Any]], ids: list[int]
) -> dict[int, dict[str, Any]]:
    """Accept the seeded questions (doithoai); the staff dicts after it."""
    by_id = {q["id"]: q for q in snapshot}
    out = {}
    for qid in ids:
        q = by_id.get(qid)
        if q is None:
            raise RuntimeError(f"seeded question {qid} not in the moderator's join snapshot")
        if q.get("state") == "received":
            ack = await driver.call(
                "action", {"question_id": qid, "action": "accept", "version": q["version"]}
            )
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"accept {qid} failed: {json.dumps(ack, ensure_ascii=False)[:500]}")
            q = ack["question"]
        out[qid] = q
    return out


# --- viewers (worker processes) --------------------------------------------------------------


class Worker:
    """A listener process: its protocol lines (READY, ALL, RESULT) become events."""

    def __init__(self, proc: asyncio.subprocess.Process, result_path: Path, stderr_path: Path) -> None:
        self.proc = proc
        self.result_path = result_path
        self.stderr_path = stderr_path
        self.seen: dict[str, str] = {}
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            text = line.decode(errors="replace").strip()
            if text:
                self.seen.setdefault(text.split()[0], text)
                self.changed.set()
        self.seen["EOF"] = ""
        self.changed.set()

    def has(self, word: str) -> bool:
        return word in self.seen

    async def expect(self, word: str, within: float) -> str:
        deadline = time.monotonic() + within
        while word not in self.seen:
            if "EOF" in self.seen:
                tail = self.stderr_path.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"a listener worker exited before {word}: {tail}")
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {word} from a listener worker in {within:g} s")
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)
            except TimeoutError:
                pass
        return self.seen[word]

    async def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{line}\n".encode())
        await self.proc.stdin.drain()


async def start_workers(
    args: argparse.Namespace, server: Server, ws_url: str, target_id: int, workdir: Path
) -> list[Worker]:
    n = max(1, min(args.workers, args.viewers))
    shares = [args.viewers // n + (1 if i < args.viewers % n else 0) for i in range(n)]
    workers = []
    for i, share in enumerate(shares):
        result_path = workdir / f"listeners-{server.name}-{i}.json"
        stderr_path = workdir / f"listeners-{server.name}-{i}.err"
        cfg = {
            "url": ws_url, "namespace": "/viewer", "clients": share, "session_id": server.session_id,
            "target_id": target_id, "expect": args.actions, "result_path": str(result_path),
            "connect_concurrency": args.connect_concurrency,
        }  # fmt: skip
        with stderr_path.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(BENCH / "fanout_worker.py"), json.dumps(cfg),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
            )  # fmt: skip
        workers.append(Worker(proc, result_path, stderr_path))
    return workers


# --- one run ---------------------------------------------------------------------------------


def match_in_order(arrivals: list[float], sends: list[float]) -> tuple[list[float | None], list[float]]:
    """Latency per action (None = missed) and the extra arrivals. The k-th event is the k-th action;
    an event that arrives before t_send(k) while action k is being matched is a duplicate of an
    earlier one."""
    out: list[float | None] = []
    extras: list[float] = []
    j = 0
    m = len(arrivals)
    for t in sends:
        while j < m and arrivals[j] < t:
            extras.append(arrivals[j])
            j += 1
        if j < m:
            out.append(arrivals[j] - t)
            j += 1
        else:
            out.append(None)
    return out, extras + arrivals[j:]


def locate(t: float, sends: list[float]) -> tuple[int, float]:
    """(k, ms after t_send(k)) of the last action sent before t."""
    k = max(0, bisect.bisect_right(sends, t) - 1)
    return k, (t - sends[k]) * 1000.0 if sends else float("nan")


def match_broadcasts(
    viewers: list[list[float]], sends: list[float]
) -> tuple[list[list[float | None]], list[tuple[int, float]]] | None:
    """When the server sent more events than actions (duplicates) but every viewer got the same
    number E of them: python-socketio keeps each connection's order and the server emits one room
    broadcast after the other, so the b-th event of every viewer is the same broadcast b. Its first
    arrival over all viewers (close to when it was sent) places it: action k is the first broadcast
    first seen after t_send(k); the broadcasts left over are the duplicates, returned as (b, first
    arrival). None if the viewers got different numbers of events (then each is matched alone)."""
    counts = {len(a) for a in viewers}
    if len(counts) != 1:
        return None
    n_b = counts.pop()
    first = [min(a[b] for a in viewers) for b in range(n_b)]
    assigned: list[int | None] = []
    b = 0
    dups: list[tuple[int, float]] = []
    for t in sends:
        while b < n_b and first[b] < t:
            dups.append((b, first[b]))
            b += 1
        assigned.append(b if b < n_b else None)
        b += 1
    dups += [(x, first[x]) for x in range(b, n_b)]
    rows = [
        [(a[i] - t) if i is not None else None for i, t in zip(assigned, sends, strict=True)] for a in viewers
    ]
    return rows, dups


def summarise(per_client: list[list[float | None]], extras: int, n_actions: int) -> dict[str, Any]:
    flat = sorted(x * 1000.0 for row in per_client for x in row if x is not None)
    expected = len(per_client) * n_actions
    last = []
    for k in range(n_actions):
        col = [latency for row in per_client if (latency := row[k]) is not None]
        if col:
            last.append(max(col) * 1000.0)
    return {
        "clients": len(per_client),
        "expected": expected,
        "delivered": len(flat),
        "missed": expected - len(flat),
        "extras": extras,
        "p50_ms": percentile(flat, 50),
        "p90_ms": percentile(flat, 90),
        "p99_ms": percentile(flat, 99),
        "max_ms": flat[-1] if flat else float("nan"),
        "mean_ms": statistics.fmean(flat) if flat else float("nan"),
        "last_client_p50_ms": statistics.median(last) if last else float("nan"),
        "last_client_max_ms": max(last) if last else float("nan"),
    }


async def drive(
    args: argparse.Namespace, driver: LightClient, target: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The actions: one every interval (after the previous ack at the earliest)."""
    version = target["version"]
    starred = bool(target.get("starred"))
    sends: list[dict[str, Any]] = []
    errors: dict[str, int] = {}
    mono = time.monotonic
    t_start = mono() + 0.05
    for k in range(args.actions):
        await asyncio.sleep(max(0.0, t_start + k * args.interval - mono()))
        starred = not starred
        payload = {"question_id": target["id"], "action": "star", "version": version, "starred": starred}
        t_send = mono()
        fut = await driver.emit("action", payload)
        try:
            ack = await asyncio.wait_for(fut, timeout=args.ack_timeout)
        except Exception as exc:  # noqa: BLE001 - a lost ack leaves the version unknown: stop
            key = f"ack: {type(exc).__name__} {exc}"[:100]
            errors[key] = errors.get(key, 0) + 1
            break
        t_ack = mono()
        if isinstance(ack, dict) and ack.get("ok") and isinstance(ack.get("question"), dict):
            version = ack["question"]["version"]
            sends.append({"k": k, "t_send": t_send, "ack_ms": (t_ack - t_send) * 1000.0, "version": version})
        else:
            code = ack.get("error", {}).get("code") if isinstance(ack, dict) else repr(ack)[:60]
            errors[str(code)] = errors.get(str(code), 0) + 1
            fresh = ack.get("question") if isinstance(ack, dict) else None
            if isinstance(fresh, dict):
                version, starred = fresh["version"], bool(fresh.get("starred"))
    return sends, errors


async def run_load(args: argparse.Namespace, server: Server, workdir: Path) -> dict[str, Any]:
    ws_url = f"ws://{HOST}:{server.port}/socket.io/?EIO=4&transport=websocket"
    result: dict[str, Any] = {"target": server.name, "viewers": args.viewers, "moderators": args.moderators}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        if server.data_dir is not None:  # doithoai
            question_ids = await seed_doithoai(server, args.questions)
        else:
            question_ids = server.extra["question_ids"]
        mods, mod_listeners, joins = await connect_moderators(http, ws_url, server, args.moderators)
        driver = mods[0]
        questions = await accept_all(driver, joins[0]["questions"], question_ids)
        target = questions[question_ids[0]]
        for listener in mod_listeners:
            listener.target_id = target["id"]
        t_conn = time.monotonic()
        workers = await start_workers(args, server, ws_url, target["id"], workdir)
        try:
            ready = [await w.expect("READY", within=args.connect_timeout) for w in workers]
            connected = sum(int(r.split()[1]) for r in ready)
            joined = sum(int(r.split()[2]) for r in ready)
            result["connect_s"] = time.monotonic() - t_conn
            await asyncio.sleep(args.settle)  # the joins' aftermath (new-question ticks, stats) passes
            for listener in mod_listeners:
                listener.arrivals.clear()
                listener.other.clear()
            pid = server.proc.pid
            cpu0, me0, machine0 = tree_cpu(pid), self_cpu(), machine_cpu()
            for w in workers:
                await w.send("GO")
            t_go = time.monotonic()
            sends, errors = await drive(args, driver, target)
            t_driven = time.monotonic()
            # drain: until every listener and moderator has every event, or the timeout
            n_ok = len(sends)
            deadline = time.monotonic() + args.drain_timeout
            all_ok = n_ok == args.actions  # with failed actions the listeners never get to ALL
            while time.monotonic() < deadline:
                workers_done = all_ok and all(w.has("ALL") for w in workers)
                mods_done = all(len(x.arrivals) >= n_ok for x in mod_listeners)
                if workers_done and mods_done:
                    break
                await asyncio.sleep(0.02)
            if n_ok < args.actions:  # failed actions send nothing: listeners wait for more; let stragglers in
                await asyncio.sleep(1.0)
            t_end = time.monotonic()
            cpu1, me1, machine1 = tree_cpu(pid), self_cpu(), machine_cpu()
            for w in workers:
                await w.send("STOP")
                assert w.proc.stdin is not None
                w.proc.stdin.close()
            parts = []
            for w in workers:
                await w.expect("RESULT", within=60)
                parts.append(json.loads(w.result_path.read_text()))
                w.result_path.unlink()
            await asyncio.wait_for(asyncio.gather(*(w.proc.wait() for w in workers)), timeout=30)
        finally:
            for w in workers:
                if w.proc.returncode is None:
                    w.proc.kill()
                    await w.proc.wait()
                w.reader.cancel()
        mod_closed = [c.closed_reason for c in mods if c.closed_reason]
        await asyncio.gather(*(c.close() for c in mods), return_exceptions=True)

    t_sends = [s["t_send"] for s in sends]
    # viewers: by order (exact when each got one event per action)
    all_arrivals = [arrivals for part in parts for arrivals in part["arrivals"]]
    per_viewer: list[list[float | None]] = []
    v_extras: dict[int, list[float]] = {}  # action k -> ms after t_send(k) of extra events
    by_broadcast = None
    if any(len(a) != len(t_sends) for a in all_arrivals):
        by_broadcast = match_broadcasts(all_arrivals, t_sends)
    if by_broadcast is not None:
        per_viewer, dups = by_broadcast
        for _, first in dups:
            k, ms = locate(first, t_sends)
            v_extras.setdefault(k, []).extend([ms] * len(all_arrivals))
    else:
        for arrivals in all_arrivals:
            row, extra = match_in_order(arrivals, t_sends)
            per_viewer.append(row)
            for t in extra:
                k, ms = locate(t, t_sends)
                v_extras.setdefault(k, []).append(ms)
    # viewers that never connected or joined count as missing every action
    absent = args.viewers - len(per_viewer)
    per_viewer += [[None] * len(t_sends) for _ in range(max(0, absent))]
    # moderators: by version
    by_version = {s["version"]: i for i, s in enumerate(sends)}
    per_mod: list[list[float | None]] = []
    m_extras: list[dict[str, Any]] = []
    for listener in mod_listeners:
        mod_row: list[float | None] = [None] * len(sends)
        for t, v in listener.arrivals:
            i = by_version.get(v) if v is not None else None
            if i is None or mod_row[i] is not None:
                k, ms = locate(t, t_sends)
                m_extras.append({"version": v, "after_action": k, "ms_after_send": round(ms, 1)})
            else:
                mod_row[i] = t - t_sends[i]
        per_mod.append(mod_row)
    extras_detail = {
        "viewer_matching": "order" if by_broadcast is None else "broadcast",
        "viewers": [
            {"after_action": k, "count": len(v), "ms_after_send_median": round(statistics.median(v), 1)}
            for k, v in sorted(v_extras.items())
        ],
        "moderators": m_extras,
    }

    acks = sorted(s["ack_ms"] for s in sends)
    other_events: dict[str, int] = {}
    for part in parts:
        for event, count in part["other_events"].items():
            other_events[event] = other_events.get(event, 0) + count
    mod_other: dict[str, int] = {}
    for listener in mod_listeners:
        for event, count in listener.other.items():
            mod_other[event] = mod_other.get(event, 0) + count
    server_cpu = tree_delta(cpu0, cpu1)
    gen_cpu = sum(p["cpu_s"] for p in parts)
    me_cpu = me1 - me0
    window = t_end - t_go
    busy = machine1[0] - machine0[0] if machine0 and machine1 else None
    result.update(
        {
            "connected": connected,
            "joined": joined,
            "target_in_snapshot": sum(p["target_in_snapshot"] for p in parts),
            "connect_errors": _merge(p["connect_errors"] for p in parts),
            "join_errors": _merge(p["join_errors"] for p in parts),
            "closed_early": _merge(p["closed_early"] for p in parts),
            "moderators_closed_early": mod_closed,
            "actions_ok": len(sends),
            "action_errors": errors,
            "drive_s": t_driven - t_go,
            "window_s": window,
            "ack_p50_ms": percentile(acks, 50),
            "ack_p99_ms": percentile(acks, 99),
            "ack_max_ms": acks[-1] if acks else float("nan"),
            "viewers_stats": summarise(per_viewer, sum(len(v) for v in v_extras.values()), len(sends)),
            "moderators_stats": summarise(per_mod, len(m_extras), len(sends)),
            "extras_detail": extras_detail,
            "viewer_events_before_go": sum(p["arrivals_before_go"] for p in parts),
            "viewer_other_events": other_events,
            "moderator_other_events": mod_other,
            "server_cpu_s": server_cpu,
            "server_cpu_ms_per_action": 1000.0 * server_cpu / len(sends) if sends else None,
            "generator_cpu_s": gen_cpu,
            "driver_process_cpu_s": me_cpu,
            "machine_busy_s": busy,
            "other_cpu_s": max(0.0, busy - server_cpu - gen_cpu - me_cpu) if busy is not None else None,
        }
    )
    return result


def _merge(dicts: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def run_target(target: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    busy_before = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
    before = loadavg()
    t0 = time.monotonic()
    if target in ("baseline", "stock"):
        server = start_baseline(workdir, args.questions, target)
    else:
        server = start_doithoai(args.doithoai, workdir, args.moderators)
    setup_s = time.monotonic() - t0
    try:
        result = asyncio.run(run_load(args, server, workdir))
    except BaseException:
        say(f"--- {server.name} log tail ---\n{server.log_tail(40)}")
        server.stop()
        raise
    result["exit_code"] = server.stop("term")
    result["server_log_issues"] = log_issues(server)
    result["setup_s"] = setup_s
    result["loadavg_before"] = before
    result["busy_cores_before"] = busy_before
    other = result.get("other_cpu_s")
    result["other_cores"] = other / result["window_s"] if other is not None and result["window_s"] else None
    result["noisy"] = result["other_cores"] is not None and result["other_cores"] > args.max_other_cores
    if server.data_dir is not None and not args.keep:
        shutil.rmtree(server.data_dir, ignore_errors=True)
    return result


# --- report ----------------------------------------------------------------------------------


def fmt(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return format(value, spec)


def print_round(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    header = (
        f"{'target':<9} {'audience':<10} {'delivered/expected':>19} {'miss':>5} {'extra':>5} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'last p50':>8} {'last max':>8}"
    )
    say(header)
    say("-" * len(header))
    for r in rows:
        for audience in ("viewers", "moderators"):
            s = r[f"{audience}_stats"]
            say(
                f"{r['target']:<9} {audience:<10} {s['delivered']:>9}/{s['expected']:<9} {s['missed']:>5} "
                f"{s['extras']:>5} {fmt(s['p50_ms']):>7} {fmt(s['p99_ms']):>7} {fmt(s['max_ms']):>7} "
                f"{fmt(s['last_client_p50_ms']):>8} {fmt(s['last_client_max_ms']):>8}"
            )
    say(
        "  (latency: listener arrival - t_send, every (client, action) pair; last: the slowest client of each"
    )
    say("   action, median and max over actions; miss: expected events never received; extra: duplicates)")
    for r in rows:
        say(
            f"  {r['target']}: {r['actions_ok']}/{args.actions} actions ok, ack p50/p99/max "
            f"{fmt(r['ack_p50_ms'])}/{fmt(r['ack_p99_ms'])}/{fmt(r['ack_max_ms'])} ms; "
            f"{r['connected']}/{r['viewers']} viewers connected, {r['joined']} joined "
            f"({r['target_in_snapshot']} saw the question in the join snapshot) in {r['connect_s']:.1f} s"
        )
        if r["noisy"]:
            say(
                f"    NOISY: the rest of the machine used {r['other_cores']:.2f} cores during the drive "
                f"(> {args.max_other_cores:g}); read this run's latencies with care"
            )
        say(
            f"    CPU in the {r['window_s']:.1f} s drive window: server {fmt(r['server_cpu_s'], '.2f')} s "
            f"({fmt(r['server_cpu_ms_per_action'], '.1f')} ms/action), listeners {r['generator_cpu_s']:.2f} s, "
            f"driver+moderators {r['driver_process_cpu_s']:.2f} s, rest of machine {fmt(r['other_cpu_s'], '.2f')} s"
        )
        for key in ("action_errors", "connect_errors", "join_errors", "closed_early"):
            if r.get(key):
                say(f"    {key}: {r[key]}")
        if r.get("moderators_closed_early"):
            say(f"    moderators closed early: {r['moderators_closed_early']}")
        if r.get("viewer_events_before_go"):
            say(f"    target events before the drive (viewers): {r['viewer_events_before_go']}")
        say(f"    other events: viewers {r['viewer_other_events']}, moderators {r['moderator_other_events']}")
        ex = r.get("extras_detail") or {}
        if ex.get("viewers") or ex.get("moderators"):
            shown = ", ".join(
                f"{e['count']} after action {e['after_action']} (+{e['ms_after_send_median']} ms)"
                for e in ex["viewers"][:5]
            )
            say(f"    duplicate/extra target events: viewers [{shown}]; moderators {ex['moderators'][:5]}")
        if r.get("server_log_issues"):
            say(f"    server log: {len(r['server_log_issues'])} error/warning records, first:")
            say("      " + r["server_log_issues"][0].replace("\n", "\n      "))
    base = next((r for r in rows if r["target"] == "baseline"), None)
    real = next((r for r in rows if r["target"] == "doithoai"), None)
    if base and real:
        rv = ratio(real["viewers_stats"]["p99_ms"], base["viewers_stats"]["p99_ms"])
        rm = ratio(real["moderators_stats"]["p99_ms"], base["moderators_stats"]["p99_ms"])
        say(f"  p99 ratio doithoai/baseline: viewers {fmt(rv, '.2f')}, moderators {fmt(rm, '.2f')}")
    if real:
        say("  " + goal_line(real, args))


def ratio(a: float, b: float) -> float | None:
    return a / b if b and a == a and b == b else None


def goal_met(r: dict[str, Any], args: argparse.Namespace) -> bool:
    v, m = r["viewers_stats"], r["moderators_stats"]
    return (
        r["actions_ok"] == args.actions
        and v["missed"] == 0
        and m["missed"] == 0
        and v["p99_ms"] < GOAL_P99_MS
        and m["p99_ms"] < GOAL_P99_MS
    )


def goal_line(r: dict[str, Any], args: argparse.Namespace) -> str:
    v, m = r["viewers_stats"], r["moderators_stats"]
    return (
        f"goal (every client gets every action, p99 < {GOAL_P99_MS:.0f} ms): "
        f"{'MET' if goal_met(r, args) else 'NOT MET'} (viewers p99 {fmt(v['p99_ms'])} ms, "
        f"moderators p99 {fmt(m['p99_ms'])} ms, missed {v['missed'] + m['missed']})"
    )


def summary(rounds: list[dict[str, Any]], targets: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in targets:
        rows = [x for rd in rounds for x in rd["rows"] if x["target"] == t]
        if not rows:
            continue
        clean = [x for x in rows if not x["noisy"]]
        entry: dict[str, Any] = {
            "rounds": len(rows),
            "noisy_rounds_left_out": len(rows) - len(clean) if clean else 0,
        }
        rows = clean or rows  # the medians leave out runs disturbed by other load, if any run was not
        for audience in ("viewers", "moderators"):
            entry[audience] = {
                key: statistics.median(x[f"{audience}_stats"][key] for x in rows)
                for key in ("p50_ms", "p99_ms", "max_ms", "last_client_p50_ms", "last_client_max_ms")
            }
            entry[audience]["missed_total"] = sum(x[f"{audience}_stats"]["missed"] for x in rows)
            entry[audience]["extras_total"] = sum(x[f"{audience}_stats"]["extras"] for x in rows)
        entry["ack_p50_ms"] = statistics.median(x["ack_p50_ms"] for x in rows)
        entry["server_cpu_ms_per_action"] = statistics.median(
            x["server_cpu_ms_per_action"] or 0 for x in rows
        )
        out[t] = entry
    pairs = []
    for rd in rounds:
        by = {x["target"]: x for x in rd["rows"]}
        if "baseline" in by and "doithoai" in by:
            noisy = by["baseline"]["noisy"] or by["doithoai"]["noisy"]
            pairs.append(
                {"noisy": noisy} |
                {
                    a: ratio(by["doithoai"][f"{a}_stats"]["p99_ms"], by["baseline"][f"{a}_stats"]["p99_ms"])
                    for a in ("viewers", "moderators")
                }
                | {"cpu": ratio(by["doithoai"]["server_cpu_ms_per_action"] or 0,
                                by["baseline"]["server_cpu_ms_per_action"] or 0)}
            )  # fmt: skip
    if pairs:
        out["p99_ratio_per_round"] = pairs
        use = [
            p for p in pairs if not p["noisy"]
        ] or pairs  # rounds with a noisy run left out, if any is clean
        out["p99_ratio_median"] = {
            k: statistics.median(p[k] for p in use if p[k] is not None)
            for k in ("viewers", "moderators", "cpu")
            if any(p[k] is not None for p in use)
        }
        out["p99_ratio_rounds_used"] = len(use)
    return out


def print_summary(s: dict[str, Any], targets: list[str]) -> None:
    say("summary (median over rounds)")
    for t in targets:
        if t not in s:
            continue
        e = s[t]
        for a in ("viewers", "moderators"):
            x = e[a]
            say(
                f"  {t:<9} {a:<10} p50 {x['p50_ms']:>7.1f}  p99 {x['p99_ms']:>7.1f}  max {x['max_ms']:>7.1f} ms  "
                f"last-client p50 {x['last_client_p50_ms']:>7.1f} ms  missed {x['missed_total']}  extras {x['extras_total']}"
            )
        say(
            f"  {t:<9} server CPU {e['server_cpu_ms_per_action']:.1f} ms/action, ack p50 {e['ack_p50_ms']:.1f} ms "
            f"({e['rounds'] - e['noisy_rounds_left_out']} of {e['rounds']} runs; noisy ones left out)"
        )
    if "p99_ratio_per_round" in s:
        pr = s["p99_ratio_per_round"]
        for k in ("viewers", "moderators", "cpu"):
            vals = ", ".join(fmt(p[k], ".2f") + ("*" if p["noisy"] else "") for p in pr)
            label = "server CPU/action ratio" if k == "cpu" else f"p99 ratio {k}"
            say(f"  {label} doithoai/baseline: {vals} (median {fmt(s['p99_ratio_median'].get(k), '.2f')})")
        if any(p["noisy"] for p in pr):
            say(
                f"  (* a round with a noisy run; the medians use {s['p99_ratio_rounds_used']} of {len(pr)} rounds)"
            )


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--moderators", type=int, default=5, help="the first one drives")
    parser.add_argument("--workers", type=int, default=2, help="listener processes for the viewers")
    parser.add_argument("--actions", type=int, default=60)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between actions")
    parser.add_argument(
        "--questions", type=int, default=5, help="questions seeded and accepted; the first is the target"
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds (each runs every target once)")
    parser.add_argument(
        "--targets",
        default="baseline,doithoai",
        help="comma list of baseline, stock, doithoai (stock: the baseline with CPython's default GC settings)",
    )
    parser.add_argument("--doithoai", default=default_doithoai(), help="the doithoai executable")
    parser.add_argument("--ack-timeout", type=float, default=10.0, help="for each action's ack")
    parser.add_argument("--drain-timeout", type=float, default=15.0, help="after the last action")
    parser.add_argument(
        "--connect-timeout", type=float, default=120.0, help="for all viewers to connect and join"
    )
    parser.add_argument("--connect-concurrency", type=int, default=25, help="connects in flight per worker")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between the joins and the drive")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=15.0,
        help="before each run, wait up to this long for an idle machine",
    )
    parser.add_argument(
        "--max-other-cores",
        type=float,
        default=0.25,
        help="a run is marked noisy when the rest of the machine used more CPU than this during the drive",
    )
    parser.add_argument(
        "--retry-noisy", type=int, default=0, help="run a noisy target again, up to this many times"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs and logs")
    parser.add_argument(
        "--json", action="store_true", help="print the full result as JSON on stdout (tables go to stderr)"
    )
    parser.add_argument("--output", type=Path, help="result JSON (default bench/results/fanout-<time>.json)")
    args = parser.parse_args()
    if args.json:
        OUT = sys.stderr
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if unknown := set(targets) - {"baseline", "stock", "doithoai"}:
        parser.error(f"unknown targets: {sorted(unknown)}")
    if args.moderators < 1:
        parser.error("--moderators must be at least 1 (the driver)")

    soft, hard = raise_nofile()  # inherited by the servers and the workers
    need = args.viewers + args.moderators + 200
    if soft < need:
        say(f"warning: RLIMIT_NOFILE is {soft} (hard {hard}); {need} descriptors are needed in the server")
    workdir = Path(tempfile.mkdtemp(prefix="doithoai-fanout-"))
    say(
        f"{os.cpu_count()} CPUs, load {loadavg():.2f}, nofile {soft}; {args.viewers} viewers in {args.workers} "
        f"processes, {args.moderators} moderators; {args.actions} star actions every {args.interval * 1000:.0f} ms; "
        f"workdir {workdir}\n"
    )
    rounds: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    try:
        for rep in range(args.repeat):
            order = targets if rep % 2 == 0 else targets[::-1]  # alternate, so drift hits both
            rows = []
            retried: list[dict[str, Any]] = []
            for target in order:
                try:
                    for attempt in range(1 + args.retry_noisy):
                        row = run_target(target, args, workdir)
                        if not row["noisy"] or attempt == args.retry_noisy:
                            break
                        retried.append(row)
                        say(
                            f"{target}: the rest of the machine used {row['other_cores']:.2f} cores during the "
                            f"drive (> {args.max_other_cores:g}): running it again"
                        )
                    rows.append(row)
                except Exception as exc:  # noqa: BLE001 - reported; the other target still runs
                    failures[f"round {rep + 1} {target}"] = f"{type(exc).__name__}: {exc}"
                    say(f"{target} failed: {type(exc).__name__}: {exc}\n")
            rows.sort(key=lambda r: targets.index(r["target"]))
            if rows:
                say(f"round {rep + 1}/{args.repeat}")
                print_round(rows, args)
                say()
            rounds.append({"round": rep + 1, "rows": rows, "noisy_runs_repeated": retried})
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    summ = summary(rounds, targets)
    if args.repeat > 1:
        print_summary(summ, targets)
    try:
        commit = run_cli(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
    except OSError:
        commit = ""
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "failures": failures,
        "rounds": rounds,
        "summary": summ,
    }
    out = args.output or RESULTS / f"fanout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    say(f"results: {out}")
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    real = [x for rd in rounds for x in rd["rows"] if x["target"] == "doithoai"]
    if failures or any(not goal_met(x, args) for x in real):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
