"""Sweeps: launching many small runs, planning a large sweep, re-running a finished one.

Figures (every runlab figure is the wall time of a real ``runlab`` process, started from
the bench virtualenv's ``runlab`` script, in a fresh temporary folder that is not a git
repository, with a fresh store unless said otherwise):

1. **Dispatch.** ``runlab run noop.yaml --workers 2`` of a sweep file with
   ``template: "true {i}"`` and a ``--n`` (1,000) value axis: 1,000 no-op commands on 2
   slots, every run fully recorded (run folder, ``params.json``, ``run.json`` completed
   with its key, ``logs/main.log``, ``reports/1.json``: checked after the timing). Peers,
   measured in the same rounds: ``xargs -P2 -n1 true`` (the dispatch floor: fork + exec,
   nothing recorded) and GNU ``parallel -j2 true`` (install it with
   ``bash /work/shared/scripts/parallel-install``), both fed the same 1,000 arguments on
   stdin. Reported in ms per task (wall ÷ N). Targets: runlab ≤ 3× xargs, and faster
   than GNU parallel.
2. **Hydra.** The same ``--n-hydra`` (100) configs through Hydra's multirun with the
   joblib launcher and 2 jobs, of a no-op ``@hydra.main`` app written at run time:
   ``python app.py -m 'x=range(0,100)' hydra/launcher=joblib hydra.launcher.n_jobs=2``.
   Against ``runlab run`` of 100 configs of a no-op Python task (``-x noop_task:noop``,
   a function returning ``{}``) and of 100 no-op commands (``true {x}``), ``--workers 2``.
   Hydra needs ``hydra-core`` and ``hydra-joblib-launcher`` in the bench virtualenv; it
   is skipped with a note when they are missing.
3. **Plan.** A Grid of ``--cells`` (100,000) cells (``a`` × ``b``, ``b`` of 100 values)
   against a store holding ``--done`` (10,000) completed runs of the same sweep (the first
   100 values of ``a``). The store is written in process with runlab's own
   ``open_attempt`` / ``close_attempt`` (exactly the files ``runlab run`` leaves, keys
   from ``plan_sweep``), which is ~3× faster than running 10,000 ``true`` commands.
   Timed: ``runlab plan big.yaml --store S --json > /dev/null`` end to end (the first call
   ingests the 10,000 new runs into the index: reported apart; the figure is the median
   of the further calls), and in process ``plan_sweep(Sweep(Grid(...)), Store.at(S))``
   on a fresh Sweep (so the 100,000-cell expansion is inside the timing), median of
   ``--repeat``. Target ≤ 2 s.
4. **Re-run.** After each dispatch round, ``runlab run`` of the same completed
   1,000-run sweep again (every run skipped), end to end: the first re-run (which also
   ingests the 1,000 finished runs into the index) is the figure; two more are reported.
   Target ≤ 1 s.
5. **Helper processes.** Python tasks run in a worker process per slot: the launcher
   source is scanned for how it starts Python (``sys.executable`` vs a ``python``/
   ``python3`` name), and checked live: a ``runlab run -x`` with ``python`` and
   ``python3`` shims first on ``PATH`` (they would leave a marker) must run the task
   under the launcher's own interpreter. The worker spawn is measured in process with
   ``LocalLauncher.launch`` on one slot: one no-op Python task vs one ``true`` command
   (the difference is the worker's start: interpreter + imports), and 21 tasks of each
   (the cost of one more task on a warm worker, or of one more command).

Each system of figures 1 and 2 is measured in ``--rounds`` rounds, round-robin (Hydra in
``--hydra-rounds``); its figure is its least-disturbed round (lowest wall), and every
round is in the JSON, as is the median over rounds of the per-round ratio.

Nothing is deleted before the end (every store and output folder is kept until the
temporary folder is removed): this machine's root file system is ext4 *without a
journal*, where every new inode is looked for past each inode of its block group
deleted in the last 1-6 minutes (``recently_deleted`` in the kernel: ~25 ns each; a
kernel profile of a sweep after 28,000 deletions spent half its time there). That hits
runlab (eight new inodes a run) and not xargs or parallel (none), so before every
runlab round the script waits (``--settle``, up to 90 s) until creating a file costs
<= ``--settle-us`` (30 µs), and reports the cost and the wait: the re-run of the
previous round deletes its 1,000 index markers, other programs delete what they like.

Rerun: ``/work/bench-venv/bin/python benchmarks/bench_sweep.py`` (``--quick`` for a smoke
test, ``--only runlab`` to skip the peers, ``--only runlab,xargs,parallel,hydra``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

TARGET_X_XARGS = 3.0
TARGET_PLAN_S = 2.0
TARGET_RERUN_S = 1.0
B_VALUES = 100  # the plan grid is a x b with b of 100 values

HYDRA_APP = """\
import hydra
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path=".", config_name="config")
def app(cfg: DictConfig) -> None:
    return None


if __name__ == "__main__":
    app()
"""
NOOP_TASK = "def noop(config, run):\n    return {}\n"
WHOAMI_TASK = """\
import json, os, sys


def whoami(config, run):
    info = {"executable": sys.executable, "prefix": sys.prefix, "ppid": os.getppid()}
    with open(os.path.join(os.environ["RUNLAB_RUN_DIR"], "whoami.json"), "w") as f:
        json.dump(info, f)
    return {}
"""
DISPLAY = {
    "runlab": "runlab run noop.yaml --store S --workers 2  (template 'true {{i}}', {n} values)",
    "xargs": "xargs -P2 -n1 true  (stdin: the {n} values, one a line)",
    "parallel": "parallel -j2 --will-cite true  (stdin: the {n} values, one a line)",
}
SHIM = '#!/bin/sh\necho "$0 $*" >> {marker}\nexit 97\n'


# -- helpers ---------------------------------------------------------------------------
def _runlab_exe() -> Path | None:
    exe = Path(sys.executable).with_name("runlab")
    return exe if exe.exists() else None


def _values(n: int, start: int = 0) -> str:
    return "[" + ", ".join(str(i) for i in range(start, start + n)) + "]"


def write_sweep(path: Path, name: str, axes: dict[str, int], template: str | None = None) -> Path:
    lines = [f"name: {name}"]
    if template is not None:
        lines.append(f"template: {json.dumps(template)}")
    lines.append("---")
    lines += [f"{key}: {_values(n)}" for key, n in axes.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(
    cmd: list[str],
    *,
    cwd: Path,
    log: Path | None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Wall time of one subprocess, from before the spawn to after it has exited."""
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            input=stdin,
            stdout=out,
            stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
            env=env or C.worker_env(),
            timeout=timeout,
        )
        wall = time.perf_counter() - t0
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    result: dict[str, Any] = {"wall_s": round(wall, 4), "returncode": proc.returncode}
    if proc.returncode != 0 and log is not None:
        result["log_tail"] = log.read_text(errors="replace").strip().splitlines()[-10:]
    return result


def check_store(store: Path, expected: int, *, python_task: bool = False) -> dict[str, Any]:
    """Every run folder complete: run.json completed with a key, params, log, report."""
    complete, bad = 0, []
    for entry in os.scandir(store):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        folder = Path(entry.path)
        try:
            rec = json.loads((folder / "run.json").read_text())
        except (OSError, ValueError):
            bad.append(entry.name)
            continue
        log = folder / ("stdout.log" if python_task else "logs/main.log")
        ok = (
            rec.get("status") == "completed"
            and rec.get("exit_code") == 0
            and bool(rec.get("key"))
            and (folder / "params.json").is_file()
            and log.is_file()
            and (folder / "reports" / "1.json").is_file()
        )
        if ok:
            complete += 1
        else:
            bad.append(entry.name)
    return {
        "complete": complete,
        "expected": expected,
        "incomplete": bad[:10],
        "ok": complete == expected and not bad,
    }


def fs_probe(folder: Path, n: int = 200) -> float:
    """Microseconds to create one empty file in a new folder (the files are kept).

    On this machine's ext4, creating inodes in a block group where many were deleted
    in the last seconds to minutes is several times slower (the allocator skips
    recently deleted inodes one by one: ``recently_deleted`` in a kernel profile).
    runlab writes ~10 inodes a run and the peers none, so the state of the filesystem
    is reported next to every runlab round, and nothing is deleted until the end.
    """
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    for i in range(n):
        os.close(os.open(folder / f"f{i}", os.O_CREAT | os.O_WRONLY, 0o644))
    return round(1e6 * (time.perf_counter() - t0) / n, 1)


def settle_fs(tmp: Path, max_wait_s: float, threshold_us: float) -> dict[str, Any]:
    """Wait (at most ``max_wait_s``) until creating a file costs <= ``threshold_us``."""
    started, seen = time.monotonic(), []
    while True:
        seen.append(fs_probe(tmp / f"probe-{len(seen)}"))
        waited = time.monotonic() - started
        if seen[-1] <= threshold_us or waited >= max_wait_s:
            break
        time.sleep(5.0)
    return {"waited_s": round(waited, 1), "threshold_us": threshold_us, "create_us": seen}


def _best(rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    ok = [r for r in rounds if r.get("returncode") == 0 and r.get("wall_s") is not None]
    return min(ok, key=lambda r: r["wall_s"]) if ok else None


def _per_task_ms(best: dict[str, Any] | None, n: int) -> float | None:
    return None if best is None else round(1000 * best["wall_s"] / n, 3)


def _round_ratios(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[float]:
    """a.wall / b.wall for each round where both succeeded."""
    out = []
    for x, y in zip(a, b, strict=False):
        if x.get("returncode") == 0 and y.get("returncode") == 0 and y.get("wall_s"):
            out.append(round(x["wall_s"] / y["wall_s"], 3))
    return out


# -- figure 1 and 4: dispatch of N no-op commands, and the re-run ----------------------
def dispatch(args: Any, tmp: Path) -> dict[str, Any]:
    n = args.n
    work = tmp / "dispatch"
    work.mkdir()
    sweep = write_sweep(work / "noop.yaml", "noop", {"i": n}, template="true {i}")
    stdin = "".join(f"{i}\n" for i in range(n)).encode()
    exe = _runlab_exe()
    parallel = shutil.which("parallel")
    xargs = shutil.which("xargs")
    systems: list[tuple[str, Any]] = []
    results: dict[str, Any] = {}
    if C.selected(args, "runlab"):
        if exe is None:
            results["runlab"] = C.skipped(f"no runlab script beside {sys.executable}")
        else:
            systems.append(("runlab", None))
    if C.selected(args, "xargs"):
        if xargs is None:
            results["xargs"] = C.skipped("xargs not found")
        else:
            systems.append(("xargs", [xargs, "-P2", "-n1", "true"]))
    if C.selected(args, "parallel"):
        if parallel is None:
            results["parallel"] = C.skipped(
                "GNU parallel not installed: bash /work/shared/scripts/parallel-install"
            )
        else:
            systems.append(("parallel", [parallel, "-j2", "--will-cite", "true"]))
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in systems}
    reruns: list[list[dict[str, Any]]] = []
    probes: list[float] = []
    waits: list[float] = []
    for r in range(args.rounds):
        for name, cmd in systems:
            if name == "runlab":
                # A round's own files (and the re-run's ingest, which deletes a marker a
                # run) must not slow the next round: wait for the file system first.
                settled = settle_fs(work / f"settle-{r}", args.settle, args.settle_us)
                probes.append(settled["create_us"][-1])
                waits.append(settled["waited_s"])
                store = work / f"store-{r}"
                run_cmd = [str(exe), "run", str(sweep), "--store", str(store), "--workers", "2"]
                res = timed(run_cmd, cwd=work, log=work / f"runlab-{r}.log")
                res["check"] = check_store(store, n)
                rounds[name].append(res)
                # Figure 4: the same command again, everything completed, so all skipped.
                again = [
                    timed(run_cmd, cwd=work, log=work / f"rerun-{r}-{k}.log") for k in range(3)
                ]
                reruns.append(again)
            else:
                rounds[name].append(timed(cmd, cwd=work, log=work / f"{name}-{r}.log", stdin=stdin))
    for name, rs in rounds.items():
        best = _best(rs)
        results[name] = {
            "command": DISPLAY[name].format(n=n),
            "rounds": rs,
            "best_wall_s": best["wall_s"] if best else None,
            "per_task_ms": _per_task_ms(best, n),
        }
    if reruns:
        first = [x[0]["wall_s"] for x in reruns if x[0]["returncode"] == 0]
        later = [y["wall_s"] for x in reruns for y in x[1:] if y["returncode"] == 0]
        results["runlab_rerun"] = {
            "rounds": reruns,
            "first_rerun_s": min(first) if first else None,
            "first_rerun_each_round_s": first,
            "later_rerun_median_s": round(statistics.median(later), 4) if later else None,
        }
    if probes:
        results["fs_create_us_before_each_runlab_round"] = probes
        results["fs_settle_wait_s_before_each_runlab_round"] = waits
    if "runlab" in rounds:
        for peer in ("xargs", "parallel"):
            if peer in rounds:
                results["runlab"][f"over_{peer}_each_round"] = _round_ratios(
                    rounds["runlab"], rounds[peer]
                )
    return results


# -- figure 2: Hydra's joblib multirun against runlab ---------------------------------
def hydra_compare(args: Any, tmp: Path) -> dict[str, Any]:
    n = args.n_hydra
    work = tmp / "hydra"
    work.mkdir()
    results: dict[str, Any] = {}
    exe = _runlab_exe()
    (work / "noop_task.py").write_text(NOOP_TASK)
    py_sweep = write_sweep(work / "py.yaml", "noop-py", {"x": n})
    cmd_sweep = write_sweep(work / "cmd.yaml", "noop-cmd", {"x": n}, template="true {x}")
    (work / "app.py").write_text(HYDRA_APP)
    (work / "config.yaml").write_text("x: 0\n")
    variants: list[tuple[str, int]] = []
    if C.selected(args, "runlab") and exe is not None:
        variants += [("runlab_python_task", args.rounds), ("runlab_command", args.rounds)]
    if C.selected(args, "hydra"):
        missing = [
            m for m in ("hydra", "hydra_plugins.hydra_joblib_launcher") if importlib_find(m) is None
        ]
        if missing:
            results["hydra"] = C.skipped(
                f"{', '.join(missing)} not installed in {sys.executable}: "
                "pip install hydra-core hydra-joblib-launcher"
            )
        else:
            variants.append(("hydra", args.hydra_rounds))
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    for r in range(max((k for _, k in variants), default=0)):
        for name, k in variants:
            if r >= k:
                continue
            if name == "hydra":
                out_dir = work / f"multirun-{r}"
                cmd = [
                    sys.executable, "app.py", "-m", f"x=range(0,{n})",
                    "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                    f"hydra.sweep.dir={out_dir}",
                ]  # fmt: skip
                res = timed(cmd, cwd=work, log=work / f"hydra-{r}.log")
                jobs = (
                    [p for p in out_dir.glob("*/.hydra/overrides.yaml")] if out_dir.exists() else []
                )
                res["check"] = {"job_dirs": len(jobs), "expected": n, "ok": len(jobs) == n}
            else:
                python_task = name == "runlab_python_task"
                store = work / f"store-{name}-{r}"
                cmd = [str(exe), "run", str(py_sweep if python_task else cmd_sweep)]
                cmd += ["-x", "noop_task:noop"] if python_task else []
                cmd += ["--store", str(store), "--workers", "2"]
                res = timed(cmd, cwd=work, log=work / f"{name}-{r}.log")
                res["check"] = check_store(store, n, python_task=python_task)
            rounds[name].append(res)
    for name, rs in rounds.items():
        best = _best(rs)
        results[name] = {
            "rounds": rs,
            "best_wall_s": best["wall_s"] if best else None,
            "per_job_ms": _per_task_ms(best, n),
        }
    if "hydra" in rounds:
        results["hydra"]["command"] = (
            f"python app.py -m 'x=range(0,{n})' hydra/launcher=joblib hydra.launcher.n_jobs=2"
        )
        for name in ("runlab_python_task", "runlab_command"):
            if name in rounds:
                results[name]["hydra_over_runlab_each_round"] = _round_ratios(
                    rounds["hydra"], rounds[name]
                )
    return results


def importlib_find(module: str) -> Any:
    import importlib.util

    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None


# -- figure 3: plan 100,000 configs against 10,000 done runs (a worker) ---------------
def worker_plan(args: Any) -> dict[str, Any]:
    warnings.simplefilter("ignore")  # GitWarning: the worker's cwd is not a git repository
    from runlab.design import Grid, Sweep
    from runlab.launch.runfolder import Outcome, close_attempt, open_attempt
    from runlab.launch.sweeps import load, plan_sweep
    from runlab.record.status import RunStatus
    from runlab.store import Store

    tmp = Path(args.tmp)
    a_all, a_done = args.cells // B_VALUES, args.done // B_VALUES
    template = "true {a} {b}"
    big = write_sweep(tmp / "big.yaml", "big", {"a": a_all, "b": B_VALUES}, template)
    done = write_sweep(tmp / "done.yaml", "big", {"a": a_done, "b": B_VALUES}, template)
    store_dir = tmp / "store"

    # The store of done runs: the very files a launcher writes, keys from plan_sweep.
    t0 = time.perf_counter()
    store = Store.at(store_dir)
    done_plan = plan_sweep(load(str(done)), store)
    for e in done_plan.entries:
        opened = open_attempt(
            store.layout,
            e.run_id,
            e.config.params,
            key=e.key,
            name=e.config.name,
            sweep=done_plan.sweep,
            command=[line for _, line in e.commands],
        )
        assert opened is not None
        run_dir, record = opened
        close_attempt(store.layout, run_dir, record, Outcome(RunStatus.COMPLETED, 0), time.time())
    store.close()
    prep_s = time.perf_counter() - t0
    runs_on_disk = sum(1 for p in os.scandir(store_dir) if p.is_dir() and p.name[0] != ".")

    out: dict[str, Any] = {
        "cells": a_all * B_VALUES,
        "done_runs": len(done_plan.entries),
        "store_prep": {
            "how": "plan_sweep(done.yaml) then open_attempt + close_attempt(COMPLETED) per run",
            "seconds": round(prep_s, 2),
            "runs_on_disk": runs_on_disk,
        },
    }

    # End to end: runlab plan --json > /dev/null. The first call ingests the new runs.
    exe = _runlab_exe()
    if exe is None:
        out["cli"] = C.skipped(f"no runlab script beside {sys.executable}")
    else:
        cmd = [str(exe), "plan", str(big), "--store", str(store_dir), "--json"]
        calls = [timed(cmd, cwd=tmp, log=None, timeout=120) for _ in range(1 + args.repeat)]
        later = [c["wall_s"] for c in calls[1:] if c["returncode"] == 0]
        out["cli"] = {
            "command": "runlab plan big.yaml --store S --json > /dev/null",
            "first_s": calls[0]["wall_s"] if calls[0]["returncode"] == 0 else None,
            "later_s": later,
            "median_s": round(statistics.median(later), 4) if later else None,
            "returncodes": [c["returncode"] for c in calls],
        }

    # In process: load the YAML file (read + expand), then plan_sweep on a fresh Sweep.
    t0 = time.perf_counter()
    from_yaml = load(str(big))
    load_s = time.perf_counter() - t0
    task = from_yaml.task
    expand_s, plan_s, total_s, counts = [], [], [], None
    for _ in range(args.repeat):
        sweep = Sweep("big", Grid(a=list(range(a_all)), b=list(range(B_VALUES))), task=task)
        handle = Store.at(store_dir)
        t0 = time.perf_counter()
        sweep.expand()
        t1 = time.perf_counter()
        plan = plan_sweep(sweep, handle)
        t2 = time.perf_counter()
        handle.close()
        expand_s.append(t1 - t0)
        plan_s.append(t2 - t1)
        total_s.append(t2 - t0)
        counts = plan.counts()
        del plan, sweep

    def med(xs: list[float]) -> float:
        return round(statistics.median(xs), 4)

    out["in_process"] = {
        "call": "plan_sweep(Sweep('big', Grid(a=..., b=...), task), Store.at(S)), fresh Sweep",
        "median_s": med(total_s),
        "all_s": [round(x, 4) for x in total_s],
        "expand_median_s": med(expand_s),
        "plan_after_expand_median_s": med(plan_s),
        "counts": counts,
        "check_ok": bool(
            counts
            and counts.get("done") == len(done_plan.entries)
            and counts.get("new") == a_all * B_VALUES - len(done_plan.entries)
        ),
        "load_yaml_s": round(load_s, 4),
    }
    return out


# -- figure 5: helper processes and their start (a worker) ----------------------------
def _scan_spawns() -> dict[str, Any]:
    """How runlab's source starts Python: an argv naming python/python3, or sys.executable."""
    import runlab

    root = Path(runlab.__file__).resolve().parent
    name = r"(?:/usr/bin/(?:env\s+)?)?python(?:3(?:\.\d+)?)?"
    # ["python3", ...] or "python3 -m ..." (not a docstring's """python -m ..., nor an
    # argparse prog= that only names the program in its help)
    by_name = re.compile(rf"""\[\s*["']{name}["']|(?<!["'])(?<!prog=)["']{name}\s+-""")
    by_executable = re.compile(r"\[\s*sys\.executable\b")
    hits_name, hits_exe = [], []
    for path in sorted(root.rglob("*.py")):
        for no, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            where = f"{path.relative_to(root.parent)}:{no}: {line.strip()}"
            if by_name.search(line):
                hits_name.append(where)
            if by_executable.search(line):
                hits_exe.append(where)
    return {
        "argv_naming_python_in_source": hits_name,
        "argv_with_sys_executable_in_source": hits_exe,
        "ok": not hits_name and bool(hits_exe),
    }


def worker_spawn(args: Any) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from runlab.design import Grid, Sweep
    from runlab.launch.local import LocalLauncher
    from runlab.launch.slots import make_slots
    from runlab.launch.sweeps import plan_sweep
    from runlab.store import Store
    from runlab.tasks import CallableTask, CommandTask

    tmp = Path(args.tmp)
    out: dict[str, Any] = {"static": _scan_spawns()}

    # Live: python / python3 shims first on PATH must never be called.
    exe = _runlab_exe()
    if exe is None:
        out["live"] = C.skipped(f"no runlab script beside {sys.executable}")
    else:
        shims, marker = tmp / "shims", tmp / "shim-called.txt"
        shims.mkdir()
        for name in ("python", "python3"):
            (shims / name).write_text(SHIM.format(marker=marker))
            (shims / name).chmod(0o755)
        (tmp / "whoami_task.py").write_text(WHOAMI_TASK)
        sweep = write_sweep(tmp / "one.yaml", "whoami", {"x": 2})
        env = C.worker_env({"PATH": f"{shims}{os.pathsep}{os.environ.get('PATH', '')}"})
        store = tmp / "store-live"
        res = timed(
            [str(exe), "run", str(sweep), "-x", "whoami_task:whoami", "--store", str(store)],
            cwd=tmp,
            log=tmp / "live.log",
            env=env,
        )
        shebang = exe.read_text(errors="replace").splitlines()[0][2:].strip().split()[0]
        seen = [json.loads(p.read_text()) for p in sorted(store.glob("*/whoami.json"))]
        launcher_python = os.path.realpath(shebang)
        out["live"] = {
            "launcher_interpreter": shebang,
            "task_interpreters": sorted({s["executable"] for s in seen}),
            "shim_called": marker.exists(),
            "returncode": res["returncode"],
            "ok": res["returncode"] == 0
            and len(seen) == 2
            and not marker.exists()
            and all(os.path.realpath(s["executable"]) == launcher_python for s in seen),
        }

    # The worker's start, in process, with the launcher's own code.
    (tmp / "noop_task.py").write_text(NOOP_TASK)
    sys.path.insert(0, str(tmp))
    os.chdir(tmp)
    py_task = CallableTask("noop_task:noop")
    cmd_task = CommandTask.from_templates("true {x}")

    def launch(task: Any, n_runs: int, k: int) -> float:
        store = Store.at(tmp / f"store-{k}")
        plan = plan_sweep(Sweep("spawn", Grid(x=list(range(n_runs))), task=task), store)
        launcher = LocalLauncher(store, make_slots(workers=1))
        t0 = time.perf_counter()
        result = launcher.launch(plan, sweep=plan.sweep)
        wall = time.perf_counter() - t0
        assert not result.failed, result.outcomes
        store.close()
        return wall

    samples: dict[str, list[float]] = {"py1": [], "py21": [], "cmd1": [], "cmd21": []}
    k = 0
    for _ in range(args.spawn_repeat):
        for key, task, n_runs in (
            ("py1", py_task, 1), ("cmd1", cmd_task, 1),
            ("py21", py_task, 21), ("cmd21", cmd_task, 21),
        ):  # fmt: skip
            k += 1
            samples[key].append(launch(task, n_runs, k))
    bare = []
    for _ in range(args.spawn_repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=C.worker_env())
        bare.append(time.perf_counter() - t0)

    def med_ms(xs: list[float]) -> float:
        return round(1000 * statistics.median(xs), 2)

    m = {key: med_ms(v) for key, v in samples.items()}
    out["spawn"] = {
        "how": "LocalLauncher(store, 1 slot).launch(plan) in process; medians of "
        f"{args.spawn_repeat}; 'py' a no-op Python task, 'cmd' the command 'true {{x}}'",
        "launch_1_python_task_ms": m["py1"],
        "launch_1_command_ms": m["cmd1"],
        "launch_21_python_tasks_ms": m["py21"],
        "launch_21_commands_ms": m["cmd21"],
        "worker_start_ms (py1 - cmd1)": round(m["py1"] - m["cmd1"], 2),
        "python_task_on_warm_worker_ms ((py21 - py1) / 20)": round((m["py21"] - m["py1"]) / 20, 3),
        "command_ms ((cmd21 - cmd1) / 20)": round((m["cmd21"] - m["cmd1"]) / 20, 3),
        "bare_interpreter_ms (python -c pass)": med_ms(bare),
        "samples_s": {k2: [round(x, 4) for x in v] for k2, v in samples.items()},
    }
    return out


WORKERS = {"plan": worker_plan, "spawn": worker_spawn}


def _extra(parser: Any) -> None:
    parser.add_argument("--n", type=int, default=1000, help="no-op commands for dispatch")
    parser.add_argument("--n-hydra", type=int, default=100, help="configs for the Hydra figure")
    parser.add_argument("--cells", type=int, default=100_000, help="grid cells to plan")
    parser.add_argument("--done", type=int, default=10_000, help="completed runs in the store")
    parser.add_argument("--repeat", type=int, default=2, help="timed plan calls after the first")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of figures 1 and 2")
    parser.add_argument("--hydra-rounds", type=int, default=2, help="rounds of Hydra (slow)")
    parser.add_argument(
        "--settle", type=float, default=90.0, help="wait up to N s for file creation to be fast"
    )
    parser.add_argument(
        "--settle-us", type=float, default=30.0, help="fast: creating a file costs <= N us"
    )
    parser.add_argument("--spawn-repeat", type=int, default=5, help="samples of each spawn case")


def main() -> None:
    args = C.worker_args(_extra)
    if args.quick:
        args.n, args.n_hydra, args.cells, args.done = 100, 10, 5_000, 500
        args.repeat, args.rounds, args.hydra_rounds, args.spawn_repeat = 1, 1, 1, 2
    if args.worker:
        C.write_result(args.out, WORKERS[args.worker](args))
        return

    load_before = C.wait_quiet(args.wait_quiet)
    tmp = C.fresh_tmp("sweep")
    results: dict[str, Any] = {}
    try:
        results["fs_settle"] = settle_fs(tmp / "settle", args.settle, args.settle_us)
        results["dispatch"] = dispatch(args, tmp)
        results["hydra"] = hydra_compare(args, tmp)
        if C.selected(args, "runlab"):
            extra = ["--cells", str(args.cells), "--done", str(args.done)]
            extra += ["--repeat", str(args.repeat), "--spawn-repeat", str(args.spawn_repeat)]
            results["plan"] = C.run_worker(__file__, "plan", tmp=tmp, extra_args=extra, timeout=300)
            results["spawn"] = C.run_worker(
                __file__, "spawn", tmp=tmp, extra_args=extra, timeout=120
            )
    finally:
        C.cleanup(tmp)

    def get(*path: str) -> Any:
        node: Any = results
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node

    n = args.n
    ours = get("dispatch", "runlab", "per_task_ms")
    xargs_ms = get("dispatch", "xargs", "per_task_ms")
    parallel_ms = get("dispatch", "parallel", "per_task_ms")
    py_ms = get("hydra", "runlab_python_task", "per_job_ms")
    cmd_ms = get("hydra", "runlab_command", "per_job_ms")
    hydra_ms = get("hydra", "hydra", "per_job_ms")
    plan_cli = get("plan", "cli", "median_s")
    plan_inproc = get("plan", "in_process", "median_s")
    rerun = get("dispatch", "runlab_rerun", "first_rerun_s")
    over_xargs_rounds = get("dispatch", "runlab", "over_xargs_each_round") or []
    over_parallel_rounds = get("dispatch", "runlab", "over_parallel_each_round") or []
    figures = {
        "n_dispatch": n,
        "runlab_dispatch_per_task_ms": ours,
        "xargs_per_task_ms": xargs_ms,
        "parallel_per_task_ms": parallel_ms,
        "runlab_over_xargs": C.ratio(ours, xargs_ms),
        "runlab_over_xargs_median_of_rounds": (
            round(statistics.median(over_xargs_rounds), 2) if over_xargs_rounds else None
        ),
        "parallel_over_runlab": C.ratio(parallel_ms, ours),
        "runlab_over_parallel_median_of_rounds": (
            round(statistics.median(over_parallel_rounds), 2) if over_parallel_rounds else None
        ),
        "n_hydra": args.n_hydra,
        "runlab_python_task_per_job_ms": py_ms,
        "runlab_command_per_job_ms": cmd_ms,
        "hydra_joblib_per_job_ms": hydra_ms,
        "hydra_over_runlab_python_task": C.ratio(hydra_ms, py_ms),
        "hydra_over_runlab_command": C.ratio(hydra_ms, cmd_ms),
        "plan_cells": get("plan", "cells"),
        "plan_done_runs": get("plan", "done_runs"),
        "runlab_plan_cli_s": plan_cli,
        "runlab_plan_cli_first_s": get("plan", "cli", "first_s"),
        "runlab_plan_sweep_in_process_s": plan_inproc,
        "runlab_plan_expand_s": get("plan", "in_process", "expand_median_s"),
        "runlab_load_yaml_s": get("plan", "in_process", "load_yaml_s"),
        "runlab_rerun_first_s": rerun,
        "runlab_rerun_later_s": get("dispatch", "runlab_rerun", "later_rerun_median_s"),
        "helpers_use_sys_executable": (
            None
            if get("spawn", "static") is None
            else bool(get("spawn", "static", "ok") and get("spawn", "live", "ok"))
        ),
        "worker_start_ms": get("spawn", "spawn", "worker_start_ms (py1 - cmd1)"),
        "bare_interpreter_ms": get("spawn", "spawn", "bare_interpreter_ms (python -c pass)"),
        "python_task_on_warm_worker_ms": get(
            "spawn", "spawn", "python_task_on_warm_worker_ms ((py21 - py1) / 20)"
        ),
        "fs_create_us_before_runlab_rounds": get(
            "dispatch", "fs_create_us_before_each_runlab_round"
        ),
    }

    targets = {
        "dispatch_le_3x_xargs": {
            "target": f"runlab run of {n} no-op commands on 2 slots <= {TARGET_X_XARGS}x xargs -P2",
            "measured": figures["runlab_over_xargs"],
            "met": None if ours is None or xargs_ms is None else ours <= TARGET_X_XARGS * xargs_ms,
        },
        "dispatch_faster_than_parallel": {
            "target": "faster than GNU parallel -j2",
            "measured": figures["parallel_over_runlab"],
            "met": None if ours is None or parallel_ms is None else ours < parallel_ms,
        },
        "plan_cli_le_2s": {
            "target": f"runlab plan --json of {args.cells:,} cells vs {args.done:,} done <= 2 s",
            "measured": plan_cli,
            "met": None if plan_cli is None else plan_cli <= TARGET_PLAN_S,
        },
        "plan_in_process_le_2s": {
            "target": "plan_sweep (expand + hash + compare) in process <= 2 s",
            "measured": plan_inproc,
            "met": None if plan_inproc is None else plan_inproc <= TARGET_PLAN_S,
        },
        "rerun_le_1s": {
            "target": f"runlab run of the completed {n}-run sweep (all skipped) <= 1 s",
            "measured": rerun,
            "met": None if rerun is None else rerun <= TARGET_RERUN_S,
        },
        "helpers_sys_executable": {
            "target": "helper processes start with sys.executable, never python3 from PATH",
            "measured": figures["helpers_use_sys_executable"],
            "met": figures["helpers_use_sys_executable"],
        },
    }
    C.emit(
        "sweep",
        C.rerun_command(__file__),
        {
            "params": {
                "n_dispatch": args.n,
                "n_hydra": args.n_hydra,
                "cells": args.cells,
                "done": args.done,
                "rounds": args.rounds,
                "hydra_rounds": args.hydra_rounds,
                "quick": args.quick,
                "figure": "each system's least-disturbed round (lowest wall) of --rounds",
                "tools": _tool_versions(),
            },
            "figures": figures,
            "targets": targets,
            "results": results,
        },
        load_before=load_before,
    )


def _tool_versions() -> dict[str, str | None]:
    import importlib.metadata

    out: dict[str, str | None] = {}
    for name, cmd in (("xargs", ["xargs", "--version"]), ("parallel", ["parallel", "--version"])):
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
            out[name] = text.splitlines()[0] if text else None
        except (OSError, subprocess.SubprocessError):
            out[name] = None
    for dist in ("hydra-core", "hydra-joblib-launcher", "joblib", "omegaconf"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


if __name__ == "__main__":
    main()
