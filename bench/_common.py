"""What every benchmark needs besides its measurements: clients in processes started together, the facts of the
machine and checkout it ran on, a throwaway PostgreSQL database, a log of the statements sent to the database, and
writing its own section of docs/BENCHMARKS.md without touching the others."""

from __future__ import annotations

import cProfile
import multiprocessing
import os
import platform
import pstats
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import BrokenBarrierError
from typing import Any, Protocol

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = ROOT / "docs" / "BENCHMARKS.md"
PG_ADMIN_DSN = os.environ.get("OMNISTOCK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# The PostgreSQL settings that decide what a commit costs; a reader needs them to compare runs.
PG_SETTINGS = ("fsync", "synchronous_commit", "wal_sync_method", "commit_delay", "shared_buffers",
               "max_connections")

INTRO = """# Benchmarks

Numbers measured by the programs under `bench/` on the machine described in each section. Each program
rewrites only its own section (from its `## ` heading to the next one), so sections may come from different
runs and machines: compare numbers within a section, and rerun a program before comparing across commits.
"""


@dataclass(frozen=True)
class RunFacts:
    """Where and how a benchmark ran, printed above its numbers."""

    command: str
    date: str
    commit: str
    machine: list[tuple[str, str]]

    def markdown(self) -> str:
        lines = [f"- Command: `{self.command}`", f"- Date: {self.date}", f"- Commit: `{self.commit}`"]
        lines += [f"- {name}: {value}" for name, value in self.machine]
        return "\n".join(lines)


def run_facts(pg_dsn: str | None, before: MachineLoad | None = None,
              after: MachineLoad | None = None) -> RunFacts:
    machine = machine_facts(pg_dsn)
    if before is not None:
        machine.append(("Other load before the run", before.describe()))
    if after is not None:
        machine.append(("Other load after the run", after.describe()))
    return RunFacts(command=command_line(), date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    commit=git_commit(), machine=machine)


@dataclass(frozen=True)
class MachineLoad:
    """How busy the machine was just before a benchmark started: work we do not control shares the CPUs."""

    busy: float
    load_average: tuple[float, float, float]

    @property
    def quiet(self) -> bool:
        return self.busy < 0.15

    def describe(self) -> str:
        avg = " / ".join(f"{x:.2f}" for x in self.load_average)
        return (f"{self.busy:.0%} of all CPUs busy (load average {avg})"
                + ("" if self.quiet else "; other work shared the CPUs, so the numbers are lower than on a "
                   "quiet machine"))


def machine_load(seconds: float = 2.0) -> MachineLoad:
    before = cpu_ticks()
    time.sleep(seconds)
    return MachineLoad(busy_share(before, cpu_ticks()), os.getloadavg())


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(ROOT) if script.is_relative_to(ROOT) else script
    return shlex.join(["python", str(shown), *sys.argv[1:]])


def git_commit() -> str:
    """The checked-out commit, marked dirty when the tree has changes the numbers may depend on."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if status else head


def machine_facts(pg_dsn: str | None) -> list[tuple[str, str]]:
    facts = [("CPU", f"{os.cpu_count()} × {_cpu_model()}"), ("Memory", _memory()),
             ("OS", platform.platform()), ("Python", platform.python_version()),
             ("SQLite", sqlite3.sqlite_version)]
    if pg_dsn:
        facts.append(("PostgreSQL", _pg_facts(pg_dsn)))
    return facts


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown model"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _pg_facts(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings = [f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                    for name in PG_SETTINGS]
    return f"{version[0] if version else '?'} ({', '.join(settings)})"


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, to tell whether a run was CPU-bound."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


# --- clients in processes -------------------------------------------------------------------------

START_TIMEOUT = 300.0  # seconds for every client to connect and warm up


class Client(Protocol):
    """One benchmark client, living in its own process with its own connection."""

    retries: int

    def step(self) -> int:
        """Do one unit of work (one transaction) and return how many items (orders) it completed."""
        ...

    def suspend(self) -> None:
        """Let go of the connection (keeping compiled statements); the next step reconnects."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ClientRun:
    done: int
    started: float  # time.monotonic(), comparable across processes on one machine
    ended: float
    cpu: float  # seconds of this client process's own CPU inside the window
    retries: int


@dataclass(frozen=True)
class CellRun:
    """What the clients completed in one or more measured windows, and how busy the machine was meanwhile."""

    done: int
    seconds: float
    cpu: float  # the client processes' own CPU seconds
    retries: int
    busy: float  # share of all the machine's CPUs in use

    @classmethod
    def of(cls, clients: list[ClientRun], busy: float) -> CellRun:
        seconds = max(c.ended for c in clients) - min(c.started for c in clients)
        return cls(sum(c.done for c in clients), seconds, sum(c.cpu for c in clients),
                   sum(c.retries for c in clients), busy)

    @classmethod
    def combine(cls, runs: list[CellRun]) -> CellRun:
        seconds = sum(r.seconds for r in runs)
        return cls(sum(r.done for r in runs), seconds, sum(r.cpu for r in runs), sum(r.retries for r in runs),
                   sum(r.busy * r.seconds for r in runs) / seconds if seconds else 0.0)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_item(self) -> float:
        return self.cpu / self.done if self.done else 0.0


Mode = tuple[Callable[[int], Client], int]  # (makes client i in its own process, warm-up steps when first used)


class ClientPool:
    """`clients` processes (forked, so imports are shared) that each hold one client per mode and are released
    together for timed windows, one mode at a time. Processes keep the GIL from making the client the limit;
    alternating modes in the same processes lets two paths share whatever else loads the machine, and only the
    current mode holds a connection, so a pool never needs more than `clients` of them."""

    def __init__(self, modes: dict[str, Mode], clients: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self._names = list(modes)
        self._clients = clients
        self._barrier: Any = ctx.Barrier(clients + 1)
        self._queue: Any = ctx.Queue()
        self._mode: Any = ctx.Value("i", 0)
        self._seconds: Any = ctx.Value("d", 0.0)
        self._procs = [ctx.Process(target=_client_process, daemon=True,
                                   args=(modes, self._names, i, self._barrier, self._queue, self._mode,
                                         self._seconds)) for i in range(clients)]
        for proc in self._procs:
            proc.start()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def window(self, mode: str, seconds: float) -> CellRun:
        self._mode.value, self._seconds.value = self._names.index(mode), seconds
        try:
            self._barrier.wait(timeout=START_TIMEOUT)  # the command is out: clients switch mode and warm up
            self._barrier.wait(timeout=START_TIMEOUT)  # all warm: the window starts
        except BrokenBarrierError:
            self._raise_first_error()
        before = cpu_ticks()
        results = [self._queue.get(timeout=START_TIMEOUT + seconds) for _ in self._procs]
        after = cpu_ticks()
        if any(run is None for _, run, _ in results):
            self._raise_first_error(results)
        return CellRun.of([run for _, run, _ in results], busy_share(before, after))

    def _raise_first_error(self, results: list[tuple[int, ClientRun | None, str]] | None = None) -> None:
        errors = [err for _, run, err in results or [] if run is None]
        while not errors:
            _, run, err = self._queue.get(timeout=START_TIMEOUT)
            if run is None:
                errors.append(err)
        raise RuntimeError(f"a benchmark client failed:\n{errors[0]}")

    def close(self) -> None:
        self._mode.value = -1
        try:
            self._barrier.wait(timeout=30)
        except BrokenBarrierError:
            pass
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


def _client_process(modes: dict[str, Mode], names: list[str], index: int, barrier: Any, queue: Any,
                    mode_index: Any, seconds: Any) -> None:
    clients: dict[str, Client] = {}
    current: str | None = None
    try:
        while True:
            barrier.wait(timeout=START_TIMEOUT)
            if mode_index.value < 0:
                return
            name = names[mode_index.value]
            if current is not None and current != name:
                clients[current].suspend()
            warmup = modes[name][1]
            if name in clients:
                warmup = min(warmup, 2)  # statements are compiled already: only the new connection needs a try
            else:
                clients[name] = modes[name][0](index)
            client, current = clients[name], name
            for _ in range(warmup):
                client.step()
            client.retries = 0
            barrier.wait(timeout=START_TIMEOUT)
            queue.put((index, _window(client, seconds.value), ""))
    except BaseException:  # noqa: BLE001 - every failure must reach the parent, which reports it
        barrier.abort()
        queue.put((index, None, traceback.format_exc()))
    finally:
        for client in clients.values():
            client.close()


def _window(client: Client, seconds: float) -> ClientRun:
    started, cpu_start = time.monotonic(), time.process_time()
    deadline, done = started + seconds, 0
    while True:
        done += client.step()
        ended = time.monotonic()
        if ended >= deadline:
            return ClientRun(done, started, ended, time.process_time() - cpu_start, client.retries)


# --- what reaches the database ----------------------------------------------------------------------


class StatementLog(Protocol):
    """The round trips a connection makes, so that a benchmark can show what one business action costs."""

    def attach(self, dbapi_connection: Any) -> None: ...

    def mark(self) -> None: ...

    def since_mark(self) -> list[str]:
        """One entry per round trip since mark(): the statement text, shortened."""
        ...


class SqliteStatementLog:
    """Every statement SQLite runs, through sqlite3's trace callback (BEGIN and COMMIT included)."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._mark = 0

    def attach(self, dbapi_connection: Any) -> None:
        dbapi_connection.set_trace_callback(self._lines.append)

    def mark(self) -> None:
        self._mark = len(self._lines)

    def since_mark(self) -> list[str]:
        return [shorten(line) for line in self._lines[self._mark:]]


class PgStatementLog:
    """Every round trip to PostgreSQL, read from libpq's protocol trace: a simple Query message or an
    extended-protocol Sync each wait for the server once. This also sees what SQLAlchemy's events do not
    (the pool's pre-ping, BEGIN and COMMIT)."""

    _PARSE = re.compile(r'^F\t\d+\tParse\t "([^"]*)" "(.*?)"(?: \d+)*$')
    _BIND = re.compile(r'^F\t\d+\tBind\t "[^"]*" "([^"]*)"')
    _QUERY = re.compile(r'^F\t\d+\tQuery\t "(.*)"$')

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="pgtrace-", suffix=".txt")
        self._fd = handle
        self.path = Path(name)
        self._offset = 0

    def attach(self, dbapi_connection: Any) -> None:
        dbapi_connection.pgconn.trace(self._fd)
        dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def mark(self) -> None:
        self._offset = self.path.stat().st_size

    def since_mark(self) -> list[str]:
        text = self.path.read_text(encoding="utf-8", errors="replace")
        # psycopg prepares a statement once it has run a few times; later round trips only name it.
        prepared = {m.group(1): m.group(2) for line in _messages(text)
                    if (m := self._PARSE.match(line)) is not None and m.group(1)}
        trips: list[str] = []
        sql: str | None = None
        for line in _messages(text[self._offset:]):
            if (m := self._PARSE.match(line)) is not None:
                sql = m.group(2)
            elif (m := self._BIND.match(line)) is not None and m.group(1):
                sql = prepared.get(m.group(1), f"(prepared statement {m.group(1)})")
            elif (m := self._QUERY.match(line)) is not None:
                trips.append(shorten(m.group(1)) if m.group(1).strip() != ";" else "; (pool pre-ping)")
            elif line.startswith("F\t") and line.split("\t")[2].strip() == "Sync":
                trips.append(shorten(sql) if sql else "(unnamed statement)")
                sql = None
        return trips

    def close(self) -> None:
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


def _messages(trace: str) -> list[str]:
    """One line per protocol message: libpq writes a statement's own newlines into the trace as they are."""
    messages: list[str] = []
    for line in trace.splitlines():
        if line.startswith(("F\t", "B\t")) or not messages:
            messages.append(line)
        else:
            messages[-1] += " " + line
    return messages


def shorten(sql: str, width: int = 96) -> str:
    """A statement on one line: the columns of a SELECT elided, bind markers kept."""
    flat = " ".join(sql.split())
    flat = re.sub(r"^SELECT .+? FROM ", "SELECT … FROM ", flat)
    flat = re.sub(r"\(([a-z_]+(?:, [a-z_]+){3,})\)", "(…)", flat)
    lock = re.search(r" FOR UPDATE(?: OF \w+)?$", flat)  # a lock matters more than the columns before it
    tail = lock.group(0) if lock else ""
    body = flat[: len(flat) - len(tail)]
    return flat if len(flat) <= width else body[: width - len(tail) - 1] + "…" + tail


# --- PostgreSQL -----------------------------------------------------------------------------------


def pg_reason_unavailable(admin_dsn: str = PG_ADMIN_DSN) -> str | None:
    """None when PostgreSQL answers (starting the local cluster if it is down), else why not."""
    if _pg_reachable(admin_dsn):
        return None
    conf = Path("/etc/postgresql")
    if conf.is_dir():
        for version in sorted(p.name for p in conf.iterdir()):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                           check=False, capture_output=True, timeout=60)
    for _ in range(30):
        if _pg_reachable(admin_dsn):
            return None
        time.sleep(0.5)
    return f"PostgreSQL is not reachable at {admin_dsn}"


def _pg_reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@dataclass(frozen=True)
class PgDatabase:
    name: str
    dsn: str  # for psycopg
    url: str  # for SQLAlchemy


@contextmanager
def throwaway_pg_database(prefix: str, admin_dsn: str = PG_ADMIN_DSN) -> Iterator[PgDatabase]:
    """A fresh database for one run, dropped afterwards even when the run fails."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{admin_dsn.rsplit('/', 1)[0]}/{name}"
    try:
        yield PgDatabase(name, dsn, dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- docs/BENCHMARKS.md ---------------------------------------------------------------------------


def replace_section(document: str, heading: str, body: str) -> str:
    """The document with the section under `heading` (up to the next `## ` heading) replaced by `body`,
    or appended when the document has no such section yet."""
    section = f"{heading}\n\n{body.strip()}\n"
    lines = document.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        return document.rstrip("\n") + "\n\n" + section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    after = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + after if after else "")


def write_section(path: Path, heading: str, body: str) -> None:
    document = path.read_text(encoding="utf-8") if path.exists() else INTRO
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(document, heading, body), encoding="utf-8")


# --- profiling -------------------------------------------------------------------------------------------

PACKAGES = (("/sqlalchemy/", "SQLAlchemy (ORM unit of work, Core, dialect)"),
            ("/psycopg/", "psycopg (Python side of the driver)"),
            ("/omnistock/", "omnistock (services, domain)"))
WAITING = "database driver (sqlite3 calls, libpq wait loop)"
_WAIT_NAMES = ("sqlite3", "psycopg_binary", "wait", "select", "poll")


@dataclass(frozen=True)
class ProfileSplit:
    """Where one client's CPU time went while it repeated one action."""

    items: int
    seconds: float
    calls: int  # Python function calls in all
    shares: list[tuple[str, float]]  # (package group, share of the profiled time)
    top: list[tuple[str, float]]  # (function, own seconds per item)

    @property
    def per_item(self) -> float:
        return self.seconds / self.items if self.items else 0.0

    @property
    def calls_per_item(self) -> float:
        return self.calls / self.items if self.items else 0.0


def profile_calls(step: Callable[[], int], seconds: float) -> ProfileSplit:
    """cProfile of `step` repeated for `seconds` of this process's CPU, grouped by package. Timed by the CPU
    clock, not the wall clock: on a shared machine the wall clock would charge time spent descheduled to
    whichever function happened to be running."""
    prof = cProfile.Profile(time.process_time)
    done, start = 0, time.process_time()
    prof.enable()
    while time.process_time() - start < seconds:
        done += step()
    prof.disable()
    elapsed = time.process_time() - start
    stats = pstats.Stats(prof)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    groups: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    for (filename, line, name), (_cc, _nc, tottime, _ct, _callers) in table.items():
        groups[_package_group(filename, name)] += tottime
        funcs[f"{Path(filename).name}:{line} {name}" if filename != "~" else name] += tottime
    total = sum(groups.values()) or 1.0
    return ProfileSplit(done, elapsed, stats.total_calls,  # type: ignore[attr-defined]
                        [(g, t / total) for g, t in groups.most_common()],
                        [(f, t / done) for f, t in funcs.most_common(8)] if done else [])


def _package_group(filename: str, name: str) -> str:
    if "/psycopg/" in filename and name == "wait":
        # Connection.wait hands the socket to psycopg_binary's compiled wait loop, which cProfile cannot see:
        # its own time is that loop's.
        return WAITING
    for marker, group in PACKAGES:
        if marker in filename:
            return group
    if filename == "~" and any(w in name for w in _WAIT_NAMES):
        return WAITING
    return "other Python (stdlib, builtins)"


# --- reading a statement trace ------------------------------------------------------------------------------

# Why a row may be written twice, for the tables where the reason is known.
WHY_REWRITTEN = {"orders": "the order is inserted `held`, then set `reserved`",
                 "order_lines": "the line is inserted with `reserved = 0`, then set to its qty"}


def trace_findings(trips: list[str]) -> list[str]:
    """Facts about one business action's round trips that point at work it need not do."""
    notes = []
    inserts: Counter[str] = Counter()
    rewritten: list[str] = []
    for trip in trips:
        if (m := re.match(r"INSERT INTO (\w+)", trip)) is not None:
            inserts[m.group(1)] += 1
        elif ((m := re.match(r"UPDATE (\w+)", trip)) is not None and m.group(1) in inserts
              and m.group(1) not in rewritten):
            rewritten.append(m.group(1))
    if rewritten:
        why = "; ".join(WHY_REWRITTEN[t] for t in rewritten if t in WHY_REWRITTEN)
        notes.append(f"rows inserted and then updated in the same transaction: {', '.join(rewritten)} "
                     f"({len(rewritten)} UPDATE round trips that writing the final values once would save"
                     + (f"; {why})" if why else ")"))
    repeated = [f"{table} ×{n}" for table, n in inserts.items() if n > 1]
    if repeated:
        notes.append(f"several INSERT round trips into one table: {', '.join(repeated)} (rows flushed at "
                     "different moments; added together they would go in one round trip)")
    if any("pre-ping" in trip for trip in trips):
        notes.append("the engine's `pool_pre_ping` costs one round trip before every transaction")
    reads = [m.group(1) for trip in trips if "FOR UPDATE" not in trip
             and (m := re.match(r"SELECT … FROM (\w+)", trip)) is not None]
    if reads:
        notes.append(f"{len(reads)} plain SELECTs ({', '.join(reads)})")
    lock = next((i for i, trip in enumerate(trips) if "FOR UPDATE" in trip), None)
    if lock is not None:
        notes.append(f"the row lock is taken at round trip {lock + 1} of {len(trips)}; the {len(trips) - lock - 1} "
                     "round trips after it, and the Python between them, run while it is held")
    return notes


def markdown_table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
