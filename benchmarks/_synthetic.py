"""A synthetic store of finished runs, written straight to disk, for the index benchmarks.

Making 100,000 runs through ``runlab.start`` takes minutes of per-run bookkeeping (ids,
atomic renames, markers) that the index and query figures are not about. This module
writes the same bytes a finished ``runlab.start`` run leaves (``run.json``,
``params.json``, ``summary.json``, ``metrics.jsonl``) directly, from a process pool.
``tests/test_benchmarks.py`` checks the bytes against real runs, so a change to the
record format shows up there, not as a silently different benchmark.

The store has no ``.changed/`` markers: it looks like folders copied in by hand, which
is what ``runlab index`` is for. Stores are cached under a data folder, one per
:class:`Shape` (the folder name is the shape's key), because writing 100,000 folders
takes minutes. A store is generated under a temporary name and renamed into place
when complete, so an interrupted generation is never taken for a cached store.

Runs come in configurations of ``SEEDS`` seeds: run ``i`` (ids count from 1) has seed
``(i - 1) % SEEDS`` and configuration ``(i - 1) // SEEDS``, whose grid params are the
digits of the configuration number in a mixed radix (model fastest). So
``groupby(over="params.seed")`` has groups of ``SEEDS`` runs, and ``FILTER_50`` selects
50 runs of a 100,000-run store.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Bump when what the generator writes changes: cached stores of older versions are not reused.
GENERATOR_VERSION = 2
SEEDS = 5
# (name, values): the grid params, the first varying fastest. 4*5*4*2*5*5*5 = 20,000 configs.
GRID: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("model", ("mlp", "cnn", "rnn", "transformer")),
    ("lr", (0.0001, 0.0003, 0.001, 0.003, 0.01)),
    ("batch_size", (32, 64, 128, 256)),
    ("optimizer", ("sgd", "adam")),
    ("layers", (2, 3, 4, 6, 8)),
    ("hidden", (64, 128, 256, 512, 1024)),
    ("dropout", (0.0, 0.1, 0.2, 0.3, 0.5)),
)
METRICS = ("loss", "acc", "val_loss", "val_acc", "f1")
# 25 configurations x 2 seeds = 50 runs of 100,000 (model, lr, batch, optimizer, layers fixed).
FILTER_50 = (
    "params.model == 'cnn' and params.lr == 0.001 and params.batch_size == 64 "
    "and params.optimizer == 'adam' and params.layers == 4 and params.seed < 2"
)
START_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z: run i starts i minutes after it
STEP_SECONDS = 0.25
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_HOST = socket.gethostname()
_PYTHON = sys.version.split()[0]


@dataclass(frozen=True)
class Shape:
    """What a synthetic store holds: ``runs`` runs of ``params`` params, ``metrics`` x ``steps``."""

    runs: int
    params: int = 20
    metrics: int = 5
    steps: int = 100

    def __post_init__(self) -> None:
        if not len(GRID) + 1 <= self.params <= 40 or not 1 <= self.metrics <= len(METRICS):
            raise ValueError(f"unsupported shape {self}")

    @property
    def key(self) -> str:
        """The cache folder name: the shape, the record format and the generator version."""
        from runlab.record.run import FORMAT_VERSION

        return (
            f"runs{self.runs}-p{self.params}-m{self.metrics}-s{self.steps}"
            f"-f{FORMAT_VERSION}-g{GENERATOR_VERSION}"
        )


# -- one run ------------------------------------------------------------------------------
def params_of(i: int, shape: Shape) -> dict[str, Any]:
    """The params of run ``i``: the grid digits, the seed, then fixed and derived params.

    The extra params depend only on the configuration, so they never split a group of seeds.
    """
    config = (i - 1) // SEEDS
    params: dict[str, Any] = {}
    for name, values in GRID:
        params[name] = values[config % len(values)]
        config //= len(values)
    params["seed"] = (i - 1) % SEEDS
    extra: tuple[tuple[str, Any], ...] = (
        ("epochs", 50),
        ("weight_decay", 1e-4 if params["optimizer"] == "adam" else 0.0),
        ("activation", "gelu" if params["model"] == "transformer" else "relu"),
        ("warmup_steps", 500),
        ("momentum", 0.9),
        ("grad_clip", 1.0),
        ("dataset", "cifar10"),
        ("augment", params["model"] == "cnn"),
        ("scheduler", "cosine"),
        ("label_smoothing", 0.1),
        ("width_mult", params["hidden"] / 256),
        ("precision", "bf16"),
    )
    for k in range(shape.params - len(params)):
        name, value = extra[k] if k < len(extra) else (f"extra_{k}", k)
        params[name] = value
    return params


def series_of(i: int, shape: Shape) -> list[tuple[float, ...]]:
    """The logged values of run ``i``: one tuple of ``shape.metrics`` floats per step."""
    rng = random.Random(i)
    floor, speed = 0.05 + 0.3 * rng.random(), 0.02 + 0.08 * rng.random()
    rows = []
    for step in range(shape.steps):
        loss = floor + (2.3 - floor) * math.exp(-speed * step) + 0.02 * rng.random()
        acc = max(0.0, min(1.0, 1.0 - loss / 2.4 + 0.01 * rng.random()))
        values = (loss, acc, loss * 1.05 + 0.01, acc * 0.97, acc * 0.95)
        rows.append(values[: shape.metrics])
    return rows


def _doc(data: dict[str, Any]) -> str:
    """runlab's record layout: one top-level key per line, each value compact JSON."""
    return "{\n" + ",\n".join(f"  {_ENCODE(k)}: {_ENCODE(v)}" for k, v in data.items()) + "\n}\n"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def run_files(i: int, run_id: str, shape: Shape) -> dict[str, str]:
    """The files of finished run ``i`` (folder ``run_id``): name -> text, as runlab writes them."""
    from runlab.canonical import config_hash

    params = params_of(i, shape)
    rows = series_of(i, shape)
    keys = METRICS[: shape.metrics]
    start = START_EPOCH + 60.0 * i
    line = '{"step": %d, "time": %s' + "".join(f", {_ENCODE(k)}: %r" for k in keys) + "}"
    metrics = "".join(
        line % (step, f"{start + STEP_SECONDS * (step + 1):.3f}", *values) + "\n"
        for step, values in enumerate(rows)
    )
    duration = round(STEP_SECONDS * (shape.steps + 1), 6)
    record = {
        "format": 1,
        "id": run_id,
        "name": run_id,
        "description": "",
        "tags": {},
        "sweep": None,
        "status": "completed",
        "attempt": 1,
        "start": _iso(start),
        "attempt_start": _iso(start),
        "end": _iso(start + duration),
        "duration": duration,
        "host": _HOST,
        "pid": 1000 + i % 30000,
        "pid_start": start - 1.0,
        "cwd": "/work/experiments",
        "argv": ["train.py"],
        "command": "python train.py",
        "python": _PYTHON,
        "executable": sys.executable,
        "exit_code": 0,
        "error": None,
        "git": None,
        "params_hash": config_hash(params),
    }
    return {
        "params.json": _doc(params),
        "run.json": _doc(record),
        "summary.json": _doc(dict(zip(keys, rows[-1], strict=True))),
        "metrics.jsonl": metrics,
    }


def write_run(root: Path, i: int, shape: Shape) -> None:
    """Write run ``i`` as folder ``root/i``, params first and run.json second, as runlab does."""
    folder = root / str(i)
    folder.mkdir()
    for name, text in run_files(i, str(i), shape).items():
        with open(folder / name, "w", encoding="utf-8") as f:
            f.write(text)


# -- a whole store ----------------------------------------------------------------------
def _write_chunk(root: str, first: int, last: int, shape: Shape) -> int:
    for i in range(first, last):
        write_run(Path(root), i, shape)
    return last - first


def _chunks(first: int, last: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(first, last, size):
        yield lo, min(lo + size, last)


def generate(root: Path, shape: Shape, *, workers: int | None = None) -> None:
    """Write runs 1..``shape.runs`` into the new folder ``root`` with a process pool."""
    root.mkdir(parents=True)
    workers = workers or os.cpu_count() or 1
    size = max(50, min(2000, shape.runs // (workers * 8) or 1))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        jobs = [
            pool.submit(_write_chunk, str(root), lo, hi, shape)
            for lo, hi in _chunks(1, shape.runs + 1, size)
        ]
        written = sum(job.result() for job in jobs)
    if written != shape.runs:
        raise RuntimeError(f"wrote {written} runs of {shape.runs}")
    (root / ".next-id").write_text(str(shape.runs + 1))


def ensure_store(data_dir: Path, shape: Shape) -> tuple[Path, dict[str, Any]]:
    """The cached store of ``shape`` under ``data_dir``, generated first if missing.

    Returns the store and what it cost (``generated_s`` is None for a cached store).
    """
    store = data_dir / shape.key
    if (store / ".next-id").exists():
        return store, {"store": str(store), "cached": True, "generated_s": None}
    partial = data_dir / f".{shape.key}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    t0 = time.perf_counter()
    try:
        generate(partial, shape)
        os.replace(partial, store)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    took = time.perf_counter() - t0
    return store, {
        "store": str(store),
        "cached": False,
        "generated_s": round(took, 1),
        "runs_per_s": round(shape.runs / took),
    }


def drop_index(store: Path) -> None:
    """Delete the store's index (and its WAL files), so the next ``runlab index`` starts over."""
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(store / f"index.db{suffix}")
        except FileNotFoundError:
            pass
