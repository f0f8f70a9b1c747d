"""Tasks: what is done with a config — named shell command templates, or a Python callable.

Command templates use mlrunner's grammar:

- ``{p}`` is the value of param ``p``, shell-quoted (``shlex.quote``): a value with
  spaces, quotes, ``;``, ``$(...)``, newlines or unicode reaches the program literally;
- ``[p]`` is ``--p value``, or ``--p`` alone for ``True``, or nothing for ``False``/``None``;
- reserved names: ``{_output}`` the run folder, ``{_id}``, ``{_name}``, ``{_sweep}``,
  ``{_time}`` (the launch time in mlrunner's form ``YYYYmmdd.HHMMSS``, local time, one
  value for every run of a launch: see :data:`TIME_FORMAT`);
- ``{{`` and ``}}`` are literal braces, and ``${NAME}`` is left to the shell, so shell
  variables keep working inside templates.

Templates are parsed once, when the sweep is loaded, so a placeholder with no value or
a param used both as ``{p}`` and ``[p]`` is an error before anything runs.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runlab.errors import UsageError

RESERVED = ("_output", "_id", "_name", "_sweep", "_time")
TIME_FORMAT = "%Y%m%d.%H%M%S"
"""``{_time}``, as mlrunner wrote it (``20220316.030151``), so its log names sort by time."""

# {{ or }} (escapes) | ${...} (the shell's) | {name} | [name]
_TOKEN = re.compile(
    r"(?P<escape>\{\{|\}\})"
    r"|(?P<shell>\$\{[^}]*\})"
    r"|\{(?P<value>[A-Za-z_][A-Za-z0-9_.-]*)\}"
    r"|\[(?P<flag>[A-Za-z_][A-Za-z0-9_.-]*)\]"
)


def render_value(value: Any) -> str:
    """A param value as command-line text: ``True``/``False``, numbers as Python prints them."""
    if isinstance(value, (list, tuple, dict)):
        import json

        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class Command:
    """One named command template, parsed. ``values``/``flags`` are the params it uses."""

    name: str
    template: str
    values: tuple[str, ...]
    flags: tuple[str, ...]

    @classmethod
    def parse(cls, name: str, template: str, *, where: str = "") -> Command:
        """Parse a template; ``where`` (e.g. ``params.yaml:3``) prefixes error messages."""
        if not isinstance(template, str) or not template.strip():
            raise UsageError(f"{where}command {name!r} is empty")
        values: list[str] = []
        flags: list[str] = []
        for match in _TOKEN.finditer(template):
            if match["value"]:
                values.append(match["value"])
            elif match["flag"]:
                flags.append(match["flag"])
        both = sorted(set(values) & set(flags))
        if both:
            raise UsageError(
                f"{where}command {name!r} uses {both[0]!r} both as {{{both[0]}}} and [{both[0]}]"
            )
        reserved = [f for f in flags if f in RESERVED]
        if reserved:
            raise UsageError(
                f"{where}command {name!r}: [{reserved[0]}] is reserved; write {{{reserved[0]}}}"
            )
        return cls(name, template, tuple(dict.fromkeys(values)), tuple(dict.fromkeys(flags)))

    @property
    def params(self) -> tuple[str, ...]:
        """The config keys this command needs (reserved names excluded)."""
        return tuple(p for p in (*self.values, *self.flags) if p not in RESERVED)

    def check(self, keys: Sequence[str] | Mapping[str, Any], *, where: str = "") -> None:
        """Raise UsageError naming the first placeholder that has no value among ``keys``."""
        missing = [p for p in self.values if p not in RESERVED and p not in keys]
        if missing:
            raise UsageError(
                f"{where}command {self.name!r}: placeholder {{{missing[0]}}} has no value"
            )
        missing = [p for p in self.flags if p not in keys]
        if missing:
            raise UsageError(
                f"{where}command {self.name!r}: placeholder [{missing[0]}] has no value"
            )

    @functools.cached_property
    def _pieces(self) -> tuple[tuple[str, str], ...]:
        """The template cut once into ``("text", literal)``, ``("value", key)`` and
        ``("flag", key)`` pieces, so rendering a config is a join, not a regex pass."""
        pieces: list[tuple[str, str]] = []
        end = 0
        for match in _TOKEN.finditer(self.template):
            pieces.append(("text", self.template[end : match.start()]))
            if match["escape"]:
                pieces.append(("text", match["escape"][0]))
            elif match["shell"]:
                pieces.append(("text", match["shell"]))
            elif match["value"] is not None:
                pieces.append(("value", match["value"]))
            else:
                pieces.append(("flag", match["flag"]))
            end = match.end()
        pieces.append(("text", self.template[end:]))
        return tuple(p for p in pieces if p != ("text", ""))

    def render(self, config: Mapping[str, Any], reserved: Mapping[str, Any]) -> str:
        """The command line for ``config``; every substituted value is shell-quoted."""
        out = []
        for kind, text in self._pieces:
            if kind == "text":
                out.append(text)
            elif kind == "value":
                source = reserved if text in RESERVED else config
                if text not in source:
                    raise UsageError(f"command {self.name!r}: placeholder {{{text}}} has no value")
                value = source[text]
                if type(value) is int:  # digits and '-': nothing to quote
                    out.append(str(value))
                else:
                    out.append(shlex.quote(render_value(value)))
            else:
                out.append(self._flag(text, config))
        return "".join(out)

    def _flag(self, key: str, config: Mapping[str, Any]) -> str:
        if key not in config:
            raise UsageError(f"command {self.name!r}: placeholder [{key}] has no value")
        value = config[key]
        if value is None or value is False:
            return ""
        if value is True:
            return shlex.quote(f"--{key}")
        return f"{shlex.quote('--' + key)} {shlex.quote(render_value(value))}"


@dataclass(frozen=True)
class CommandTask:
    """An ordered list of named commands (the template), the steps of one run on one slot.

    ``selected`` names the commands to execute now, in template order (``None``: all of
    them): a sweep document's ``_cmd`` or ``runlab run -c``. It never changes what the
    run *is*: :meth:`identity` covers the whole template, so ``-c train`` today and
    ``-c test`` tomorrow are two steps of one run, in one folder, and the test command
    reads what the train command wrote to ``{_output}`` (mlrunner's per-command
    ``stat``). Which selected steps still have to run is the plan's business
    (:mod:`runlab.launch.plan`).

    Usage::

        task = CommandTask.from_templates({"train": "python train.py", "test": "python test.py"})
        task.select(["test"]).steps      # (Command('test', ...),)
        task.select(["test"]).identity() == task.identity()   # one run, whatever runs now
    """

    commands: tuple[Command, ...]
    selected: tuple[str, ...] | None = None

    @classmethod
    def from_templates(cls, templates: str | Mapping[str, str], *, where: str = "") -> CommandTask:
        """Parse ``template:`` of a sweep file: one string (named ``main``) or named strings."""
        if isinstance(templates, str):
            return cls((Command.parse("main", templates, where=where),))
        if not isinstance(templates, Mapping) or not templates:
            raise UsageError(
                f"{where}template must be a command string or a mapping of named commands"
            )
        return cls(tuple(Command.parse(str(n), t, where=where) for n, t in templates.items()))

    @property
    def names(self) -> tuple[str, ...]:
        """Every command name of the template, in order."""
        return tuple(c.name for c in self.commands)

    @property
    def steps(self) -> tuple[Command, ...]:
        """The selected commands, in template order."""
        if self.selected is None:
            return self.commands
        return tuple(c for c in self.commands if c.name in self.selected)

    def select(self, names: Iterable[str] | None) -> CommandTask:
        """Return the task executing only ``names`` (``None``: every command) of its template.

        Selecting every command is the same task as selecting none, so equal selections
        compare equal however they were spelled.
        """
        if names is None:
            return self if self.selected is None else CommandTask(self.commands)
        wanted = set(names)
        unknown = sorted(wanted - set(self.names))
        if unknown:
            raise UsageError(
                f"no command {unknown[0]!r} in the template; commands: {', '.join(self.names)}"
            )
        chosen = tuple(n for n in self.names if n in wanted)
        return CommandTask(self.commands, None if len(chosen) == len(self.commands) else chosen)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for c in self.steps for p in c.params))

    def check(self, keys: Sequence[str] | Mapping[str, Any], *, where: str = "") -> None:
        """Raise UsageError naming the first selected command with a placeholder lacking a value.

        Only the selected commands render, so only theirs need values.
        """
        for command in self.steps:
            command.check(keys, where=where)

    def render(
        self, config: Mapping[str, Any], reserved: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """(name, command line) for each selected command, in order."""
        return [(c.name, c.render(config, reserved)) for c in self.steps]

    def identity(self) -> str:
        """Text that changes when the template changes (part of a run's identity in a sweep).

        The selection is left out on purpose: a run is its config and its whole template.
        """
        return "\n".join(f"{c.name}={c.template}" for c in self.commands)


@dataclass(frozen=True)
class CallableTask:
    """A Python function ``fn(config, run)``; a returned dict merges into the summary.

    Held as ``module:function`` so a worker process can import it by name.
    """

    target: str

    def load(self) -> Callable[..., Any]:
        """Import the function (``module:function``, or ``path/to/file.py:function``)."""
        from runlab.imports import import_module

        module_name, _, attr = self.target.rpartition(":")
        if not module_name or not attr:
            raise UsageError(f"task {self.target!r}: write module:function or file.py:function")
        try:
            module, _ = import_module(module_name, what=f"task {self.target!r}")
        except ImportError as exc:
            raise UsageError(f"task {self.target!r}: cannot import {module_name} ({exc})") from exc
        fn = getattr(module, attr, None)
        if not callable(fn):
            raise UsageError(f"task {self.target!r}: {module_name} has no function {attr!r}")
        return fn

    def identity(self) -> str:
        return f"callable={self.target}"


Task = CommandTask | CallableTask
