"""Config folders: ``runlab create`` draws configurations and writes one run folder for each.

A config folder is an ordinary runlab run folder (``run.json`` with status ``queued``,
``params.json``) that also holds what alchemie's ``alc.py create`` wrote, ``cfg.py``::

    # the module's preamble(K): comments (#SBATCH lines, say)

    pars = {'lr': 0.01, 'n_hidden': 3}

and ``alchemie.json``, which names the experiment module for ``runlab run-one``.
Folders are numbered from 1, as Slurm numbers array tasks (``sbatch --array=1-N`` runs
``runlab run-one DIR/$SLURM_ARRAY_TASK_ID``), by the store's ``mkdir`` claim, so creating
again adds folders after the last one and never touches an existing one, even when two
``create`` run at once.

``cfg.py`` is read back as data: the value of ``pars`` must be a Python literal, and
the file is never executed (parameters are data, never code).
"""

from __future__ import annotations

import ast
import os
import pprint
import shutil
from pathlib import Path
from typing import Any

from runlab.canonical import config_hash, to_jsonable
from runlab.compat.alchemie.experiment import Experiment
from runlab.errors import UsageError
from runlab.record import git as gitmod
from runlab.record.files import atomic_write_json, atomic_write_text, read_json
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.run import base_record
from runlab.record.status import RunStatus

CONFIG_FILE = "cfg.py"
INFO_FILE = "alchemie.json"


def render_config(preamble: str, pars: dict[str, Any]) -> str:
    """The text of a ``cfg.py``: the preamble, a blank line, then ``pars = {...}``."""
    head = preamble.rstrip("\n") + "\n\n" if preamble.strip() else ""
    return head + "pars = " + pprint.pformat(pars, width=88) + "\n"


def read_config(folder: Path) -> dict[str, Any]:
    """The ``pars`` of ``folder/cfg.py``, read as a literal (the file is not run)."""
    path = folder / CONFIG_FILE
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except FileNotFoundError:
        raise UsageError(
            f"{folder} is not an alchemie config folder (no {CONFIG_FILE}): "
            "give DIR/K, a folder made by runlab create"
        ) from None
    except SyntaxError as err:
        raise UsageError(f"{path}:{err.lineno}: {err.msg}") from None
    found = None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "pars" for t in targets):
            found = node
    if found is None:
        raise UsageError(f"{path}: no 'pars = {{...}}' in it")
    try:
        pars = ast.literal_eval(found.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise UsageError(
            f"{path}:{found.lineno}: pars must be a literal dict (cfg.py is read as data, "
            "never run: write numbers, strings, lists and dicts, no names or calls)"
        ) from None
    if not isinstance(pars, dict) or not all(isinstance(k, str) for k in pars):
        raise UsageError(f"{path}:{found.lineno}: pars must be a dict with str keys")
    return pars


def module_source(folder: Path) -> str:
    """The experiment module ``create`` recorded for a config folder."""
    info = read_json(folder / INFO_FILE, default=None, warn=False)
    if not isinstance(info, dict) or not isinstance(info.get("module"), str):
        raise UsageError(
            f"{folder}/{INFO_FILE} does not name the experiment module: "
            "give it with runlab run-one --module exp.py"
        )
    return str(info["module"])


def create(store: Path, experiment: Experiment, *, amount: int) -> list[RunDir]:
    """Draw ``amount`` configurations and write a config folder for each; return them.

    Folders get the next free numbers in ``store``. On any error (a bad draw, a bad
    preamble, a failing write) the folders this call claimed are removed again, so
    nothing half-written is left behind; existing folders are never touched.

    Usage::

        create(Path("experiments"), Experiment.load("exp.py"), amount=3)   # → 1, 2, 3
    """
    if amount < 1:
        raise UsageError(f"--amount {amount}: create at least 1 configuration")
    experiment.require("draw_pars")
    drawn = experiment.draw_pars(amount)
    state = gitmod.git_state()  # once for the whole call, not per folder
    git = state.as_record() if state is not None else None
    layout = StoreLayout(store)
    claimed: list[RunDir] = []
    try:
        _claim(layout, len(drawn), claimed)
        texts = [
            render_config(experiment.preamble(int(run_dir.id)), pars)
            for run_dir, pars in zip(claimed, drawn, strict=True)
        ]
        for run_dir, pars, text in zip(claimed, drawn, texts, strict=True):
            _write_folder(run_dir, pars=pars, text=text, experiment=experiment, git=git)
    except BaseException:
        for run_dir in claimed:
            shutil.rmtree(run_dir.path, ignore_errors=True)
        raise
    for run_dir in claimed:  # only now: the index must not see runs that were taken back
        layout.mark_changed(run_dir.id)
    return claimed


def _claim(layout: StoreLayout, count: int, claimed: list[RunDir]) -> None:
    """Claim ``count`` folders numbered after the highest existing one, into ``claimed``.

    Not the store's ``claim_next``: its per-process memory and ``.next-id`` hint would
    skip the numbers of folders removed after an error, and a Slurm array wants 1..N.
    ``mkdir`` still makes each claim atomic, so concurrent creates never collide.
    """
    layout.root.mkdir(parents=True, exist_ok=True)
    n = 1 + max((int(e.name) for e in os.scandir(layout.root) if e.name.isdigit()), default=0)
    while len(claimed) < count:
        run_dir = layout.claim(str(n))
        if run_dir is not None:
            claimed.append(run_dir)
        n += 1


def _write_folder(
    run_dir: RunDir,
    *,
    pars: dict[str, Any],
    text: str,
    experiment: Experiment,
    git: dict[str, Any] | None,
) -> None:
    params = to_jsonable(pars)
    atomic_write_text(run_dir.path / CONFIG_FILE, text)
    atomic_write_json(run_dir.path / INFO_FILE, {"module": experiment.source})
    atomic_write_json(run_dir.params_json, params)
    record = base_record(
        run_dir.id,
        name=None,
        description="",
        tags=None,
        params_hash=config_hash(params),
        git=git,
        command=["runlab", "run-one", str(run_dir.path)],
    )
    # Created, not started: no attempt yet (the first run-one makes attempt 1), no times.
    record.update(
        status=RunStatus.QUEUED.value,
        attempt=0,
        start=None,
        attempt_start=None,
        pid=None,
        pid_start=None,
    )
    atomic_write_json(run_dir.run_json, record)
