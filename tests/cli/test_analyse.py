"""`runlab best`, `table`, `tag`, `note` and `ls --over/--search` through CliRunner, exactly."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli

# kernel x C x seed; acc by seed; val_loss = 1 - acc
ACC = {
    ("linear", 0.1): (0.80, 0.82, 0.84),
    ("linear", 1): (0.85, 0.86, 0.87),
    ("rbf", 0.1): (0.88, 0.90, 0.92),
    ("rbf", 1): (0.87, 0.89, 0.85),
}


def make_store(root: Path) -> Path:
    for (kernel, c), accs in ACC.items():
        for seed, acc in enumerate(accs, 1):
            params = {"kernel": kernel, "C": c, "seed": seed}
            with runlab.start(params, store=root, capture=False, git=False) as run:
                run.summary(acc=acc, val_loss=round(1 - acc, 2))
    return root


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("analyse") / "runs")


def run(store: Path, *args: str, width: int = 100):
    return CliRunner().invoke(cli, ["--store", str(store), *args], env={"COLUMNS": str(width)})


def test_table_mean_std_over_seeds_marks_the_best(store):
    result = run(
        store, "table", "--rows", "kernel", "--cols", "C", "--value", "acc", "--over", "seed"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "kernel        C=0.1          C=1",
        "────────────────────────────────",
        "linear   0.82±0.02    0.86±0.01*",
        "rbf      0.90±0.02*   0.87±0.02",
        "* best in its row (highest)",
    ]
    assert result.stderr == ""


def test_table_min_mode_and_other_reductions(store):
    args = ["table", "-r", "params.kernel", "-c", "params.C", "-v", "val_loss", "--mode", "min"]
    result = run(store, *args, "--reduce", "mean")
    assert result.stdout.splitlines()[2:] == [
        "linear   0.18    0.14*",
        "rbf      0.10*   0.13",
        "* best in its row (lowest)",
    ]
    result = run(store, *args, "--reduce", "count", "--json")
    assert json.loads(result.stdout) == [
        {"kernel": "linear", "C=0.1": 3, "C=1": 3},
        {"kernel": "rbf", "C=0.1": 3, "C=1": 3},
    ]


@pytest.mark.parametrize(
    "suffix,expected",
    [
        (
            ".md",
            "| kernel |         C=0.1 |           C=1 |\n"
            "|--------|--------------:|--------------:|\n"
            "| linear |     0.82±0.02 | **0.86±0.01** |\n"
            "| rbf    | **0.90±0.02** |     0.87±0.02 |\n",
        ),
        (
            ".tex",
            "\\begin{tabular}{lrr}\n\\hline\nkernel & C=0.1 & C=1 \\\\\n\\hline\n"
            "linear & 0.82$\\pm$0.02 & \\textbf{0.86$\\pm$0.01} \\\\\n"
            "rbf & \\textbf{0.90$\\pm$0.02} & 0.87$\\pm$0.02 \\\\\n\\hline\n\\end{tabular}\n",
        ),
        (".csv", "kernel,C=0.1,C=1\nlinear,0.82±0.02,0.86±0.01\nrbf,0.90±0.02,0.87±0.02\n"),
    ],
)
def test_table_export(store, tmp_path, suffix, expected):
    path = tmp_path / f"t{suffix}"
    result = run(store, "table", "-r", "kernel", "-c", "C", "-v", "acc", "--export", str(path))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"wrote 2 rows to {path}\n"
    assert path.read_text() == expected


def test_best_overall_and_by_group(store):
    result = run(store, "best", "--metric", "val_loss", "--mode", "min")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "                        params   params   params    metrics   metrics",
        "id   name   status           C   kernel     seed   val_loss       acc",
        "─" * 69,
        "9    9      completed      0.1   rbf           3       0.08      0.92",
    ]
    result = run(store, "best", "-m", "acc", "--by", "params.kernel", "--json")
    assert [(r["params.kernel"], r["id"], r["metrics.acc"]) for r in json.loads(result.stdout)] == [
        ("linear", "6", 0.87),
        ("rbf", "9", 0.92),
    ]


def test_best_export_and_filters(store, tmp_path):
    path = tmp_path / "best.md"
    result = run(store, "best", "-m", "acc", "-b", "C", "-w", "kernel == 'linear'", "-o", str(path))
    assert result.exit_code == 0
    assert result.stderr == f"wrote 2 rows to {path}\n"
    lines = path.read_text().splitlines()
    assert lines[0] == (
        "| params.C | id  | name | status    | params.seed | metrics.acc | metrics.val_loss |"
    )
    assert [line.split("|")[2].strip() for line in lines[2:]] == ["3", "6"]


def test_ls_groupby_over_adds_sem_and_interval(store, tmp_path):
    cols = "kernel,C,runs,acc_mean,acc_std,acc_sem,acc_ci_low,acc_ci_high,acc_n"
    result = run(store, "ls", "--groupby", "kernel", "--over", "seed", "--columns", cols, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [
        tuple(round(v, 6) if isinstance(v, float) else v for v in r.values()) for r in rows
    ] == [
        ("linear", 0.1, 3, 0.82, 0.02, 0.011547, 0.770317, 0.869683, 3),
        ("linear", 1.0, 3, 0.86, 0.01, 0.005774, 0.835159, 0.884841, 3),
        ("rbf", 0.1, 3, 0.9, 0.02, 0.011547, 0.850317, 0.949683, 3),
        ("rbf", 1.0, 3, 0.87, 0.02, 0.011547, 0.820317, 0.919683, 3),
    ]


def test_ls_over_terminal_and_export(store, tmp_path):
    result = run(store, "ls", "--over", "seed", "-c", "kernel,C,acc_mean,acc_sem,acc_n", width=80)
    # no --groupby: the keys are every varying param but the seed, in table order (C, kernel)
    assert result.stdout.splitlines() == [
        "params   params    metrics     metrics   metrics",
        "kernel        C   acc_mean     acc_sem     acc_n",
        "─" * 48,
        "linear      0.1       0.82    0.011547         3",
        "rbf         0.1        0.9    0.011547         3",
        "linear        1       0.86   0.0057735         3",
        "rbf           1       0.87    0.011547         3",
    ]
    path = tmp_path / "t.md"
    result = run(
        store, "ls", "-g", "kernel", "--over", "seed", "-c", "kernel,C,acc_mean", "-o", str(path)
    )
    assert result.stderr == f"wrote 4 rows to {path}\n"
    assert path.read_text().splitlines()[2] == "| linear        |      0.1 |             0.82 |"


def test_ls_ignore_needs_over(store):
    result = run(store, "ls", "--ignore", "seed")
    assert result.exit_code == 2
    assert (
        result.stderr == "error: --ignore leaves params out of the groups of --over: give --over\n"
    )


def test_tag_and_note_round_trip_then_search(tmp_path):
    root = make_store(tmp_path / "runs")
    result = run(root, "tag", "7", "stage=final", "prio=2")
    assert (result.exit_code, result.stdout) == (0, "run 7 tags: stage=final, prio=2\n")
    result = run(root, "tag", "7", "--remove", "prio", "owner=ana")
    assert result.stdout == "run 7 tags: stage=final, owner=ana\n"
    assert json.loads((root / "7" / "run.json").read_text())["tags"] == {
        "stage": "final",
        "owner": "ana",
    }
    result = run(root, "note", "9", "diverged after epoch 40: lr too high")
    assert (result.exit_code, result.stdout) == (0, f"noted in {root / '9' / 'notes.md'}\n")
    assert "diverged after epoch 40: lr too high\n" in (root / "9" / "notes.md").read_text()
    result = run(root, "ls", "--search", "diverged epoch", "-c", "id,kernel,C,seed")
    assert result.stdout.splitlines()[-1] == "9    rbf         0.1        3"
    result = run(root, "ls", "--search", "final ana", "-c", "id,tags.stage,tags.owner", "--json")
    assert json.loads(result.stdout) == [{"id": "7", "tags.stage": "final", "tags.owner": "ana"}]
    result = run(root, "ls", "-S", "nothing-like-this")
    assert (result.exit_code, result.stdout) == (0, "no runs match\n")


@pytest.mark.parametrize(
    "args,message",
    [
        (["table", "-r", "kernel", "-c", "C", "-v", "acc", "--reduce", "median"],
         "reduce 'median': use one of mean±std, mean, max, min, count"),
        (["table", "-r", "kernal", "-c", "C", "-v", "acc"],
         "unknown column 'kernal'; did you mean params.kernel?"),
        (["best", "-m", "nope"], "unknown column 'nope' (columns: id, name, status, start, end, "
         "duration, exit_code, git_sha, git_dirty, host, …)"),
        (["tag", "1"], "tag: give KEY=VALUE pairs or --remove KEY"),
        (["tag", "1", "novalue"], "tag 'novalue': expected KEY=VALUE, e.g. tag lr=0.1"),
        (["tag", "99", "a=1"], "no run with id or name '99' in store {root}"),
        (["note", "1", " "], "note: the text is empty; write what to remember about the run"),
        (["ls", "--search", "  "], "search '  ': give one or more words to look for"),
    ],
)  # fmt: skip
def test_errors_are_one_line_exit_2(store, args, message):
    result = run(store, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == f"error: {message.format(root=store)}\n"


def test_help_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for n, (model, lr, seed) in enumerate(
        [(m, lr, s) for m in ("cnn", "mlp") for lr in (0.1, 0.01) for s in (1, 2)], 1
    ):
        last = n == 8
        with runlab.start(
            {"model": model, "lr": lr, "seed": seed},
            store="runs",
            name="best" if last else None,
            tags={"draft": True} if last else None,
            capture=False,
            git=False,
        ) as r:
            r.summary(acc=n / 10, val_loss=1 - n / 10)
    for command in ("best", "table", "tag", "note"):
        help_text = cli.commands[command].help or ""
        examples = [
            line.strip() for line in help_text.splitlines() if line.strip().startswith("runlab ")
        ]
        assert len(examples) >= 2, command
        for example in examples:
            result = CliRunner().invoke(cli, shlex.split(example)[1:], env={"COLUMNS": "100"})
            assert result.exit_code == 0, (example, result.output)
            assert "error" not in result.output
