"""The Sweep: a design, a task and the options a launcher needs, as one immutable value.

A sweep is what ``runlab run`` starts as one unit. It is built once at the edge — from a
YAML sweep file (:func:`~runlab.design.sweepfile.load_sweep`), a Python design
(:func:`~runlab.design.pyload.sweep_from_python`) or by hand — and carried unchanged
after that; command-line overrides make a new Sweep (:mod:`runlab.design.overrides`).

Usage::

    sweep = Sweep("lr", Grid(lr=[0.1, 0.01]), task=CallableTask("train:main"),
                  resources=[0, 1, "2,3"], timeout="2h", retries=1)
    sweep.resources          # (('0',), ('1',), ('2', '3')): three slots, the last of two GPUs
    sweep.timeout            # 7200.0
    for config in sweep.expand():
        sweep.task_for(config)   # the task, selecting the commands its document runs

Options are normalised and checked in ``__post_init__``, so a Sweep built in Python is
as valid as one read from a file; the file reader checks first to name file:line.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from runlab.design.base import Design
from runlab.design.designs import Group
from runlab.design.expansion import Config, Expansion
from runlab.errors import UsageError
from runlab.tasks import CallableTask, Command, CommandTask, Task

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_timeout(value: Any, *, what: str = "timeout") -> float | None:
    """Return a timeout in seconds from ``30``, ``2.5``, ``"30s"``, ``"10m"``, ``"2h"`` or ``"1d"``.

    ``None`` means no timeout. ``what`` prefixes the error (the sweep file passes
    ``params.yaml:4: timeout``).
    """
    if value is None:
        return None
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds is None or not seconds > 0 or seconds == float("inf"):
        raise UsageError(
            f"{what}: expected a positive number of seconds or a duration like "
            f"30s, 10m, 2h; got {value!r}"
        )
    return seconds


def parse_resources(value: Any, *, what: str = "resources") -> tuple[tuple[str, ...], ...]:
    """Return resource slots as device-id tuples, one per slot (one worker each).

    mlrunner's ``[0, 1, 2, 3]`` is four slots of one GPU; ``["0,1", "2,3"]`` two slots
    of two; a device listed twice is two slots on one GPU. A bare ``0`` or ``"0,1"`` is
    one slot, and Python callers may give a slot as a list of ids.
    """
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, int)) else value
    if not isinstance(items, (list, tuple)):
        raise UsageError(f"{what}: expected a list of device ids like [0, 1] or ['0,1']")
    slots = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, list, tuple)):
            raise UsageError(f"{what}: {item!r} is not a device id; write 0, '0,1' or [0, 1]")
        ids = str(item).split(",") if isinstance(item, (str, int)) else list(item)
        devices = []
        for device in ids:
            if isinstance(device, bool) or not isinstance(device, (str, int)):
                raise UsageError(f"{what}: {device!r} is not a device id")
            text = str(device).strip()
            if not text or any(c.isspace() for c in text):
                raise UsageError(f"{what}: {item!r} is not a device list; write 0, '0,1' or [0, 1]")
            devices.append(text)
        if not devices:
            raise UsageError(f"{what}: {item!r} is an empty slot")
        slots.append(tuple(devices))
    return tuple(slots)


def _positive_int(value: Any, *, what: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise UsageError(f"{what} must be {kind}, got {value!r}")
    return value


METRIC_OPTIONS = ("log", "regex", "last", "type")
METRIC_TYPES = ("float", "int", "str")


def check_metrics(
    value: Any, *, what: str = "metrics", source: Path | None = None
) -> Mapping[str, Mapping[str, Any]]:
    """Return ``metrics`` as read-only mappings after checking every option.

    Each entry is ``name: {log, regex, last, type}``, as in
    ``{bleu: {log: test, regex: 'BLEU4 = ([0-9.]+)', last: true}}``:

    - ``log`` (required): a command name (``test`` is ``logs/test.log``), ``stdout`` or
      ``stderr``, or a file glob inside the run (``logs/*.log``, ``train*.log``);
    - ``regex`` (required): searched in each line; its one group holds the value, or
      with several groups each is named (``(?P<bp>...)``) and is a value of its own;
    - ``last`` (default true): the last matching line, else the first;
    - ``type`` (default float): ``float``, ``int`` or ``str``.

    Errors name the metric and option, and with ``source`` (a YAML sweep file) its
    file:line. What the options do is :mod:`runlab.record.parsers`' business.
    """
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise UsageError(f"{_place(source)}{what}: expected a mapping of metric name to options")
    out: dict[str, Mapping[str, Any]] = {}
    for name, options in value.items():
        if not isinstance(name, str) or not name:
            raise UsageError(
                f"{_place(source)}{what}: metric names must be non-empty strings, got {name!r}"
            )
        if not isinstance(options, Mapping):
            raise UsageError(
                f"{_place(source, name)}{what}.{name}: expected a mapping of options like "
                f"{{log: test, regex: '...'}}, got {options!r}"
            )
        for key, option in options.items():
            if key not in METRIC_OPTIONS:
                raise UsageError(
                    f"{_place(source, name, key)}{what}.{name}: unknown option {key!r}; "
                    f"options are {', '.join(METRIC_OPTIONS)}"
                )
            problem = _metric_problem(key, option)
            if problem:
                raise UsageError(f"{_place(source, name, key)}{what}.{name}.{key}: {problem}")
        for key in ("log", "regex"):
            if key not in options:
                example = "test" if key == "log" else "'BLEU4 = ([0-9.]+)'"
                raise UsageError(
                    f"{_place(source, name)}{what}.{name}: {key} is missing (like {key}: {example})"
                )
        out[name] = MappingProxyType(dict(options))
    return MappingProxyType(out)


def _metric_problem(key: str, option: Any) -> str | None:
    """What is wrong with one metric option, or None."""
    if key == "log":
        if not isinstance(option, str) or not option.strip():
            return f"expected a command name or a file glob, got {option!r}"
        if option.startswith(("/", "\\")) or ".." in Path(option).parts:
            return f"{option!r} leaves the run folder; give a path inside it"
    elif key == "regex":
        if not isinstance(option, str) or not option:
            return f"expected a regular expression, got {option!r}"
        try:
            pattern = re.compile(option)
        except re.error as err:
            return f"{option!r} is not a regular expression ({err})"
        if pattern.groups == 0:
            return (
                f"{option!r} has no group; put the value in parentheses, like 'BLEU4 = ([0-9.]+)'"
            )
        if pattern.groups > 1 and len(pattern.groupindex) != pattern.groups:
            return (
                f"{option!r} has {pattern.groups} groups; keep one, name each "
                "(?P<name>...), or make the others (?:...)"
            )
    elif key == "last":
        if not isinstance(option, bool):
            return f"expected true or false, got {option!r}"
    elif option not in METRIC_TYPES:
        return f"expected one of {', '.join(METRIC_TYPES)}, got {option!r}"
    return None


def _place(source: Path | None, *path: str) -> str:
    """``file:line: `` of ``metrics.<path>`` in a YAML sweep file, else ``file: `` or nothing.

    Called only on the way to an error, so reading the file again costs nothing otherwise.
    """
    if source is None:
        return ""
    if source.suffix.lower() in (".yaml", ".yml"):
        from runlab.design.sweeptext import read_documents

        try:
            head = read_documents(source, str(source))[0]
        except (OSError, UsageError, IndexError):
            return f"{source}: "
        return f"{source}:{head.at('metrics', *path)}: "
    return f"{source}: "


@dataclass(frozen=True)
class SweepDocument:
    """One sweep document of a YAML file: its own design, ``_title`` and ``_cmd``.

    ``design`` already carries the file's defaults, where rules and aliases, so the
    documents' designs together make the sweep's design. ``commands`` is ``None`` for
    "every command of the template" or the names ``_cmd`` picked, in template order.
    ``line`` is where the document starts in its file.
    """

    design: Design
    title: str | None = None
    commands: tuple[str, ...] | None = None
    line: int | None = None


@dataclass(frozen=True)
class Sweep:
    """A design, what to do with each config, and how to launch it: one immutable value.

    - ``name``: the sweep's name (``{_sweep}`` in templates, the run index's sweep column);
    - ``design``: the configurations (Point, Grid, Sample or Group);
    - ``task``: a :class:`~runlab.tasks.CommandTask`, a :class:`~runlab.tasks.CallableTask`,
      or ``None`` when the caller supplies one (``runlab run -x module:function``);
    - ``store``: the store folder as written, or ``None`` for the caller's default;
    - ``workers``: parallel CPU slots; ``resources``: device slots (see
      :func:`parse_resources`), one worker each;
    - ``repeat``: run every config N times with ``seed = 0..N-1`` (applied by
      :meth:`expand`, after the design's own where rules see the seed);
    - ``timeout``: seconds per run attempt; ``retries``: extra attempts of a failed run;
    - ``after``: a shell command run once when the whole sweep has finished;
    - ``metrics``: log metrics to parse after each run (see :func:`check_metrics`);
    - ``source``: the file the sweep was read from;
    - ``documents``: a YAML file's sweep documents (empty for Python designs), which
      :meth:`task_for` and :meth:`select_title` use.

    A Sweep holds mappings, so it is not hashable; compare expansions instead.
    """

    name: str
    design: Design
    task: Task | None = None
    store: str | None = None
    workers: int | None = None
    resources: tuple[tuple[str, ...], ...] = ()
    repeat: int | None = None
    timeout: float | None = None
    retries: int = 0
    after: str | None = None
    metrics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: Path | None = None
    documents: tuple[SweepDocument, ...] = ()

    def __post_init__(self) -> None:
        # Normalised in place, as sqlite-utils' ForeignKey does: the object stays immutable.
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.name, str) or not self.name.strip():
            raise UsageError(f"Sweep: name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.design, Design):
            raise UsageError(
                f"Sweep {self.name!r}: design must be a Point, Grid, Sample or Group, "
                f"got {type(self.design).__name__}"
            )
        if self.task is not None and not isinstance(self.task, (CommandTask, CallableTask)):
            raise UsageError(
                f"Sweep {self.name!r}: task must be a CommandTask or CallableTask, "
                f"got {type(self.task).__name__}"
            )
        if self.store is not None and (not isinstance(self.store, str) or not self.store):
            raise UsageError(f"Sweep {self.name!r}: store must be a folder path string")
        _positive_int(self.workers, what="workers", minimum=1)
        _positive_int(self.repeat, what="repeat", minimum=1)
        _positive_int(self.retries, what="retries", minimum=0)
        put("resources", parse_resources(self.resources))
        put("timeout", parse_timeout(self.timeout))
        if self.after is not None:
            if not isinstance(self.after, str):
                raise UsageError(f"after: expected a command string, got {self.after!r}")
            # Run once for the whole sweep, so only reserved names can have a value.
            Command.parse("after", self.after).check(())
        if self.source is not None:
            put("source", Path(self.source))
        put("metrics", check_metrics(self.metrics, source=self.source))
        put("documents", tuple(self.documents))
        picks = any(doc.commands is not None for doc in self.documents)
        if picks and not isinstance(self.task, CommandTask):
            raise UsageError("_cmd picks named commands of a template, and this sweep has none")

    # -- what a launcher asks ------------------------------------------------------

    def expand(self) -> Expansion:
        """Return the sweep's configs, named, with ``repeat`` applied (computed once)."""
        return self._expansion

    @functools.cached_property
    def _expansion(self) -> Expansion:
        # A frozen dataclass still has a __dict__, which cached_property writes directly.
        return self._repeated(self.design).expand(self.name)

    def _repeated(self, design: Design) -> Design:
        return design if self.repeat is None else Group(design, repeat=self.repeat)

    @property
    def picks_commands(self) -> bool:
        """Whether a document picks commands (``_cmd``): then configs may run other steps."""
        return any(doc.commands is not None for doc in self.documents)

    def task_for(self, config: Config) -> Task | None:
        """Return the task to run on ``config``: the sweep's, selecting its documents' ``_cmd``.

        A config several documents generate executes every command any of them picked
        (it runs once, so it must run all of them), in template order; one from a
        document without ``_cmd`` executes every command. The selection never changes
        the run's identity (see :class:`~runlab.tasks.CommandTask`).
        """
        if not isinstance(self.task, CommandTask):
            return self.task
        names = self._commands_by_hash.get(config.hash)
        if names is None:
            return self.task
        return self._selections(names)

    def _selections(self, names: frozenset[str]) -> CommandTask:
        """The task selecting ``names``: one object per selection, so a plan of many
        configs shares a handful of tasks."""
        task = self._selection_cache.get(names)
        if task is None:
            assert isinstance(self.task, CommandTask)
            task = self._selection_cache[names] = self.task.select(names)
        return task

    @functools.cached_property
    def _selection_cache(self) -> dict[frozenset[str], CommandTask]:
        return {}

    @functools.cached_property
    def _commands_by_hash(self) -> dict[str, frozenset[str] | None]:
        """Config hash → the command names its documents picked (``None``: all)."""
        if not any(doc.commands is not None for doc in self.documents):
            return {}
        picked: dict[str, frozenset[str] | None] = {}
        for doc in self.documents:
            names = None if doc.commands is None else frozenset(doc.commands)
            for config in self._repeated(doc.design).expand(self.name):
                if config.hash not in picked:
                    picked[config.hash] = names
                    continue
                before = picked[config.hash]
                picked[config.hash] = None if before is None or names is None else before | names
        return picked

    def check(self) -> None:
        """Raise UsageError unless the sweep has configs and every command has its values.

        Expands the design (so where rules, repeat keys and name templates are checked)
        and checks each config's commands against its keys: the check a sweep needs
        after anything changed it, before anything runs.
        """
        expansion = self.expand()
        if not len(expansion):
            dropped = len(expansion.dropped)
            raise UsageError(
                f"sweep {self.name!r} has no configs: its where rules drop all {dropped}"
            )
        if not isinstance(self.task, CommandTask):
            return
        if not self.picks_commands:  # one task: check each distinct list of keys once
            shapes = list(map(tuple, map(operator.attrgetter("params"), expansion)))
            for shape in dict.fromkeys(shapes):
                try:
                    self.task.check(shape)
                except UsageError as err:
                    config = expansion[shapes.index(shape)]
                    raise UsageError(f"config #{config.index} {config.name}: {err}") from None
            return
        # A sweep has few distinct (task, key set) pairs; the dict keeps each task alive,
        # so its id is not reused while it is a key.
        checked: dict[tuple[int, frozenset[str]], Task] = {}
        for config in expansion:
            task = self.task_for(config)
            assert task is not None
            seen = (id(task), frozenset(config.params))
            if seen in checked:
                continue
            try:
                task.check(config.params)
            except UsageError as err:
                raise UsageError(f"config #{config.index} {config.name}: {err}") from None
            checked[seen] = task

    # -- narrowing -----------------------------------------------------------------

    def select_title(self, title: str) -> Sweep:
        """Return the sweep of the documents whose ``_title`` is ``title`` (mlrunner's ``-t``)."""
        titles = [doc.title for doc in self.documents if doc.title is not None]
        where = f"{self.source}: " if self.source else ""
        if not titles:
            raise UsageError(f"{where}no sweep document has a _title, so none is titled {title!r}")
        chosen = tuple(doc for doc in self.documents if doc.title == title)
        if not chosen:
            known = ", ".join(repr(t) for t in dict.fromkeys(titles))
            raise UsageError(f"{where}no sweep document has _title {title!r}; titles: {known}")
        return dataclasses.replace(self, design=union(d.design for d in chosen), documents=chosen)

    def subsample(self, n: int, *, seed: int = 0) -> Sweep:
        """Return the sweep of ``n`` configs from each document (mlrunner's ``--sample N``).

        Which ``n``: see :mod:`runlab.design.subsample` (the same ones on every
        invocation; a larger ``n`` keeps them). A Python design counts as one document.
        """
        from runlab.design.subsample import Subsample

        if not self.documents:
            return dataclasses.replace(self, design=Subsample(self.design, n, seed=seed))
        documents = tuple(
            dataclasses.replace(doc, design=Subsample(doc.design, n, seed=seed))
            for doc in self.documents
        )
        return dataclasses.replace(
            self, design=union(d.design for d in documents), documents=documents
        )

    def with_commands(self, names: Sequence[str]) -> Sweep:
        """Return the sweep executing only the named commands (mlrunner's ``run -c``).

        It replaces every document's ``_cmd``: each config executes these commands, in
        template order, of those it has not completed yet. As with ``_cmd``, the run is
        still its config and its whole template: ``-c train`` then ``-c test`` are two
        steps of one run, in one folder.
        """
        from runlab.design.sweeptext import suggest

        if not isinstance(self.task, CommandTask):
            raise UsageError(
                f"--command picks named commands of a template, and sweep {self.name!r} has none"
            )
        known = list(self.task.names)
        wanted = {name.strip() for name in names if name.strip()}
        if not wanted:
            raise UsageError("--command: give at least one command name")
        for name in sorted(wanted):
            if name not in known:
                raise UsageError(
                    f"--command: no command {name!r} in the template{suggest(name, known)}; "
                    f"commands: {', '.join(known)}"
                )
        documents = tuple(dataclasses.replace(doc, commands=None) for doc in self.documents)
        return dataclasses.replace(self, task=self.task.select(wanted), documents=documents)


def union(designs: Any) -> Design:
    """Return one design for several: the design itself, or the Group of them in order."""
    members: Sequence[Design] = tuple(designs)
    return members[0] if len(members) == 1 else Group(*members)
