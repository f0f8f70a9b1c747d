"""Logging one scalar per call: ``run.log(loss=x)``.

Three figures for runlab (capture off, a live run, nothing else running):

1. **per call**: batches of ``--batch`` calls (default 1000) each timed with
   ``perf_counter_ns`` and divided by the batch size; the median (and p90) batch is
   reported. The run's background flusher is alive during this, as in real use.
2. **sustained points/s**: a fresh run, calls in a loop for ``--seconds`` (>= 2 s);
   points / elapsed.
3. **on disk without finish**: right after the last call of (2), the script polls
   ``metrics.jsonl`` (reading only the appended bytes and counting newlines) until it
   holds every point logged, *without* calling ``finish``; reported is the delay from
   the last call to the moment all lines are there (target: within 1 s).

Peers, each in its own process, the same loop shape (time-boxed, batched timing):

- MLflow ``mlflow.log_metric("loss", x, step=i)`` in an active run (SQLite store; each
  call is a committed transaction, so it is on disk when it returns);
- MLtraq ``run.fields.metrics.append(loss=x)`` on a ``mltraq.Sequence`` (in memory; on
  disk only once the experiment is persisted — the persist time is reported);
- Trackio ``trackio.log({"loss": x})`` (queued, written by a background thread; the
  time ``trackio.finish()`` takes to drain the queue is reported).

Rerun: ``/work/bench-venv/bin/python benchmarks/bench_log.py`` (``--quick``, ``--only``).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

TARGET_PER_CALL_US = 5.0
TARGET_POINTS_PER_S = 500_000
TARGET_ON_DISK_S = 1.0


def _count_lines_until(path: Path, expected: int, timeout: float) -> tuple[int, float | None]:
    """Poll ``path`` until it has ``expected`` newlines; return (lines, seconds waited or None)."""
    start = time.perf_counter()
    offset = 0
    lines = 0
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        if chunk:
            # Count only complete lines: a torn tail is re-read next time.
            last_nl = chunk.rfind(b"\n")
            if last_nl >= 0:
                lines += chunk.count(b"\n", 0, last_nl + 1)
                offset += last_nl + 1
        waited = time.perf_counter() - start
        if lines >= expected:
            return lines, waited
        if waited > timeout:
            return lines, None
        time.sleep(0.005)


def _timed_batches(
    call: Any, batch: int, seconds: float, max_batches: int
) -> tuple[list[int], int]:
    """Call ``call(i)`` in timed batches for ``seconds`` (at most ``max_batches``).

    Returns (nanoseconds per batch, number of calls).
    """
    pc = time.perf_counter_ns
    end = pc() + int(seconds * 1e9)
    per_batch: list[int] = []
    i = 0
    while len(per_batch) < max_batches:
        t0 = pc()
        for _ in range(batch):
            call(i)
            i += 1
        t1 = pc()
        per_batch.append(t1 - t0)
        if t1 >= end:
            break
    return per_batch, i


def _per_call(per_batch: list[int], batch: int) -> dict[str, Any]:
    return C.summarize_ns([t / batch for t in per_batch], unit="us")


# -- runlab ------------------------------------------------------------------------------
def worker_runlab(args: Any) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    import runlab

    tmp = Path(args.tmp)
    store = tmp / "store"
    batch = args.batch

    # (1) per call: median batch. A short warm-up batch first.
    run = runlab.start({"bench": "per_call"}, store=store, capture=False)
    log = run.log
    for _ in range(batch):
        log(loss=0.5)
    per_batch, calls = _timed_batches(lambda i: log(loss=0.5), batch, args.per_call_seconds, 2000)
    # The loop itself, for reference (not subtracted from the figure).
    empty, _ = _timed_batches(lambda i: None, batch, 0.2, 200)
    run.finish()
    per_call = _per_call(per_batch, batch)

    # (2) sustained, fresh run; (3) on disk without finish.
    run = runlab.start({"bench": "sustained"}, store=store, capture=False)
    log = run.log
    values = [i * 1e-6 for i in range(1000)]  # varying floats, so the flusher encodes real numbers
    pc = time.perf_counter
    t0 = pc()
    end = t0 + args.seconds
    n = 0
    while True:
        for v in values:
            log(loss=v)
        n += 1000
        if pc() >= end:
            break
    t_last = pc()
    elapsed = t_last - t0
    lines, waited = _count_lines_until(run.dir / "metrics.jsonl", n, timeout=10.0)
    seen_at = time.perf_counter()
    size_mb = (run.dir / "metrics.jsonl").stat().st_size / 1e6
    run.finish()
    return {
        "per_call_us": per_call,
        "per_call_batch_size": batch,
        "per_call_calls": calls,
        "empty_loop_per_iteration_us": _per_call(empty, batch)["median"],
        "sustained": {
            "points": n,
            "seconds": round(elapsed, 3),
            "points_per_s": round(n / elapsed),
        },
        "on_disk_without_finish": {
            "lines_expected": n,
            "lines_seen": lines,
            "all_on_disk_after_s": round(waited, 3) if waited is not None else None,
            "since_last_call_s": round(seen_at - t_last, 3),
            "metrics_jsonl_mb": round(size_mb, 1),
            # What reaches the disk per second: points / (logging time + wait until on disk).
            "durable_points_per_s": round(n / (elapsed + waited)) if waited is not None else None,
        },
    }


# -- peers -------------------------------------------------------------------------------
def worker_mlflow(args: Any) -> dict[str, Any]:
    import mlflow

    tmp = Path(args.tmp)
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    mlflow.set_experiment("bench")
    with mlflow.start_run() as active:
        for i in range(5):
            mlflow.log_metric("warm", 0.5, step=i)
        per_batch, calls = _timed_batches(
            lambda i: mlflow.log_metric("loss", i * 1e-6, step=i), 1, args.seconds, 10**9
        )
        run_id = active.info.run_id
    hist = mlflow.MlflowClient().get_metric_history(run_id, "loss")
    total = sum(per_batch) / 1e9
    return {
        "call": 'mlflow.log_metric("loss", x, step=i)',
        "per_call_us": _per_call(per_batch, 1),
        "sustained": {
            "points": calls,
            "seconds": round(total, 3),
            "points_per_s": round(calls / total, 1),
        },
        "on_disk": "synchronous (SQLite commit per call)",
        "check": {"points_in_store": len(hist), "expected": calls},
    }


def worker_mltraq(args: Any) -> dict[str, Any]:
    import mltraq

    tmp = Path(args.tmp)
    session = mltraq.create_session(f"sqlite:///{tmp / 'mltraq.db'}")
    exp = session.create_experiment("bench")
    exp.add_run(x=1)
    run = exp.runs.first()
    run.fields.metrics = mltraq.Sequence()
    seq = run.fields.metrics
    for _ in range(100):
        seq.append(loss=0.5)
    batch = min(args.batch, 1000)
    per_batch, calls = _timed_batches(
        lambda i: seq.append(loss=i * 1e-6), batch, args.seconds, 10**9
    )
    total = sum(per_batch) / 1e9
    t0 = time.perf_counter()
    exp.persist()
    persist_s = time.perf_counter() - t0
    loaded = session.load_experiment("bench").runs.first().fields.metrics
    return {
        "call": "run.fields.metrics.append(loss=x)  # mltraq.Sequence",
        "per_call_us": _per_call(per_batch, batch),
        "sustained": {
            "points": calls,
            "seconds": round(total, 3),
            "points_per_s": round(calls / total),
        },
        "on_disk": f"only at experiment.persist(): {persist_s:.2f} s for {calls + 100} points",
        "persist_s": round(persist_s, 3),
        "check": {"points_loaded": len(loaded), "expected": calls + 100},
    }


def worker_trackio(args: Any) -> dict[str, Any]:
    import trackio

    trackio.init(project="bench", name="log", config={"x": 1})
    for _ in range(100):
        trackio.log({"warm": 0.5})
    batch = 100
    per_batch, calls = _timed_batches(
        lambda i: trackio.log({"loss": i * 1e-6}), batch, args.seconds, 10**9
    )
    total = sum(per_batch) / 1e9
    t0 = time.perf_counter()
    trackio.finish()
    finish_s = time.perf_counter() - t0
    return {
        "call": 'trackio.log({"loss": x})',
        "per_call_us": _per_call(per_batch, batch),
        "sustained": {
            "points": calls,
            "seconds": round(total, 3),
            "points_per_s": round(calls / total),
        },
        "on_disk": f"background thread; trackio.finish() drained the queue in {finish_s:.2f} s",
        "finish_s": round(finish_s, 3),
    }


WORKERS = {
    "runlab": worker_runlab,
    "mlflow": worker_mlflow,
    "mltraq": worker_mltraq,
    "trackio": worker_trackio,
}


def _extra(parser: Any) -> None:
    parser.add_argument("--batch", type=int, default=1000, help="calls per timed batch")
    parser.add_argument("--seconds", type=float, default=2.5, help="sustained loop length (>= 2)")
    parser.add_argument(
        "--per-call-seconds", type=float, default=1.5, help="time spent on per-call batches"
    )


def main() -> None:
    args = C.worker_args(_extra)
    if args.quick:
        args.seconds, args.per_call_seconds = 0.5, 0.3
    if args.worker:
        C.write_result(args.out, WORKERS[args.worker](args))
        return
    load_before = C.wait_quiet(args.wait_quiet)
    tmp = C.fresh_tmp("log")
    extra = [
        "--batch", str(args.batch),
        "--seconds", str(args.seconds),
        "--per-call-seconds", str(args.per_call_seconds),
    ]  # fmt: skip
    try:
        results = C.run_workers(
            __file__, ("runlab", *C.PEERS), args, tmp=tmp, extra_args=extra, timeout=240
        )
    finally:
        C.cleanup(tmp)

    def get(name: str, *path: str) -> Any:
        node: Any = results.get(name, {})
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node

    ours_us = get("runlab", "per_call_us", "median")
    ours_rate = get("runlab", "sustained", "points_per_s")
    on_disk = get("runlab", "on_disk_without_finish", "all_on_disk_after_s")
    figures: dict[str, Any] = {
        "runlab_per_call_median_us": ours_us,
        "runlab_per_call_p90_us": get("runlab", "per_call_us", "p90"),
        "runlab_points_per_s": ours_rate,
        "runlab_all_on_disk_after_s": on_disk,
        "runlab_durable_points_per_s": get(
            "runlab", "on_disk_without_finish", "durable_points_per_s"
        ),
    }
    for peer in C.PEERS:
        us = get(peer, "per_call_us", "median")
        rate = get(peer, "sustained", "points_per_s")
        figures[f"{peer}_per_call_median_us"] = us
        figures[f"{peer}_points_per_s"] = rate
        figures[f"{peer}_per_call_ratio"] = C.ratio(us, ours_us)
        figures[f"{peer}_throughput_ratio"] = C.ratio(ours_rate, rate)
    targets = {
        "per_call_le_5us": {
            "target": f"<= {TARGET_PER_CALL_US} us median per call",
            "measured": ours_us,
            "met": ours_us is not None and ours_us <= TARGET_PER_CALL_US,
        },
        "sustained_ge_500k": {
            "target": f">= {TARGET_POINTS_PER_S:,} points/s over >= 2 s",
            "measured": ours_rate,
            "met": ours_rate is not None and ours_rate >= TARGET_POINTS_PER_S,
        },
        "on_disk_within_1s": {
            "target": "every point in metrics.jsonl within 1 s of the last call, no finish",
            "measured": on_disk,
            "met": on_disk is not None and on_disk <= TARGET_ON_DISK_S,
        },
    }
    C.emit(
        "log",
        C.rerun_command(__file__),
        {
            "params": {
                "batch": args.batch,
                "seconds": args.seconds,
                "per_call_seconds": args.per_call_seconds,
                "quick": args.quick,
            },
            "figures": figures,
            "targets": targets,
            "results": results,
        },
        load_before=load_before,
    )


if __name__ == "__main__":
    main()
