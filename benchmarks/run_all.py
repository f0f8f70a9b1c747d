"""Run every benchmark, one after the other, and write ``results/latest.json`` and ``.md``.

Usage::

    /work/bench-venv/bin/python benchmarks/run_all.py            # everything (~18 minutes)
    /work/bench-venv/bin/python benchmarks/run_all.py --quick    # smoke test (~1 minute)
    /work/bench-venv/bin/python benchmarks/run_all.py --only runlab   # no peers
    /work/bench-venv/bin/python benchmarks/run_all.py --wait-quiet 0  # measure at once

bench_index.py also generates its 100,000-run store the first time (1–2 minutes more,
cached under /work/bench-data).

Each benchmark script is run as its own subprocess and prints one JSON object; this
script collects them into ``results/latest.json`` (with the machine, the load before and
after, and package versions) and renders the summary table into ``results/latest.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "bench_import.py",
    "bench_run_overhead.py",
    "bench_log.py",
    "bench_query.py",
    "bench_sweep.py",
    "bench_index.py",
)
# Generating bench_index.py's 100,000-run store the first time takes minutes on top.
TIMEOUTS = {"bench_index.py": 3600}
PEER_TITLES = {"mlflow": "MLflow", "mltraq": "MLtraq", "trackio": "Trackio"}


def _run(script: str, passthrough: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE / script), *passthrough]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUTS.get(script, 900))
    wall = round(time.perf_counter() - t0, 1)
    if proc.returncode != 0:
        return {
            "status": "error",
            "returncode": proc.returncode,
            "stderr": proc.stderr[-3000:],
            "wall_s": wall,
        }
    data = json.loads(proc.stdout)
    data["wall_s"] = wall
    return data


# -- the table ------------------------------------------------------------------------------
def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for p in path:
        node = node.get(p) if isinstance(node, dict) else None
    return node


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if unit == "pts/s":
        return f"{value:,.0f} pts/s"
    if unit in ("ms", "µs", "s"):
        digits = 3 if value < 1 else (2 if value < 10 else 1)
        return f"{value:.{digits}f} {unit}"
    return f"{value} {unit}"


def _cell(value: Any, unit: str, ours: Any, *, higher_better: bool = False) -> str:
    text = _fmt(value, unit)
    if isinstance(value, (int, float)) and isinstance(ours, (int, float)) and value and ours:
        r = (ours / value) if higher_better else (value / ours)
        text += f" (**{r:,.0f}×**)" if r >= 10 else f" (**{r:.1f}×**)"
    return text


def _met(flag: Any) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}.get(flag, "n/a")


def table(results: dict[str, Any]) -> str:
    imp = results.get("bench_import.py", {})
    ovh = results.get("bench_run_overhead.py", {})
    log = results.get("bench_log.py", {})
    qry = results.get("bench_query.py", {})
    swp = results.get("bench_sweep.py", {})
    cmd = {k: v.get("command", f"python benchmarks/{k}") for k, v in results.items()}
    rows: list[tuple[str, str, str, list[str], str, str]] = []

    def add(
        figure: str,
        target: str,
        ours: Any,
        unit: str,
        peers: dict[str, Any],
        met: Any,
        script: str,
        higher_better: bool = False,
        ours_text: str | None = None,
    ) -> None:
        cells = [_cell(peers.get(p), unit, ours, higher_better=higher_better) for p in PEER_TITLES]
        rows.append(
            (
                figure,
                target,
                ours_text or _fmt(ours, unit),
                cells,
                _met(met),
                f"`{cmd.get(script, script)}`",
            )
        )

    f = ovh.get("figures", {})
    t = ovh.get("targets", {})
    peers_run = {
        "mlflow": f.get("mlflow_median_ms"),
        "mltraq": f.get("mltraq_saved_median_ms"),
        "trackio": f.get("trackio_median_ms"),
    }
    off, on = f.get("runlab_capture_off_median_ms"), f.get("runlab_capture_on_median_ms")

    def run_met(ours: Any) -> bool | None:
        # <= 2 ms, and >= 20x both MLflow and MLtraq-saved measured in the same run
        if ours is None:
            return None
        fast = [peers_run.get(p) for p in ("mlflow", "mltraq")]
        return ours <= 2.0 and all(x is not None and x / ours >= 20 for x in fast)

    for label, ours, key in (
        ("**off**", off, "runlab_capture_off_p90_ms"),
        ("**on** (stdout/stderr tee)", on, "runlab_capture_on_p90_ms"),
    ):
        add(
            f"Per run, durable (start + 10 params + 3 summary + finish), capture {label}: median",
            "≤ 2 ms; ≥ 20× MLflow and MLtraq-saved",
            ours,
            "ms",
            peers_run,
            run_met(ours),
            "bench_run_overhead.py",
            ours_text=f"{_fmt(ours, 'ms')} (p90 {_fmt(f.get(key), 'ms')})",
        )
    add(
        "Floor: mkdir + 3 atomic JSON files (same process, interleaved)",
        "≈ 0.6–0.8 ms (reference)",
        f.get("floor_median_ms"),
        "ms",
        {},
        None,
        "bench_run_overhead.py",
        ours_text=(
            f"{_fmt(f.get('floor_median_ms'), 'ms')} "
            f"(runlab capture off = {f.get('runlab_over_floor_capture_off')}× floor)"
        ),
    )
    dirty = _get(ovh, "results", "runlab_capture_off_dirty_git_repo", "per_run", "median")
    add(
        "Per run, capture off, cwd in a dirty git repo (git.diff written)",
        "(information)",
        dirty,
        "ms",
        {},
        None,
        "bench_run_overhead.py",
    )

    f = log.get("figures", {})
    t = log.get("targets", {})
    add(
        "`run.log(loss=x)`: median per call (batches of 1000)",
        "≤ 5 µs",
        f.get("runlab_per_call_median_us"),
        "µs",
        {p: f.get(f"{p}_per_call_median_us") for p in PEER_TITLES},
        _get(t, "per_call_le_5us", "met"),
        "bench_log.py",
    )
    add(
        "`run.log` sustained calls/s over ≥ 2 s",
        "≥ 500,000 /s",
        f.get("runlab_points_per_s"),
        "pts/s",
        {p: f.get(f"{p}_points_per_s") for p in PEER_TITLES},
        _get(t, "sustained_ge_500k", "met"),
        "bench_log.py",
        higher_better=True,
    )
    res = log.get("results", {})
    add(
        "All logged points in metrics.jsonl after the last call, no finish",
        "≤ 1 s",
        f.get("runlab_all_on_disk_after_s"),
        "s",
        {
            "mlflow": "0 (sync commit per call)" if "mlflow" in res else None,
            "mltraq": (
                f"only at persist(): {_get(res, 'mltraq', 'persist_s')} s"
                if _get(res, "mltraq", "persist_s") is not None
                else None
            ),
            "trackio": (
                f"finish() drains: {_get(res, 'trackio', 'finish_s')} s"
                if _get(res, "trackio", "finish_s") is not None
                else None
            ),
        },
        _get(t, "on_disk_within_1s", "met"),
        "bench_log.py",
    )
    add(
        "Durable logging rate: points ÷ (logging time + wait until on disk)",
        "(information)",
        f.get("runlab_durable_points_per_s"),
        "pts/s",
        {"mlflow": f.get("mlflow_points_per_s")},
        None,
        "bench_log.py",
        higher_better=True,
    )

    f = imp.get("figures", {})
    add(
        '`python -c "import X"` minus bare `python -c pass` (median)',
        "≤ 100 ms",
        f.get("runlab_above_bare_ms"),
        "ms",
        {p: f.get(f"{p}_above_bare_ms") for p in PEER_TITLES},
        _get(imp, "targets", "import_le_100ms", "met"),
        "bench_import.py",
    )

    f = qry.get("figures", {})
    t = qry.get("targets", {})
    n = f.get("runs", 10_000)
    notes = f.get("notes") or []
    load_text = None
    if f.get("runlab_load_df_s") is None:
        load_text = "skipped: " + (
            next((x for x in notes if "load" in x), "runlab.load not available")
        )
    add(
        f"`runlab.load(store).df()` of {n:,} runs × ~20 columns (median, warm index)",
        "≤ 0.25 s",
        f.get("runlab_load_df_s"),
        "s",
        {"mlflow": f.get("mlflow_search_runs_s"), "mltraq": f.get("mltraq_load_df_s")},
        _get(t, "load_df_le_0.25s", "met"),
        "bench_query.py",
        ours_text=load_text,
    )
    if f.get("runlab_load_df_first_s") is not None:
        add(
            f"First `runlab.load(store).df()` (index ingests {n:,} new runs)",
            "(information)",
            f.get("runlab_load_df_first_s"),
            "s",
            {},
            None,
            "bench_query.py",
        )
    cli_text = None
    if f.get("runlab_cli_ls_s") is None:
        cli_text = "skipped: " + next((x for x in notes if "ls" in x), "runlab ls not available")
    add(
        f'`runlab --store S ls --where "params.lr > 0.01" --groupby params.model`, {n:,} runs',
        "≤ 0.5 s end to end",
        f.get("runlab_cli_ls_s"),
        "s",
        {},
        _get(t, "cli_ls_le_0.5s", "met"),
        "bench_query.py",
        ours_text=cli_text,
    )

    # Sweeps: the peers (xargs, GNU parallel, Hydra) are not the table's columns, so
    # each row names its peers and their ratio in the runlab cell.
    f = swp.get("figures", {})
    t = swp.get("targets", {})
    if f:
        n = f.get("n_dispatch")
        ours = f.get("runlab_dispatch_per_task_ms")
        peers = []
        if f.get("xargs_per_task_ms") is not None:
            peers.append(
                f"xargs -P2 {_fmt(f['xargs_per_task_ms'], 'ms')} "
                f"(runlab = **{f.get('runlab_over_xargs')}×** xargs)"
            )
        if f.get("parallel_per_task_ms") is not None:
            peers.append(
                f"GNU parallel -j2 {_fmt(f['parallel_per_task_ms'], 'ms')} "
                f"(**{f.get('parallel_over_runlab')}×**)"
            )
        dispatch_met = _get(t, "dispatch_le_3x_xargs", "met")
        if _get(t, "dispatch_faster_than_parallel", "met") is not None:
            dispatch_met = bool(dispatch_met) and _get(t, "dispatch_faster_than_parallel", "met")
        add(
            f"`runlab run` of {n:,} no-op commands (`true {{i}}`) on 2 slots, every run "
            "recorded: ms per task (whole process)",
            "≤ 3× xargs -P2; faster than GNU parallel -j2",
            ours,
            "ms",
            {},
            dispatch_met,
            "bench_sweep.py",
            ours_text=(_fmt(ours, "ms") + ("; " + "; ".join(peers) if peers else "")),
        )
        hydra = f.get("hydra_joblib_per_job_ms")
        nh = f.get("n_hydra")
        hydra_text = (
            f"; Hydra joblib (2 jobs) {_fmt(hydra, 'ms')} "
            f"(**{f.get('hydra_over_runlab_python_task')}×** / "
            f"**{f.get('hydra_over_runlab_command')}×**)"
            if hydra is not None
            else "; Hydra: skipped"
        )
        add(
            f"{nh} configs, 2 slots, per job: Python task (`-x`, returns {{}}) / `true` command",
            "(information; ratio = Hydra ÷ runlab)",
            f.get("runlab_python_task_per_job_ms"),
            "ms",
            {},
            None,
            "bench_sweep.py",
            ours_text=(
                f"{_fmt(f.get('runlab_python_task_per_job_ms'), 'ms')} / "
                f"{_fmt(f.get('runlab_command_per_job_ms'), 'ms')}{hydra_text}"
            ),
        )
        cells, done = f.get("plan_cells"), f.get("plan_done_runs")
        if cells:
            add(
                f"`runlab plan SWEEP --json > /dev/null`, {cells:,}-cell Grid vs {done:,} done "
                "runs (median after the first call)",
                "≤ 2 s",
                f.get("runlab_plan_cli_s"),
                "s",
                {},
                _get(t, "plan_cli_le_2s", "met"),
                "bench_sweep.py",
                ours_text=(
                    f"{_fmt(f.get('runlab_plan_cli_s'), 's')} "
                    f"(first call, index ingests {done:,}: "
                    f"{_fmt(f.get('runlab_plan_cli_first_s'), 's')})"
                ),
            )
            add(
                f"In process `plan_sweep(Sweep(Grid({cells:,} cells)), store)`: "
                "expand + hash + compare",
                "≤ 2 s",
                f.get("runlab_plan_sweep_in_process_s"),
                "s",
                {},
                _get(t, "plan_in_process_le_2s", "met"),
                "bench_sweep.py",
                ours_text=(
                    f"{_fmt(f.get('runlab_plan_sweep_in_process_s'), 's')} "
                    f"(of which expand {_fmt(f.get('runlab_plan_expand_s'), 's')})"
                ),
            )
        add(
            f"Re-run of the completed {n:,}-run sweep (all skipped), `runlab run` end to end",
            "≤ 1 s",
            f.get("runlab_rerun_first_s"),
            "s",
            {},
            _get(t, "rerun_le_1s", "met"),
            "bench_sweep.py",
            ours_text=(
                f"{_fmt(f.get('runlab_rerun_first_s'), 's')} "
                f"(later re-runs {_fmt(f.get('runlab_rerun_later_s'), 's')})"
            ),
        )
        exe_ok = f.get("helpers_use_sys_executable")
        add(
            "Python-task worker started with `sys.executable` (source scan + `python`/`python3` "
            "shims first on PATH)",
            "never `python3` from PATH",
            None,
            "",
            {},
            exe_ok,
            "bench_sweep.py",
            ours_text=(
                ("yes" if exe_ok else "**no**" if exe_ok is not None else "—")
                + f"; worker start {_fmt(f.get('worker_start_ms'), 'ms')} "
                f"(bare `python -c pass` {_fmt(f.get('bare_interpreter_ms'), 'ms')})"
            ),
        )

    _index_rows(results.get("bench_index.py", {}), add)

    head = (
        "| Figure | Target | runlab | "
        + " | ".join(f"{v} (ratio)" for v in PEER_TITLES.values())
        + " | Met | Rerun |"
    )
    sep = "|" + "---|" * (6 + len(PEER_TITLES) - 1)
    lines = [head, sep]
    for figure, target, ours, cells, met, rerun in rows:
        lines.append(f"| {figure} | {target} | {ours} | {' | '.join(cells)} | {met} | {rerun} |")
    return "\n".join(lines)


def _index_rows(idx: dict[str, Any], add: Callable[..., None]) -> None:
    """bench_index.py's rows: index, df, filter, groupby and ``ls --export`` at 100,000 runs."""
    f = idx.get("figures", {})
    t = idx.get("targets", {})
    if not f:
        return
    n, small, script = f.get("runs"), f.get("small_runs"), "bench_index.py"
    add(
        f"Full `runlab index` of {n:,} run folders (no index.db; 20 params, 5 metrics, "
        "100 steps each), end to end",
        "(information: runs/s)",
        f.get("index_full_s"),
        "s",
        {},
        None,
        script,
        ours_text=(
            f"{_fmt(f.get('index_full_s'), 's')} ({f.get('index_runs_per_s') or 0:,} runs/s); "
            f"`--full` {_fmt(f.get('index_rebuild_full_s'), 's')}"
        ),
    )
    rows = (
        ("index_incremental_s", f"`runlab index` again, nothing changed, {n:,} runs", "≤ 1 s"),
        ("df_s", f"`runlab.load(store).df()` of {n:,} runs × 40 columns (warm index)", "≤ 2 s"),
    )
    for key, figure, target in rows:
        add(figure, target, f.get(key), "s", {}, _get(t, key, "met"), script)
    add(
        f"`runlab.load(store).df()` of {small:,} runs, same shape",
        "≤ 0.25 s",
        f.get("df_small_s"),
        "s",
        {"mlflow": f.get("mlflow_search_runs_small_s"), "mltraq": f.get("mltraq_load_df_small_s")},
        _get(t, "df_small_s", "met"),
        script,
    )
    add(
        f"`load(store).where(6 conditions).df()` returning {f.get('filter_rows')} rows of {n:,}",
        "≤ 200 ms",
        f.get("filter_s"),
        "s",
        {},
        _get(t, "filter_s", "met"),
        script,
    )
    add(
        f'`load(store).groupby(over="params.seed").agg(stats=(mean, std)).df()`: '
        f"{f.get('groupby_groups') or 0:,} groups of {n:,} runs",
        "≤ 500 ms",
        f.get("groupby_s"),
        "s",
        {},
        _get(t, "groupby_s", "met"),
        script,
    )
    add(
        f"`runlab ls --groupby params.model,params.lr --export t.md`, {n:,} runs, "
        "above a bare `python -c pass`",
        "≤ 1 s above Python start",
        f.get("cli_ls_export_above_python_s"),
        "s",
        {},
        _get(t, "cli_ls_export_above_python_s", "met"),
        script,
        ours_text=(
            f"{_fmt(f.get('cli_ls_export_above_python_s'), 's')} (with `--over params.seed`: "
            f"{_fmt(f.get('cli_ls_over_export_above_python_s'), 's')})"
        ),
    )


def _write(out: Path, combined: dict[str, Any]) -> None:
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(combined, indent=2, default=str) + "\n")
    tmp.replace(out)
    m = combined["machine"]
    out.with_suffix(".md").write_text(
        f"Measured {combined['started']} – {combined['finished']} on {m['cpu_count']} CPUs "
        f"({m['cpu_model']}), Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in combined["versions"].items() if v)
        + ".\n\n"
        + combined["table_markdown"]
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=None)
    parser.add_argument("--wait-quiet", default=None, help="passed to each benchmark")
    parser.add_argument("--scripts", default=",".join(SCRIPTS))
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument(
        "--render", action="store_true", help="only re-render the table of an existing --out"
    )
    args = parser.parse_args()
    out = Path(args.out)
    if args.render:
        combined = json.loads(out.read_text())
        combined["table_markdown"] = table(combined["benchmarks"])
        _write(out, combined)
        print(combined["table_markdown"])
        return
    passthrough = [
        *(["--quick"] if args.quick else []),
        *(["--only", args.only] if args.only else []),
        *(["--wait-quiet", args.wait_quiet] if args.wait_quiet is not None else []),
    ]
    started = C.now_utc()
    results: dict[str, Any] = {}
    for script in args.scripts.split(","):
        print(f"running {script} ...", file=sys.stderr, flush=True)
        results[script] = _run(script, passthrough)
        print(f"  done in {results[script].get('wall_s')} s", file=sys.stderr, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    combined = {
        "started": started,
        "finished": C.now_utc(),
        "command": "/work/bench-venv/bin/python benchmarks/run_all.py"
        + (" " + " ".join(passthrough) if passthrough else ""),
        "machine": C.machine(),
        "versions": C.versions(),
        "table_markdown": table(results),
        "benchmarks": results,
    }
    _write(out, combined)
    print(combined["table_markdown"])


if __name__ == "__main__":
    main()
