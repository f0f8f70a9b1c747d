"""The sample pymake project (``pymake_project/``) in a git repository, and its commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

TIMEOUT = 60
SAMPLE = Path(__file__).parent / "pymake_project"


class Pmk:
    """The sample pymake project in a git repository, and its commands."""

    def __init__(self, project: Any) -> None:
        self.project = project
        self.root = project.root
        shutil.copytree(SAMPLE, self.root, dirs_exist_ok=True)
        project.commit(".", message="pymake project")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env=self.project.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )

    def runlab(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "runlab", *args)

    def pmk(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "runlab.compat.pymake", *args)

    def ok(self, result: subprocess.CompletedProcess[str]) -> str:
        assert result.returncode == 0, result.stderr
        return result.stdout

    def data(self, path: str) -> Path:
        return self.root / "data" / path

    def run_json(self, run_id: str, name: str = "run.json") -> Any:
        return json.loads((self.root / "runs" / run_id / name).read_text(encoding="utf-8"))

    def log(self, run_id: str) -> str:
        return (self.root / "runs" / run_id / "stdout.log").read_text(encoding="utf-8")

    def log_in(self, store: str, run_id: str) -> str:
        """The stdout of run ``run_id`` in store folder ``store``."""
        return (self.root / store / run_id / "stdout.log").read_text(encoding="utf-8")
