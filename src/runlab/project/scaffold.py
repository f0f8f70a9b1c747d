"""``runlab init``: make a folder a project, with demo designs, a task and a sweep file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from runlab.errors import UsageError
from runlab.project.config import CONFIG_FILE, PYPROJECT, config_in, parse_toml, shown
from runlab.record.files import replacing


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_project` did: the config file, and every file it wrote or extended.

    ``existed`` is True when the folder was already a project and nothing was written.
    """

    root: Path
    config: Path
    written: tuple[Path, ...] = field(default=())
    existed: bool = False


# -- init -----------------------------------------------------------------------------

_CONFIG = """\
# runlab's settings; paths are relative to this folder.
store = "runs"        # where runs are recorded, unless --store or $RUNLAB_STORE says otherwise
designs = "designs"   # .py files of Point/Grid/Sample/Group designs, and *.yaml sweep files
# tasks = ["tasks.py", "tasks"]   # files or folders of task functions fn(config, run)
"""

_DEMO_DESIGNS = '''\
"""Demo designs from `runlab init`: sets of configs for the task `train` of tasks.py.

    runlab list designs
    runlab run designs/demo.py:grid3
    runlab run designs/demo.py:grid2 --workers 2

A design's `task` attribute names what to run on each config; without one, give it on
the command line (`runlab run designs/demo.py:point -x tasks.py:train`). The task's path
is relative to the folder `runlab run` starts in: run these from the project root.
"""

from runlab.design import Grid, Point

TASK = "tasks.py:train"

point = Point(model="linear", lr=0.1, steps=5)  # 1 config
point.task = TASK

grid2 = Grid(model="mlp", lr=[0.1, 0.01], steps=5, name="mlp-{lr}")  # 2 configs, named
grid2.task = TASK

grid3 = Grid(model=["linear", "mlp", "cnn"], lr=0.05, steps=5)  # 3 configs
grid3.task = TASK
'''

_DEMO_TASKS = '''\
"""Tasks: functions `fn(config, run)` that runlab calls once per config (`runlab list tasks`)."""

SPEED = {"linear": 1.0, "mlp": 1.5, "cnn": 2.0}


def train(config, run):
    """Fit a toy model: log the loss at every step and return the final scores."""
    loss = 1.0
    for step in range(config["steps"]):
        loss *= 1 - config["lr"] * SPEED.get(config["model"], 1.0)
        run.log(step=step, loss=round(loss, 6))
    print(f"{config['model']} lr={config['lr']}: final loss {loss:.4f}")
    return {"loss": round(loss, 4), "accuracy": round(1 - loss, 4)}
'''

_DEMO_SWEEP = """\
# A demo sweep file in mlrunner's grammar, from `runlab init`:
#
#   runlab plan sweep.yaml      # what would run, and in which folders
#   runlab run sweep.yaml       # run every config not done yet
#
# The first document holds the settings: in the template, {p} is param p's value
# (shell-quoted) and [p] would be `--p value`. Each later document is a grid of its lists.
template: >-
  python3 -c "import sys; width, lr = int(sys.argv[1]), float(sys.argv[2]);
  print('width', width, 'loss', round(1 / (width * lr), 4))" {width} {lr}
default:
  lr: 0.1
---
width: [16, 32]
"""

DEMO_FILES = {
    "designs/demo.py": _DEMO_DESIGNS,
    "tasks.py": _DEMO_TASKS,
    "sweep.yaml": _DEMO_SWEEP,
}


def config_text(table: str | None = None) -> str:
    """The settings ``init`` writes: a whole ``runlab.toml``, or a ``[table]`` to append."""
    return f"[{table}]\n{_CONFIG}" if table else _CONFIG


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` as it is (no newline translation) to a temp file, then rename it."""
    with replacing(path) as temp, open(temp, "w", encoding="utf-8", newline="") as file:
        file.write(text)


def init_project(folder: str | os.PathLike[str] = ".", *, bare: bool = False) -> InitResult:
    """Make ``folder`` a project: a config, and (unless ``bare``) demo designs, task and sweep.

    The settings go into ``runlab.toml``, or into a ``[tool.runlab]`` table appended to
    ``pyproject.toml`` when the folder has one (the rest of that file is kept byte for
    byte). A folder that is already a project is left as it is (``existed=True``). A
    demo file that exists with other content is an error, raised before anything is
    written.

    Usage::

        init_project("study")               # study/runlab.toml, designs/demo.py, ...
        init_project(".", bare=True)        # only the settings
    """
    root = Path(folder).absolute()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{shown(root)} is a file, not a folder")
    existing = config_in(root) if root.is_dir() else None
    if existing is not None:
        assert existing.config is not None
        return InitResult(root, existing.config, existed=True)
    demo = {} if bare else {root / name: text for name, text in DEMO_FILES.items()}
    for path, text in demo.items():
        if path.exists() and path.read_text(encoding="utf-8") != text:
            raise UsageError(
                f"{shown(path)} already exists; `runlab init --bare` writes only the settings"
            )
    pyproject = root / PYPROJECT
    if pyproject.is_file():
        with open(pyproject, encoding="utf-8", newline="") as file:  # keep \r\n as it is
            config, before = pyproject, file.read()
        parse_toml(pyproject, before)
        gap = "" if not before else ("\n" if before.endswith("\n") else "\n\n")
        after = before + gap + config_text(table="tool.runlab")
        if "\r\n" in before:
            after = before + (gap + config_text(table="tool.runlab")).replace("\n", "\r\n")
        try:
            parse_toml(pyproject, after)
        except UsageError as err:
            raise UsageError(f"cannot add [tool.runlab] to {shown(pyproject)}: {err}") from None
    else:
        config, after = root / CONFIG_FILE, config_text()
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in demo.items():
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, text)
            written.append(path)
    # The settings last: a folder is a project only once everything else is in place.
    _atomic_write(config, after)
    return InitResult(root, config, (config, *written))
