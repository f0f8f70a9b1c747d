"""`runlab init`, `runlab list designs|tasks`, `runlab completion` and the project's store.

The end-to-end tests run the installed `runlab` script in a fresh folder, as a user
would; exact output is checked through CliRunner, with the working directory moved into
the project (the project is found from there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli.complete import _replaced_from
from runlab.errors import UsageError
from runlab.project import (
    Project,
    find_project,
    init_project,
    list_designs,
    list_tasks,
    project_store,
    read_config,
)

BIN = Path(sys.executable).parent / "runlab"
# The console script, not `python -m runlab`: only the script lacks the working
# directory on sys.path, and users type `runlab`.
RUNLAB = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "runlab"]
DEMO_REFS = [
    "designs/demo.py:point",
    "designs/demo.py:grid2",
    "designs/demo.py:grid3",
    "sweep.yaml",
]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAB_", "_RUNLAB_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUNLAB, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def complete(cwd: Path, words: str, shell: str = "bash", **env: str) -> list[str]:
    """What `runlab` answers the shell for the command line ``words`` (cursor at its end)."""
    split = words.split(" ")
    if shell == "fish":
        env.update(COMP_WORDS=words, COMP_CWORD=split[-1])
    else:
        env.update(COMP_WORDS=words, COMP_CWORD=str(len(split) - 1))
    out = run(cwd, _RUNLAB_COMPLETE=f"{shell}_complete", **env)
    assert out.returncode == 0, out.stderr
    if shell == "zsh":  # type, value, help: three lines per item
        return out.stdout.splitlines()[1::3]
    return [line.split(",", 1)[1].split("\t")[0] for line in out.stdout.splitlines() if line]


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNLAB_STORE", raising=False)


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """CliRunner in ``tmp_path`` (or ``cwd=``): (exit code, stdout, stderr, exception)."""

    def go(*args: str, cwd: Path | None = None):
        monkeypatch.chdir(cwd or tmp_path)
        result = CliRunner().invoke(cli, list(args))
        return result.exit_code, result.stdout, result.stderr, result.exception

    return go


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# -- init, end to end -------------------------------------------------------------------


def test_init_writes_a_project_whose_every_demo_runs(tmp_path):
    out = run(tmp_path, "init", "study")
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "wrote runlab.toml, designs/demo.py, tasks.py, sweep.yaml in study\n"
        "next: cd study && runlab list designs && runlab run designs/demo.py:grid3\n"
    )
    study = tmp_path / "study"
    listed = json.loads(run(study, "list", "designs", "--json").stdout)
    assert [(d["ref"], d["configs"]) for d in listed] == list(
        zip(DEMO_REFS, [1, 2, 3, 2], strict=True)
    )

    for ref in DEMO_REFS:
        out = run(study, "run", ref)
        assert out.returncode == 0, f"{ref}: {out.stderr}"

    # The store is runlab.toml's, found from a sub-folder too, with no --store anywhere.
    status = run(study / "designs", "status", "--json")
    assert json.loads(status.stdout)["counts"] == {"completed": 8}, status.stderr
    runs = sorted(p.name for p in (study / "runs").iterdir() if (p / "run.json").exists())
    assert runs == [
        "mlp-0.01",
        "mlp-0.1",
        "model=cnn",
        "model=linear",
        "model=mlp",
        "point",
        "width=16",
        "width=32",
    ]
    point = study / "runs" / "point"
    assert json.loads((point / "summary.json").read_text()) == {"loss": 0.5905, "accuracy": 0.4095}
    assert len((point / "metrics.jsonl").read_text().splitlines()) == 5
    assert "width 32 loss 0.3125" in (study / "runs" / "width=32" / "logs" / "main.log").read_text()
    # Everything is done: a second run of a design skips it.
    again = run(study, "plan", "designs/demo.py:grid3", "--json")
    assert json.loads(again.stdout)["counts"]["done"] == 3


# -- init, exact output -----------------------------------------------------------------


def test_init_in_an_existing_project_changes_nothing(invoke, tmp_path):
    write(tmp_path / "runlab.toml", 'store = "elsewhere"\n')
    for args in (["init"], ["init", "--bare"], ["init", "."]):
        assert invoke(*args)[:3] == (
            0,
            "already a runlab project: runlab.toml (nothing changed)\n",
            "",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runlab.toml"]
    assert (tmp_path / "runlab.toml").read_text() == 'store = "elsewhere"\n'


def test_init_appends_a_table_to_pyproject_and_keeps_the_file(invoke, tmp_path):
    original = '[project]\nname = "study"  # the name\n\n[tool.ruff]\nline-length = 100'
    (tmp_path / "pyproject.toml").write_text(original)  # no final newline
    code, out, err, _ = invoke("init")
    assert (code, err) == (0, "")
    assert out == (
        "added [tool.runlab] to pyproject.toml; wrote designs/demo.py, tasks.py, sweep.yaml\n"
        "next: runlab list designs && runlab run designs/demo.py:grid3\n"
    )
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original + "\n\n[tool.runlab]\n")
    assert not (tmp_path / "runlab.toml").exists()
    project = find_project(tmp_path)
    assert project == Project(
        tmp_path,
        tmp_path / "pyproject.toml",
        "runs",
        ("designs",),
        given=frozenset({"store", "designs"}),
    )
    assert invoke("init")[1] == "already a runlab project: pyproject.toml (nothing changed)\n"
    assert (tmp_path / "pyproject.toml").read_text() == text


def test_init_keeps_a_crlf_pyproject_crlf(tmp_path):
    original = b'[project]\r\nname = "study"\r\n'
    (tmp_path / "pyproject.toml").write_bytes(original)
    init_project(tmp_path, bare=True)
    data = (tmp_path / "pyproject.toml").read_bytes()
    assert data.startswith(original + b"\r\n[tool.runlab]\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert read_config(tmp_path / "pyproject.toml").store == "runs"


def test_init_into_a_file_is_an_error(invoke, tmp_path):
    (tmp_path / "notes").write_text("x")
    code, _, err, _ = invoke("init", "notes")
    assert code == 2 and "Directory 'notes' is a file." in err
    with pytest.raises(UsageError, match=r"^notes is a file, not a folder$"):
        init_project("notes")


def test_init_bare_writes_only_the_settings(invoke, tmp_path):
    assert invoke("init", "--bare", "new")[:3] == (0, "wrote runlab.toml in new\n", "")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["runlab.toml"]
    assert read_config(tmp_path / "new" / "runlab.toml") == Project(
        tmp_path / "new",
        tmp_path / "new" / "runlab.toml",
        given=frozenset({"store", "designs"}),
        designs=("designs",),
    )


def test_init_refuses_to_overwrite_a_file_and_writes_nothing(invoke, tmp_path):
    write(tmp_path / "tasks.py", "def mine(config, run):\n    pass\n")
    code, _, err, _ = invoke("init")
    assert code == 2
    assert err == "error: tasks.py already exists; `runlab init --bare` writes only the settings\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tasks.py"]
    # The demo file as init writes it is no conflict: an interrupted init can be re-run.
    (tmp_path / "tasks.py").unlink()
    init_project(tmp_path)
    (tmp_path / "runlab.toml").unlink()
    assert invoke("init")[1].startswith("wrote runlab.toml\n")


def test_init_refuses_a_broken_pyproject(invoke, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nname = 1\n")
    code, _, err, _ = invoke("init")
    assert code == 2
    assert err == "error: pyproject.toml:1: Expected ']' at the end of a table declaration\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


def test_init_errors_are_one_line_exit_2_through_the_real_command(tmp_path):
    (tmp_path / "sweep.yaml").write_text("mine: true\n")
    out = run(tmp_path, "init")
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "error: sweep.yaml already exists; `runlab init --bare` writes only the settings\n"
    )


# -- the project's settings and store -----------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        (
            'store = "runs"\nstor = "x"\n',
            "runlab.toml:2: unknown key 'stor' (did you mean 'store'?)",
        ),
        ("store = 3\n", "runlab.toml:1: store must be a folder path, got 3"),
        ('tasks = ["a.py", 2]\n', "runlab.toml:1: tasks must be a path or a list of paths"),
        ('designs = "spec"\nstore = \n', "runlab.toml:2: Invalid value"),
    ],
)
def test_a_bad_runlab_toml_is_one_line_naming_file_and_line(tmp_path, monkeypatch, text, message):
    (tmp_path / "runlab.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as err:
        find_project()
    assert str(err.value).startswith(message)


def test_the_project_store_is_the_default_and_flags_and_env_win(invoke, tmp_path, monkeypatch):
    write(tmp_path / "runlab.toml", 'store = "results"\n')
    with runlab.start({"lr": 0.1}, store=tmp_path / "results", git=False, capture=False):
        pass
    (tmp_path / "src" / "deep").mkdir(parents=True)
    assert project_store(tmp_path / "src" / "deep") == tmp_path / "results"
    code, out, _, _ = invoke("show", "1", "--json", cwd=tmp_path / "src" / "deep")
    assert code == 0 and json.loads(out)["params"] == {"lr": 0.1}
    code, _, err, _ = invoke("--store", str(tmp_path / "other"), "show", "1", cwd=tmp_path)
    assert err == f"error: no run with id or name '1' in store {tmp_path / 'other'}\n"
    monkeypatch.setenv("RUNLAB_STORE", str(tmp_path / "env"))
    code, _, err, _ = invoke("show", "1", cwd=tmp_path)
    assert err == f"error: no run with id or name '1' in store {tmp_path / 'env'}\n"


def test_outside_a_project_the_store_is_runs_and_listing_uses_defaults(invoke, tmp_path):
    assert find_project(tmp_path) is None and project_store(tmp_path) is None
    write(tmp_path / "designs.py", "from runlab.design import Grid\ngrid = Grid(x=[1, 2, 3])\n")
    write(tmp_path / "tasks.py", "def fit(config, run):\n    '''Fit.'''\n")
    assert invoke("list", "designs")[1] == (
        "design           kind  configs  task\ndesigns.py:grid  Grid  3\n"
    )
    assert invoke("list", "tasks")[1] == "task       doc\ntasks:fit  Fit.\n"


# -- list designs ----------------------------------------------------------------------------


@pytest.fixture
def study(tmp_path: Path) -> Path:
    init_project(tmp_path)
    return tmp_path


def test_list_designs_shows_ref_kind_configs_and_task(invoke, study):
    assert invoke("list", "designs")[:3] == (
        0,
        "design                 kind   configs  task\n"
        "designs/demo.py:point  Point  1        tasks.py:train\n"
        "designs/demo.py:grid2  Grid   2        tasks.py:train\n"
        "designs/demo.py:grid3  Grid   3        tasks.py:train\n"
        "sweep.yaml             yaml   2        template\n",
        "",
    )
    out = invoke("list", "designs", "--json")[1]
    assert json.loads(out)[1] == {
        "ref": "designs/demo.py:grid2",
        "kind": "Grid",
        "configs": 2,
        "task": "tasks.py:train",
        "file": "designs/demo.py",
    }


def test_every_kind_of_design_is_found_and_refs_follow_the_cwd(invoke, study):
    write(
        study / "designs" / "more" / "kinds.py",
        """
        from runlab.design import Grid, Group, Point, Sample, uniform

        sample = Sample(4, seed=1, lr=uniform(0, 1))
        group = Grid(a=[1, 2]) + Point(a=3)
        _private = Point(a=1)
        not_a_design = {"a": 1}

        def builder():
            return Point(a=1)

        class Spec:  # pymake keeps its designs in a class
            small = Grid(b=[1, 2], where="b > 1")
        """,
    )
    (study / "designs" / "__pycache__").mkdir()
    write(study / "designs" / "__pycache__" / "junk.py", "raise SystemExit\n")
    code, out, err, _ = invoke("list", "designs", "--json", cwd=study / "designs")
    found = {d["ref"]: (d["kind"], d["configs"]) for d in json.loads(out)}
    assert (code, err) == (0, "")
    assert found == {
        "demo.py:point": ("Point", 1),
        "demo.py:grid2": ("Grid", 2),
        "demo.py:grid3": ("Grid", 3),
        "more/kinds.py:sample": ("Sample", 4),
        "more/kinds.py:group": ("Group", 3),
        "more/kinds.py:Spec.small": ("Grid", 1),
        "../sweep.yaml": ("yaml", 2),
    }
    # Each listed ref is what `runlab plan` takes.
    code, out, _, _ = invoke(
        "plan", "more/kinds.py:Spec.small", "-x", "t:f", "--json", cwd=study / "designs"
    )
    assert code == 0 and json.loads(out)["counts"]["new"] == 1


def test_a_file_that_fails_is_one_warning_and_listing_goes_on(invoke, study):
    designs = study / "designs"
    write(designs / "a_zero.py", "from runlab.design import Point\nok = Point(a=1)\nx = 1 / 0\n")
    write(designs / "b_syntax.py", "def f(:\n")
    write(designs / "c_missing.py", "import runlab_no_such_module\n")
    write(designs / "d_exit.py", "import sys\nsys.exit(3)\n")
    write(
        designs / "e_rule.py", "from runlab.design import Grid\nbad = Grid(a=[1], where='z > 1')\n"
    )
    write(
        designs / "f_noisy.py", "from runlab.design import Point\nprint('hello')\np = Point(a=2)\n"
    )
    write(designs / "g.yaml", "template: echo {x}\nwokers: 2\n")
    write(study / "params.yml", "template: echo {y}\n---\ny: [1, 2]\n")
    write(study / ".pre-commit-config.yaml", "repos: []\n")  # not a sweep: not listed
    write(study / "environment.yml", "name: study\ndependencies: [python]\n")
    code, out, err, _ = invoke("list", "designs", "--json")
    assert code == 0
    assert [(d["ref"], d["configs"]) for d in json.loads(out)] == [
        ("designs/demo.py:point", 1),
        ("designs/demo.py:grid2", 2),
        ("designs/demo.py:grid3", 3),
        ("designs/e_rule.py:bad", None),
        ("designs/f_noisy.py:p", 1),
        ("params.yml", 2),
        ("sweep.yaml", 2),
    ]
    assert err.splitlines() == [
        "hello",  # a design file's prints go to stderr, never into the JSON
        "warning: designs/a_zero.py:3: cannot import: ZeroDivisionError: division by zero",
        "warning: designs/b_syntax.py:1: invalid syntax",
        "warning: designs/c_missing.py:1: cannot import: ModuleNotFoundError: "
        "No module named 'runlab_no_such_module'",
        "warning: designs/d_exit.py:2: cannot import: SystemExit: 3",
        "warning: designs/e_rule.py:bad: cannot expand: where rule 'z > 1' names key 'z', "
        "which config {'a': 1} does not have",
        "warning: designs/g.yaml:2: unknown key 'wokers' (did you mean 'workers'?)",
    ]


def test_configured_folders_pymake_layout_and_missing_ones(invoke, tmp_path):
    write(tmp_path / "runlab.toml", 'designs = ["spec", "gone"]\ntasks = "script"\n')
    write(
        tmp_path / "spec" / "designs.py",
        "from runlab.design import Grid\n\nclass Expe:\n    net = Grid(k=[1, 2])\n",
    )
    write(tmp_path / "script" / "fit.py", "def fit(config, run):\n    '''Fit it.'''\n")
    write(tmp_path / "script" / "plots" / "curves.py", "def draw(config, run, dpi=90):\n    pass\n")
    write(tmp_path / "script" / "__init__.py", "def prepare(config, run):\n    pass\n")
    write(tmp_path / "script" / "my-jobs.py", "def job(config, run):\n    pass\n")  # by path
    write(tmp_path / "designs" / "ignored.py", "raise SystemExit\n")  # not configured
    out, err = invoke("list", "designs")[1:3]
    assert (
        out == "design                    kind  configs  task\nspec/designs.py:Expe.net  Grid  2\n"
    )
    assert err == "warning: runlab.toml: designs names gone, which does not exist\n"
    assert invoke("list", "tasks")[1:3] == (
        "task                      doc\n"
        "script:prepare\n"
        "script.fit:fit            Fit it.\n"
        "script/my-jobs.py:job\n"
        "script.plots.curves:draw\n",
        "",
    )


def test_nothing_found_says_where_it_looked(invoke, tmp_path):
    write(tmp_path / "runlab.toml", "")
    assert invoke("list", "designs")[:3] == (
        0,
        "",
        f"no designs in designs, designs.py or the root's sweep files (project {tmp_path})\n",
    )
    assert invoke("list", "tasks", "--json")[:3] == (0, "[]\n", "")


# -- list tasks --------------------------------------------------------------------------------


def test_list_tasks_finds_config_run_functions_without_importing(invoke, study):
    write(
        study / "tasks.py",
        '''
        import runlab_no_such_module  # never imported: tasks are read, not run

        def train(config, run):
            """Fit a toy model.

            More text.
            """

        def evaluate(cfg, run, *, split="test"):
            return {}

        def _private(config, run): ...
        def helper(a, b): ...
        def needs_more(config, run, extra): ...
        def needs_kw(config, run, *, extra): ...
        async def later(config, run): ...

        class Model:
            def fit(self, config, run): ...
        ''',
    )
    write(study / "tasks" / "extra.py", "def go(config, run):\n    pass\n")
    write(study / "tasks" / "broken.py", "def go(config, run)\n")
    out, err = invoke("list", "tasks")[1:3]
    assert out == (
        "task            doc\ntasks:train     Fit a toy model.\ntasks:evaluate\ntasks.extra:go\n"
    )
    assert err == "warning: tasks/broken.py:1: expected ':'\n"
    out = invoke("list", "tasks", "--json")[1]
    assert json.loads(out)[0] == {
        "ref": "tasks:train",
        "doc": "Fit a toy model.",
        "file": "tasks.py",
        "line": 3,
    }


def test_library_listing_is_data(study):
    project = find_project(study)
    assert project is not None
    assert [t.ref for t in list_tasks(project).items] == ["tasks:train"]
    found = list_designs(project, count=False)
    assert [(d.kind, d.configs) for d in found.items] == [
        ("Point", None),
        ("Grid", None),
        ("Grid", None),
        ("yaml", None),
    ]
    assert found.problems == ()


# -- completion ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo project with runs named like a sweep's: 1, 2, 10, lr=0.1, mlp-a."""
    root = tmp_path_factory.mktemp("done")
    init_project(root)
    for name in ("1", "2", "10", "lr=0.1", "mlp-a"):
        with runlab.start({"n": name}, store=root / "runs", run_id=name, git=False, capture=False):
            pass
    (root / "runs" / "mlp-a" / "nested").mkdir()
    return root


def test_completion_offers_run_ids_from_the_store_folders(done):
    assert complete(done, "runlab show ") == ["1", "2", "10", "lr=0.1", "mlp-a"]
    assert complete(done, "runlab logs m") == ["mlp-a"]
    assert complete(done / "designs", "runlab diff 1 ") == ["1", "2", "10", "lr=0.1", "mlp-a"]
    assert complete(done, "runlab --store nowhere show ") == []
    assert complete(done, f"runlab --store {done / 'runs'} show 1") == ["1", "10"]


def test_completion_offers_commands_designs_tasks_and_choices(done):
    commands = complete(done, "runlab ")
    assert {"init", "list", "completion", "run", "plan", "show", "logs", "diff"} <= set(commands)
    assert complete(done, "runlab run ") == DEMO_REFS
    assert complete(done, "runlab plan designs/demo.py:g") == DEMO_REFS[1:3]
    assert complete(done, "runlab run designs/demo.py:point -x ") == ["tasks:train"]
    assert complete(done, "runlab run ./designs/demo.py:p") == ["./designs/demo.py:point"]
    assert complete(done, "runlab list ") == ["designs", "tasks", "models"]
    assert complete(done, "runlab completion ") == ["bash", "zsh", "fish"]
    escaped = [ref.replace(":", r"\:") for ref in DEMO_REFS]  # zsh's _describe splits at ':'
    assert complete(done, "runlab run ", shell="zsh") == escaped
    assert complete(done, "runlab run designs/demo.py:gr", shell="fish") == DEMO_REFS[1:3]


def test_bash_completion_keeps_words_with_colons_and_equals_whole(done):
    def bash(line: str) -> list[str]:
        return complete(
            done, line, COMP_LINE=line, COMP_POINT=str(len(line)), COMP_WORDBREAKS=" \"'@><=;|&(:"
        )

    # Bash shows everything up to the last ':' or '=' and replaces only what follows.
    assert bash("runlab run designs/demo.py:g") == ["grid2", "grid3"]
    assert bash("runlab show lr=") == ["0.1"]
    assert bash("runlab run designs/demo.py:point --task=tasks:t") == ["train"]
    assert bash("runlab run sw") == ["sweep.yaml"]
    assert _replaced_from("designs/a.py:g", ":=") == "designs/a.py:"
    assert _replaced_from("designs/a.py:g", "") == ""
    assert _replaced_from("-x=tasks:t", ":=") == "tasks:"


@pytest.mark.skipif(shutil.which("bash") is None or not BIN.exists(), reason="no bash or script")
def test_the_bash_script_completes_in_a_real_bash(done):
    script = run(done, "completion", "bash").stdout
    probe = textwrap.dedent(
        """
        eval "$SCRIPT"
        COMP_WORDS=(runlab run designs/demo.py : g); COMP_CWORD=4
        COMP_LINE="runlab run designs/demo.py:g"; COMP_POINT=${#COMP_LINE}
        _runlab_completion runlab
        printf '%s\\n' "${COMPREPLY[@]}"
        """
    )
    out = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", probe],
        cwd=done,
        env=clean_env(SCRIPT=script),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.splitlines() == ["grid2", "grid3"], out.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_each_shell(invoke, shell):
    code, out, _, _ = invoke("completion", shell)
    assert code == 0
    assert "_RUNLAB_COMPLETE" in out and f"{shell}_complete" in out


def test_completion_of_an_unknown_shell_is_a_usage_error(tmp_path):
    out = run(tmp_path, "completion", "tcsh")
    assert out.returncode == 2 and out.stdout == ""
    assert "Invalid value for 'SHELL': 'tcsh' is not one of 'bash', 'zsh', 'fish'." in (out.stderr)
