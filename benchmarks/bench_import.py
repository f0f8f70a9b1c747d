"""Import time: ``python -c "import runlab"`` minus a bare ``python -c pass``.

Each command is a fresh subprocess of the same interpreter, run ``--repeat`` times
(default 15, at least 10) after 2 untimed warm-ups (which also write the .pyc files);
commands are interleaved round-robin so drift hits all of them alike. Bytecode caches
are on for every package (written under ``PYTHONPYCACHEPREFIX``, outside the repository,
during the warm-ups), as on a user's machine. Reported: the
median wall time of each, and the median minus the bare interpreter's median.

Also reported for runlab: the heaviest modules in ``python -X importtime -c "import
runlab"`` (cumulative microseconds), to show where its import time goes.

Rerun: ``/work/bench-venv/bin/python benchmarks/bench_import.py`` (``--quick``, ``--only``).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

TARGET_MS = 100.0


def _time_once(code: str, cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return (time.perf_counter() - t0) * 1000.0


def _importtime(module: str, cwd: Path, env: dict[str, str], top: int = 12) -> list[dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          cwd=cwd, env=env, capture_output=True, text=True, check=True)  # fmt: skip
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        # "import time:   self_us |  cumulative_us | package.module"
        self_us, cum_us, name = line[len("import time:") :].split("|")
        rows.append({"module": name.strip(), "self_us": int(self_us), "cumulative_us": int(cum_us)})
    rows.sort(key=lambda r: -r["cumulative_us"])
    return rows[:top]


def main() -> None:
    args = C.worker_args(lambda p: p.add_argument("--repeat", type=int, default=15))
    if args.quick:
        args.repeat = 3
    load_before = C.wait_quiet(args.wait_quiet)
    tmp = C.fresh_tmp("import")
    env = C.worker_env({"TRACKIO_DIR": str(tmp / "trackio")})
    env.pop("PYTHONWARNINGS", None)  # measure the plain interpreter start-up
    commands: dict[str, str] = {"bare": "pass"}
    notes: dict[str, str] = {}
    for name in ("runlab", *C.PEERS):
        if not C.selected(args, name):
            continue
        if C.available(name):
            commands[name] = f"import {name}"
        else:
            notes[name] = f"skipped: {name} is not installed in {sys.executable}"
    samples: dict[str, list[float]] = {k: [] for k in commands}
    try:
        for _ in range(2):  # warm-up: .pyc files, page cache
            for code in commands.values():
                _time_once(code, tmp, env)
        for _ in range(args.repeat):
            for name, code in commands.items():
                samples[name].append(_time_once(code, tmp, env))
        heavy = _importtime("runlab", tmp, env) if "runlab" in commands else []
    finally:
        C.cleanup(tmp)

    bare = statistics.median(samples["bare"])
    results: dict[str, Any] = {}
    for name, values in samples.items():
        med = statistics.median(values)
        results[name] = {
            "command": f'{Path(sys.executable).name} -c "{commands[name]}"',
            "median_ms": round(med, 1),
            "p90_ms": round(C.percentile(sorted(values), 90), 1),
            "min_ms": round(min(values), 1),
            "above_bare_ms": round(med - bare, 1) if name != "bare" else 0.0,
            "n": len(values),
        }
    for name, note in notes.items():
        results[name] = C.skipped(note)
    ours = results.get("runlab", {}).get("above_bare_ms")
    figures: dict[str, Any] = {"bare_python_ms": round(bare, 1), "runlab_above_bare_ms": ours}
    for peer in C.PEERS:
        above = results.get(peer, {}).get("above_bare_ms")
        figures[f"{peer}_above_bare_ms"] = above
        figures[f"{peer}_ratio"] = C.ratio(above, ours)
    C.emit(
        "import",
        C.rerun_command(__file__),
        {
            "params": {"repeat": args.repeat, "quick": args.quick},
            "figures": figures,
            "targets": {
                "import_le_100ms": {
                    "target": f"<= {TARGET_MS:.0f} ms above bare interpreter start",
                    "measured": ours,
                    "met": ours is not None and ours <= TARGET_MS,
                }
            },
            "results": results,
            "runlab_importtime_top": heavy,
        },
        load_before=load_before,
    )


if __name__ == "__main__":
    main()
