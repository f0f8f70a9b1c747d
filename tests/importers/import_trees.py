"""Result trees as the five older tools write them, built from what their docs show.

Each builder writes one tool's tree under a folder and returns its root. Times that
matter are pinned: ``STALE`` is long ago (a RUNNING status there means the process
died), files written now are fresh (a RUNNING status there is believed).
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import pickle
import textwrap
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result

from runlab.cli import cli

STALE = 1_600_000_000.0  # 2020-09-13: long before any test runs
# mlrunner's runs below started at 20220316.030151 (local time) and ended an hour later.
MLRUNNER_END = datetime.datetime(2022, 3, 16, 4, 1, 51).timestamp()

# naklar's README example: an SVC per (kernel, C), settings and results in one dict.
NAKLAR = [
    {"kernel": "linear", "C": 0.001, "i": 0, "f1": 0.76, "accuracy": 0.76},
    {"kernel": "linear", "C": 0.1, "i": 1, "f1": 0.8000000000000002, "accuracy": 0.8},
    {"kernel": "rbf", "C": 1, "i": 2, "f1": 0.82, "accuracy": 0.82},
    {"kernel": "rbf", "C": 2, "i": 3, "f1": 0.8266666666666667, "accuracy": 0.83},
]


def pin(path: Path, when: float = STALE) -> None:
    """Give ``path`` the modification time ``when``."""
    os.utime(path, (when, when))


def write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4))
    return path


def naklar_tree(base: Path) -> Path:
    """``results/<i>/conf.{json,yaml,pkl,jbl}`` and the model pickle, as naklar's example dumps."""
    import joblib
    import yaml

    root = base / "results"
    for conf in NAKLAR:
        folder = root / str(conf["i"])
        folder.mkdir(parents=True)
        full = {**conf, "path": f"results/{conf['i']}", "results": np.array([0, 1, 2] * 50)}
        write_json(folder / "conf.json", {k: v for k, v in full.items() if k != "results"})
        (folder / "conf.yaml").write_text(yaml.safe_dump({**conf, "path": full["path"]}))
        with (folder / "conf.pkl").open("wb") as f:
            pickle.dump({**full, "C": np.float64(conf["C"])}, f)
        joblib.dump(full, folder / "conf.jbl")
        (folder / "svc.skl").write_bytes(b"not a settings file")
    (root / "README").write_text("SVC on iris, one folder per condition\n")
    return root


TRACEBACK = textwrap.dedent(
    """\
    Traceback (most recent call last):
      File "train.py", line 40, in <module>
        main(args)
      File "train.py", line 31, in main
        raise ValueError("loss diverged")
    ValueError: loss diverged
    """
)


def meticulous_experiment(
    root: Path,
    expid: str,
    args: dict,
    status: str,
    *,
    summary: dict | None = None,
    metadata: dict | None = None,
    stdout: str = "",
    stderr: str = "",
    when: float | None = STALE,
) -> Path:
    folder = root / expid
    write_json(folder / "args.json", args)
    write_json(folder / "default_args.json", {"batch_size": 64, "lr": 0.01, "epochs": 10})
    meta = {
        "githead-sha": "970d8ad001f5d42a9ecaa5e3791765d65e02292a",
        "githead-message": "Explicitly close stdout and stderr\n",
        "description": "",
        "start-time": "2020-11-02T12:48:36.150350",
        "command": ["training_utils.py", "--lr", str(args.get("lr"))],
    }
    meta.update(metadata or {})
    write_json(folder / "metadata.json", meta)
    (folder / "STATUS").write_text(status)
    (folder / "stdout").write_text(stdout)
    (folder / "stderr").write_text(stderr)
    if summary is not None:
        write_json(folder / "summary.json", summary)
    if when is not None:
        for path in folder.iterdir():
            pin(path, when)
    return folder


def meticulous_tree(base: Path) -> Path:
    """``experiments/1..5``: success, a traceback, sys.exit(3), a dead and a live RUNNING."""
    root = base / "experiments"
    end = {"end-time": "2020-11-02T12:58:36.150350"}
    meticulous_experiment(
        root,
        "1",
        {"batch_size": 64, "lr": 0.01, "epochs": 10},
        "SUCCESS",
        summary={"loss": 0.25, "accuracy": 0.91},
        metadata={**end, "description": "baseline"},
        stdout="epoch 1 loss 0.5\nepoch 2 loss 0.25\n",
    )
    meticulous_experiment(
        root,
        "2",
        {"batch_size": 64, "lr": 10.0, "epochs": 10},
        "ERROR\n" + TRACEBACK,
        metadata=end,
        stderr=TRACEBACK,
    )
    meticulous_experiment(
        root, "3", {"batch_size": 32, "lr": 0.01, "epochs": 10}, "ERROR\nsys.exit(3)", metadata=end
    )
    # An older meticulous: `timestamp` instead of start-time; still RUNNING, long dead.
    meticulous_experiment(
        root,
        "4",
        {"batch_size": 32, "lr": 0.1, "epochs": 10},
        "RUNNING",
        metadata={"timestamp": "2020-11-02T13:00:00", "start-time": None},
        stdout="epoch 1 loss 0.7\n",
    )
    meticulous_experiment(
        root, "10", {"batch_size": 16, "lr": 0.01, "epochs": 5}, "RUNNING", when=None
    )
    return root


MLRUNNER_YAML = textwrap.dedent(
    """\
    ---
    template:
      train: >
        python train.py data-bin/{data} --save-dir {_output} --norm {norm} [moment]
      test: >
        python generate.py data-bin/{data} --path {_output}/avg.pt
    default:
      data: iwslt14
      norm: batch
      moment: 0.1
    resource: [ 0, 1 ]
    ---
    norm: [ new, batch ]
    moment: [ 0.1, 0.05 ]
    """
)


def mlrunner_task(root: Path, norm: str, moment: float, stat: dict | None, logs: dict) -> Path:
    name = f"Norm_{norm}-Moment_{moment}"
    folder = root / name
    folder.mkdir(parents=True)
    output = f"output/{name}"
    scripts = {
        "train": f"CUDA_VISIBLE_DEVICES=0 python train.py data-bin/iwslt14 --save-dir {output} "
        f"--norm {norm} --moment {moment} > {output}/log.train.20220316.030151 2>&1",
        "test": f"CUDA_VISIBLE_DEVICES=0 python generate.py data-bin/iwslt14 --path "
        f"{output}/avg.pt > {output}/log.test.20220316.030151 2>&1",
    }
    import yaml

    param = {
        "_name": name,
        "_output": output,
        "_scripts": scripts,
        "_time": "20220316.030151",
        "data": "iwslt14",
        "norm": norm,
        "moment": moment,
    }
    (folder / "param").write_text(yaml.safe_dump(param))
    if stat is not None:
        (folder / "stat").write_text(yaml.safe_dump(stat))
    for log_name, text in logs.items():
        (folder / log_name).write_text(text)
    (folder / "checkpoint51.pt").write_bytes(b"\0")
    return folder


def mlrunner_tree(base: Path) -> Path:
    """``output/Norm_*-Moment_*``: finished, failed, still running, never started."""
    root = base / "output"
    root.mkdir(parents=True)
    (root / "params.yaml").write_text(MLRUNNER_YAML)
    done = mlrunner_task(
        root,
        "new",
        0.1,
        {"train": "finished", "test": "finished"},
        {
            "log.train.20220315.120000": "Iter 1: loss=9.0\n",
            "log.train.20220316.030151": "Iter 1: loss=3.5\nIter 2: loss=2.9\n",
            "log.test.20220316.030151": "BLEU4 = 11.00\n",
        },
    )
    for path in done.iterdir():
        pin(path, MLRUNNER_END)
    pin(done / "log.train.20220315.120000", MLRUNNER_END - 86400)
    failed = mlrunner_task(
        root,
        "new",
        0.05,
        {"train": "finished", "test": "failed"},
        {"log.train.20220316.030151": "Iter 1: loss=3.1\n", "log.test.20220316.030151": "OOM\n"},
    )
    for path in failed.iterdir():
        pin(path, MLRUNNER_END)
    mlrunner_task(
        root,
        "batch",
        0.1,
        {"train": "running"},
        {"log.train.20220316.030151": "Iter 1: loss=4.0\n"},
    )
    queued = mlrunner_task(root, "batch", 0.05, None, {})
    for path in queued.iterdir():
        pin(path, MLRUNNER_END)
    return root


def pymake_inf(path: Path, rows: list[str], *, terminated: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "#_iteration time_it _entropy@%.3f _K {_theta}\n"
    text = header + "".join(row + "\n" for row in rows)
    if terminated:
        text += "# terminated\n"
    path.write_text(text)
    return path


def pymake_tree(base: Path) -> Path:
    """``.pmk/results/<refdir>/<repeat>/<model>_<K>.{inf,json,pk.gz}`` as pymake names them."""
    root = base / ".pmk" / "results"
    debug = root / "debug" / "1"
    pymake_inf(
        debug / "mmsb_10.inf",
        ["0 0.01 512.5 10 3 0.2 0.3 0.5", "1 0.02 480.25 11 3 0.1 0.4 0.5", "2 0.02 470 9 None"],
        terminated=True,
    )
    write_json(debug / "mmsb_10.json", {"Precision": 0.71, "Recall": 0.52, "K": 9})
    pymake_inf(debug / "mmsb_20.inf", ["0 0.03 600.0 20", "1 0.03 590.5 19"], terminated=False)
    with gzip.open(debug / "ilfm_5.pk.gz", "wb") as f:
        pickle.dump({"Precision": 0.64, "K": np.int64(5), "theta": np.zeros((4, 5))}, f)
    pymake_inf(root / "debug" / "2" / "mmsb_10.inf", ["0 0.01 520.0 10"], terminated=True)
    for path in root.rglob("*"):
        if path.is_file():
            pin(path)
    return root


def alchemie_cfg(folder: Path, job_index: int, pars: str) -> None:
    folder.mkdir(parents=True)
    preamble = (
        "#SUBMIT: runner=python alc.py run mlpxor.py\n#SUBMIT: gpu=no\n"
        f"#SBATCH -J MLPXOR_{job_index}\n#SBATCH --mem=4000\n"
    )
    (folder / "cfg.py").write_text(preamble + "\n\npars = {\n " + pars + "\n}")


def alchemie_tree(base: Path) -> Path:
    """``mlpxor/0..3``: finished after two jobs, interrupted twice, never run, two configs."""
    root = base / "mlpxor"
    optimizer = "('rmsprop', {'decay': 0.9, 'momentum': 0.99, 'step_rate': 0.0005})"
    alchemie_cfg(
        root / "0",
        0,
        f"'hidden_transfer': 'tanh',\n 'n_hidden': 3,\n 'optimizer': {optimizer},\n 'par_std': 0.1",
    )
    write_json(root / "0" / "report-0.json", {"train_loss": 0.4, "n_iter": 100})
    write_json(root / "0" / "report-last.json", {"train_loss": 0.05, "n_iter": 250})
    pin(root / "0" / "report-0.json", STALE)
    pin(root / "0" / "report-last.json", STALE + 3600)
    alchemie_cfg(
        root / "1", 1, f"'hidden_transfer': 'sigmoid',\n 'n_hidden': 3,\n 'optimizer': {optimizer}"
    )
    write_json(root / "1" / "report-0.json", {"train_loss": 0.6, "n_iter": 100})
    write_json(root / "1" / "report-1.json", {"train_loss": 0.5, "n_iter": 200})
    pin(root / "1" / "report-0.json", STALE)
    pin(root / "1" / "report-1.json", STALE + 60)
    alchemie_cfg(root / "2", 2, "'hidden_transfer': 'rectifier',\n 'n_hidden': 3")
    (root / "2" / "checkpoint-0.pkl.gz").write_bytes(b"\0")
    return root


def run_import(store: Path, *args: object) -> Result:
    """``runlab --store STORE import ARGS`` through CliRunner."""
    return CliRunner().invoke(cli, ["--store", str(store), "import", *map(str, args)])


def rows(store: Path, *columns: str) -> list[dict[str, object]]:
    """The runs of ``store`` as ``runlab.load(store).df()`` has them, missing values as None."""
    import pandas as pd

    import runlab

    frame = runlab.load(store).df()
    out = []
    for record in frame[list(columns)].astype(object).to_dict("records"):
        out.append(
            {
                k: v if isinstance(v, (list, dict)) or not pd.isna(v) else None
                for k, v in record.items()
            }
        )
    return out


def run_json(store: Path, run_id: str) -> dict:
    return json.loads((store / run_id / "run.json").read_text())
