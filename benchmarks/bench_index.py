"""Indexing and querying 100,000 runs (20 params, 5 metrics, 100 logged steps each).

The stores are synthetic (see ``_synthetic.py``): real run folders in runlab's layout,
written straight to disk by a process pool and cached under ``--data`` (default
``/work/bench-data``, outside the repository), one folder per shape. Generating the
100,000-run store takes a minute or two the first time; that cost is reported and not
part of any figure. The store has no ``.changed/`` markers: like folders copied in by
hand, it is found by ``runlab index``. The page cache is warm (the files were just
written or read): these are warm-cache figures.

Figures (each a median; pandas and SQLAlchemy imported before any in-process timing):

- ``index_full_s``: ``runlab --store S index`` on the store without ``index.db``, a
  subprocess timed end to end (runs/s reported); ``--index-repeat`` times, each after
  deleting the index. ``index_rebuild_s``: ``runlab index --full`` once (information);
- ``index_incremental_s``: ``runlab --store S index`` again with nothing changed
  (target <= 1 s, end to end); the in-process ``Index.rescan()`` as information;
- ``df_s``: ``runlab.load(store).df()`` on the warm index, a new handle each call
  (target <= 2 s at 100,000 runs and <= 0.25 s at 10,000, the ``--small-runs`` store);
- ``filter_s``: ``runlab.load(store).where(FILTER_50).df()``, 50 rows of 100,000
  (target <= 200 ms);
- ``groupby_s``: ``runlab.load(store).groupby(over="params.seed").agg(stats=("mean",
  "std")).df()``: one row per configuration (20,000 groups of 5 seeds; target <= 500 ms);
- ``cli_ls_export_s``: ``runlab --store S ls --groupby params.model,params.lr --export
  t.md``, a subprocess, minus a bare ``python -c pass`` measured alternately (target
  <= 1 s above Python start); the same with ``--over params.seed`` as information.

Peers at 10,000 runs of the same shape, each in its own process:

- MLflow (SQLite store): ``mlflow.search_runs(experiment_ids=[id], max_results=100000)``.
  ``--mlflow-api-runs`` runs are created through ``MlflowClient`` (20 params and the 5
  final metric values in one ``log_batch``; the 100-step history is left out: search_runs
  reads only the latest values), then copied in SQL inside MLflow's database to 10,000;
- MLtraq: one experiment of 10,000 runs (params and the 5 values as fields), persisted
  once; timed: ``session.load_experiment(name).runs.df()``.

Rerun: ``/work/bench-venv/bin/python benchmarks/bench_index.py`` (``--quick``, ``--only``,
``--data DIR``, ``--runs``, ``--small-runs``, ``--repeat``, ``--index-repeat``).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C
import _synthetic as S

TARGETS = {
    "index_incremental_s": 1.0,
    "df_s": 2.0,
    "df_small_s": 0.25,
    "filter_s": 0.2,
    "groupby_s": 0.5,
    "cli_ls_export_above_python_s": 1.0,
}
GROUPBY = "params.model,params.lr"
DEFAULT_DATA = Path("/work/bench-data")


def _timed(cmd: Sequence[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall time of one subprocess; a failure raises with its last lines of output."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(cmd[1:4])}... failed (exit {proc.returncode}): {tail}")
    return took, proc


def _indexed(stdout: str) -> int | None:
    """The run count ``runlab index`` reports ("...; 100,000 runs indexed in ...")."""
    found = re.search(r"([\d,]+) runs? indexed", stdout)
    return int(found.group(1).replace(",", "")) if found else None


def _stats(times: list[float]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "samples_s": [round(t, 4) for t in times],
    }


# -- runlab --------------------------------------------------------------------------------
def _index_figures(runlab: list[str], store: Path, runs: int, args: Any) -> dict[str, Any]:
    """Full index from folders (no index.db), ``--full``, then incremental with nothing new."""
    cmd = [*runlab, "--store", str(store), "index"]
    full, counts = [], []
    for _ in range(args.index_repeat):
        S.drop_index(store)
        took, proc = _timed(cmd, store.parent)
        full.append(took)
        counts.append(_indexed(proc.stdout))
    rebuild, _ = _timed([*cmd, "--full"], store.parent)
    incremental = [_timed(cmd, store.parent)[0] for _ in range(args.repeat)]

    from runlab.store import Store

    def rescan() -> int:
        the_store = Store(store)
        try:
            return the_store.index(refresh=False).rescan()
        finally:
            the_store.close()

    in_process, reread = C.median_time(rescan, args.repeat)
    median = statistics.median(full)
    return {
        "full": {**_stats(full), "runs_per_s": round(runs / median), "indexed": counts},
        "rebuild_full_s": round(rebuild, 3),
        "incremental": _stats(incremental),
        "incremental_in_process_s": round(in_process, 4),
        "incremental_reread": reread,
        "ok": all(c == runs for c in counts) and reread == 0,
    }


def _query_figures(store: Path, args: Any) -> dict[str, Any]:
    """``load().df()``, a 50-row filter and a groupby over seeds, in process, warm index."""
    import runlab

    t0 = time.perf_counter()
    first = runlab.load(store).df()
    first_s = time.perf_counter() - t0
    df_s, df = C.median_time(lambda: runlab.load(store).df(), args.repeat)
    filter_s, picked = C.median_time(
        lambda: runlab.load(store).where(S.FILTER_50).df(), args.repeat
    )

    def grouped() -> Any:
        runs = runlab.load(store)
        return runs.groupby(over="params.seed").agg(stats=("mean", "std")).df()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny --quick store may have one run per group
        groupby_s, groups = C.median_time(grouped, args.repeat)
    return {
        "df": {
            "first_s": round(first_s, 4),
            "median_s": round(df_s, 4),
            "shape": list(df.shape),
            "ok": len(first) == len(df) == args.runs,
        },
        "filter": {"median_s": round(filter_s, 4), "rows": len(picked), "where": S.FILTER_50},
        "groupby": {
            "median_s": round(groupby_s, 4),
            "groups": len(groups),
            "columns": len(groups.columns),
            "call": 'load(store).groupby(over="params.seed").agg(stats=("mean", "std")).df()',
        },
    }


def _cli_figures(runlab: list[str], store: Path, tmp: Path, args: Any) -> dict[str, Any]:
    """``runlab ls --groupby --export t.md`` end to end, alternating with a bare Python."""
    bare = [sys.executable, "-c", "pass"]
    plain = [*runlab, "--store", str(store), "ls", "--groupby", GROUPBY, "--export", "t.md"]
    over = [*runlab, "--store", str(store), "ls", "--groupby", "params.model", "--over",
            "params.seed", "--export", "over.md"]  # fmt: skip
    for cmd in (bare, plain, over):
        _timed(cmd, tmp)  # warm the page cache and bytecode
    times: dict[str, list[float]] = {"bare": [], "plain": [], "over": []}
    for _ in range(args.repeat):
        for name, cmd in (("bare", bare), ("plain", plain), ("over", over)):
            times[name].append(_timed(cmd, tmp)[0])
    python_s = statistics.median(times["bare"])
    lines = (tmp / "t.md").read_text().splitlines()
    return {
        "python_start_s": round(python_s, 4),
        "ls_export": {
            **_stats(times["plain"]),
            "above_python_s": round(statistics.median(times["plain"]) - python_s, 4),
            "command": f"runlab --store S ls --groupby {GROUPBY} --export t.md",
            "table_rows": max(0, len(lines) - 2),
            "head": lines[:3],
        },
        "ls_over_export": {
            **_stats(times["over"]),
            "above_python_s": round(statistics.median(times["over"]) - python_s, 4),
            "command": "runlab --store S ls --groupby params.model --over params.seed "
            "--export over.md",
            "table_rows": max(0, len((tmp / "over.md").read_text().splitlines()) - 2),
        },
    }


def _small_figures(runlab: list[str], store: Path, args: Any) -> dict[str, Any]:
    """``load().df()`` on the 10,000-run store (indexed first, untimed)."""
    import runlab as rl

    S.drop_index(store)
    index_s, _ = _timed([*runlab, "--store", str(store), "index"], store.parent)
    df_s, df = C.median_time(lambda: rl.load(store).df(), args.repeat)
    return {
        "runs": args.small_runs,
        "index_full_s": round(index_s, 3),
        "df_median_s": round(df_s, 4),
        "shape": list(df.shape),
        "ok": len(df) == args.small_runs,
    }


def worker_runlab(args: Any) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    C.preimport()
    runlab = [str(Path(sys.executable).with_name("runlab"))]
    store, tmp = Path(args.store), Path(args.tmp)
    out: dict[str, Any] = {"runs": args.runs}
    for name, measure in (
        ("index", lambda: _index_figures(runlab, store, args.runs, args)),
        ("query", lambda: _query_figures(store, args)),
        ("cli", lambda: _cli_figures(runlab, store, tmp, args)),
        ("small", lambda: _small_figures(runlab, Path(args.small_store), args)),
    ):
        try:
            out[name] = measure()
        except Exception as exc:  # report the others even when one part fails
            out[name] = {"status": "error", "error": C.error_text(exc)}
    return out


# -- peers at 10,000 runs --------------------------------------------------------------------
def _summary(i: int, shape: S.Shape) -> dict[str, float]:
    return dict(zip(S.METRICS, S.series_of(i, shape)[-1], strict=False))


def worker_mlflow(args: Any) -> dict[str, Any]:
    C.preimport()
    import mlflow
    from mlflow.entities import Metric, Param

    shape = S.Shape(args.small_runs)
    db = Path(args.tmp) / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    exp_id = mlflow.set_experiment("bench").experiment_id
    client = mlflow.MlflowClient()
    made, t0 = 0, time.perf_counter()
    for i in range(1, min(args.mlflow_api_runs, args.small_runs) + 1):
        run_id = client.create_run(exp_id).info.run_id
        ts = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, ts, shape.steps - 1) for k, v in _summary(i, shape).items()],
            params=[Param(k, str(v)) for k, v in S.params_of(i, shape).items()],
        )
        client.set_terminated(run_id)
        made += 1
        if time.perf_counter() - t0 > args.mlflow_budget_s:
            break
    create_s = time.perf_counter() - t0
    total = C.replicate_mlflow_runs(db, args.small_runs)
    repeat = max(2, args.repeat - 2)
    search_s, df = C.median_time(
        lambda: mlflow.search_runs(experiment_ids=[exp_id], max_results=100_000), repeat
    )
    return {
        "created_through_api": made,
        "create_runs_per_s": round(made / create_s, 1),
        "replicated_with_sql_to": total,
        "search_runs_s": round(search_s, 3),
        "rows": len(df),
        "columns": len(df.columns),
        "repeat": repeat,
        "ok": len(df) == args.small_runs,
    }


def worker_mltraq(args: Any) -> dict[str, Any]:
    C.preimport()
    import mltraq

    shape = S.Shape(args.small_runs)
    session = mltraq.create_session(f"sqlite:///{Path(args.tmp) / 'mltraq.db'}")
    exp = session.create_experiment("bench")
    for i in range(1, args.small_runs + 1):
        exp.add_run(**S.params_of(i, shape))
    for i, run in enumerate(exp.runs.values(), 1):
        run.fields.update({**dict(run.params), **_summary(i, shape)})
    exp.persist()
    repeat = max(2, args.repeat - 2)
    load_s, df = C.median_time(lambda: session.load_experiment("bench").runs.df(), repeat)
    return {
        "load_df_s": round(load_s, 3),
        "rows": len(df),
        "columns": len(df.columns),
        "repeat": repeat,
        "ok": len(df) == args.small_runs,
        "call": 'session.load_experiment("bench").runs.df()',
    }


WORKERS = {"runlab": worker_runlab, "mlflow": worker_mlflow, "mltraq": worker_mltraq}


# -- driver ---------------------------------------------------------------------------------
def _extra(parser: Any) -> None:
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="where stores are cached")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--small-runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--index-repeat", type=int, default=3)
    parser.add_argument("--mlflow-api-runs", type=int, default=2_000)
    parser.add_argument("--mlflow-budget-s", type=float, default=75.0)
    parser.add_argument("--store", default=None, help="(worker) the big store")
    parser.add_argument("--small-store", default=None, help="(worker) the small store")


def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for p in path:
        node = node.get(p) if isinstance(node, dict) else None
    return node


def _figures(results: dict[str, Any], args: Any) -> dict[str, Any]:
    r = results.get("runlab", {})
    df_small = _get(r, "small", "df_median_s")
    mlflow_s = _get(results, "mlflow", "search_runs_s")
    mltraq_s = _get(results, "mltraq", "load_df_s")
    return {
        "runs": args.runs,
        "small_runs": args.small_runs,
        "index_full_s": _get(r, "index", "full", "median_s"),
        "index_runs_per_s": _get(r, "index", "full", "runs_per_s"),
        "index_rebuild_full_s": _get(r, "index", "rebuild_full_s"),
        "index_incremental_s": _get(r, "index", "incremental", "median_s"),
        "index_incremental_in_process_s": _get(r, "index", "incremental_in_process_s"),
        "df_first_s": _get(r, "query", "df", "first_s"),
        "df_s": _get(r, "query", "df", "median_s"),
        "df_small_s": df_small,
        "mlflow_search_runs_small_s": mlflow_s,
        "mltraq_load_df_small_s": mltraq_s,
        "mlflow_ratio": C.ratio(mlflow_s, df_small),
        "mltraq_ratio": C.ratio(mltraq_s, df_small),
        "filter_s": _get(r, "query", "filter", "median_s"),
        "filter_rows": _get(r, "query", "filter", "rows"),
        "groupby_s": _get(r, "query", "groupby", "median_s"),
        "groupby_groups": _get(r, "query", "groupby", "groups"),
        "python_start_s": _get(r, "cli", "python_start_s"),
        "cli_ls_export_s": _get(r, "cli", "ls_export", "median_s"),
        "cli_ls_export_above_python_s": _get(r, "cli", "ls_export", "above_python_s"),
        "cli_ls_over_export_above_python_s": _get(r, "cli", "ls_over_export", "above_python_s"),
    }


def _targets(figures: dict[str, Any], args: Any) -> dict[str, Any]:
    words = {
        "index_incremental_s": f"runlab index with nothing changed, {args.runs:,} runs",
        "df_s": f"runlab.load(store).df() of {args.runs:,} runs",
        "df_small_s": f"runlab.load(store).df() of {args.small_runs:,} runs",
        "filter_s": f"a filtered query returning 50 rows of {args.runs:,}",
        "groupby_s": f"groupby over seeds with mean/std, {args.runs:,} runs",
        "cli_ls_export_above_python_s": "runlab ls --groupby --export t.md, above Python start",
    }
    out = {}
    for key, limit in TARGETS.items():
        measured = figures.get(key)
        out[key] = {
            "target": f"{words[key]} <= {limit} s",
            "measured": measured,
            "met": None if measured is None else measured <= limit,
        }
    return out


def main() -> None:
    args = C.worker_args(_extra)
    if args.quick:
        args.runs, args.small_runs, args.repeat = min(args.runs, 300), min(args.small_runs, 100), 1
        args.index_repeat, args.mlflow_api_runs = 1, min(args.mlflow_api_runs, 50)
    if args.worker:
        C.write_result(args.out, WORKERS[args.worker](args))
        return
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    big, made_big = S.ensure_store(data, S.Shape(args.runs))
    small, made_small = S.ensure_store(data, S.Shape(args.small_runs))
    load_before = C.wait_quiet(args.wait_quiet)
    tmp = C.fresh_tmp("index")
    extra = [
        "--runs", str(args.runs), "--small-runs", str(args.small_runs),
        "--repeat", str(args.repeat), "--index-repeat", str(args.index_repeat),
        "--mlflow-api-runs", str(args.mlflow_api_runs),
        "--mlflow-budget-s", str(args.mlflow_budget_s),
        "--store", str(big), "--small-store", str(small),
    ]  # fmt: skip
    try:
        results = C.run_workers(
            __file__,
            ("runlab", "mlflow", "mltraq"),
            args,
            tmp=tmp,
            extra_args=extra,
            timeout=lambda name: 3600 if name == "runlab" else 600,
        )
    finally:
        C.cleanup(tmp)
    figures = _figures(results, args)
    C.emit(
        "index",
        C.rerun_command(__file__),
        {
            "params": {k: getattr(args, k) for k in ("runs", "small_runs", "repeat", "quick")}
            | {"index_repeat": args.index_repeat, "mlflow_api_runs": args.mlflow_api_runs},
            "stores": {"big": made_big, "small": made_small},
            "figures": figures,
            "targets": _targets(figures, args),
            "results": results,
        },
        load_before=load_before,
    )


if __name__ == "__main__":
    main()
