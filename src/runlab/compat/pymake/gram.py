"""pymake's command-line grammar: its own options, a project's ``gramarg.py``, ``--pmk``.

A project's ``gramarg.py`` holds a list ``_gram`` of argparse arguments, each option
name(s) followed by the dict of ``add_argument`` keywords::

    from runlab.compat.pymake.gram import exp_append    # was: from pymake.core.gram import ...
    _gram = [
        '--my_key', dict(nargs='*', action=partial(exp_append, _t=int)),
    ]

- ``exp_append``: ``--my_key 10 20`` makes ``my_key`` an axis (one experiment each);
- ``exp_append_uniq``: ``--my_key 1 2`` is the one list value ``[1, 2]``;
- any other option sets its value in every experiment; ``_null`` as a value removes the
  setting (it then takes ``_default_expe``'s value, if any);
- ``--pmk key=value ...`` sets any setting; values read as int, then float, else text.

Options left at ``None`` are not given, as pymake assumed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runlab.compat.pymake.types import ExpVector
from runlab.errors import UsageError

# dests of pymake's own options: what to do, not settings of the experiments
CONTROL = ("_do", "script", "do_list", "_pmk", "_cores", "_bind", "simulate")


class _Typed(argparse.Action):
    def __init__(self, *args: Any, _t: Any = str, **kwargs: Any) -> None:
        self._type = _t
        super().__init__(*args, **kwargs)

    def convert(self, parser: argparse.ArgumentParser, values: Any) -> list[Any]:
        items = values if isinstance(values, list) else [values]
        try:
            return [v if v == "_null" else self._type(v) for v in items]
        except (TypeError, ValueError) as err:
            parser.error(f"{'/'.join(self.option_strings)}: {err}")
            raise  # parser.error exits; this line satisfies the type checker


class exp_append(_Typed):  # pymake's lower-case name, so gramarg files keep working
    """``--key 10 20``: the values become an axis, one experiment each."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, ExpVector(self.convert(parser, values)))


class exp_append_uniq(_Typed):  # pymake's name too
    """``--key 1 2`` (repeatable): each occurrence is one list value."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        current = getattr(namespace, self.dest, None) or ExpVector()
        setattr(namespace, self.dest, ExpVector([*current, self.convert(parser, values)]))


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are UsageErrors (one line, exit code 2)."""

    def error(self, message: str) -> Any:
        raise UsageError(message)


def _pymake_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("_do", nargs="*", help="spec names, expe indexes, or a command")
    parser.add_argument("-x", "--script", nargs="+", help="the action to run: -x fit")
    parser.add_argument(
        "-l",
        "--list",
        dest="do_list",
        nargs="?",
        const="spec",
        choices=("spec", "script", "model"),
        help="list specs, scripts or models",
    )
    parser.add_argument("--pmk", dest="_pmk", nargs="+", help="set settings: --pmk key=value")
    parser.add_argument("--cores", dest="_cores", type=int, help="parallel worker processes")
    parser.add_argument("--bind", dest="_bind", action="append", help="a _bind rule")
    parser.add_argument(
        "-w", "--write", dest="_write", action="store_true", default=None, help="save models"
    )
    parser.add_argument("--format", dest="_format", help="the _format of the files")
    parser.add_argument(
        "--refdir", dest="_refdir", nargs="+", action=exp_append, help="the _refdir folder(s)"
    )
    parser.add_argument(
        "--repeat", dest="_repeat", nargs="+", action=exp_append, help="the _repeat folder(s)"
    )
    parser.add_argument("-s", "--simulate", action="store_true", default=None,
                        help="show the experiments, run nothing")  # fmt: skip


def read_gram(path: Path | None) -> list[Any]:
    """The ``_gram`` list of a gramarg file (empty without one)."""
    if path is None:
        return []
    from runlab.imports import first_on_path, import_module

    with first_on_path(path.parent):
        module, _ = import_module(str(path), what=str(path))
    gram = getattr(module, "_gram", None)
    if gram is None:
        gram = next((v for k, v in vars(module).items() if isinstance(v, list)), [])
    if not isinstance(gram, list):
        raise UsageError(f"{path}: _gram must be a list of option names and dicts")
    return gram


def add_gram(parser: argparse.ArgumentParser, gram: Sequence[Any], *, where: str) -> None:
    """Add a ``_gram`` list's options to ``parser``: names, then their keyword dict."""
    names: list[str] = []
    for item in gram:
        if isinstance(item, str):
            names.append(item)
            continue
        if not isinstance(item, dict) or not names:
            raise UsageError(f"{where}: _gram must alternate option names and dicts, at {item!r}")
        try:
            parser.add_argument(*names, **item)
        except (argparse.ArgumentError, TypeError, ValueError) as err:
            raise UsageError(f"{where}: option {'/'.join(names)}: {err}") from None
        names = []
    if names:
        raise UsageError(f"{where}: _gram ends with {names} and no dict of keywords")


def make_parser(gram_file: Path | None, *, prog: str = "pmk") -> argparse.ArgumentParser:
    """pymake's parser with the project's gramarg options added."""
    parser = _Parser(prog=prog, description="Run pymake specs and scripts with runlab.")
    _pymake_options(parser)
    add_gram(parser, read_gram(gram_file), where=str(gram_file))
    return parser


def pmk_settings(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``--pmk key=value ...`` as settings: int, then float, else the text."""
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--pmk {pair!r}: write key=value")
        value: Any = text
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        out[key.strip()] = value
    return out


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """The experiment settings a parsed command line gives (control options left out)."""
    settings = {k: v for k, v in vars(args).items() if v is not None and k not in CONTROL}
    settings.update(pmk_settings(args._pmk))
    return settings
