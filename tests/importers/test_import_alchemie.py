"""`runlab import PATH --format alchemie`: drawn configurations and their per-job reports."""

from __future__ import annotations

import json

from import_trees import STALE, rows, run_import, run_json

import runlab
from runlab.record.run import utc_iso

OPTIMIZER = ["rmsprop", {"decay": 0.9, "momentum": 0.99, "step_rate": 0.0005}]


def test_alchemie_configurations_become_runs(trees, tmp_path):
    root = trees["alchemie"].resolve()
    store = tmp_path / "runs"
    result = run_import(store, root, "--format", "alchemie")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "imported 3, updated 0, removed 0, skipped 0\n",
        "",
    )
    columns = ("id", "name", "status", "exit_code", "attempt", "message")
    columns += ("params.hidden_transfer", "params.n_hidden", "params.par_std", "params.optimizer")
    columns += ("metrics.train_loss", "metrics.n_iter")
    assert rows(store, *columns) == [
        {
            "id": "1",
            "name": "0",
            "status": "completed",
            "exit_code": 0,
            "attempt": 2,
            "message": None,
            "params.hidden_transfer": "tanh",
            "params.n_hidden": 3,
            "params.par_std": 0.1,
            "params.optimizer": OPTIMIZER,
            "metrics.train_loss": 0.05,
            "metrics.n_iter": 250,
        },
        {
            "id": "2",
            "name": "1",
            "status": "interrupted",
            "exit_code": 9,
            "attempt": 2,
            "message": "alchemie: no report-last.json after 2 job(s)",
            "params.hidden_transfer": "sigmoid",
            "params.n_hidden": 3,
            "params.par_std": None,
            "params.optimizer": OPTIMIZER,
            "metrics.train_loss": 0.5,
            "metrics.n_iter": 200,
        },
        {
            "id": "3",
            "name": "2",
            "status": "queued",
            "exit_code": None,
            "attempt": 1,
            "message": None,
            "params.hidden_transfer": "rectifier",
            "params.n_hidden": 3,
            "params.par_std": None,
            "params.optimizer": None,
            "metrics.train_loss": None,
            "metrics.n_iter": None,
        },
    ]
    reports = [json.loads(p.read_text()) for p in sorted((store / "1" / "reports").iterdir())]
    assert reports == [
        {
            "attempt": 1,
            "status": "interrupted",
            "final": False,
            "end": utc_iso(STALE),
            "summary": {"train_loss": 0.4, "n_iter": 100},
            "source": "report-0.json",
        },
        {
            "attempt": 2,
            "status": "completed",
            "final": True,
            "end": utc_iso(STALE + 3600),
            "summary": {"train_loss": 0.05, "n_iter": 250},
            "source": "report-last.json",
        },
    ]
    assert list(runlab.load(store)[1].metrics()["train_loss"]) == [0.4, 0.05]
    assert run_json(store, "1")["end"] == utc_iso(STALE + 3600)
    assert run_json(store, "3")["imported_from"] == str(root / "2")


def test_a_cfg_that_is_not_a_literal_is_never_run_and_is_skipped(copy_tree, tmp_path):
    root = copy_tree("alchemie")
    (root / "3").mkdir()
    (root / "3" / "cfg.py").write_text("# job 3\npars = dict(n_hidden=__import__('os').getpid())\n")
    (root / "4").mkdir()
    (root / "4" / "cfg.py").write_text("pars = {'n_hidden': 3\n")
    (root / "5").mkdir()
    (root / "5" / "cfg.py").write_text("# no pars here\nn_hidden = 3\n")
    result = run_import(tmp_path / "runs", root, "--format", "alchemie")
    assert result.stdout == ("imported 3, updated 0, removed 0, skipped 3 (3 malformed cfg.py)\n")
    assert result.stderr == (
        f"warning: {root}/3/cfg.py: malformed cfg.py (line 2: pars is not a literal)\n"
        f"warning: {root}/4/cfg.py: malformed cfg.py (line 1: '{{' was never closed)\n"
        f"warning: {root}/5/cfg.py: malformed cfg.py (no 'pars = {{...}}' in it)\n"
    )
