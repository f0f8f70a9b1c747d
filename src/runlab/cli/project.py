"""``runlab init``, ``runlab list designs|tasks`` and ``runlab completion``: the project."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from runlab.cli import cli
from runlab.cli.complete import SHELLS, completion_script


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as left-aligned columns, two spaces apart, the last column unpadded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    ]


@cli.command("init", short_help="Make a folder a runlab project, with demo designs.")
@click.argument("folder", default=".", type=click.Path(file_okay=False))
@click.option(
    "--bare", is_flag=True, help="Write only the settings: no demo designs, task or sweep file."
)
def init_command(folder: str, bare: bool) -> None:
    """Make FOLDER (default: here) a runlab project, with demo designs ready to run.

    Writes runlab.toml (store = "runs", designs = "designs"), or, when the folder has a
    pyproject.toml, appends a [tool.runlab] table to it and leaves the rest of the file
    as it was. Then designs/demo.py (a Point, a Grid of 2 and a Grid of 3, for the task
    train of tasks.py), tasks.py and sweep.yaml (a sweep of shell commands). A folder that is
    already a project is left unchanged.

    \b
    Examples:
      runlab init
      runlab init study && cd study && runlab run designs/demo.py:grid3
      runlab init --bare
    """
    from runlab.project import init_project, shown

    result = init_project(folder, bare=bare)
    if result.existed:
        click.echo(f"already a runlab project: {shown(result.config)} (nothing changed)")
        return
    root = result.root
    where = "" if root == Path.cwd() else f" in {shown(root)}"
    config, *files = (shown(p, root) for p in result.written)
    if result.config.name == "pyproject.toml":
        said = f"added [tool.runlab] to {config}" + (f"; wrote {', '.join(files)}" if files else "")
    else:
        said = f"wrote {', '.join([config, *files])}"
    click.echo(said + where)
    if not bare:
        cd = "" if root == Path.cwd() else f"cd {shown(root)} && "
        click.echo(f"next: {cd}runlab list designs && runlab run designs/demo.py:grid3")


@cli.command("list", short_help="List the project's designs, tasks or pymake models.")
@click.argument("what", type=click.Choice(["designs", "tasks", "models"]))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead.")
def list_command(what: str, as_json: bool) -> None:
    """List the project's designs, with their number of configs, or its task functions.

    Read from the files each time, so nothing needs rebuilding. Designs are the Point,
    Grid, Sample and Group objects of the .py files in the designs folder (runlab.toml's
    designs, default designs/ and designs.py), shown as the ref to give `runlab run`,
    and the YAML sweep files there and at the project root. Tasks are the functions
    fn(config, run) of tasks.py and tasks/ (runlab.toml's tasks), shown as the
    module:function to give -x. In a pymake project (a pymake.cfg), its specs and the
    actions of its scripts are listed too, and `models` lists its models (the classes of
    model/ with a fit, as a spec's model setting names them). A file that cannot be read
    is one warning line.

    \b
    Examples:
      runlab list designs
      runlab list tasks
      runlab list models
      runlab list designs --json
    """
    from runlab.project import current_project, list_designs, list_tasks, shown

    project = current_project()
    if what == "designs":
        designs = list_designs(project)
        problems = designs.problems
        records = [
            {
                "ref": d.ref,
                "kind": d.kind,
                "configs": d.configs,
                "task": d.task,
                "file": shown(d.path),
            }
            for d in designs.items
        ]
        header = ("design", "kind", "configs", "task")
        rows = [
            (d.ref, d.kind, "?" if d.configs is None else str(d.configs), d.task)
            for d in designs.items
        ]
        looked = ", ".join(project.designs) + " or the root's sweep files"
    elif what == "models":
        from runlab.project.discover import list_models

        models = list_models(project)
        problems = models.problems
        records = [
            {"ref": m.ref, "doc": m.doc, "file": shown(m.path), "line": m.line}
            for m in models.items
        ]
        header = ("model", "doc")
        rows = [(m.ref, m.doc) for m in models.items]
        looked = "the model folder of a pymake project (pymake.cfg)"
    else:
        tasks = list_tasks(project)
        problems = tasks.problems
        records = [
            {"ref": t.ref, "doc": t.doc, "file": shown(t.path), "line": t.line} for t in tasks.items
        ]
        header = ("task", "doc")
        rows = [(t.ref, t.doc) for t in tasks.items]
        looked = ", ".join(project.tasks)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(records, indent=2))
    elif rows:
        click.echo("\n".join(_columns([header, *rows])))
    else:
        click.echo(f"no {what} in {looked} (project {project.root})", err=True)


@cli.command("completion", short_help="Print the shell completion script: bash, zsh or fish.")
@click.argument("shell", metavar="SHELL", type=click.Choice(SHELLS))
def completion_command(shell: str) -> None:
    """Print the script that makes TAB complete runlab in SHELL: bash, zsh or fish.

    TAB then completes commands and options, design refs and YAML sweep files for
    run/plan, task functions for -x, and run ids for show/logs/diff, read from the
    project and the store each time (no index to update).

    \b
    Examples:
      eval "$(runlab completion bash)"       # in ~/.bashrc
      eval "$(runlab completion zsh)"        # in ~/.zshrc, after compinit
      runlab completion fish > ~/.config/fish/completions/runlab.fish
    """
    click.echo(completion_script(cli, shell), nl=False)
