"""What both example tests do: run the CLI in a folder as a user would, and look at run folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def runlab_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m runlab ARGS` in ``folder``, this Python's `python3` first on PATH.

    RUNLAB_* variables of the calling shell are dropped so the example's own store wins.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "runlab", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def run_folders(store: Path) -> list[Path]:
    return sorted(p for p in store.iterdir() if p.is_dir() and not p.name.startswith("."))


def snapshot(store: Path) -> dict[str, tuple[int, int]]:
    """Every file of every run folder, with its mtime and size: what a re-run must not touch."""
    return {
        str(path.relative_to(store)): (path.stat().st_mtime_ns, path.stat().st_size)
        for folder in run_folders(store)
        for path in folder.rglob("*")
        if path.is_file()
    }
