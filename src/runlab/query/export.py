"""Write a :class:`~runlab.query.table.RunTable` to a file whose suffix names the format.

Data formats keep values exactly: ``.csv`` (one header row of column names; missing is
empty; lists as JSON), ``.json`` (a list of records, the same as ``ls --json``; it
loads back to the same records) and ``.parquet`` (typed columns; needs the
``parquet`` extra; JSON and mixed columns that Arrow cannot type are written as JSON
text). Presentation formats show numbers as the terminal does (6 significant digits):
``.md`` (a GitHub table, numbers right-aligned), ``.tex`` (a ``tabular`` that compiles:
LaTeX specials escaped in cells and headers) and ``.html`` (a ``<table>`` fragment,
text escaped).

Every file is written whole or not at all (temp file + rename); an unknown suffix
writes nothing.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from runlab.errors import UsageError
from runlab.query.table import RunTable
from runlab.query.types import DType
from runlab.record.files import atomic_write_text

PARQUET_HINT = "pip install 'runlab[parquet]'"


def export(table: RunTable, path: Path) -> Path:
    """Write ``table`` to ``path`` in the format its suffix names; return ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    writer = WRITERS.get(suffix)
    if writer is None:
        known = ", ".join(sorted(WRITERS))
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise UsageError(f"cannot export to {path}: {got}; use one of {known}")
    try:
        writer(table, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


# -- cell text ------------------------------------------------------------------------------
def text_cell(value: Any, dtype: DType) -> str:
    """How a value reads in a table for people (terminal, markdown, LaTeX, HTML)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if dtype is DType.DATETIME and isinstance(value, str):
        return value[:19].replace("T", " ")
    return str(value)


def records_json(table: RunTable) -> str:
    """The table as a JSON list of records (what ``--json`` prints and ``.json`` holds)."""
    return json.dumps(table.records(), indent=2, ensure_ascii=False) + "\n"


def _data_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _text_rows(table: RunTable) -> list[list[str]]:
    dtypes = [c.dtype for c in table.columns]
    return [[text_cell(v, t) for v, t in zip(row, dtypes, strict=True)] for row in table.rows()]


def _right_aligned(table: RunTable) -> list[bool]:
    return [c.dtype.numeric for c in table.columns]


# -- writers --------------------------------------------------------------------------------
def write_csv(table: RunTable, path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.names)
    writer.writerows([_data_cell(v) for v in row] for row in table.rows())
    atomic_write_text(path, buffer.getvalue())


def write_json(table: RunTable, path: Path) -> None:
    atomic_write_text(path, records_json(table))


def write_markdown(table: RunTable, path: Path) -> None:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    heads = [cell(n) for n in table.names]
    rows = [[cell(t) for t in row] for row in _text_rows(table)]
    right = _right_aligned(table)
    widths = [max(3, len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]

    def line(cells: list[str]) -> str:
        padded = (
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if r else "-" * (w + 2) for w, r in zip(widths, right, strict=True)
    )
    atomic_write_text(path, "\n".join([line(heads), rule + "|", *map(line, rows)]) + "\n")


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\n": " ",
}


def latex_escape(text: str) -> str:
    """``text`` with every LaTeX special character escaped, so it typesets as written."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def write_latex(table: RunTable, path: Path) -> None:
    spec = "".join("r" if r else "l" for r in _right_aligned(table))
    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\hline",
        " & ".join(latex_escape(n) for n in table.names) + " \\\\",
        "\\hline",
    ]
    lines += [" & ".join(latex_escape(t) for t in row) + " \\\\" for row in _text_rows(table)]
    lines += ["\\hline", "\\end{tabular}"]
    atomic_write_text(path, "\n".join(lines) + "\n")


def write_html(table: RunTable, path: Path) -> None:
    right = _right_aligned(table)

    def td(text: str, numeric: bool) -> str:
        return (
            f'<td class="num">{html.escape(text)}</td>'
            if numeric
            else f"<td>{html.escape(text)}</td>"
        )

    head = "".join(f"<th>{html.escape(n)}</th>" for n in table.names)
    body = [
        "<tr>" + "".join(td(t, r) for t, r in zip(row, right, strict=True)) + "</tr>"
        for row in _text_rows(table)
    ]
    text = "\n".join(
        [
            '<table class="runlab">',
            f"<thead><tr>{head}</tr></thead>",
            "<tbody>",
            *body,
            "</tbody>",
            "</table>",
        ]
    )
    atomic_write_text(path, text + "\n")


def write_parquet(table: RunTable, path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(f"exporting to {path.name} needs pyarrow: {PARQUET_HINT}") from None
    arrays = {
        col.name: _arrow(pa, values, col.dtype)
        for col, values in zip(table.columns, table.data, strict=True)
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(pa.table(arrays), tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _arrow(pa: Any, values: tuple[Any, ...], dtype: DType) -> Any:
    simple = {
        DType.BOOL: pa.bool_(),
        DType.INT: pa.int64(),
        DType.FLOAT: pa.float64(),
        DType.STR: pa.string(),
    }
    if dtype in simple:
        return pa.array(values, type=simple[dtype])
    if dtype is DType.DATETIME:
        stamps = [_timestamp(v) for v in values]
        return pa.array(stamps, type=pa.timestamp("us", tz="UTC"))
    if dtype is DType.JSON:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    if dtype is DType.EMPTY:
        return pa.nulls(len(values))
    # Arrow columns hold one type: mixed values (and untypable JSON) become JSON text.
    return pa.array(
        [v if v is None or isinstance(v, str) else json.dumps(v) for v in values],
        type=pa.string(),
    )


def _timestamp(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:  # not written by runlab; missing beats a failed export
        return None


WRITERS: dict[str, Callable[[RunTable, Path], None]] = {
    ".csv": write_csv,
    ".html": write_html,
    ".json": write_json,
    ".md": write_markdown,
    ".parquet": write_parquet,
    ".tex": write_latex,
}
