"""The --where language: what each expression selects, the SQL it makes, every error."""

from __future__ import annotations

import pytest
from query_helpers import make_lost, record
from sqlalchemy.dialects import sqlite

import runlab
from runlab.errors import ColumnNotFound, ExpressionError
from runlab.query.expr import resolve_column


@pytest.fixture(scope="module")
def runs(zoo, load_runs):
    return load_runs(zoo)


@pytest.mark.parametrize(
    "expr,ids",
    [
        ("params.lr > 0.01 and status == 'completed'", ["1", "5"]),
        ("lr > 0.01 and status == 'completed'", ["1", "5"]),  # short name
        ("model == 'mlp'", ["4", "5", "best"]),
        ("model == 'rnn' or (acc >= 3 and not status == 'failed')", ["4", "5", "10"]),
        ("lr == 0.1", ["1", "3"]),
        ("lr != 0.1", ["2", "4", "5", "10", "best"]),  # missing is "not 0.1", as in Python
        ("lr < 0.1", ["2", "4", "best"]),
        ("lr <= 0.1", ["1", "2", "3", "4", "best"]),
        ("lr > 0.1", ["5"]),
        ("lr >= 0.1", ["1", "3", "5"]),
        ("0.05 < lr", ["1", "3", "5"]),  # constant on the left
        ("0.01 <= lr < 1", ["1", "2", "3", "4"]),  # chained
        ("lr > -1", ["1", "2", "3", "4", "5", "best"]),
        ("model in ['cnn', 'rnn']", ["1", "2", "3", "10"]),
        ("model in ('rnn',)", ["10"]),
        ("model not in ['cnn']", ["4", "5", "10", "best"]),
        ("seed not in [1, 2]", ["5", "10", "best"]),  # missing is not in the list
        ("seed in [3, None]", ["5", "10", "best"]),
        ("seed not in [1, None]", ["2", "4", "5", "best"]),
        ("model in []", []),
        ("lr == None", ["10"]),
        ("lr is None", ["10"]),
        ("None == lr", ["10"]),
        ("lr != None", ["1", "2", "3", "4", "5", "best"]),
        ("lr is not None and seed == 3", ["5", "best"]),
        ("flag == True", ["1", "3"]),
        ("flag", ["1", "3"]),  # a bool column alone is a condition
        ("flag == False", ["2"]),
        ("not flag", ["2", "4", "5", "10", "best"]),  # Python's not, missing included
        ("not (lr > 0.05)", ["2", "4", "10", "best"]),
        ("True", ["1", "2", "3", "4", "5", "10", "best"]),
        ("False", []),
        ("mixed > 0", ["1", "3"]),  # numbers only: 'a' is not compared with 0
        ("mixed == 'a'", ["2"]),
        ("mixed >= 'a'", ["2"]),
        ("mixed == 1", ["1"]),
        ("id > 4", ["5", "10"]),  # ids order as numbers; "best" has no number
        ("id == 10", ["10"]),
        ("id in [1, 'best']", ["1", "best"]),
        ("name == 'best'", ["best"]),
        ("`params.lr` > 0.05", ["1", "3", "5"]),
        ("steps >= 20 and tags.team == None", ["2", "3"]),
        ("team == 'x'", ["4"]),
        ("acc > loss", ["1", "2"]),  # column against column
        ("message == 'ValueError: boom'", ["3"]),
    ],
)
def test_expression_selects(runs, expr, ids):
    assert runs.where(expr).ids() == ids


def test_where_adds_up_with_and(runs):
    assert runs.where("model == 'cnn'").where("lr > 0.05").ids() == ["1", "3"]


def test_values_are_bound_parameters_never_sql_text(runs):
    evil = "x'; DROP TABLE runs; --"
    clause = runs.where(f"model == {evil!r}")._where[0]
    compiled = clause.compile(dialect=sqlite.dialect())
    assert "DROP" not in str(compiled)
    assert str(compiled) == 'r."params.model" = ?'
    assert list(compiled.params.values()) == [evil]
    assert runs.where(f"model == {evil!r}").ids() == []
    assert len(runs) == 7  # the table is still there


def test_bools_bind_as_the_index_stores_them(runs):
    compiled = runs.where("flag == True")._where[0].compile(dialect=sqlite.dialect())
    assert list(compiled.params.values()) == [1]


def test_status_lost_is_found(small, load_runs):
    make_lost(small, "1", "4")
    runs = load_runs(small)
    assert runs.where("status == 'lost'").ids() == ["4"]
    assert runs.where("status in ['running']").ids() == []


def test_resolve_column_exact_short_and_ambiguous():
    names = ["id", "params.lr", "params.optim.lr", "metrics.acc", "params.acc", "metrics.loss"]
    assert resolve_column("params.lr", names) == "params.lr"
    assert resolve_column("loss", names) == "metrics.loss"
    assert resolve_column("optim.lr", names) == "params.optim.lr"
    with pytest.raises(ColumnNotFound) as err:
        resolve_column("acc", names)
    assert str(err.value) == (
        "column 'acc' is ambiguous: metrics.acc or params.acc; write the full name"
    )
    with pytest.raises(ColumnNotFound) as err:
        resolve_column("lr", names)
    assert "params.lr or params.optim.lr" in str(err.value)


def test_ambiguous_short_name_in_an_expression(small):
    record(small, {"acc": 1}, {"acc": 2})
    with pytest.raises(ColumnNotFound) as err:
        runlab.load(small).where("acc > 1")
    assert str(err.value) == (
        "expression 'acc > 1': column 'acc' is ambiguous: params.acc or metrics.acc; "
        "write the full name"
    )


E, C = ExpressionError, ColumnNotFound


@pytest.mark.parametrize(
    "expr,error,message",
    [
        ("lrr > 1", C, "unknown column 'lrr'; did you mean params.lr?"),
        (
            "params.modle == 'x'",
            C,
            "unknown column 'params.modle'; did you mean params.model, params.lr, params.mixed?",
        ),
        (
            "zzz == 1",
            C,
            "unknown column 'zzz' (columns: id, name, status, start, end, duration, "
            "exit_code, git_sha, git_dirty, host, …)",
        ),
        ("f(1) > 2", E, "unexpected call 'f(1)' at column 1; a filter cannot call functions"),
        ("lr > abs(1)", E, "unexpected call 'abs(1)' at column 6; a filter cannot call functions"),
        (
            "params.x[1] == 2",
            E,
            "unexpected subscript 'params.x[1]' at column 1; "
            "name nested values with dots, like params.optim.lr",
        ),
        (
            "lr + 1 > 2",
            E,
            "unexpected arithmetic 'lr + 1' at column 1; "
            "a filter compares columns with values; it does no arithmetic",
        ),
        (
            "lambda: 1",
            E,
            "unexpected lambda 'lambda: 1' at column 1; use comparisons, and/or/not, in [...]",
        ),
        (
            "lr == (1 if lr else 2)",
            E,
            "unexpected if-else '1 if lr else 2' at column 8; "
            "values are numbers, 'strings', True, False or None; lists follow 'in'",
        ),
        (
            "[x for x in lr]",
            E,
            "unexpected comprehension '[x for x in lr]' at column 1; "
            "use comparisons, and/or/not, in [...]",
        ),
        (
            "lr == {'a': 1}",
            E,
            "unexpected dict \"{'a': 1}\" at column 7; "
            "values are numbers, 'strings', True, False or None; lists follow 'in'",
        ),
        (
            "lr.real.imag() == 1",
            E,
            "unexpected call 'lr.real.imag()' at column 1; a filter cannot call functions",
        ),
        (
            "f(1).x == 1",
            E,
            "unexpected attribute 'f(1).x' at column 1; "
            "a column name is a dotted name like params.lr",
        ),
        ("lr >", E, "invalid syntax at the end"),
        ("status = 'failed'", E, "invalid syntax at column 8; use == to compare"),
        (
            "params.learning-rate > 1",
            E,
            "unexpected arithmetic 'params.learning-rate' at column 1; put names that are "
            "not identifiers in backticks, like `params.learning-rate`",
        ),
        (
            "params.class == 1",
            E,
            "invalid syntax at column 8; put names that are not identifiers in backticks",
        ),
        (
            "`params.no such` == 1",
            C,
            "unknown column 'params.no such'; did you mean params.seed, params.model, params.lr?",
        ),
        (
            "lr < None",
            E,
            "unexpected constant 'None' at column 6; None compares with == and != only",
        ),
        ("lr in 3", E, "unexpected constant '3' at column 7; write 'in [a, b, ...]'"),
        ("3 in [lr]", E, "unexpected constant '3' at column 1; the left of 'in' must be a column"),
        ("lr in [lr]", E, "unexpected name 'lr' at column 8; a column cannot be used here"),
        (
            "lr is 3",
            E,
            "unexpected constant '3' at column 7; 'is' compares a column with None only",
        ),
        (
            "1 < 2",
            E,
            "unexpected constant '1' at column 1; one side of a comparison must be a column",
        ),
        (
            "lr == [1]",
            E,
            "unexpected list '[1]' at column 7; "
            "values are numbers, 'strings', True, False or None; lists follow 'in'",
        ),
        (
            "lr == b'x'",
            E,
            "unexpected constant \"b'x'\" at column 7; "
            "values are numbers, 'strings', True, False or None; lists follow 'in'",
        ),
        ("3", E, "unexpected constant '3' at column 1; use comparisons, and/or/not, in [...]"),
        (
            "acc",
            E,
            "unexpected name 'acc' at column 1; metrics.acc is not a bool column: "
            "compare it, like metrics.acc == ...",
        ),
        (
            "status == 'done'",
            E,
            "unknown status 'done' (statuses: queued, running, completed, "
            "failed, interrupted, lost)",
        ),
        (
            "status in ['completed', 'ok']",
            E,
            "unknown status 'ok' (statuses: queued, running, completed, failed, interrupted, lost)",
        ),
    ],
)
def test_bad_expression_is_one_line_naming_the_fault(runs, expr, error, message):
    with pytest.raises(error) as err:
        runs.where(expr)
    assert type(err.value) is error
    assert str(err.value) == f"expression {expr!r}: {message}"
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "expr,column",
    [
        ("  lr > f(1)", 8),  # leading blanks count
        ("`params.lr` > f(1)", 15),  # backticked names keep their length
        ("model == 'é' and f(1)", 18),  # characters, not UTF-8 bytes
        ("`params.lr` > 1 1", 17),
    ],
)
def test_error_columns_point_into_the_text_as_typed(runs, expr, column):
    with pytest.raises(ExpressionError) as err:
        runs.where(expr)
    assert f" at column {column}" in str(err.value)
    assert expr[column - 1] in "f1"


@pytest.mark.parametrize("expr", ["", "   "])
def test_empty_expression(runs, expr):
    with pytest.raises(ExpressionError) as err:
        runs.where(expr)
    assert str(err.value) == "empty expression: write a condition like params.lr > 0.01"


def test_errors_carry_exit_code_2():
    assert ExpressionError.exit_code == ColumnNotFound.exit_code == 2
