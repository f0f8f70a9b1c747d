"""The YAML sweep file → a :class:`~runlab.design.sweep.Sweep`, with errors naming file:line.

The grammar is mlrunner's ``params.yaml``, which runs unchanged, plus runlab's keys:

- the **first document** holds settings: ``template`` (one command string, or a mapping
  of named commands run in order), ``default`` (params under every config),
  ``resource`` (device slots: ``[0, 1, 2, 3]`` is four one-GPU workers, ``["0,1"]`` one
  two-GPU worker), ``alias`` (mlrunner's renames, below); and runlab's ``name``,
  ``store``, ``workers``, ``repeat``, ``where`` (a rule or a list), ``sample: {n, seed}``,
  ``timeout`` (``30``, ``"30s"``, ``"10m"``, ``"2h"``), ``retries``, ``after`` (a command
  run once at the end), ``metrics`` (kept for the metric parsers) and ``task`` (a
  ``module:function`` callable instead of ``template``);
- each **later document** is a Grid over its list-valued keys (write a list value as
  ``[[64, 64]]``), merged over the defaults; configs that several documents generate
  run once. With ``sample:``, each document is a Sample of ``n`` draws instead: a list
  is a uniform choice and a string like ``"loguniform(1e-4, 1e-1)"`` a distribution
  (read with :mod:`ast`, never ``eval``). With no later document the defaults are the
  one config.

Reserved document keys, as in mlrunner: ``_title`` labels a document, and
``load_sweep(path, title=...)`` (mlrunner's ``run -t``) keeps only the documents of that
title; it is neither a param nor part of run names. ``_cmd`` (a name, ``"train,test"``,
or a list) picks which named commands that document's configs run: see
:meth:`Sweep.task_for <runlab.design.sweep.Sweep.task_for>`.

``alias`` maps a param to others, applied to every config after defaults merge (where
rules see the result): ``arch: {preln: {pre: true}, postln: {pre: false}}`` replaces
``arch`` by the params of its value, and ``ffn: [enc-ffn, dec-ffn]`` sets both names to
``ffn``'s value. Templates name the targets, never the alias.

Values read as they look (``1e-4`` is a float, ``2024-01-01`` a string: see
:mod:`runlab.design.sweeptext`), and commands are joined onto one line as mlrunner does.
The whole file is checked before anything runs; each error is one line such as
``params.yaml:7: unknown key 'wokers' (did you mean 'workers'?)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runlab.canonical import canonical_value
from runlab.design.alias import Alias, Aliased, read_aliases
from runlab.design.base import Design
from runlab.design.designs import Grid, Point, Sample
from runlab.design.rules import compile_rules
from runlab.design.sweep import Sweep, SweepDocument, parse_resources, parse_timeout, union
from runlab.design.sweephead import HELP, Settings, read_settings
from runlab.design.sweeptext import YamlDocument, parse_distribution, read_documents, suggest
from runlab.errors import UsageError
from runlab.tasks import CallableTask, Command, CommandTask, Task

DOCUMENT_KEYS = ("_cmd", "_title")
_COMMAND_NAME = re.compile(r"^[\w.-]+$")


def _clean_command(text: str) -> str:
    """Join a command onto one line, as mlrunner does: ``>`` and ``|`` blocks read alike.

    A backslash ending a line is a shell continuation, so it goes with the newline.
    """
    return re.sub(r"\s*\\?\n\s*", " ", text).strip()


def _template(
    settings: Settings, head: YamlDocument, file: str
) -> tuple[CommandTask, dict[str, str]]:
    """Return the task of ``template:`` and, per command name, the ``file:line: `` of it."""
    raw = settings.template
    if isinstance(raw, str):
        named = {"main": (raw, head.at("template"))}
    else:
        named = {name: (text, head.at("template", name)) for name, text in raw.items()}
    if not named:
        raise UsageError(f"{file}:{head.at('template')}: template: no commands given")
    commands, lines = [], {}
    for name, (text, line) in named.items():
        if not _COMMAND_NAME.match(name):
            raise UsageError(
                f"{file}:{line}: command name {name!r} must be letters, digits, '_', '.' or '-'"
            )
        lines[name] = f"{file}:{line}: "
        commands.append(Command.parse(name, _clean_command(text), where=lines[name]))
    return CommandTask(tuple(commands)), lines


def _params(
    data: Mapping[Any, Any], doc: YamlDocument, file: str, *, path: tuple[str, ...], sample: bool
) -> dict[str, Any]:
    """Return checked params of a document (or of ``default:``), distributions parsed."""
    params: dict[str, Any] = {}
    for key, value in data.items():
        line = doc.at(*path, str(key))
        if not isinstance(key, str) or not key:
            raise UsageError(f"{file}:{line}: param names must be non-empty strings, got {key!r}")
        if key.startswith("_") and path:
            raise UsageError(f"{file}:{line}: {key!r}: param names starting with _ are reserved")
        if key.startswith("_"):
            hint = suggest(key, DOCUMENT_KEYS).replace(" (", "; ").rstrip(")")
            raise UsageError(
                f"{file}:{line}: {key!r} is reserved (document keys are _title and _cmd{hint})"
            )
        if isinstance(value, list) and not value:
            raise UsageError(
                f"{file}:{line}: {key}: empty list; give at least one value "
                "(write [[]] for the value [])"
            )
        if isinstance(value, str):
            try:
                drawn = parse_distribution(value, strict=sample)
            except UsageError as err:
                raise UsageError(f"{file}:{line}: {key}: {err}") from None
            if drawn is not None:
                if not sample:
                    where = "default values are fixed" if path else "this file has no sample:"
                    raise UsageError(
                        f"{file}:{line}: {key}: {value!r} is a distribution, but {where}; "
                        "add sample: {n: N} to the first document to draw from it"
                    )
                params[key] = drawn
                continue
        try:
            canonical_value(value, key=key)
        except UsageError as err:
            raise UsageError(f"{file}:{line}: {err}") from None
        params[key] = value
    return params


def _commands(raw: Any, task: CommandTask | None, doc: YamlDocument, file: str) -> tuple[str, ...]:
    """Return the command names ``_cmd`` picks, in template order."""
    line = doc.at("_cmd")
    if task is None:
        raise UsageError(f"{file}:{line}: _cmd picks commands of template:, and there is none")
    names = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{file}:{line}: _cmd: expected a command name or a list of names")
    known = [c.name for c in task.commands]
    for name in (n.strip() for n in names):
        if name not in known:
            raise UsageError(
                f"{file}:{line}: _cmd: no command {name!r} in template{suggest(name, known)}"
            )
    return tuple(n for n in known if n in {m.strip() for m in names})


def _check_commands(
    task: CommandTask,
    lines: Mapping[str, str],
    keys: set[str],
    aliases: Mapping[str, Alias],
    *,
    picked: tuple[str, ...] | None,
    suffix: str,
) -> None:
    """Check each command a document runs against the keys its configs have."""
    for command in task.commands:
        if picked is not None and command.name not in picked:
            continue
        where = lines[command.name]
        for param in command.params:
            if param in aliases:
                raise UsageError(
                    f"{where}command {command.name!r}: {param!r} is an alias; name the "
                    f"params it sets ({', '.join(sorted(aliases[param].sets))})"
                )
        try:
            command.check(keys, where=where)
        except UsageError as err:
            raise UsageError(f"{err} {suffix}") from None


def _blame(message: str, head: YamlDocument, settings: Settings) -> int:
    """Return the line of the setting an expansion error comes from."""
    if message.startswith("where rule") and settings.where is not None:
        rules = [settings.where] if isinstance(settings.where, str) else settings.where
        for i, rule in enumerate(rules):
            if repr(rule) in message or repr(rule.strip()) in message:
                return head.at("where") if isinstance(settings.where, str) else head.at("where", i)
        return head.at("where")
    if message.startswith("alias "):
        return head.at("alias", message.split("'")[1])
    return head.line


def _task(settings: Settings, head: YamlDocument, file: str) -> tuple[Task | None, dict[str, str]]:
    """Return the task of ``template:`` or ``task:``, and each command's ``file:line: ``."""
    task: Task | None = None
    lines: dict[str, str] = {}
    if settings.template is not None:
        task, lines = _template(settings, head, file)
    if settings.task is not None:
        line = head.at("task")
        if task is not None:
            raise UsageError(f"{file}:{line}: task: give template: or task:, not both")
        module, _, function = settings.task.rpartition(":")
        if not module.strip() or not function.strip():
            raise UsageError(f"{file}:{line}: task: expected {HELP['task']}, got {settings.task!r}")
        task = CallableTask(settings.task)
    return task, lines


def _options(settings: Settings, head: YamlDocument, file: str) -> dict[str, Any]:
    """Return the launch options of the first document, checked, with file:line errors."""
    resources = parse_resources(settings.resource, what=f"{file}:{head.at('resource')}: resource")
    if settings.resource is not None and not resources:
        raise UsageError(f"{file}:{head.at('resource')}: resource: empty; give device ids")
    if settings.workers is not None and resources and settings.workers != len(resources):
        raise UsageError(
            f"{file}:{head.at('workers')}: workers: {settings.workers} but resource gives "
            f"{len(resources)} slots; remove one or make them agree"
        )
    after = None
    if settings.after is not None:
        after, where = _clean_command(settings.after), f"{file}:{head.at('after')}: "
        Command.parse("after", after, where=where).check((), where=where)
    rules = settings.where
    for i, rule in enumerate([rules] if isinstance(rules, str) else rules or []):
        try:
            compile_rules(rule)
        except UsageError as err:
            line = head.at("where") if isinstance(rules, str) else head.at("where", i)
            raise UsageError(f"{file}:{line}: {err}") from None
    return {
        "store": settings.store,
        "workers": settings.workers,
        "resources": resources,
        "repeat": settings.repeat,
        "timeout": parse_timeout(settings.timeout, what=f"{file}:{head.at('timeout')}: timeout"),
        "retries": settings.retries or 0,
        "after": after,
        "metrics": settings.metrics,
    }


def load_sweep(path: str | Path, *, title: str | None = None) -> Sweep:
    """Read a YAML sweep file into a checked :class:`~runlab.design.sweep.Sweep`.

    ``title`` keeps only the documents whose ``_title`` it is (mlrunner's ``run -t``).
    Raises UsageError, one line naming ``file:line`` and the key, for anything wrong in
    the file; nothing runs before the whole file is checked.

    Usage::

        sweep = load_sweep("params.yaml")
        len(sweep.expand())     # the configs to run; duplicates across documents run once
    """
    path = Path(path)
    file = str(path)
    documents = read_documents(path, file)
    if not documents:
        raise UsageError(f"{file}:1: the file is empty; start with a settings document")
    head = documents[0]
    settings = read_settings(head, file)
    task, lines = _task(settings, head, file)
    options = _options(settings, head, file)
    defaults = _params(settings.default or {}, head, file, path=("default",), sample=False)
    aliases = read_aliases(settings, head, file)

    parts = [
        _document(doc, file, settings, task, defaults, aliases)
        for doc in documents[1:]
        if doc.data is not None  # an empty document, such as a trailing ---
    ]
    sweep_documents = tuple(document for document, _ in parts)
    if parts:
        design = union(document.design for document in sweep_documents)
    else:  # no sweep document: the defaults are the one config
        design = Point(params={}, defaults=defaults, where=settings.where)
        design = Aliased(design, aliases) if aliases else design
        parts.append((SweepDocument(design), set()))

    if isinstance(task, CommandTask):
        for document, keys in parts:
            known = set(defaults) | keys | ({"seed"} if settings.repeat else set())
            for alias in aliases.values():
                if alias.name in known:
                    known = (known - {alias.name}) | alias.sets
            suffix = f"in the document at line {document.line}" if document.line else "in default:"
            _check_commands(task, lines, known, aliases, picked=document.commands, suffix=suffix)

    name = settings.name or path.stem
    sweep = Sweep(name, design, task, source=path, documents=sweep_documents, **options)
    try:
        sweep.expand()  # where rules on every config, repeat keys, aliases' values
    except UsageError as err:
        message = str(err)
        if "repeat key" in message:
            raise UsageError(
                f"{file}:{head.at('repeat')}: repeat: it sets 'seed', which a config "
                "already has as a param; rename that param or drop repeat"
            ) from None
        raise UsageError(f"{file}:{_blame(message, head, settings)}: {message}") from None
    if title is not None:
        sweep = sweep.select_title(title)
    expansion = sweep.expand()
    if not len(expansion):
        line = head.at("where") if settings.where is not None else head.line
        of_title = "" if title is None else f" of the documents titled {title!r}"
        raise UsageError(
            f"{file}:{line}: no configs to run: the where rules drop all "
            f"{len(expansion.dropped)} generated configs{of_title}"
        )
    return sweep


def _document(
    doc: YamlDocument,
    file: str,
    settings: Settings,
    task: Task | None,
    defaults: Mapping[str, Any],
    aliases: Mapping[str, Alias],
) -> tuple[SweepDocument, set[str]]:
    """Return one sweep document as a design, with the param keys it sets itself."""
    if not isinstance(doc.data, dict):
        raise UsageError(
            f"{file}:{doc.line}: a sweep document must be a mapping of params, "
            f"not a {type(doc.data).__name__}"
        )
    data = dict(doc.data)
    raw_title, raw_cmd = data.pop("_title", None), data.pop("_cmd", None)
    if raw_title is not None and not isinstance(raw_title, (str, int)):
        raise UsageError(f"{file}:{doc.at('_title')}: _title: expected a name")
    commands = None
    if raw_cmd is not None:
        commands = _commands(raw_cmd, task if isinstance(task, CommandTask) else None, doc, file)
    sample = settings.sample
    params = _params(data, doc, file, path=(), sample=sample is not None)
    try:
        if sample is not None:
            design: Design = Sample(
                sample.n, seed=sample.seed, params=params, defaults=defaults, where=settings.where
            )
        else:
            design = Grid(params=params, defaults=defaults, where=settings.where)
    except UsageError as err:
        raise UsageError(f"{file}:{doc.line}: {err}") from None
    if aliases:
        design = Aliased(design, aliases)
    title = None if raw_title is None else str(raw_title)
    return SweepDocument(design, title, commands, doc.line), set(params)
