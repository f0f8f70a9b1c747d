"""``where`` rules: which configs of a design to keep, as safe expressions or callables.

A string rule is parsed once with :mod:`ast` and then interpreted over a whitelist:
names (config keys), constants, comparisons (``in``/``not in``/``is`` included),
``and``/``or``/``not``, arithmetic, and tuple/list/set displays. Calls, attributes and
subscripts are refused when the design is built, naming the token, because rules come
from sweep files that may be shared and must never run code (sacred ``eval``s config
code; we do not).

Every key a string rule names must be in every config it is applied to, even in a
branch that ``and``/``or`` would skip: a typo is an error, never a silently kept or
dropped config. A callable rule gets a copy of the config dict; a ``KeyError`` it
raises becomes the same kind of error.

Usage::

    Grid(kernel=["linear", "poly"], degree=[1, 2, 3],
         where="not (kernel == 'linear' and degree != 1)")
    Grid(lr=[0.1, 0.01], batch=[32, 64], where=[lambda c: c["lr"] * c["batch"] < 5, "lr > 0.001"])
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runlab.errors import UsageError

_MAX_POWER = 256  # bounds `**` so a rule cannot hang the planner on 10 ** 10 ** 10
_MAX_REPEAT = 10_000  # bounds "x" * n and [x] * n for the same reason

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_REFUSED = {
    ast.Call: "calls are not allowed",
    ast.Attribute: "attributes are not allowed",
    ast.Subscript: "subscripts are not allowed",
}
_ALLOWED_HINT = "use names, constants, comparisons, and/or/not, arithmetic and in"


@dataclass(frozen=True)
class Rule:
    """One compiled ``where`` rule; ``keeps(config)`` is true for configs to run."""

    text: str
    _check: Callable[[Mapping[str, Any]], bool] = field(repr=False, compare=False)
    is_callable: bool = False

    def keeps(self, config: Mapping[str, Any]) -> bool:
        """Return whether ``config`` passes; raise UsageError naming a key it lacks."""
        return self._check(config)

    def __repr__(self) -> str:
        # A callable shows as its bare name, so it never reads as an expression string.
        return self.text if self.is_callable else repr(self.text)


def compile_rules(where: Any) -> tuple[Rule, ...]:
    """Return the rules of a ``where=`` option: a string, a callable, or a list of them."""
    if where is None:
        return ()
    items = list(where) if isinstance(where, (list, tuple)) else [where]
    rules = []
    for item in items:
        if isinstance(item, str):
            rules.append(_compile_text(item))
        elif callable(item):
            rules.append(_wrap_callable(item))
        else:
            raise UsageError(
                f"where: expected a string expression or a callable, "
                f"got {type(item).__name__} {item!r}"
            )
    return tuple(rules)


def _short(config: Mapping[str, Any], limit: int = 160) -> str:
    text = repr(dict(config))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _wrap_callable(fn: Callable[[dict[str, Any]], Any]) -> Rule:
    label = getattr(fn, "__qualname__", None) or repr(fn)

    def check(config: Mapping[str, Any]) -> bool:
        try:
            return bool(fn(dict(config)))
        except KeyError as err:
            key = err.args[0] if err.args else None
            if key in config:  # a KeyError of the user's own code, not a missing key
                raise
            raise UsageError(
                f"where rule {label}: key {key!r} is not in config {_short(config)}"
            ) from None

    return Rule(label, check, is_callable=True)


def _compile_text(text: str) -> Rule:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise UsageError(f"where rule {text!r} is not a valid expression: {err.msg}") from None
    _validate(tree.body, text.strip())
    names = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)})

    def check(config: Mapping[str, Any]) -> bool:
        missing = [name for name in names if name not in config]
        if missing:
            which = f"key {missing[0]!r}" if len(missing) == 1 else f"keys {missing}"
            raise UsageError(
                f"where rule {text!r} names {which}, which config {_short(config)} does not have"
            )
        try:
            return bool(_eval(tree.body, config))
        except UsageError:
            raise
        except Exception as err:  # a TypeError or ZeroDivisionError from the user's values
            raise UsageError(
                f"where rule {text!r} failed on config {_short(config)}: {err}"
            ) from None

    return Rule(text, check)


def _validate(node: ast.AST, text: str) -> None:
    """Raise UsageError naming the first token of ``node`` outside the whitelist."""
    ok = isinstance(node, (ast.Name, ast.Constant))
    if isinstance(node, ast.BinOp):
        ok = type(node.op) in _BINOPS
    elif isinstance(node, ast.UnaryOp):
        ok = type(node.op) in _UNARY
    elif isinstance(node, ast.Compare):
        ok = all(type(op) in _COMPARE for op in node.ops)
    elif isinstance(node, (ast.BoolOp, ast.Tuple, ast.List, ast.Set)):
        ok = True
    if not ok:
        token = ast.get_source_segment(text, node) or type(node).__name__
        why = _REFUSED.get(type(node), f"{type(node).__name__} is not allowed")
        raise UsageError(f"where rule {text!r}: {why} ({token!r}); {_ALLOWED_HINT}")
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):  # operators and contexts are covered by the parent
            _validate(child, text)


def _eval(node: ast.AST, config: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return config[node.id]
    if isinstance(node, ast.BoolOp):
        value: Any = None
        for operand in node.values:
            value = _eval(operand, config)
            # Python's own short-circuit: `and` stops at a falsy value, `or` at a truthy one.
            if isinstance(node.op, ast.And) != bool(value):
                return value
        return value
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, config))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, config), _eval(node.right, config)
        _check_size(node.op, left, right)
        return _BINOPS[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, config)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, config)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Tuple):
        return tuple(_eval(elt, config) for elt in node.elts)
    if isinstance(node, ast.List):
        return [_eval(elt, config) for elt in node.elts]
    if isinstance(node, ast.Set):
        return {_eval(elt, config) for elt in node.elts}
    raise AssertionError(f"unvalidated node {type(node).__name__}")  # _validate forbids it


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    if isinstance(op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > _MAX_POWER:
        raise UsageError(f"exponent {right!r} is too large (at most {_MAX_POWER})")
    if isinstance(op, ast.Mult):
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, Sequence)) and isinstance(count, int) and count > _MAX_REPEAT:
                raise UsageError(f"repeating a sequence {count} times is too much")


def describe_rules(rules: Sequence[Rule]) -> str:
    """Return the ``where=`` value as it reads in a design's repr."""
    return repr(rules[0]) if len(rules) == 1 else repr(list(rules))
