"""Shared helpers for the benchmarks: machine facts, statistics, and isolated workers.

Every benchmark measures each system (runlab, MLflow, MLtraq, Trackio) in its own fresh
subprocess ("worker"), one after the other, never concurrently. That keeps a peer's
imports, background threads and monkey-patching from touching runlab's figures, lets a
peer that is not installed (or crashes) be skipped with a note, and puts every system
in the same conditions: a fresh temporary folder as working directory (not a git
repository) and telemetry / network features switched off through their documented
environment variables.

A worker is the same script run as ``script.py --worker NAME --out FILE [...]``; it
writes one JSON object to FILE. The driver (``script.py`` without ``--worker``) prints
one JSON object with all figures to stdout.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = ("mlflow", "mltraq", "trackio")
PACKAGES = (
    "runlab",
    "mlflow",
    "mlflow-skinny",
    "mltraq",
    "trackio",
    "pandas",
    "numpy",
    "SQLAlchemy",
    "pyarrow",
)

# Switch off anything that would phone home or wait on the network: we time local work.
QUIET_ENV = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TQDM_DISABLE": "1",
    "PYTHONWARNINGS": "ignore",
}


# -- facts about the machine -------------------------------------------------------
def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except (OSError, ValueError):
        pass
    return None


def _fs_type(path: str) -> str | None:
    try:
        out = subprocess.run(
            ["df", "--output=fstype", path], capture_output=True, text=True, check=True
        ).stdout.split()
        return out[-1] if out else None
    except (OSError, subprocess.CalledProcessError):
        return None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    tmp = tempfile.gettempdir()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "cpu_model": _cpu_model(),
        "mem_total_gb": _mem_total_gb(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "tmp_dir": tmp,
        "tmp_fs": _fs_type(tmp),
    }


def load() -> dict[str, Any]:
    """Load average and CPU / IO pressure (PSI) now: this machine may be shared."""
    out: dict[str, Any] = {}
    try:
        out["loadavg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    for kind in ("cpu", "io"):
        try:
            line = Path(f"/proc/pressure/{kind}").read_text().splitlines()[0]
            out[f"{kind}_pressure_some_avg10_avg60"] = [
                float(f.split("=")[1]) for f in line.split()[1:3]
            ]
        except (OSError, IndexError, ValueError):
            pass
    return out


def wait_quiet(max_wait_s: float, threshold: float = 10.0) -> dict[str, Any]:
    """Wait (at most ``max_wait_s``) until CPU pressure avg10 is below ``threshold`` percent.

    The machine these figures come from is shared with other work (test suites, type
    checkers); starting a measurement in the middle of a burst of it mostly measures that.
    Returns what was seen, for the JSON.
    """
    started = time.monotonic()
    seen = load()
    while max_wait_s > 0:
        pressure = (seen.get("cpu_pressure_some_avg10_avg60") or [0.0])[0]
        waited = time.monotonic() - started
        if pressure < threshold or waited >= max_wait_s:
            break
        time.sleep(2.0)
        seen = load()
    return {"waited_s": round(time.monotonic() - started, 1), "threshold_pct": threshold, **seen}


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every measured subprocess gets.

    Bytecode caches are on and kept outside the repository (``PYTHONPYCACHEPREFIX``),
    whatever the caller's ``PYTHONDONTWRITEBYTECODE`` says, so every system imports from
    warm .pyc files as it would on a user's machine.
    """
    env = {**os.environ, **QUIET_ENV, "PYTHONPYCACHEPREFIX": PYCACHE_PREFIX, **(extra or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


PYCACHE_PREFIX = str(Path(tempfile.gettempdir()) / "runlab-bench-pycache")


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# -- statistics ----------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` in [0, 100] of already sorted values."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize_ns(samples_ns: Sequence[int | float], *, unit: str = "ms") -> dict[str, Any]:
    """Median, p90, mean, min, max of nanosecond samples, expressed in ``unit``."""
    scale = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}[unit]
    s = sorted(float(x) / scale for x in samples_ns)
    return {
        "unit": unit,
        "n": len(s),
        "median": round(statistics.median(s), 6) if s else None,
        "p90": round(percentile(s, 90), 6) if s else None,
        "mean": round(statistics.fmean(s), 6) if s else None,
        "min": round(s[0], 6) if s else None,
        "max": round(s[-1], 6) if s else None,
    }


def ratio(peer: float | None, ours: float | None) -> float | None:
    if peer is None or ours is None or ours == 0:
        return None
    return round(peer / ours, 1 if peer / ours >= 10 else 2)


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls of ``fn`` (seconds) and the last call's result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def preimport() -> None:
    """Import pandas and SQLAlchemy now, so the figures are about querying, not imports."""
    import pandas  # noqa: F401
    import sqlalchemy  # noqa: F401


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def replicate_mlflow_runs(db: Path, target: int) -> int:
    """Copy every run (all tables keyed by run_uuid) under new ids until ``target`` runs.

    Creating runs through MLflow's client API costs tens of ms each; copying them inside
    its own SQLite database gives the same rows ``search_runs`` reads, in seconds.
    """
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        keyed = {}
        for t in tables:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')]
            if "run_uuid" in cols:
                keyed[t] = cols
        con.execute("CREATE TEMP TABLE orig AS SELECT run_uuid FROM runs ORDER BY run_uuid")
        have = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        base = have
        k = 0
        while have < target:
            k += 1
            limit = min(base, target - have)
            for t, cols in keyed.items():
                # MLflow ids are 32 hex digits; a copy ends in "r001", "r002", ... (not hex).
                select = ", ".join(
                    f"substr(run_uuid, 1, 28) || printf('r%03d', {k})"
                    if c == "run_uuid"
                    else f'"{c}"'
                    for c in cols
                )
                names = ", ".join(f'"{c}"' for c in cols)
                con.execute(
                    f'INSERT INTO "{t}" ({names}) SELECT {select} FROM "{t}" WHERE run_uuid IN '
                    "(SELECT run_uuid FROM temp.orig ORDER BY run_uuid LIMIT ?)",
                    (limit,),
                )
            have += limit
        con.commit()
        return int(con.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        con.close()


# -- workers ---------------------------------------------------------------------------
def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def worker_args(
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="small N everywhere (a smoke test, not figures)"
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated systems to measure (runlab,mlflow,mltraq,trackio); default all",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=180.0,
        help="wait up to this many seconds for CPU pressure (PSI avg10) < 10%% before measuring",
    )
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def selected(args: argparse.Namespace, name: str) -> bool:
    return args.only is None or name in {s.strip() for s in args.only.split(",")}


def run_workers(
    script: str | Path,
    names: Sequence[str],
    args: argparse.Namespace,
    *,
    tmp: Path,
    extra_args: Sequence[str] = (),
    timeout: Callable[[str], float] | float = 300.0,
) -> dict[str, Any]:
    """Run each selected system's worker in turn; a peer not installed is a skip note."""
    results: dict[str, Any] = {}
    for name in names:
        if not selected(args, name):
            continue
        if name != "runlab" and not available(name):
            results[name] = skipped(f"{name} is not installed in {sys.executable}")
            continue
        limit = timeout(name) if callable(timeout) else timeout
        results[name] = run_worker(script, name, tmp=tmp, extra_args=extra_args, timeout=limit)
    return results


def run_worker(
    script: str | Path,
    name: str,
    *,
    tmp: Path,
    extra_args: Sequence[str] = (),
    timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``script --worker name`` in a fresh interpreter; return what it wrote (or why not)."""
    work = tmp / f"w-{name}"
    work.mkdir(parents=True, exist_ok=True)
    out = work / "result.json"
    full_env = worker_env(env)
    full_env.setdefault("TRACKIO_DIR", str(work / "trackio"))
    full_env["MPLBACKEND"] = "Agg"
    cmd = [
        sys.executable,
        str(script),
        "--worker",
        name,
        "--out",
        str(out),
        "--tmp",
        str(work),
        *extra_args,
    ]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=work, env=full_env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"worker timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-15:]
        return {"status": "error", "returncode": proc.returncode, "error": "\n".join(tail)}
    result = json.loads(out.read_text())
    result.setdefault("status", "ok")
    result["worker_wall_s"] = round(wall, 2)
    return result


def write_result(path: str, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str))


def emit(
    benchmark: str, command: str, body: dict[str, Any], load_before: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Print the benchmark's JSON object (with machine, load and versions) and return it."""
    data = {
        "benchmark": benchmark,
        "date": now_utc(),
        "command": command,
        "machine": machine(),
        "load": {"before": load_before, "after": load()},
        "versions": versions(),
        **body,
    }
    print(json.dumps(data, indent=2, default=str))
    return data


def fresh_tmp(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"runlab-bench-{prefix}-"))


def cleanup(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def rerun_command(script: str) -> str:
    return f"/work/bench-venv/bin/python benchmarks/{Path(script).name}"


def skipped(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason}
