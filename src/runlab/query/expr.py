"""Compile a ``--where`` expression into a SQLAlchemy condition over the runs table.

The language is Python's expression syntax, parsed with :mod:`ast` and never evaluated::

    params.lr > 0.01 and status == 'completed'
    model in ['cnn', 'mlp'] and not (seed == 3)
    0.1 <= lr < 1 or metrics.acc == None          # == None is IS NULL
    `params.learning-rate` > 0.1                   # backticks for names that are not identifiers

Dotted names are columns and need no quoting; a short name (``lr``) stands for the one
column whose name ends with ``.lr``. Values are numbers, strings, True/False/None and
lists of them after ``in``; they reach SQL only as bound parameters. Anything else
(calls, subscripts, arithmetic, lambdas) is an :class:`~runlab.errors.ExpressionError`.

On a PostgreSQL mirror (``strict``: typed columns, see :mod:`runlab.query.postgres`) a
value of another kind than the column's matches nothing, and a column of several kinds
is compared only where it holds the value's kind, as on SQLite.

Missing values follow Python, not SQL: ``x != 3`` and ``x not in [...]`` keep the runs
where ``x`` is missing, and ``not (...)`` of a comparison on a missing value is true.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runlab.errors import ColumnNotFound, ExpressionError
from runlab.query.types import DType
from runlab.record.status import RunStatus

if TYPE_CHECKING:
    import sqlalchemy as sa

_BACKTICKED = re.compile(r"`([^`]*)`")
_PLACEHOLDER = "__runlab_col{}__"
_VALUES = "values are numbers, 'strings', True, False or None; lists follow 'in'"
_STATUSES = tuple(s.value for s in RunStatus)
_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_WHAT = {
    ast.Call: "call",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.BinOp: "arithmetic",
    ast.IfExp: "if-else",
    ast.NamedExpr: "assignment",
    ast.Dict: "dict",
    ast.ListComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.Starred: "starred name",
    ast.JoinedStr: "f-string",
}


def resolve_column(text: str, names: Sequence[str]) -> str:
    """The column ``text`` names: itself, else the only column whose name ends with ``.text``.

    ``lr`` is ``params.lr`` when no other column ends with ``.lr``; an ambiguous or
    unknown name is a :class:`ColumnNotFound` naming it and the close matches.
    """
    if text in names:
        return text
    suffix = "." + text
    matches = [name for name in names if name.endswith(suffix)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ColumnNotFound(
            f"column {text!r} is ambiguous: {' or '.join(matches)}; write the full name"
        )
    raise ColumnNotFound(unknown_column(text, names))


def unknown_column(text: str, names: Sequence[str]) -> str:
    """The one-line message for an unknown column, listing close matches (by difflib)."""
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    short = {name.split(".", 1)[1]: name for name in names if "." in name}
    for key in difflib.get_close_matches(text, list(short), n=3, cutoff=0.6):
        if short[key] not in close:
            close.append(short[key])
    if close:
        return f"unknown column {text!r}; did you mean {', '.join(close[:3])}?"
    shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
    return f"unknown column {text!r} (columns: {shown})"


def compile_where(
    text: str, table: sa.Table, dtypes: Mapping[str, DType], *, strict: bool = False
) -> sa.ColumnElement[bool]:
    """The SQLAlchemy condition that expression ``text`` means over ``table``.

    ``dtypes`` maps every public column to its type: it decides what names resolve
    to, whether a bare name is a condition (bool columns only), and when a comparison
    must skip values of another type (mixed columns). ``strict`` says the columns are
    typed (PostgreSQL), which refuses to compare a value with a column of another kind.
    """
    return _Compiler(text, table, dtypes, strict=strict).compile()


class _Compiler:
    def __init__(
        self, text: str, table: sa.Table, dtypes: Mapping[str, DType], *, strict: bool = False
    ) -> None:
        self.strict = strict
        self.text = text
        self.table = table
        self.dtypes = dtypes
        self.names = list(dtypes)
        self.quoted: list[str] = []
        self.source = ""
        self.lead = 0

    def compile(self) -> sa.ColumnElement[bool]:
        source = _BACKTICKED.sub(self._placeholder, self.text)
        self.source = source.strip()
        self.lead = len(source) - len(source.lstrip())
        if not self.source:
            raise ExpressionError("empty expression: write a condition like params.lr > 0.01")
        try:
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            message = (exc.msg or "invalid syntax").splitlines()[0]
            where = f" at column {self.column(exc.offset - 1)}" if exc.offset else " at the end"
            raise ExpressionError(
                f"expression {self.text!r}: {message}{where}{_syntax_hint(source)}"
            ) from None
        return self.condition(tree.body)

    def column(self, index: int) -> int:
        """The 1-based column in the user's text of character ``index`` of the parsed text."""
        shift = self.lead
        for match in re.finditer(r"__runlab_col(\d+)__", self.source):
            if match.start() >= index:
                break
            shift += len(self.quoted[int(match.group(1))]) + 2 - len(match.group(0))
        return index + shift + 1

    def _placeholder(self, match: re.Match[str]) -> str:
        self.quoted.append(match.group(1))
        return _PLACEHOLDER.format(len(self.quoted) - 1)

    # -- errors -----------------------------------------------------------------------
    def unexpected(self, node: ast.AST, hint: str = "") -> ExpressionError:
        segment = ast.get_source_segment(self.source, node) or type(node).__name__
        for i, name in enumerate(self.quoted):
            segment = segment.replace(_PLACEHOLDER.format(i), f"`{name}`")
        what = _WHAT.get(type(node), type(node).__name__.lower())
        offset = getattr(node, "col_offset", None)  # in UTF-8 bytes
        at = ""
        if offset is not None:
            index = len(self.source.encode()[:offset].decode(errors="ignore"))
            at = f" at column {self.column(index)}"
        hint = hint or _hint(node, segment)
        return ExpressionError(
            f"expression {self.text!r}: unexpected {what} {segment!r}{at}; {hint}"
        )

    # -- boolean context ----------------------------------------------------------------
    def condition(self, node: ast.expr) -> sa.ColumnElement[bool]:
        import sqlalchemy as sa

        if isinstance(node, ast.BoolOp):
            parts = [self.condition(v) for v in node.values]
            return sa.and_(*parts) if isinstance(node.op, ast.And) else sa.or_(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            # SQL's NOT of an unknown (NULL) is unknown; Python's `not` of a comparison
            # on a missing value is True, and that is what users expect of a filter.
            return sa.not_(sa.func.coalesce(self.condition(node.operand), sa.false()))
        if isinstance(node, ast.Compare):
            left = node.left
            parts = []
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts.append(self.comparison(left, op, right))
                left = right
            return parts[0] if len(parts) == 1 else sa.and_(*parts)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return sa.true() if node.value else sa.false()
        name = self.column_name(node)
        if name is not None:
            if self.dtypes[name] is DType.BOOL:
                return self.table.c[name] == 1
            raise self.unexpected(
                node, f"{name} is not a bool column: compare it, like {name} == ..."
            )
        specific = isinstance(node, (ast.Call, ast.Subscript, ast.BinOp))
        raise self.unexpected(node, "" if specific else "use comparisons, and/or/not, in [...]")

    # -- one comparison -----------------------------------------------------------------
    def comparison(self, left: ast.expr, op: ast.cmpop, right: ast.expr) -> Any:
        symbol = _OPS.get(type(op))
        if symbol is None:  # pragma: no cover - every cmpop is listed
            raise self.unexpected(right)
        lname, rname = self.column_name(left), self.column_name(right)
        if symbol in ("in", "not in"):
            if lname is None:
                raise self.unexpected(left, f"the left of '{symbol}' must be a column")
            return self.membership(lname, symbol, right)
        if symbol in ("is", "is not"):
            if lname is None or self.value(right) is not None:
                raise self.unexpected(right, f"'{symbol}' compares a column with None only")
            col = self.table.c[lname]
            return col.is_(None) if symbol == "is" else col.is_not(None)
        if lname is not None and rname is not None:
            return _apply(self.table.c[lname], symbol, self.table.c[rname])
        if lname is None and rname is None:
            self.value(left)  # a call, subscript, ... is reported as what it is
            self.value(right)
            raise self.unexpected(left, "one side of a comparison must be a column")
        if lname is None:  # constant on the left: `0.1 < lr` is `lr > 0.1`
            lname, value, symbol = rname, self.value(left), _FLIPPED[symbol]
            value_node = left
        else:
            value, value_node = self.value(right), right
        assert lname is not None
        return self.compare_value(lname, symbol, value, value_node)

    def compare_value(self, name: str, symbol: str, value: Any, node: ast.expr) -> Any:
        import sqlalchemy as sa

        col = self.table.c[name]
        if value is None:
            if symbol == "==":
                return col.is_(None)
            if symbol == "!=":
                return col.is_not(None)
            raise self.unexpected(node, "None compares with == and != only")
        if name == "status" and symbol in ("==", "!="):
            self.check_status(value, node)
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            if symbol in ("==", "!="):
                value = str(value)
            else:  # ids order numerically, as the listing does
                col = self.table.c["_seq"]
        value = _bindable(value)
        if self.strict:
            return self.compare_typed(col, symbol, value)
        clause = _apply(col, symbol, value)
        if symbol == "!=":
            return sa.or_(clause, col.is_(None))
        if self.dtypes.get(name) is DType.MIXED and symbol not in ("==", "!="):
            # SQLite orders every number before every string; Python refuses to compare
            # them. A mixed column is compared only where it holds the value's kind.
            kinds = ["text"] if isinstance(value, str) else ["integer", "real"]
            return sa.and_(sa.func.typeof(col).in_(kinds), clause)
        return clause

    def compare_typed(self, col: Any, symbol: str, value: Any) -> Any:
        """``col symbol value`` over typed columns: another kind never compares (Python's ==)."""
        import sqlalchemy as sa

        from runlab.query.postgres import accepts, bound, is_jsonb, ordered_mixed

        if not accepts(col, value):
            return sa.true() if symbol == "!=" else sa.false()
        if symbol == "!=":
            return sa.or_(col != bound(col, value), col.is_(None))
        if symbol != "==" and is_jsonb(col):
            return _apply(ordered_mixed(col, value), symbol, value)
        return _apply(col, symbol, bound(col, value))

    def membership(self, name: str, symbol: str, node: ast.expr) -> Any:
        import sqlalchemy as sa

        if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            raise self.unexpected(node, f"write '{symbol} [a, b, ...]'")
        values = [self.value(item) for item in node.elts]
        if name == "status":
            for value, item in zip(values, node.elts, strict=True):
                if value is not None:
                    self.check_status(value, item)
        if name == "id":
            values = [
                str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values
            ]
        present = [_bindable(v) for v in values if v is not None]
        has_none = len(present) < len(values)
        col = self.table.c[name]
        if self.strict:
            from runlab.query.postgres import accepts, bound

            present = [bound(col, v) for v in present if accepts(col, v)]
        if symbol == "in":
            clause = col.in_(present)
            return sa.or_(clause, col.is_(None)) if has_none else clause
        clause = col.not_in(present)
        return sa.and_(clause, col.is_not(None)) if has_none else sa.or_(clause, col.is_(None))

    def check_status(self, value: Any, node: ast.expr) -> None:
        if value not in _STATUSES:
            raise ExpressionError(
                f"expression {self.text!r}: unknown status {value!r} "
                f"(statuses: {', '.join(_STATUSES)})"
            )

    # -- leaves -------------------------------------------------------------------------
    def column_name(self, node: ast.expr) -> str | None:
        """The resolved column a Name or dotted Attribute chain names; None for other nodes."""
        parts: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            if parts:
                raise self.unexpected(node, "a column name is a dotted name like params.lr")
            return None
        parts.append(current.id)
        text = ".".join(self.unquote(p) for p in reversed(parts))
        try:
            return resolve_column(text, self.names)
        except ColumnNotFound as exc:
            raise ColumnNotFound(f"expression {self.text!r}: {exc}") from None

    def unquote(self, part: str) -> str:
        match = re.fullmatch(r"__runlab_col(\d+)__", part)
        return self.quoted[int(match.group(1))] if match else part

    def value(self, node: ast.expr) -> Any:
        """The Python value of a constant (numbers, strings, True/False/None, -number)."""
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, (bool, int, float, str))
        ):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)
        ):
            number = node.operand.value
            return -number if isinstance(node.op, ast.USub) else number
        if self.column_name(node) is not None:
            raise self.unexpected(node, "a column cannot be used here")
        specific = isinstance(node, (ast.Call, ast.Subscript, ast.BinOp))
        raise self.unexpected(node, "" if specific else _VALUES)


def _bindable(value: Any) -> Any:
    # The index stores bools as 0/1; binding ints keeps the comparison a bound parameter.
    return int(value) if isinstance(value, bool) else value


def _apply(col: Any, symbol: str, other: Any) -> Any:
    if symbol == "==":
        return col == other
    if symbol == "!=":
        return col != other
    if symbol == "<":
        return col < other
    if symbol == "<=":
        return col <= other
    if symbol == ">":
        return col > other
    return col >= other


def _syntax_hint(source: str) -> str:
    if re.search(r"(?<![=!<>])=(?!=)", source):
        return "; use == to compare"
    if _odd_name(source):
        return "; put names that are not identifiers in backticks"
    return ""


def _odd_name(source: str) -> bool:
    """True when ``source`` holds a dotted name Python cannot parse (``params.learning-rate``)."""
    for token in re.findall(r"[A-Za-z_][\w.\-/:@]*\.[\w.\-/:@]+", source):
        for part in token.split("."):
            if part and (not part.isidentifier() or keyword.iskeyword(part)):
                return True
    return False


def _hint(node: ast.AST, segment: str) -> str:
    """What to write instead of a node the language does not have."""
    if isinstance(node, ast.Call):
        return "a filter cannot call functions"
    if isinstance(node, ast.Subscript):
        return "name nested values with dots, like params.optim.lr"
    if isinstance(node, ast.BinOp):
        if _odd_name(segment.replace(" ", "")) or re.search(r"\w-\w", segment):
            return "put names that are not identifiers in backticks, like `params.learning-rate`"
        return "a filter compares columns with values; it does no arithmetic"
    if isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return _VALUES
    return "use comparisons, and/or/not, in [...]"
