"""Guards on the package as a whole: its public names, its import cost, its lint, its help."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import click
import pytest

import runlab
from runlab.cli import cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "sqlalchemy", "matplotlib", "numpy", "rich", "pyarrow", "yaml", "pydantic")


def test_all_is_sorted_and_lists_every_public_name():
    assert runlab.__all__ == sorted(runlab.__all__)
    public = {
        name
        for name in dir(runlab)  # dir, not vars: it lists the names imported on first use
        if not name.startswith("_")
        and not isinstance(getattr(runlab, name), types.ModuleType)
        and name != "annotations"  # the __future__ import
    }
    assert public == set(runlab.__all__) - {"__version__"}


def _modules_loaded(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_runlab_loads_no_heavy_library():
    loaded = _modules_loaded("import runlab")
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_runlab_help_loads_no_heavy_library():
    code = (
        "import sys\nfrom runlab.cli import main\nsys.argv = ['runlab', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_loaded(code)
    assert (
        sorted(m for m in ("pandas", "sqlalchemy", "matplotlib", "numpy", "pyarrow") if m in loaded)
        == []
    )


def _commands(group: click.Group, prefix: str = "runlab") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        out.append((path, command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, path))
    return out


@pytest.mark.parametrize(
    "path,command", _commands(cli), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_with_an_example(path, command):
    assert command.help and command.help.strip(), f"{path} has no help text"
    assert "runlab " in command.help, f"{path}'s help shows no runnable example"


def test_group_help_shows_an_example():
    assert "runlab " in (cli.help or "")


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed",
)
def test_ruff_check_and_format_are_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    paths = [p for p in ("src", "tests", "benchmarks", "examples") if (ROOT / p).exists()]
    check = subprocess.run(
        [ruff, "check", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [ruff, "format", "--check", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
