"""Querying 10,000 runs: ``runlab.load(store).df()`` and ``runlab ls --where --groupby``.

Preparation (timed and reported, not part of the figures): a store of 10,000 runs, each
made with ``runlab.start(params, capture=False, git=False)`` + ``run.summary(8 values)`` +
``finish`` — 10 params and 8 summary values per run (about 20 columns with the record's
own fields), exactly the files and ``.changed/`` markers real runs leave.

Figures (pandas and SQLAlchemy are imported before any timing, in every system's
process, so the figures are about querying, not imports — see bench_import.py):

- ``load_df_first_s``: the first ``runlab.load(store).df()`` on the fresh store (the index
  ingests the 10,000 new runs);
- ``load_df_s``: median of ``--repeat`` further ``runlab.load(store).df()`` calls, each a
  new handle (target <= 0.25 s);
- ``cli_ls_s``: median wall time of the subprocess
  ``runlab --store S ls --where "params.lr > 0.01" --groupby params.model``, after one
  untimed call (target <= 0.5 s end to end).

When ``runlab.load`` or ``runlab ls`` does not exist yet, that figure is skipped with a
note (the query API is being written in parallel with these benchmarks).

Peers, each in its own process:

- MLflow (SQLite store): ``mlflow.search_runs(experiment_ids=[id], max_results=100000)``
  into pandas. Creating runs through MLflow's client API is slow (tens of ms each), so
  ``--mlflow-api-runs`` (default 2,000) runs are created through ``MlflowClient``
  (create_run + log_batch + set_terminated); they are then replicated with SQL inside
  MLflow's own database (every table with a ``run_uuid`` column, new ids) up to 10,000
  runs, and search_runs is timed on the full 10,000. search_runs at 2,000 is reported too.
- MLtraq: one experiment with 10,000 runs (params and summary values as run fields),
  persisted once; timed: ``session.load_experiment(name).runs.df()``.

Rerun: ``/work/bench-venv/bin/python benchmarks/bench_query.py`` (``--quick``, ``--only``,
``--runs 10000``).
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

TARGET_LOAD_S = 0.25
TARGET_CLI_S = 0.5
MODELS = ("mlp", "cnn", "rnn", "transformer")
LRS = (0.001, 0.003, 0.01, 0.03, 0.1)


def make_params(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    return {
        "model": MODELS[i % len(MODELS)],
        "lr": LRS[(i // len(MODELS)) % len(LRS)],
        "batch_size": rng.choice((32, 64, 128, 256)),
        "epochs": rng.choice((10, 20, 50)),
        "optimizer": rng.choice(("sgd", "adam")),
        "dropout": round(rng.random() * 0.5, 3),
        "weight_decay": rng.choice((0.0, 1e-5, 1e-4)),
        "seed": i,
        "layers": rng.randint(1, 8),
        "hidden": rng.choice((64, 128, 256, 512)),
    }


def make_summary(i: int) -> dict[str, float]:
    rng = random.Random(-i - 1)
    acc = rng.random()
    return {
        "acc": acc,
        "loss": 1 - acc,
        "val_acc": acc * 0.98,
        "val_loss": 1.02 - acc,
        "f1": acc * 0.97,
        "precision": rng.random(),
        "recall": rng.random(),
        "train_time": rng.random() * 3600,
    }


# -- runlab --------------------------------------------------------------------------------
def worker_runlab(args: Any) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    C.preimport()
    import runlab

    tmp = Path(args.tmp)
    store = tmp / "store"
    n = args.runs
    t0 = time.perf_counter()
    for i in range(n):
        run = runlab.start(make_params(i), store=store, capture=False, git=False)
        run.summary(make_summary(i))
        run.finish()
    prep_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "runs": n,
        "prepare": {"seconds": round(prep_s, 1), "runs_per_s": round(n / prep_s)},
    }

    # runlab.load(store).df()
    load = getattr(runlab, "load", None)
    if load is None:
        out["load_df"] = C.skipped("runlab.load is not in this runlab yet (query API in progress)")
    else:
        try:
            t0 = time.perf_counter()
            df = load(store).df()
            first = time.perf_counter() - t0
            warm, df = C.median_time(lambda: load(store).df(), args.repeat)
            out["load_df"] = {
                "first_s": round(first, 4),
                "median_s": round(warm, 4),
                "repeat": args.repeat,
                "shape": list(df.shape),
                "columns": [str(c) for c in df.columns][:40],
                "ok": len(df) == n,
            }
        except Exception as exc:  # the API exists but is unfinished
            out["load_df"] = {"status": "error", "error": C.error_text(exc)}

    # the CLI, end to end
    exe = Path(sys.executable).with_name("runlab")
    cmd = [str(exe), "--store", str(store), "ls", "--where", "params.lr > 0.01",
           "--groupby", "params.model"]  # fmt: skip
    first_proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    if first_proc.returncode != 0:
        msg = (first_proc.stderr or first_proc.stdout).strip().splitlines()[-3:]
        out["cli_ls"] = C.skipped(
            f"`runlab ls` failed (exit {first_proc.returncode}): {' | '.join(msg)}"
        )
    else:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, check=True)
            times.append(time.perf_counter() - t0)
        out["cli_ls"] = {
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
            "repeat": args.repeat,
            "command": " ".join([*cmd[:1], "--store", "S", *cmd[3:]]),
            "output_lines": len(first_proc.stdout.splitlines()),
            "output_head": first_proc.stdout.splitlines()[:8],
        }
    return out


# -- MLflow ----------------------------------------------------------------------------------
def worker_mlflow(args: Any) -> dict[str, Any]:
    C.preimport()
    import mlflow
    from mlflow.entities import Metric, Param

    tmp = Path(args.tmp)
    db = tmp / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    exp_id = mlflow.set_experiment("bench").experiment_id
    client = mlflow.MlflowClient()
    n_api = min(args.mlflow_api_runs, args.runs)
    t0 = time.perf_counter()
    made = 0
    for i in range(n_api):
        r = client.create_run(exp_id)
        ts = int(time.time() * 1000)
        client.log_batch(
            r.info.run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in make_summary(i).items()],
            params=[Param(k, str(v)) for k, v in make_params(i).items()],
        )
        client.set_terminated(r.info.run_id)
        made += 1
        if time.perf_counter() - t0 > args.mlflow_budget_s:
            break
    create_s = time.perf_counter() - t0

    def search() -> Any:
        return mlflow.search_runs(experiment_ids=[exp_id], max_results=100_000)

    small_s, small_df = C.median_time(search, args.repeat)
    t0 = time.perf_counter()
    total = C.replicate_mlflow_runs(db, args.runs)
    replicate_s = time.perf_counter() - t0
    big_s, big_df = C.median_time(search, max(2, args.repeat - 1))
    return {
        "created_through_api": made,
        "create": {"seconds": round(create_s, 1), "runs_per_s": round(made / create_s, 1)},
        "replicated_with_sql_to": total,
        "replicate_s": round(replicate_s, 2),
        f"search_runs_{made}_s": round(small_s, 3),
        "search_runs_s": round(big_s, 3),
        "search_runs_rows": len(big_df),
        "search_runs_columns": len(big_df.columns),
        "repeat": max(2, args.repeat - 1),
        "ok": len(big_df) == args.runs and len(small_df) == made,
        "note": (
            f"{made} runs created via MlflowClient, then copied in SQL (all run_uuid tables) "
            f"to {total}; search_runs timed on all {total}"
        ),
    }


# -- MLtraq --------------------------------------------------------------------------------
def worker_mltraq(args: Any) -> dict[str, Any]:
    C.preimport()
    import mltraq

    tmp = Path(args.tmp)
    session = mltraq.create_session(f"sqlite:///{tmp / 'mltraq.db'}")
    exp = session.create_experiment("bench")
    t0 = time.perf_counter()
    for i in range(args.runs):
        exp.add_run(**make_params(i))
    for i, run in enumerate(exp.runs.values()):
        run.fields.update({**dict(run.params), **make_summary(i)})
    exp.persist()
    prep_s = time.perf_counter() - t0

    def load() -> Any:
        return session.load_experiment("bench").runs.df()

    load_s, df = C.median_time(load, max(2, args.repeat - 1))
    return {
        "prepare_s (add_runs + persist)": round(prep_s, 1),
        "load_df_s": round(load_s, 3),
        "rows": len(df),
        "columns": len(df.columns),
        "repeat": max(2, args.repeat - 1),
        "ok": len(df) == args.runs,
        "call": 'session.load_experiment("bench").runs.df()',
    }


WORKERS = {"runlab": worker_runlab, "mlflow": worker_mlflow, "mltraq": worker_mltraq}


def _extra(parser: Any) -> None:
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mlflow-api-runs", type=int, default=2_000)
    parser.add_argument(
        "--mlflow-budget-s", type=float, default=75.0, help="stop creating MLflow runs after this"
    )


def main() -> None:
    args = C.worker_args(_extra)
    if args.quick:
        args.runs, args.repeat, args.mlflow_api_runs = 500, 2, 100
    if args.worker:
        C.write_result(args.out, WORKERS[args.worker](args))
        return
    load_before = C.wait_quiet(args.wait_quiet)
    tmp = C.fresh_tmp("query")
    extra = [
        "--runs", str(args.runs),
        "--repeat", str(args.repeat),
        "--mlflow-api-runs", str(args.mlflow_api_runs),
        "--mlflow-budget-s", str(args.mlflow_budget_s),
    ]  # fmt: skip
    try:
        results = C.run_workers(
            __file__, ("runlab", "mlflow", "mltraq"), args, tmp=tmp, extra_args=extra, timeout=290
        )
    finally:
        C.cleanup(tmp)

    def get(name: str, *path: str) -> Any:
        node: Any = results.get(name, {})
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node

    load_s = get("runlab", "load_df", "median_s")
    cli_s = get("runlab", "cli_ls", "median_s")
    mlflow_s = get("mlflow", "search_runs_s")
    mltraq_s = get("mltraq", "load_df_s")
    figures = {
        "runs": args.runs,
        "runlab_load_df_first_s": get("runlab", "load_df", "first_s"),
        "runlab_load_df_s": load_s,
        "runlab_cli_ls_s": cli_s,
        "mlflow_search_runs_s": mlflow_s,
        "mltraq_load_df_s": mltraq_s,
        "mlflow_ratio": C.ratio(mlflow_s, load_s),
        "mltraq_ratio": C.ratio(mltraq_s, load_s),
        "notes": [
            x
            for x in (
                get("runlab", "load_df", "reason") or get("runlab", "load_df", "error"),
                get("runlab", "cli_ls", "reason"),
                get("mlflow", "note"),
            )
            if x
        ],
    }
    targets = {
        "load_df_le_0.25s": {
            "target": f"runlab.load(store).df() of {args.runs:,} runs <= {TARGET_LOAD_S} s",
            "measured": load_s,
            "met": None if load_s is None else load_s <= TARGET_LOAD_S,
        },
        "cli_ls_le_0.5s": {
            "target": (
                f"runlab ls --where --groupby over {args.runs:,} runs "
                f"<= {TARGET_CLI_S} s end to end"
            ),
            "measured": cli_s,
            "met": None if cli_s is None else cli_s <= TARGET_CLI_S,
        },
    }
    C.emit(
        "query",
        C.rerun_command(__file__),
        {
            "params": {
                "runs": args.runs,
                "repeat": args.repeat,
                "mlflow_api_runs": args.mlflow_api_runs,
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
