"""where= rules: safe string expressions, callables, missing keys, and what they drop."""

from __future__ import annotations

import pytest

from runlab.design import DropReason, Grid, Point
from runlab.errors import UsageError

SVM = dict(kernel=["linear", "poly"], degree=[1, 2, 3])


def params(design: Grid | Point) -> list[dict[str, object]]:
    return [dict(c.params) for c in design.expand()]


def test_string_rule_drops_configs_and_reports_them() -> None:
    rule = "not (kernel == 'linear' and degree != 1)"
    expansion = Grid(**SVM, where=rule).expand()
    assert [dict(c.params) for c in expansion] == [
        {"kernel": "linear", "degree": 1},
        {"kernel": "poly", "degree": 1},
        {"kernel": "poly", "degree": 2},
        {"kernel": "poly", "degree": 3},
    ]
    assert [(dict(d.params), d.reason, d.rule) for d in expansion.dropped] == [
        ({"kernel": "linear", "degree": 2}, DropReason.RULE, rule),
        ({"kernel": "linear", "degree": 3}, DropReason.RULE, rule),
    ]
    assert str(expansion.dropped[0]) == (
        "{'kernel': 'linear', 'degree': 2} dropped: "
        "rule \"not (kernel == 'linear' and degree != 1)\""
    )


def test_float_comparisons_and_arithmetic() -> None:
    design = Grid(
        lr=[0.1, 0.001, 0.0001], batch=[32, 256], where="lr * batch >= 0.1 and lr > 0.001"
    )
    assert params(design) == [{"lr": 0.1, "batch": 32}, {"lr": 0.1, "batch": 256}]


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ("a in (1, 3)", [1, 3]),
        ("a not in [1, 3]", [2, 4]),
        ("a in {2, 4}", [2, 4]),
        ("1 < a <= 3", [2, 3]),
        ("a % 2 == 0 or a == 1", [1, 2, 4]),
        ("-a < -2", [3, 4]),
        ("a // 2 == 1", [2, 3]),
        ("a ** 2 > 5", [3, 4]),
        ("a / 4 >= 0.75", [3, 4]),
        ("a - 1 and True", [2, 3, 4]),
        ("opt is None", [1, 2, 3, 4]),
        ("opt is not None", []),
        ("name == 'run' + 'x'", [1, 2, 3, 4]),
    ],
)
def test_allowed_expressions(rule: str, kept: list[int]) -> None:
    design = Grid(a=[1, 2, 3, 4], opt=None, params={"name": "runx"}, where=rule)
    assert [p["a"] for p in params(design)] == kept


def test_list_literals_compare_equal_to_list_values() -> None:
    assert params(Grid(hidden=[[64, 64], [128]], where="hidden == [64, 64]")) == [
        {"hidden": [64, 64]}
    ]


def test_rules_see_defaults_and_repeat_keys() -> None:
    design = Point(a=1, defaults={"b": 2}, repeat=3, where="seed != b")
    assert params(design) == [{"b": 2, "a": 1, "seed": 0}, {"b": 2, "a": 1, "seed": 1}]


def test_several_rules_all_must_hold_and_the_first_failing_is_reported() -> None:
    expansion = Grid(a=[1, 2, 3], where=["a > 1", lambda c: c["a"] < 3]).expand()
    assert [dict(c.params) for c in expansion] == [{"a": 2}]
    assert [d.rule for d in expansion.dropped] == [
        "a > 1",
        "test_several_rules_all_must_hold_and_the_first_failing_is_reported.<locals>.<lambda>",
    ]


def small(config: dict[str, object]) -> bool:
    return config["a"] < 2  # type: ignore[operator]


def test_callable_rule_gets_a_copy_of_the_config() -> None:
    def mutate(config: dict[str, object]) -> bool:
        config["a"] = 100
        return True

    assert params(Grid(a=[1, 2], where=[mutate, small])) == [{"a": 1}]


def test_missing_key_in_string_rule_is_an_error_naming_the_key() -> None:
    with pytest.raises(UsageError) as err:
        Grid(kernel=["linear"], where="kernel == 'poly' and degree > 1").expand()
    assert str(err.value) == (
        "where rule \"kernel == 'poly' and degree > 1\" names key 'degree', "
        "which config {'kernel': 'linear'} does not have"
    )


def test_every_missing_key_is_named() -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, where="b > a or c").expand()
    assert str(err.value) == (
        "where rule 'b > a or c' names keys ['b', 'c'], which config {'a': 1} does not have"
    )


def test_a_key_error_inside_a_callable_for_a_present_key_propagates() -> None:
    def broken(config: dict[str, object]) -> bool:
        raise KeyError("a")

    with pytest.raises(KeyError):
        Point(a=1, where=broken).expand()


def test_unquoted_string_reads_as_a_missing_key() -> None:
    with pytest.raises(UsageError, match=r"names key 'resnet', which config"):
        len(Point(model="resnet", where="model == resnet"))


def test_missing_key_in_callable_rule_is_an_error_naming_the_key() -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, where=lambda c: c["b"] > 0).expand()
    assert str(err.value) == (
        "where rule test_missing_key_in_callable_rule_is_an_error_naming_the_key"
        ".<locals>.<lambda>: key 'b' is not in config {'a': 1}"
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("len(x) > 1", "calls are not allowed ('len(x)')"),
        (
            "__import__('os').system('true')",
            "calls are not allowed (\"__import__('os').system('true')\")",
        ),
        ("x.real > 1", "attributes are not allowed ('x.real')"),
        ("x[0] == 1", "subscripts are not allowed ('x[0]')"),
        ("[y for y in x]", "ListComp is not allowed ('[y for y in x]')"),
        ("(lambda: 1) == 1", "Lambda is not allowed ('lambda: 1')"),
        ("x & 1", "BinOp is not allowed ('x & 1')"),
        ("~x", "UnaryOp is not allowed ('~x')"),
        ("1 if x else 2", "IfExp is not allowed ('1 if x else 2')"),
        ("{'a': 1} == x", "Dict is not allowed (\"{'a': 1}\")"),
        ("f'{x}' == '1'", "JoinedStr is not allowed (\"f'{x}'\")"),
        ("(y := 1) == x", "NamedExpr is not allowed ('y := 1')"),
    ],
)
def test_refused_tokens_are_named_when_the_design_is_built(rule: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        Point(x=1, where=rule)
    assert str(err.value) == (
        f"where rule {rule!r}: {message}; "
        "use names, constants, comparisons, and/or/not, arithmetic and in"
    )


def test_syntax_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^where rule 'a >' is not a valid expression: "):
        Point(a=1, where="a >")


def test_where_of_a_wrong_type_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, where=3)
    assert str(err.value) == "where: expected a string expression or a callable, got int 3"


def test_evaluation_errors_name_the_rule_and_config() -> None:
    with pytest.raises(UsageError) as err:
        Point(a=1, b=0, where="a / b > 1").expand()
    assert str(err.value) == (
        "where rule 'a / b > 1' failed on config {'a': 1, 'b': 0}: division by zero"
    )
    with pytest.raises(UsageError, match=r"^where rule 'a < 1' failed on config \{'a': 'x'\}: "):
        Point(a="x", where="a < 1").expand()


def test_huge_powers_and_repetitions_are_refused() -> None:
    with pytest.raises(UsageError, match=r"exponent 1000000 is too large \(at most 256\)"):
        Point(a=10, where="a ** 1000000 > 1").expand()
    with pytest.raises(UsageError, match=r"repeating a sequence 100000000 times is too much"):
        Point(a=100000000, where="'x' * a == ''").expand()


def test_short_circuit_does_not_hide_a_missing_key() -> None:
    with pytest.raises(UsageError, match=r"names key 'typo'"):
        Point(a=1, where="a == 1 or typo").expand()
