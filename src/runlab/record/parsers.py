"""Pull metrics out of run logs into ``summary.json``: sweep ``metrics:`` and ``@runlab.parser``.

Two kinds of parser, one shape: a callable that takes a
:class:`~runlab.record.reader.RunReader` and returns a dict of values.

- A sweep file's ``metrics:`` entry becomes a :class:`MetricRule`: a regex searched
  line by line in the newest log of that name (see ``RunReader.latest_log``)::

      metrics:
        bleu: {log: test, regex: 'BLEU4 = ([0-9.]+)', last: true, type: float}

- A Python function marked with :func:`parser` (mlrunner's Examiner parsers), applied
  by ``runlab parse --parser module`` (every marked function of the module, in order)
  or ``--parser module:function`` (that one)::

      @runlab.parser
      def bleu(run):
          return {"bleu": read_bleu(run.latest_log("test"))}

The mark is an attribute on the function, not an entry in a global table: the module is
the registry, and importing it twice registers nothing twice.

:func:`apply_parsers` parses one run and merges the values into its ``summary.json``
(the launcher calls it as each run ends); :func:`parse_runs` does it for many runs, in
worker processes if asked, with the same result for any number of workers. A parser
that raises, a missing log or a regex that matches nothing is one notice naming the
run, and parsing goes on.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from runlab.canonical import to_jsonable
from runlab.errors import UsageError
from runlab.record.files import atomic_write_json, read_json
from runlab.record.layout import RunDir, StoreLayout
from runlab.record.reader import RunReader
from runlab.record.status import RunStatus

Parser = Callable[[RunReader], Mapping[str, Any]]
F = TypeVar("F", bound=Callable[..., Any])

PARSER_MARK = "__runlab_parser__"
_CONVERT: dict[str, Callable[[str], Any]] = {"float": float, "int": int, "str": str}
_BLOCK = 65536


class ParseWarning(UserWarning):
    """A metric could not be parsed from a run's logs (no log, no match, a parser failed)."""


class Unparsed(Exception):
    """A parser found nothing to return for this run; the message says why, in one line."""


def parser(fn: F) -> F:
    """Mark ``fn(run) -> dict`` as a log parser and return it unchanged.

    ``runlab parse --parser module`` applies every marked function of ``module`` to each
    run and merges the returned values into the run's summary.

    Usage::

        @runlab.parser
        def bleu(run):
            text = run.latest_log("test").read_text()
            return {"bleu": float(re.findall(r"BLEU4 = ([0-9.]+)", text)[-1])}
    """
    if not callable(fn):
        raise UsageError(f"@runlab.parser marks a function fn(run) -> dict, not {fn!r}")
    setattr(fn, PARSER_MARK, True)
    return fn


def parser_name(fn: Parser) -> str:
    """The name of a parser in notices: ``metrics.<name>``, its ``name``, or ``module:function``."""
    if isinstance(fn, MetricRule):
        return f"metrics.{fn.name}"
    name = getattr(fn, "name", None)
    if isinstance(name, str):
        return name
    module = getattr(fn, "__module__", None) or "?"
    return f"{module}:{getattr(fn, '__qualname__', type(fn).__name__)}"


@dataclass(frozen=True)
class MetricRule:
    """One ``metrics:`` entry of a sweep file, as a parser: a regex over one log.

    ``log`` names the log (see ``RunReader.latest_log``); ``regex`` is searched in each
    line, and its one group is the value (with several groups, all named, each is a
    value under the metric's name: ``{bleu: {score: 27.1, bp: 0.98}}``, the columns
    ``metrics.bleu.score`` and ``metrics.bleu.bp``); ``last`` takes the last matching
    line, else the first; ``type`` converts the text. Build them with
    :func:`metric_rules` from a checked mapping.
    """

    name: str
    log: str
    regex: re.Pattern[str]
    last: bool = True
    type: str = "float"

    def __call__(self, run: RunReader) -> dict[str, Any]:
        path = run.latest_log(self.log)
        if path is None:
            raise Unparsed(f"no log {self.log!r}")
        where = path.relative_to(run.dir)
        match = _search(path, self.regex, last=self.last)
        if match is None:
            raise Unparsed(f"{where}: no line matches {self.regex.pattern!r}")
        convert = _CONVERT[self.type]
        named = self.regex.groupindex
        texts = {k: match[k] for k in named} if len(named) > 1 else {self.name: match[1]}
        values: dict[str, Any] = {}
        for key, text in texts.items():
            if text is None:  # a named group in a branch that did not match
                continue
            try:
                values[key] = convert(text.strip())
            except ValueError:
                raise Unparsed(f"{where}: {text!r} is not {_article(self.type)}") from None
        if not values:
            raise Unparsed(f"{where}: no named group of {self.regex.pattern!r} matched")
        return {self.name: values} if len(named) > 1 else values


def metric_rules(metrics: Mapping[str, Mapping[str, Any]]) -> tuple[MetricRule, ...]:
    """Return the parsers of a sweep's ``metrics:`` mapping (checked by ``check_metrics``)."""
    return tuple(
        MetricRule(
            name,
            str(options["log"]),
            re.compile(str(options["regex"])),
            last=bool(options.get("last", True)),
            type=str(options.get("type", "float")),
        )
        for name, options in metrics.items()
    )


@dataclass(frozen=True)
class FunctionParser:
    """A parser named ``module:function`` (or ``path/file.py:function``), imported on first use.

    Only the name travels to worker processes, which import the function themselves.
    """

    ref: str
    label: str = ""

    @property
    def name(self) -> str:
        """The reference as the user wrote it, for notices."""
        return self.label or self.ref

    def __call__(self, run: RunReader) -> Mapping[str, Any]:
        return _load_function(self.ref)(run)


@functools.cache
def _load_function(ref: str) -> Callable[[RunReader], Mapping[str, Any]]:
    from runlab.imports import import_module

    module_name, _, attr = ref.rpartition(":")
    module, _ = import_module(module_name, what=f"parser {ref!r}")
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise UsageError(f"parser {ref!r}: {module_name} has no function {attr!r}")
    return fn  # type: ignore[no-any-return]


def load_parsers(refs: Sequence[str]) -> tuple[FunctionParser, ...]:
    """Return the parsers ``--parser`` names: ``module:function``, or all ``@parser`` of ``module``.

    A file reference (``parsers.py``, ``tools/parsers.py:bleu``) is made absolute, so
    worker processes find it wherever they start. Raises UsageError naming the reference.
    """
    from runlab.imports import import_module, is_file_ref

    found: list[FunctionParser] = []
    for ref in refs:
        module_name, colon, attr = ref.rpartition(":") if ":" in ref else (ref, "", "")
        if not module_name.strip() or (colon and not attr.strip()):
            raise UsageError(f"parser {ref!r}: write module, module:function or file.py:function")
        try:
            module, _ = import_module(module_name, what=f"parser {ref!r}")
        except ImportError as exc:
            raise UsageError(f"parser {ref!r}: cannot import {module_name} ({exc})") from exc
        if attr:
            if not callable(getattr(module, attr, None)):
                raise UsageError(f"parser {ref!r}: {module_name} has no function {attr!r}")
            names = [attr]
        else:
            names = [n for n, v in vars(module).items() if getattr(v, PARSER_MARK, None) is True]
            if not names:
                raise UsageError(
                    f"parser {ref!r}: {module_name} has no @runlab.parser function; "
                    "mark one or name it as module:function"
                )
        where = str(Path(module_name).absolute()) if is_file_ref(module_name) else module_name
        found.extend(FunctionParser(f"{where}:{n}", f"{module_name}:{n}") for n in names)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class RunParse:
    """What parsing one run gave: its values, and one notice per thing that was skipped."""

    run_id: str
    values: Mapping[str, Any] = field(default_factory=dict)
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParseReport:
    """What :func:`parse_runs` did: runs that got values, values, things skipped, notices."""

    runs: int
    values: int
    skipped: int
    notices: tuple[str, ...]

    def line(self) -> str:
        """The one-line summary ``runlab parse`` prints."""
        return f"parsed {self.runs} runs, {self.values} values; skipped {self.skipped}"


def parse_run(run: RunReader, parsers: Sequence[Parser]) -> RunParse:
    """Apply ``parsers`` in order to one run; later values win. Never raises for a parser.

    A parser that raises, or returns something other than a dict, is one notice naming
    the run and the parser; its values are left out.
    """
    values: dict[str, Any] = {}
    notices: list[str] = []
    for fn in parsers:
        try:
            found = fn(run)
        except Unparsed as why:
            notices.append(f"run {run.id}: {parser_name(fn)}: {why}")
            continue
        except Exception as exc:  # the user's code: reported, and the next parser runs
            message = str(exc).strip().splitlines()
            error = f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
            notices.append(f"run {run.id}: parser {parser_name(fn)} raised {error}")
            continue
        if not isinstance(found, Mapping):
            notices.append(
                f"run {run.id}: parser {parser_name(fn)} returned "
                f"{type(found).__name__}, not a dict"
            )
            continue
        values.update(to_jsonable(dict(found)))
    return RunParse(run.id, values, tuple(notices))


def write_values(run_dir: RunDir, values: Mapping[str, Any]) -> bool:
    """Merge ``values`` into ``summary.json`` atomically; False (and no write) if nothing changes.

    Writes no change marker: the caller decides when the index must look again.
    """
    summary = read_json(run_dir.summary_json, default={}, warn=False)
    if not isinstance(summary, dict):
        summary = {}
    if all(key in summary and summary[key] == value for key, value in values.items()):
        return False
    atomic_write_json(run_dir.summary_json, {**summary, **values})
    return True


def apply_parsers(run_dir: RunDir, parsers: Sequence[Parser]) -> RunParse:
    """Parse one run and merge its values into its ``summary.json``; never raises for a parser.

    The launcher calls this right before it records an attempt's end, so the values are
    in the summary when the run shows as finished.
    """
    result = parse_run(RunReader(run_dir), parsers)
    if result.values:
        write_values(run_dir, result.values)
    return result


def parse_runs(
    layout: StoreLayout,
    run_dirs: Sequence[RunDir],
    parsers: Sequence[Parser],
    *,
    workers: int = 1,
    on_result: Callable[[RunParse], None] | None = None,
) -> ParseReport:
    """Parse many runs, merge the values into their summaries and mark them changed.

    Folders without ``params.json`` and runs still running are skipped with a notice.
    With ``workers > 1`` the parsing (reading logs) happens in a process pool; this
    process alone writes the summaries, in ``run_dirs`` order, so the result is the same
    for any number of workers. ``on_result`` sees each run's result as it is recorded.

    Usage::

        rules = metric_rules(load_sweep("params.yaml").metrics)
        report = parse_runs(store.layout, store.layout.iter_run_dirs(), rules, workers=4)
        print(report.line())        # parsed 5 runs, 5 values; skipped 0
    """
    if workers < 1:
        raise UsageError(f"workers must be a positive int, got {workers}")
    runs = values = skipped = 0
    notices: list[str] = []
    for run_dir, result in zip(
        run_dirs, _parse_all(run_dirs, tuple(parsers), workers), strict=True
    ):
        if result.values:
            runs += 1
            values += _count(result.values)
            if write_values(run_dir, result.values):
                layout.mark_changed(run_dir.id)
        skipped += len(result.notices)
        notices.extend(result.notices)
        if on_result is not None:
            on_result(result)
    return ParseReport(runs, values, skipped, tuple(notices))


def _parse_all(
    run_dirs: Sequence[RunDir], parsers: tuple[Parser, ...], workers: int
) -> Iterator[RunParse]:
    paths = [str(d.path) for d in run_dirs]
    job = functools.partial(_parse_folder, parsers=parsers)
    if workers == 1 or len(paths) < 2:
        yield from map(job, paths)
        return
    from concurrent.futures import ProcessPoolExecutor

    count = min(workers, len(paths))
    # Chunks amortise the pickling of the parsers; map keeps run order whatever finishes first.
    chunk = max(1, len(paths) // (count * 4))
    with ProcessPoolExecutor(max_workers=count) as pool:
        yield from pool.map(job, paths, chunksize=chunk)


def _parse_folder(path: str, *, parsers: tuple[Parser, ...]) -> RunParse:
    """One run's parse, as a worker process does it: skip what is not a finished run."""
    run = RunReader(RunDir(Path(path)))
    if not os.path.exists(run.run_dir.params_json):
        return RunParse(run.id, {}, (f"run {run.id}: no params.json; skipped",))
    if run.status is RunStatus.RUNNING:
        return RunParse(run.id, {}, (f"run {run.id}: still running; skipped",))
    return parse_run(run, parsers)


def _count(values: Mapping[str, Any]) -> int:
    """How many values a (possibly nested) mapping holds: what the index gets as columns."""
    return sum(_count(v) if isinstance(v, Mapping) and v else 1 for v in values.values())


def _search(path: Path, regex: re.Pattern[str], *, last: bool) -> re.Match[str] | None:
    """The first (or last) match of ``regex`` in a line of ``path``; the last reads backwards.

    A line with several matches (progress bars redraw with ``\\r``) gives its first, or
    its last when ``last`` is true.
    """
    lines = _lines_backwards(path) if last else _lines_forwards(path)
    with contextlib.closing(lines):  # stopping early closes the file now, not at GC
        for line in lines:
            if last:
                matches = list(regex.finditer(line))
                found = matches[-1] if matches else None
            else:
                found = regex.search(line)
            if found is not None:
                return found
    return None


def _lines_forwards(path: Path) -> Generator[str, None, None]:
    with path.open("rb") as f:
        for raw in f:
            yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _lines_backwards(path: Path) -> Generator[str, None, None]:
    """The lines of ``path`` from the last to the first, reading blocks from the end.

    A log can be gigabytes and the value usually sits near its end.
    """
    with path.open("rb") as f:
        pos = f.seek(0, os.SEEK_END)
        rest = b""
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            f.seek(pos)
            parts = (f.read(step) + rest).split(b"\n")
            rest = parts[0]  # may be cut: completed by the block before it
            for raw in reversed(parts[1:]):
                yield raw.decode("utf-8", errors="replace").rstrip("\r")
        yield rest.decode("utf-8", errors="replace").rstrip("\r")


def _article(kind: str) -> str:
    return {"float": "a float", "int": "an int", "str": "a str"}[kind]
