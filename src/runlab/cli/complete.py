"""Shell completion: what TAB offers for designs, tasks and run ids, and runlab's bash script.

Nothing is indexed: run ids are the store's folder names, designs and tasks are what
``runlab list`` finds, read when TAB is pressed. A callback never raises: a completion
that cannot be computed offers nothing, and the shell stays usable.

Bash splits words at ``:`` and ``=`` (they are in ``COMP_WORDBREAKS``), which cuts
``designs/demo.py:grid3`` or the run id ``lr=0.1`` in three words, and replaces only the
text after the last such character. So runlab's bash script also passes the raw command
line, and each answer drops what bash keeps, as bash-completion's
``__ltrim_colon_completions`` does. Zsh and fish use click's scripts unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    add_completion_class,
    split_arg_string,
)

COMPLETE_VAR = "_RUNLAB_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


def _store_root(ctx: click.Context) -> Path:
    """The store the command line names, resolved as the group callback would."""
    from runlab.project import project_store
    from runlab.store import resolve_root

    root = ctx.find_root()
    value = root.params.get("store")
    if value is None or root.get_parameter_source("store") in (None, ParameterSource.DEFAULT):
        found = project_store()
        if found is not None:
            return found
    return resolve_root(value)


def complete_runs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Run ids for ``show``/``logs``/``diff``: the store's folder names, numbers in order first."""
    from runlab.record.layout import id_sort_key

    try:
        with os.scandir(_store_root(ctx)) as entries:
            ids = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    except Exception:  # no store yet, a broken runlab.toml: offer nothing
        return []
    return [CompletionItem(i) for i in sorted(ids, key=id_sort_key) if i.startswith(incomplete)]


def _yaml_files(incomplete: str) -> list[str]:
    """The YAML files in the folder ``incomplete`` is typing into, as typed."""
    folder, _, name = incomplete.rpartition("/")
    where = Path(folder or ".")
    prefix = f"{folder}/" if folder else ""
    try:
        names = sorted(p.name for p in where.iterdir() if p.is_file())
    except OSError:
        return []
    return [
        prefix + n
        for n in names
        if n.endswith((".yaml", ".yml")) and n.startswith(name) and (name or n[0] != ".")
    ]


def complete_designs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Design refs for ``run``/``plan``: the project's designs, a file's after ``file.py:``."""
    from runlab.project import current_project, designs_in_file, list_designs

    try:
        file, colon, _ = incomplete.rpartition(":")
        if colon and file.endswith(".py") and Path(file).is_file():
            found = designs_in_file(file)
            items = [(f"{file}:{d.ref.rpartition(':')[2]}", d.kind) for d in found.items]
        else:
            items = [(d.ref, d.kind) for d in list_designs(current_project(), count=False).items]
    except Exception:
        items = []
    out = [CompletionItem(ref, help=kind) for ref, kind in items if ref.startswith(incomplete)]
    known = {ref for ref, _ in items}
    return out + [CompletionItem(f) for f in _yaml_files(incomplete) if f not in known]


def complete_tasks(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Task refs for ``-x``: ``module:function`` of the project's task functions."""
    from runlab.project import current_project, list_tasks

    try:
        tasks = list_tasks(current_project()).items
    except Exception:
        return []
    return [
        CompletionItem(t.ref, help=t.doc or None) for t in tasks if t.ref.startswith(incomplete)
    ]


_SOURCE_BASH = """\
%(complete_func)s() {
    local IFS=$'\\n'
    local response

    response=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD \
COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" COMP_WORDBREAKS="$COMP_WORDBREAKS" \
%(complete_var)s=bash_complete $1)

    for completion in $response; do
        IFS=',' read type value <<< "$completion"

        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=($value)
        fi
    done

    return 0
}

%(complete_func)s_setup() {
    complete -o nosort -F %(complete_func)s %(prog_name)s
}

%(complete_func)s_setup;
"""


def _replaced_from(incomplete: str, wordbreaks: str) -> str:
    """What bash keeps of the word: up to its last word-break character (``:``, ``=``, ``@``).

    Bash replaces only the text after that character, so an answer must not repeat it.
    """
    if incomplete.startswith("-") and "=" in incomplete:
        incomplete = incomplete.partition("=")[2]  # --task=tasks:tr: click completes "tasks:tr"
    breaks = set(wordbreaks) - set(" \t\n\"'`")
    return incomplete[: max((incomplete.rfind(c) for c in breaks), default=-1) + 1]


class RunlabBashComplete(BashComplete):
    """Click's bash completion, reading the raw line so refs with ``:`` or ``=`` stay one word.

    Without ``COMP_LINE`` (click's own protocol: ``COMP_WORDS``/``COMP_CWORD`` only) it
    behaves exactly as click's :class:`~click.shell_completion.BashComplete`.
    """

    source_template = _SOURCE_BASH

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ.get("COMP_LINE")
        if not line:
            return super().get_completion_args()
        point = os.environ.get("COMP_POINT", "")
        typed = line[: int(point)] if point.isdigit() else line
        words = split_arg_string(typed)
        incomplete = "" if not words or typed[-1:].isspace() else words.pop()
        return words[1:], incomplete

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        cut = _replaced_from(incomplete, os.environ.get("COMP_WORDBREAKS", ""))
        lines = []
        for item in items:
            value = str(item.value)
            if cut and value.startswith(cut):
                value = value[len(cut) :]
            lines.append(f"{item.type},{value}")
        return "\n".join(lines)


add_completion_class(RunlabBashComplete, "bash")


def completion_script(cli: click.Command, shell: str) -> str:
    """The script that, sourced by ``shell``, makes TAB complete ``runlab``."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # the CLI's Choice already refused it; a library caller may not have
        raise click.BadParameter(f"unknown shell {shell!r}; choose from {', '.join(SHELLS)}")
    return cls(cli, {}, "runlab", COMPLETE_VAR).source()
