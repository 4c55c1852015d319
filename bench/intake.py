"""Benchmark of durable question intake: doithoai against a bare python-socketio ack echo.

N concurrent Socket.IO submitters (closed loop: each has one `submit_question` in flight, sends the
next as soon as the ack arrives) run against

  1. echo      bench/echo_server.py: a bare python-socketio AsyncServer on aiohttp whose handler returns
               a success ack at once (the baseline: the cost of Socket.IO itself);
  2. doithoai  the real server (`doithoai serve --no-rate-limit`) on a fresh temporary SQLite data dir,
               with an open, announced session; its acks are durable (sent after COMMIT);

one after the other, each as a single server process on 127.0.0.1, with the same load generator:
bench/sio_load.py worker processes (default 2, N/2 submitters each), using a minimal Socket.IO v5 /
Engine.IO v4 client on aiohttp websockets (see sio_load.py for why not python-socketio's client).

Printed: questions/s (ok acks inside the measured window / its length), p50/p99 ack latency of those,
errors, the server's CPU seconds in the window (from /proc/PID/stat and /proc/PID/task, split into
the main thread and the others) and per question, the generator's and the rest of the machine's CPU
(the host is shared: a busy neighbour shows up there), the throughput ratio doithoai/echo, and the
"cpu ratio" (echo CPU per question / doithoai CPU per question), which is what the throughput ratio
converges to when the server's core is saturated and is steadier on a noisy host. Before each run the
script waits (--wait-quiet, up to 30 s) for the machine to be idle. Goal (2-core machine): ratio >= 0.70
and doithoai p99 < 150 ms at 200 submitters. The full result goes to bench/results/intake-<time>.json
(gitignored).

Durability check: after the load the doithoai server and its writer process are killed with SIGKILL
(its whole process group, mid-transaction; no graceful flush; use
--stop term for SIGTERM), then `doithoai questions export SESSION --format jsonl` must hold exactly
one line per ok ack (and, when the export has ids, every acknowledged question_id).

    .venv/bin/python bench/intake.py                      # 200 submitters, 2 s warm-up + 10 s
    .venv/bin/python bench/intake.py --submitters 50,200 --repeat 3
    .venv/bin/python bench/intake.py --targets echo       # only the baseline
    .venv/bin/python bench/intake.py --profile /tmp/prof --profile-args=--gil   # py-spy each server
    .venv/bin/python bench/intake.py --top /tmp/prof/doithoai-200-*.txt         # summarise a profile
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


def default_doithoai() -> str:
    venv = ROOT / ".venv" / "bin" / "doithoai"
    if venv.exists():
        return str(venv)
    return str(Path(sys.executable).with_name("doithoai"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _stat_times(path: str) -> tuple[float, float] | None:
    """(utime, stime) in seconds from a /proc/.../stat file."""
    try:
        raw = Path(path).read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "; fields[0] is the state (field 3)
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def proc_cpu(pid: int) -> dict[str, float] | None:
    """CPU seconds of a process so far: user, sys, and per thread (the main thread vs the others,
    e.g. aiosqlite's connection threads), from /proc/PID/stat and /proc/PID/task/*/stat."""
    total = _stat_times(f"/proc/{pid}/stat")
    if total is None:
        return None
    out = {"user": total[0], "sys": total[1], "main": 0.0, "threads": 0.0}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tids = []
    for tid in tids:
        t = _stat_times(f"/proc/{pid}/task/{tid}/stat")
        if t is not None:
            out["main" if tid == str(pid) else "threads"] += t[0] + t[1]
    return out


def machine_cpu() -> tuple[float, float] | None:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def run_cli(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def doithoai_available(exe: str) -> tuple[bool, str]:
    if not Path(exe).exists():
        return False, f"{exe} not found"
    try:
        r = run_cli([exe, "serve", "--help"], timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        return False, lines[-1] if lines else f"exit {r.returncode}"
    return True, ""


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    session_id: int = 1
    data_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, n: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/healthz"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - 127.0.0.1 only
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy after {timeout} s:\n{self.log_tail()}")

    def stop(self, how: str = "term", timeout: float = 20) -> int | None:
        if self.proc.poll() is None:
            if how == "kill" and self.name == "doithoai":
                # the server and its SQLite writer process at once, mid-transaction, as an OOM
                # killer or a container stop would (killed alone, the server's writer would finish)
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def start_echo(workdir: Path, json_impl: str) -> Server:
    port = free_port()
    log_path = workdir / "echo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "echo_server.py"),
                "--host",
                HOST,
                "--port",
                str(port),
                "--json",
                json_impl,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return healthy(Server("echo", proc, port, log_path))


def start_doithoai(exe: str, workdir: Path) -> Server:
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    r = run_cli(
        [
            exe, "session", "create", "--data-dir", str(data_dir), "--title", "Bench", "--chair", "Chủ trì",
            "--start", "2030-01-01T09:00:00+07:00", "--minutes", "90",
        ]
    )  # fmt: skip
    if r.returncode != 0:
        raise RuntimeError(f"session create failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    session_id = parse_session_id(r.stdout)
    r = run_cli([exe, "session", "announce", str(session_id), "--data-dir", str(data_dir)])
    if r.returncode != 0:
        raise RuntimeError(f"session announce failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    port = free_port()
    log_path = workdir / "doithoai.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                exe,
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                "--no-rate-limit",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the durability check kills its writer too
        )
    return healthy(Server("doithoai", proc, port, log_path, session_id=session_id, data_dir=data_dir))


def healthy(server: Server) -> Server:
    """Wait for the server to answer; stop it if it never does."""
    try:
        server.wait_healthy()
    except BaseException:
        server.stop()
        raise
    return server


def parse_session_id(stdout: str) -> int:
    text = stdout.strip()
    candidates = [text] + text.splitlines()[::-1]
    for chunk in candidates:
        try:
            obj = json.loads(chunk)
        except ValueError:
            continue
        if isinstance(obj, dict) and "id" in obj:
            return int(obj["id"])
    raise RuntimeError(f"no session id in `session create` output: {stdout[:300]!r}")


def verify_durability(exe: str, server: Server, ok_ids: list[Any], lost: int) -> dict[str, Any]:
    assert server.data_dir is not None
    r = run_cli(
        [
            exe,
            "questions",
            "export",
            str(server.session_id),
            "--format",
            "jsonl",
            "--identities",
            "masked",  # counting what was kept needs no one's identity (and no reason, no audit entry)
            "--data-dir",
            str(server.data_dir),
        ],
        timeout=120,
    )
    if r.returncode != 0:
        return {"ok": False, "detail": f"export failed ({r.returncode}): {(r.stderr or r.stdout)[-300:]}"}
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    exported_ids: set[int] = set()
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            qid = row.get("id", row.get("question_id"))
            if isinstance(qid, int):
                exported_ids.add(qid)
    acked = [i for i in ok_ids if isinstance(i, int)]
    distinct = len(set(acked))
    if lost == 0:
        count_ok = len(lines) == len(ok_ids)
    else:  # emits whose ack never came may or may not have been stored
        count_ok = len(ok_ids) <= len(lines) <= len(ok_ids) + lost
    missing = len(set(acked) - exported_ids) if exported_ids else None
    ok = count_ok and distinct == len(ok_ids) and (missing in (None, 0))
    return {
        "ok": ok,
        "exported_lines": len(lines),
        "ok_acks": len(ok_ids),
        "distinct_question_ids": distinct,
        "acked_ids_missing_from_export": missing,
        "unknown_fate_emits": lost,
    }


# --- profiling -------------------------------------------------------------------------------


async def start_profiler(
    args: argparse.Namespace, server: Server, submitters: int
) -> asyncio.subprocess.Process | None:
    """py-spy on the server for the measured window (--profile DIR), per target, as collapsed stacks (.txt) that `python bench/intake.py --top FILE` summarises (and speedscope or
    flamegraph.pl read)."""
    if not args.profile:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    args.profile.mkdir(parents=True, exist_ok=True)
    stem = args.profile / f"{server.name}-{submitters}-{time.strftime('%H%M%S')}"
    return await asyncio.create_subprocess_exec(
        exe, "record", "--pid", str(server.proc.pid), "--duration", str(max(1, int(args.seconds))),
        "--rate", "200", "--nonblocking", "--format", "raw", "--output", f"{stem}.txt", *args.profile_args.split(),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


def top_functions(path: Path, n: int = 40) -> None:
    """Summarise py-spy collapsed stacks: the functions with the most samples on the stack
    (inclusive) and on top of it (self)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    print(f"{total} samples in {path}")
    for title, table in (("inclusive", inclusive), ("self", own)):
        print(f"--- top {n} by {title} samples")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:n]:
            print(f"{100 * count / total:6.1f}%  {frame}")


# --- load --------------------------------------------------------------------------------------


async def run_load(
    server: Server, args: argparse.Namespace, submitters: int, workdir: Path
) -> dict[str, Any]:
    nworkers = max(1, min(args.workers, submitters))
    shares = [submitters // nworkers + (1 if i < submitters % nworkers else 0) for i in range(nworkers)]
    ws_url = f"ws://{HOST}:{server.port}/socket.io/?EIO=4&transport=websocket"
    run_tag = secrets.token_hex(4)
    procs: list[asyncio.subprocess.Process] = []
    result_paths: list[Path] = []
    outputs = []
    for i, share in enumerate(shares):
        result_path = workdir / f"worker-{server.name}-{run_tag}-{i}.json"
        result_paths.append(result_path)
        outputs.append(result_path.open("wb"))
        cfg = {
            "url": ws_url,
            "namespace": "/viewer",
            "submitters": share,
            "warmup": args.warmup,
            "seconds": args.seconds,
            "ack_timeout": args.ack_timeout,
            "max_per_submitter": args.max_per_submitter,
            "session_id": server.session_id,
            "key_prefix": f"bench-{run_tag}-w{i}",
        }
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable, str(BENCH / "sio_load.py"), json.dumps(cfg),
                stdin=asyncio.subprocess.PIPE, stdout=outputs[-1], stderr=None,
            )
        )  # fmt: skip
    try:
        # wait until every worker has connected all its submitters
        deadline = time.monotonic() + 60
        connected = [0] * len(procs)
        while True:
            for i, path in enumerate(result_paths):
                if not connected[i]:
                    for line in path.read_text(errors="replace").splitlines():
                        if line.startswith("READY "):
                            connected[i] = int(line.split()[1]) or -1
            if all(connected):
                break
            if any(p.returncode is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError("load workers did not get ready")
            await asyncio.sleep(0.05)
        t0 = time.monotonic() + 0.2
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"GO {t0!r}\n".encode())
            await p.stdin.drain()
        pid = server.proc.pid
        await asyncio.sleep(max(0.0, t0 + args.warmup - time.monotonic()))
        cpu0 = proc_cpu(pid)
        machine0 = machine_cpu()
        profiler = await start_profiler(args, server, submitters)
        await asyncio.sleep(max(0.0, t0 + args.warmup + args.seconds - time.monotonic()))
        cpu1 = proc_cpu(pid)
        machine1 = machine_cpu()
        if profiler is not None:
            await profiler.wait()
        timeout = args.ack_timeout + 30
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), timeout=timeout)
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
        for f in outputs:
            f.close()
    parts = []
    for path in result_paths:
        text = path.read_text(errors="replace")
        found = next((ln for ln in text.splitlines() if ln.startswith("RESULT ")), None)
        if found is None:
            raise RuntimeError(f"a load worker gave no result: {text[-500:]}")
        parts.append(json.loads(found[len("RESULT ") :]))
        path.unlink()

    latencies = sorted(x for p in parts for x in p["latencies_ms"])
    window_ok = sum(p["window_ok"] for p in parts)
    errors: dict[str, int] = {}
    connect_errors: dict[str, int] = {}
    for p in parts:
        for k, v in p["errors"].items():
            errors[k] = errors.get(k, 0) + v
        for k, v in p["connect_errors"].items():
            connect_errors[k] = connect_errors.get(k, 0) + v
    cpu_detail = {k: cpu1[k] - cpu0[k] for k in cpu0} if cpu0 is not None and cpu1 is not None else {}
    # threads that ended inside the window make "threads" slightly low; user+sys is exact
    server_cpu = cpu_detail["user"] + cpu_detail["sys"] if cpu_detail else None
    return {
        "target": server.name,
        "submitters": submitters,
        "connected": sum(p["connected"] for p in parts),
        "connect_errors": connect_errors,
        "seconds": args.seconds,
        "qps": window_ok / args.seconds,
        "window_ok": window_ok,
        "window_errors": sum(p["window_errors"] for p in parts),
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
        "ok_total": sum(p["ok_total"] for p in parts),
        "errors": errors,
        "in_flight_lost": sum(p["in_flight_lost"] for p in parts),
        "events_received": sum(p["events_received"] for p in parts),
        "server_cpu_s": server_cpu,
        "server_cpu_detail_s": cpu_detail,
        # all CPUs' busy and steal seconds in the window: busy minus server and generator is other load
        "machine_busy_s": machine1[0] - machine0[0] if machine0 and machine1 else None,
        "machine_steal_s": machine1[1] - machine0[1] if machine0 and machine1 else None,
        "generator_cpu_s": sum(p["cpu_s"] for p in parts),
        "loadavg_before": None,
        "_ok_ids": [i for p in parts for i in p["ok_ids"]],
    }


def wait_quiet(limit_s: float, idle_cores: float = 0.3) -> float:
    """Wait (at most limit_s) until the rest of the machine uses less than idle_cores CPUs over one
    second; return the last such measurement (cores busy)."""
    deadline = time.monotonic() + limit_s
    busy = float("nan")
    while True:
        a = machine_cpu()
        time.sleep(1.0)
        b = machine_cpu()
        if a is None or b is None:
            return busy
        busy = b[0] - a[0]
        if busy < idle_cores or time.monotonic() >= deadline:
            return busy


def run_target(target: str, args: argparse.Namespace, submitters: int, workdir: Path) -> dict[str, Any]:
    busy_before = wait_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
    before = loadavg()
    if target == "echo":
        server = start_echo(workdir, args.echo_json)
    else:
        server = start_doithoai(args.doithoai, workdir)
    try:
        result = asyncio.run(run_load(server, args, submitters, workdir))
    except BaseException:
        print(server.log_tail(), file=sys.stderr)
        server.stop()
        raise
    result["loadavg_before"] = before
    result["busy_cores_before"] = busy_before
    ok_ids = result.pop("_ok_ids")
    if target == "doithoai":
        result["stop"] = args.stop
        result["exit_code"] = server.stop(args.stop)
        result["durability"] = verify_durability(args.doithoai, server, ok_ids, result["in_flight_lost"])
    else:
        result["exit_code"] = server.stop("term")
    if server.data_dir is not None and not args.keep:
        shutil.rmtree(server.data_dir, ignore_errors=True)
    return result


# --- report ------------------------------------------------------------------------------------


def fmt(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return format(value, spec)


def print_round(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'target':<10} {'subs':>5} {'q/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>7} {'srv cpu':>8} {'us/q':>6} {'gen cpu':>8} {'other':>7} {'ratio':>6} {'cpu ratio':>9}"
    )
    print(header)
    print("-" * len(header))
    legend = (
        "  (q/s: ok acks in the window / its length; srv cpu: server CPU seconds in the window, us/q: per\n"
        "   question; gen cpu: load generator; other: the rest of the machine; ratio: q/s vs echo;\n"
        "   cpu ratio: echo us/q / this us/q, the ratio a saturated core would give, steadier on a noisy host)"
    )
    echo = next((r for r in rows if r["target"] == "echo"), None)
    for r in rows:
        ratio = r["qps"] / echo["qps"] if echo and echo["qps"] and r is not echo else None
        us_q = 1e6 * r["server_cpu_s"] / r["window_ok"] if r["server_cpu_s"] and r["window_ok"] else None
        echo_us_q = (
            1e6 * echo["server_cpu_s"] / echo["window_ok"]
            if echo and echo["server_cpu_s"] and echo["window_ok"]
            else None
        )
        cpu_ratio = echo_us_q / us_q if us_q and echo_us_q and r is not echo else None
        other = (
            max(0.0, r["machine_busy_s"] - (r["server_cpu_s"] or 0) - r["generator_cpu_s"])
            if r.get("machine_busy_s") is not None
            else None
        )
        errors = sum(r["errors"].values()) + sum(r["connect_errors"].values())
        print(
            f"{r['target']:<10} {r['submitters']:>5} {r['qps']:>8.0f} {fmt(r['p50_ms']):>8} {fmt(r['p99_ms']):>8} "
            f"{fmt(r['max_ms']):>8} {errors:>7} {fmt(r['server_cpu_s'], '.2f'):>7}s {fmt(us_q, '.0f'):>6} "
            f"{fmt(r['generator_cpu_s'], '.2f'):>7}s {fmt(other, '.2f'):>6}s "
            f"{fmt(ratio, '.2f'):>6} {fmt(cpu_ratio, '.2f'):>9}"
        )
    print(legend)
    for r in rows:
        c = r.get("server_cpu_detail_s") or {}
        if c and r["window_ok"]:
            print(
                f"  {r['target']} server CPU: user {c['user']:.2f} s, sys {c['sys']:.2f} s; main thread {c['main']:.2f} s, "
                f"other threads {c['threads']:.2f} s"
            )
    for r in rows:
        if r["errors"] or r["connect_errors"]:
            print(f"  {r['target']} errors: {r['errors']} connect: {r['connect_errors']}")
        if r["connected"] != r["submitters"]:
            print(f"  {r['target']}: only {r['connected']}/{r['submitters']} submitters connected")
        d = r.get("durability")
        if d:
            verdict = "OK" if d["ok"] else "FAILED"
            if "exported_lines" in d:
                print(
                    f"  durability ({r['stop']} -9 then export): {verdict}: {d['exported_lines']} exported lines, "
                    f"{d['ok_acks']} ok acks, {d['distinct_question_ids']} distinct ids, "
                    f"missing acked ids: {fmt(d['acked_ids_missing_from_export'], 'd')}, unknown-fate emits: {d['unknown_fate_emits']}"
                    if r["stop"] == "kill"
                    else f"  durability (SIGTERM then export): {verdict}: {d['exported_lines']} exported lines, "
                    f"{d['ok_acks']} ok acks, missing acked ids: {fmt(d['acked_ids_missing_from_export'], 'd')}"
                )
            else:
                print(f"  durability: {verdict}: {d['detail']}")
    if echo:
        for r in rows:
            if r is not echo and r["target"] == "doithoai":
                ratio = r["qps"] / echo["qps"] if echo["qps"] else 0
                goal = ratio >= 0.70 and r["p99_ms"] < 150
                print(
                    f"  goal (ratio >= 0.70, p99 < 150 ms): {'MET' if goal else 'NOT MET'} "
                    f"(ratio {ratio:.2f}, p99 {r['p99_ms']:.1f} ms)"
                )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--submitters", default="200", help="concurrent submitters; a comma list runs several levels"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="load before the measured window")
    parser.add_argument("--workers", type=int, default=2, help="load-generator processes")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (each round runs every target once)")
    parser.add_argument("--targets", default="echo,doithoai", help="comma list of echo, doithoai")
    parser.add_argument("--ack-timeout", type=float, default=10.0)
    parser.add_argument("--max-per-submitter", type=int, default=1_000_000, help="cap on emits per submitter")
    parser.add_argument("--doithoai", default=default_doithoai(), help="the doithoai executable")
    parser.add_argument(
        "--echo-json", choices=["stdlib", "orjson"], default="stdlib", help="json module of the echo"
    )
    parser.add_argument(
        "--stop", choices=["kill", "term"], default="kill", help="how to stop doithoai before export"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="before each run, wait up to this long for an idle machine",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dirs and logs")
    parser.add_argument("--profile", type=Path, help="record each server with py-spy into this directory")
    parser.add_argument(
        "--profile-args", default="", help="more py-spy record options, e.g. '--gil' or '--idle'"
    )
    parser.add_argument("--top", type=Path, help="only summarise a py-spy collapsed-stack file, then exit")
    parser.add_argument("--output", type=Path, help="result JSON (default bench/results/intake-<time>.json)")
    args = parser.parse_args()
    if args.top:
        top_functions(args.top)
        return 0

    levels = [int(x) for x in args.submitters.split(",") if x.strip()]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if unknown := set(targets) - {"echo", "doithoai"}:
        parser.error(f"unknown targets: {sorted(unknown)}")
    skipped: dict[str, str] = {}
    if "doithoai" in targets:
        ok, why = doithoai_available(args.doithoai)
        if not ok:
            skipped["doithoai"] = why
            targets.remove("doithoai")
            print(f"doithoai skipped: `{args.doithoai} serve --help` does not work yet ({why})\n")
    if not targets:
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="doithoai-bench-"))
    print(
        f"{os.cpu_count()} CPUs, load {loadavg():.2f}; {args.warmup:g} s warm-up + {args.seconds:g} s measured; "
        f"{args.workers} generator processes; workdir {workdir}\n"
    )
    rounds: list[dict[str, Any]] = []
    try:
        for rep in range(args.repeat):
            for level in levels:
                rows = []
                for target in targets:
                    rows.append(run_target(target, args, level, workdir))
                print(f"round {rep + 1}/{args.repeat}, {level} submitters")
                print_round(rows)
                print()
                rounds.append({"round": rep + 1, "submitters": level, "rows": rows})
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    if args.repeat > 1 and {"echo", "doithoai"} <= set(targets):
        print("summary (median over rounds)")
        for level in levels:
            rs = [r for r in rounds if r["submitters"] == level]
            by = {t: [next(x for x in r["rows"] if x["target"] == t) for r in rs] for t in targets}
            ratios = [
                d["qps"] / e["qps"] for d, e in zip(by["doithoai"], by["echo"], strict=True) if e["qps"]
            ]
            for t in targets:
                print(
                    f"  {level:>4} subs {t:<9} q/s {statistics.median(x['qps'] for x in by[t]):>7.0f}  "
                    f"p50 {statistics.median(x['p50_ms'] for x in by[t]):>6.1f} ms  "
                    f"p99 {statistics.median(x['p99_ms'] for x in by[t]):>6.1f} ms"
                )
            print(
                f"  {level:>4} subs ratio doithoai/echo: {', '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f})"
            )

    try:
        commit = run_cli(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
    except OSError:
        commit = ""
    out = args.output or RESULTS / f"intake-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "skipped": skipped,
        "rounds": rounds,
    }
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    print(f"results: {out}")
    failed = any(r.get("durability", {}).get("ok") is False for rd in rounds for r in rd["rows"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
