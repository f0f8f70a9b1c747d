"""Per-run overhead, durable: start a run with 10 params, record 3 summary values, finish.

One "run" is, in-process and timed from before ``start`` to after ``finish`` returns::

    run = runlab.start(PARAMS, store=tmp, capture=...)   # 10 params
    run.summary(acc=..., loss=..., f1=...)               # 3 summary values, one call
    run.finish()                                         # every file written (no fsync)

Each system is measured in ``--rounds`` (default 3) fresh processes, round-robin; its
figure is its least-disturbed round (lowest median) — the machine these figures come from
is shared, and a burst of someone else's work would otherwise decide the result. Every
round's median is in the JSON.

After the timed loop every run folder is checked (status completed, 10 params, 3 summary
values), outside the timing. Reported: median and p90 over N runs (N >= 300) for
capture off and on, runs/s (N / total time), and the "floor" — mkdir plus three atomic
JSON writes (temp file + rename) of the same three documents — measured interleaved with
the runlab runs in the same process, so both see the same disk and CPU state.

Peers, each in its own process, with capped N (they are 20-100x slower) and the
equivalent unit of work:

- MLflow (SQLite store): ``with mlflow.start_run(): log_params(10); log_metrics(3)``.
- MLtraq, saved per run: a one-run experiment, 3 fields set, ``experiment.persist()``
  (MLtraq persists whole experiments; this is how a run becomes durable). Also the
  in-memory-only figure (no persist), for orientation: it is not durable.
- Trackio: ``trackio.init(project, config=10 params); trackio.log(3 values); trackio.finish()``.

Rerun: ``/work/bench-venv/bin/python benchmarks/bench_run_overhead.py`` (``--quick`` for a
smoke test, ``--only runlab`` to skip the peers, ``--n 1000`` for more runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

PARAMS: dict[str, Any] = {
    "model": "mlp",
    "lr": 0.01,
    "batch_size": 64,
    "epochs": 10,
    "optimizer": "adam",
    "dropout": 0.1,
    "weight_decay": 0.0001,
    "seed": 0,
    "layers": 3,
    "hidden": 256,
}
SUMMARY = {"acc": 0.93, "loss": 0.21, "f1": 0.91}
TARGET_MEDIAN_MS = 2.0
TARGET_SPEEDUP = 20.0


def _params(i: int) -> dict[str, Any]:
    return {**PARAMS, "seed": i}


# -- the floor: a folder plus three atomic JSON files -----------------------------------
def _floor_once(root: Path, i: int, record: dict[str, Any]) -> None:
    folder = root / str(i)
    os.mkdir(folder)
    for name, data in (
        ("params.json", _params(i)),
        ("summary.json", SUMMARY),
        ("run.json", record),
    ):
        tmp = folder / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, folder / name)


# -- workers ----------------------------------------------------------------------------
def worker_runlab(args: Any) -> dict[str, Any]:
    warnings.simplefilter("ignore")  # GitWarning: the worker's cwd is not a git repository
    import runlab

    tmp = Path(args.tmp)
    capture = args.capture == "on"
    n, warm = args.n, 20
    store = tmp / "store"
    floor_root = tmp / "floor"
    floor_root.mkdir()
    record_template: dict[str, Any] | None = None
    run_ns: list[int] = []
    floor_ns: list[int] = []
    pc = time.perf_counter_ns
    for i in range(warm + n):
        t0 = pc()
        run = runlab.start(_params(i), store=store, capture=capture)
        run.summary(SUMMARY)
        run.finish()
        t1 = pc()
        if record_template is None:
            record_template = run.record  # a run.json of the real size for the floor
        t2 = pc()
        _floor_once(floor_root, i, record_template)
        t3 = pc()
        if i >= warm:
            run_ns.append(t1 - t0)
            floor_ns.append(t3 - t2)
    # Durability check, outside the timing: every run's files are complete.
    bad = []
    for d in sorted(p for p in store.iterdir() if p.is_dir() and not p.name.startswith(".")):
        rec = json.loads((d / "run.json").read_text())
        par = json.loads((d / "params.json").read_text())
        summ = json.loads((d / "summary.json").read_text())
        if rec.get("status") != "completed" or len(par) != 10 or set(summ) != set(SUMMARY):
            bad.append(d.name)
    n_dirs = sum(1 for p in store.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = sorted(p.name for p in (store / str(warm + 1)).iterdir())
    total_s = sum(run_ns) / 1e9
    return {
        "capture": capture,
        "git_dir": args.git_dirty,
        "per_run": C.summarize_ns(run_ns, unit="ms"),
        "runs_per_s": round(n / total_s, 1),
        "floor_per_run": C.summarize_ns(floor_ns, unit="ms"),
        "check": {
            "runs_on_disk": n_dirs,
            "expected": warm + n,
            "incomplete": bad[:10],
            "ok": not bad and n_dirs == warm + n,
            "files_in_a_run_folder": files,
        },
    }


def worker_mlflow(args: Any) -> dict[str, Any]:
    import mlflow

    tmp = Path(args.tmp)
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    t0 = time.perf_counter()
    mlflow.set_experiment("bench")
    setup_s = time.perf_counter() - t0
    n, warm = args.n_peer, 3
    ns: list[int] = []
    pc = time.perf_counter_ns
    for i in range(warm + n):
        t0 = pc()
        with mlflow.start_run():
            mlflow.log_params(_params(i))
            mlflow.log_metrics(SUMMARY)
        t1 = pc()
        if i >= warm:
            ns.append(t1 - t0)
    runs = mlflow.search_runs(max_results=10_000)
    return {
        "backend": "sqlite",
        "setup_s (create db + experiment)": round(setup_s, 2),
        "per_run": C.summarize_ns(ns, unit="ms"),
        "runs_per_s": round(n / (sum(ns) / 1e9), 1),
        "check": {"runs_found": len(runs), "expected": warm + n},
    }


def worker_mltraq(args: Any) -> dict[str, Any]:
    import mltraq

    tmp = Path(args.tmp)
    session = mltraq.create_session(f"sqlite:///{tmp / 'mltraq.db'}")
    pc = time.perf_counter_ns

    def one(i: int, persist: bool) -> None:
        exp = session.create_experiment(f"e{i}" if persist else None)
        exp.add_run(**_params(i))
        run = exp.runs.first()
        run.fields.acc = SUMMARY["acc"]
        run.fields.loss = SUMMARY["loss"]
        run.fields.f1 = SUMMARY["f1"]
        if persist:
            exp.persist()

    out: dict[str, Any] = {"backend": "sqlite"}
    for label, persist, n in (("saved", True, args.n_peer), ("in_memory", False, args.n)):
        ns: list[int] = []
        for i in range(3 + n):
            t0 = pc()
            one(i + (0 if persist else 10**6), persist)
            t1 = pc()
            if i >= 3:
                ns.append(t1 - t0)
        out[label] = {
            "per_run": C.summarize_ns(ns, unit="ms"),
            "runs_per_s": round(n / (sum(ns) / 1e9), 1),
        }
    out["check"] = {"experiments_saved": len(session.ls()), "expected": 3 + args.n_peer}
    out["note"] = (
        "saved = one experiment per run, persisted (MLtraq persists whole experiments); "
        "in_memory is not durable"
    )
    return out


def worker_trackio(args: Any) -> dict[str, Any]:
    import trackio

    n, warm = args.n_peer, 2
    ns: list[int] = []
    pc = time.perf_counter_ns
    for i in range(warm + n):
        t0 = pc()
        trackio.init(project="bench", name=f"r{i}", config=_params(i))
        trackio.log(dict(SUMMARY))
        trackio.finish()
        t1 = pc()
        if i >= warm:
            ns.append(t1 - t0)
    return {
        "backend": "local sqlite (TRACKIO_DIR)",
        "per_run": C.summarize_ns(ns, unit="ms"),
        "runs_per_s": round(n / (sum(ns) / 1e9), 1),
    }


WORKERS = {
    "runlab": worker_runlab,
    "mlflow": worker_mlflow,
    "mltraq": worker_mltraq,
    "trackio": worker_trackio,
}


def _extra(parser: Any) -> None:
    parser.add_argument("--n", type=int, default=300, help="runs per runlab variant and round")
    parser.add_argument("--n-peer", type=int, default=60, help="runs per peer (they are slow)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per system")
    parser.add_argument("--capture", default="off", help=argparse.SUPPRESS)
    parser.add_argument("--git-dirty", default=None, help=argparse.SUPPRESS)


def _make_dirty_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    who = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost"}
    env = {
        **os.environ,
        **who,
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@localhost",
    }
    (path / "train.py").write_text("print('train')\n" * 20)
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "train.py"],
        ["git", "commit", "-qm", "init"],
    ):
        subprocess.run(cmd, cwd=path, check=True, env=env, capture_output=True)
    (path / "train.py").write_text("print('train, changed')\n" * 20)
    return path


def main() -> None:
    args = C.worker_args(_extra)
    if args.quick:
        args.n, args.n_peer, args.rounds = min(args.n, 50), min(args.n_peer, 8), 1
    if args.worker:
        if args.git_dirty:
            os.chdir(args.git_dirty)
        C.write_result(args.out, WORKERS[args.worker](args))
        return

    load_before = C.wait_quiet(args.wait_quiet)
    tmp = C.fresh_tmp("overhead")
    common = ["--n", str(args.n), "--n-peer", str(args.n_peer)]
    # Every system is measured in --rounds fresh processes, round-robin, so a burst of
    # other work on the machine hits all of them alike; each system's figure is its
    # least-disturbed round (lowest median), every round's median is in the JSON.
    rounds: dict[str, list[dict[str, Any]]] = {}
    try:
        repo = _make_dirty_repo(tmp / "dirty-repo")
        variants: list[tuple[str, str, list[str]]] = []
        if C.selected(args, "runlab"):
            variants += [
                ("runlab_capture_off", "runlab", ["--capture", "off"]),
                ("runlab_capture_on", "runlab", ["--capture", "on"]),
                ("runlab_capture_off_dirty_git_repo", "runlab",
                 ["--capture", "off", "--git-dirty", str(repo)]),
            ]  # fmt: skip
        for peer in C.PEERS:
            if not C.selected(args, peer):
                continue
            if not C.available(peer):
                rounds[peer] = [C.skipped(f"{peer} is not installed in {sys.executable}")]
                continue
            variants.append((peer, peer, []))
        for r in range(args.rounds):
            for key, worker, extra in variants:
                rounds.setdefault(key, []).append(
                    C.run_worker(
                        __file__,
                        worker,
                        tmp=tmp / f"{key}-{r}",
                        extra_args=[*common, *extra],
                        timeout=240,
                    )
                )
    finally:
        C.cleanup(tmp)

    def median_of(result: dict[str, Any], *path: str) -> float | None:
        node: Any = result
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node if isinstance(node, (int, float)) else None

    def best(key: str, *path: str) -> dict[str, Any]:
        ok = [x for x in rounds.get(key, []) if median_of(x, *path) is not None]
        if not ok:
            return (rounds.get(key) or [{}])[0]
        chosen = dict(min(ok, key=lambda x: median_of(x, *path)))
        chosen["round_medians_ms"] = [median_of(x, *path) for x in ok]
        return chosen

    results: dict[str, Any] = {
        key: best(
            key, *(("saved", "per_run", "median") if key == "mltraq" else ("per_run", "median"))
        )
        for key in rounds
    }
    floors = [
        (median_of(x, "floor_per_run", "median"), median_of(x, "per_run", "median"))
        for x in rounds.get("runlab_capture_off", [])
    ]
    floors = [(f, o) for f, o in floors if f is not None and o is not None]
    best_floor = min(floors, default=(None, None))[0]
    over_floor = statistics.median([o / f for f, o in floors]) if floors else None

    def med(key: str, *path: str) -> float | None:
        node: Any = results.get(key, {})
        for p in path:
            if not isinstance(node, dict):
                return None
            node = node.get(p)
        return node if isinstance(node, (int, float)) else None

    off = med("runlab_capture_off", "per_run", "median")
    on = med("runlab_capture_on", "per_run", "median")
    floor = best_floor
    mlflow_ms = med("mlflow", "per_run", "median")
    mltraq_saved = med("mltraq", "saved", "per_run", "median")
    trackio_ms = med("trackio", "per_run", "median")
    figures = {
        "runlab_capture_off_median_ms": off,
        "runlab_capture_off_p90_ms": med("runlab_capture_off", "per_run", "p90"),
        "runlab_capture_on_median_ms": on,
        "runlab_capture_on_p90_ms": med("runlab_capture_on", "per_run", "p90"),
        "floor_median_ms": floor,
        "runlab_over_floor_capture_off": round(over_floor, 2) if over_floor else None,
        "mlflow_median_ms": mlflow_ms,
        "mltraq_saved_median_ms": mltraq_saved,
        "mltraq_in_memory_median_ms": med("mltraq", "in_memory", "per_run", "median"),
        "trackio_median_ms": trackio_ms,
        "speedup_vs_mlflow_capture_on": C.ratio(mlflow_ms, on),
        "speedup_vs_mltraq_saved_capture_on": C.ratio(mltraq_saved, on),
        "speedup_vs_trackio_capture_on": C.ratio(trackio_ms, on),
    }
    worst = max((x for x in (off, on) if x is not None), default=None)
    targets = {
        "median_le_2ms": {
            "target": f"<= {TARGET_MEDIAN_MS} ms median (capture on and off)",
            "measured": {"off": off, "on": on},
            "met": worst is not None and worst <= TARGET_MEDIAN_MS,
        },
        "ge_20x_mlflow": {
            "target": ">= 20x faster than MLflow (capture on)",
            "measured": figures["speedup_vs_mlflow_capture_on"],
            "met": (figures["speedup_vs_mlflow_capture_on"] or 0) >= TARGET_SPEEDUP,
        },
        "ge_20x_mltraq_saved": {
            "target": ">= 20x faster than MLtraq saved per run (capture on)",
            "measured": figures["speedup_vs_mltraq_saved_capture_on"],
            "met": (figures["speedup_vs_mltraq_saved_capture_on"] or 0) >= TARGET_SPEEDUP,
        },
    }
    C.emit(
        "run_overhead",
        C.rerun_command(__file__),
        {
            "params": {
                "n_runlab": args.n,
                "n_peer": args.n_peer,
                "rounds": args.rounds,
                "quick": args.quick,
                "figure": "each system's least-disturbed round (lowest median) of --rounds",
            },
            "figures": figures,
            "targets": targets,
            "results": results,
        },
        load_before=load_before,
    )


if __name__ == "__main__":
    main()
