"""pymake's ``_bind`` rules, parsed once and judged on each experiment, floats included.

A rule is one of (``a`` and ``c`` are values, ``b`` a setting name):

- ``a.b``: an experiment with a value ``a`` must also have a value ``b``;
- ``a.!b``: an experiment must not have both values ``a`` and ``b``;
- ``a.b.c``: in an experiment with a value ``a``, setting ``b`` must be ``c``;
- ``a.b.!c``: in an experiment with a value ``a``, setting ``b`` must not be ``c``.

pymake split rules on every dot, so ``sgd.lr.0.01`` had four parts and was silently
ignored; here a number keeps its dot (``0.01``, ``1e-3``, ``-2.5``), and numbers compare
as numbers (``0.010`` is ``0.01``, ``1`` is ``1.0``). A string value also matches by its
last dotted word, as in pymake (``pmk.lda`` matches ``lda``). A rule naming a setting an
experiment lacks is an error, not a silently kept experiment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runlab.errors import UsageError

_NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_WORD = r"[^.!\s]+"
_VALUE = rf"(?:{_NUMBER}|{_WORD})"
_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_PAIR = re.compile(rf"(?P<a>{_VALUE})\.(?P<neg>!?)(?P<b>{_VALUE})")
_TRIPLE = re.compile(rf"(?P<a>{_VALUE})\.(?P<key>{_KEY})\.(?P<neg>!?)(?P<c>{_VALUE})")


def _matches(token: str, value: Any) -> bool:
    """Whether a rule's value text names ``value``."""
    if isinstance(value, bool):
        return token in ("True", "true", "1") if value else token in ("False", "false", "0")
    if isinstance(value, (int, float)):
        try:
            return float(token) == value
        except ValueError:
            return False
    if value is None:
        return token in ("None", "null")
    if isinstance(value, str):
        return token == value or token == value.rsplit(".", 1)[-1]
    return token == str(value)


@dataclass(frozen=True)
class BindRule:
    """One parsed ``_bind`` rule; calling it on an experiment says whether to keep it."""

    text: str
    trigger: str
    key: str | None
    value: str
    negated: bool

    @classmethod
    def parse(cls, text: Any) -> BindRule:
        """Parse a rule; raise UsageError quoting it when it is none of the four forms."""
        if not isinstance(text, str):
            raise UsageError(f"_bind rule {text!r}: expected text like 'a.b' or 'a.key.c'")
        rule = text.strip()
        triple = _TRIPLE.fullmatch(rule)
        if triple is not None:
            return cls(text, triple["a"], triple["key"], triple["c"], bool(triple["neg"]))
        pair = _PAIR.fullmatch(rule)
        if pair is not None:
            return cls(text, pair["a"], None, pair["b"], bool(pair["neg"]))
        raise UsageError(
            f"_bind rule {text!r}: write value.value, value.!value, value.key.value "
            "or value.key.!value"
        )

    def __call__(self, expe: Mapping[str, Any]) -> bool:
        values = list(expe.values())
        if not any(_matches(self.trigger, v) for v in values):
            return True
        if self.key is None:
            present = any(_matches(self.value, v) for v in values)
            return not present if self.negated else present
        if self.key not in expe:
            raise KeyError(self.key)  # the where-rule wrapper names the rule and the config
        equal = _matches(self.value, expe[self.key])
        return not equal if self.negated else equal

    def __repr__(self) -> str:
        # How runlab names the rule when it reports a dropped config.
        return f"_bind {self.text!r}"


def parse_rules(value: Any) -> tuple[BindRule, ...]:
    """The rules of a ``_bind`` setting: one rule text or a list of them."""
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    if len(items) == 1 and isinstance(items[0], (list, tuple)):
        items = items[0]  # pymake accepted [[...]], as argparse's append builds it
    return tuple(BindRule.parse(item) for item in items)
