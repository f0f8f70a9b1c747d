"""Write a :class:`~runlab.query.table.RunTable` to a file whose suffix names the format.

Data formats keep values exactly: ``.csv`` (one header row of column names; missing is
empty; lists as JSON), ``.json`` (a list of records, the same as ``ls --json``; it
loads back to the same records) and ``.parquet`` (typed columns; needs the
``parquet`` extra; JSON and mixed columns that Arrow cannot type are written as JSON
text). Presentation formats show numbers as the terminal does (6 significant digits):
``.md`` (a GitHub table, numbers right-aligned), ``.tex`` (a ``tabular`` that compiles:
LaTeX specials escaped in cells and headers) and ``.html`` (a ``<table>`` fragment,
text escaped).

A :class:`Styled` table (a pivot's) brings its own cell texts, alignment and the cells
to emphasise, used by the presentation formats: bold in markdown (``**0.91±0.02**``),
``\\textbf{0.91$\\pm$0.02}`` in LaTeX, ``<strong>`` in HTML. In LaTeX ``±`` is always
written ``$\\pm$``, so tables compile with pdflatex.

Every file is written whole or not at all (temp file + rename); an unknown suffix
writes nothing.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from runlab.errors import UsageError
from runlab.query.table import RunTable
from runlab.query.types import DType
from runlab.record.files import atomic_write_text, replacing

PARQUET_HINT = "pip install 'runlab[parquet]'"


@dataclass(frozen=True)
class Styled:
    """How a table reads for people: each cell's text, each column's alignment, emphasis.

    ``texts`` is row-major and matches the table's shape; ``marks`` holds the
    ``(row, column)`` positions to emphasise (the best cell of a pivot's row).
    """

    texts: tuple[tuple[str, ...], ...]
    right: tuple[bool, ...]
    marks: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def plain(cls, table: RunTable) -> Styled:
        """The default look: :func:`text_cell` of each value, numbers right-aligned."""
        dtypes = [c.dtype for c in table.columns]
        columns = [_texts(values, dtype) for values, dtype in zip(table.data, dtypes, strict=True)]
        return cls(tuple(zip(*columns, strict=True)), tuple(t.numeric for t in dtypes))


def export(table: RunTable, path: Path, *, styled: Styled | None = None) -> Path:
    """Write ``table`` to ``path`` in the format its suffix names; return ``path``.

    ``styled`` replaces the default cell texts of the presentation formats.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    writer = WRITERS.get(suffix)
    if writer is None:
        known = ", ".join(sorted(WRITERS))
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise UsageError(f"cannot export to {path}: {got}; use one of {known}")
    try:
        if suffix in PRESENTATION:
            PRESENTATION[suffix](table.names, styled or Styled.plain(table), path)
        else:
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


def _texts(values: tuple[Any, ...], dtype: DType) -> list[str]:
    """The :func:`text_cell` of each value, with the common types formatted inline.

    A table of 20,000 groups has close to a million cells: a call per cell was most of
    the time it took to write one.
    """
    if dtype is DType.DATETIME:
        return [text_cell(v, dtype) for v in values]
    return [
        f"{v:.6g}"
        if (kind := type(v)) is float
        else v
        if kind is str
        else str(v)
        if kind is int
        else text_cell(v, dtype)
        for v in values
    ]


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
    _markdown(table.names, Styled.plain(table), path)


def _markdown(names: list[str], styled: Styled, path: Path) -> None:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    # Column by column, so padding and escaping run over whole columns in C.
    columns: list[list[str]] = [[] for _ in names]
    if styled.texts:
        columns = [list(c) for c in zip(*styled.texts, strict=True)]
    for j, texts in enumerate(columns):
        joined = "".join(texts)
        if "|" in joined or "\n" in joined:
            columns[j] = [cell(t) for t in texts]
    for i, j in styled.marks:
        if columns[j][i]:
            columns[j][i] = f"**{columns[j][i]}**"
    heads = [cell(n) for n in names]
    widths = [max(3, len(h), *map(len, texts)) for h, texts in zip(heads, columns, strict=True)]
    pads = [str.rjust if r else str.ljust for r in styled.right]

    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    padded = [
        list(map(pad, texts, itertools.repeat(w)))
        for pad, texts, w in zip(pads, columns, widths, strict=True)
    ]
    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if r else "-" * (w + 2)
        for w, r in zip(widths, styled.right, strict=True)
    )
    head = line(pad(h, w) for pad, h, w in zip(pads, heads, widths, strict=True))
    lines = [line(row) for row in zip(*padded, strict=True)] if styled.texts else []
    atomic_write_text(path, "\n".join([head, rule + "|", *lines]) + "\n")


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
    "±": r"$\pm$",
}


def latex_escape(text: str) -> str:
    """``text`` with every LaTeX special character escaped, so it typesets as written."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def write_latex(table: RunTable, path: Path) -> None:
    _latex(table.names, Styled.plain(table), path)


def _latex(names: list[str], styled: Styled, path: Path) -> None:
    spec = "".join("r" if r else "l" for r in styled.right)

    def cell(i: int, j: int, text: str) -> str:
        escaped = latex_escape(text)
        return f"\\textbf{{{escaped}}}" if text and (i, j) in styled.marks else escaped

    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\hline",
        " & ".join(latex_escape(n) for n in names) + " \\\\",
        "\\hline",
    ]
    lines += [
        " & ".join(cell(i, j, t) for j, t in enumerate(row)) + " \\\\"
        for i, row in enumerate(styled.texts)
    ]
    lines += ["\\hline", "\\end{tabular}"]
    atomic_write_text(path, "\n".join(lines) + "\n")


def write_html(table: RunTable, path: Path) -> None:
    _html(table.names, Styled.plain(table), path)


def _html(names: list[str], styled: Styled, path: Path) -> None:
    def td(i: int, j: int, text: str) -> str:
        body = html.escape(text)
        if text and (i, j) in styled.marks:
            body = f"<strong>{body}</strong>"
        return f'<td class="num">{body}</td>' if styled.right[j] else f"<td>{body}</td>"

    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = [
        "<tr>" + "".join(td(i, j, t) for j, t in enumerate(row)) + "</tr>"
        for i, row in enumerate(styled.texts)
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
    with replacing(path) as tmp:
        pq.write_table(pa.table(arrays), tmp)


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
PRESENTATION: dict[str, Callable[[list[str], Styled, Path], None]] = {
    ".html": _html,
    ".md": _markdown,
    ".tex": _latex,
}
