"""Where a hazard stands on the as-of date (DOMAIN §5), declared once.

"Closed", "open", "overdue", "due soon", "closed late" and "closed on time" are written
below as small expressions over three fields of a hazard (治理状态, 治理期限, 完成日期) and
two dates (the as-of date and the last day that is still "due soon"). From this one
declaration come:

- the Python evaluation (:func:`hazard_state`, used by the checks, the documents and the
  quarterly statistics),
- SQL expressions (:func:`sql`, with named parameters ``:as_of`` and ``:due_soon_until``
  from :func:`sql_params`), used by the county roll-up; written in the SQL that SQLite and
  PostgreSQL share (no ``IS NOT``, no booleans summed, dates compared, never subtracted;
  ISO text dates in SQLite compare like dates),
- Excel formulas (:func:`excel`), used by the workbook template's conditional formats,
  with the configured ``due_soon_days``.
- the words of ``docs/字段说明.md`` (:func:`describe`).

``tests/test_hazard_state.py`` proves the three equal over random hazards and as-of dates
(SQL run in SQLite, the formulas recalculated by LibreOffice).

Missing values never make a comparison true: a hazard without a deadline is never overdue,
due soon or closed late; a blank or unknown status is not closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

CLOSED_STATUS = "已销号"
MAJOR_LEVEL = "重大隐患"
DEFAULT_DUE_SOON_DAYS = 3

# The hazard fields the state depends on: key → kind ("text" or "date").
FIELDS: dict[str, str] = {"status": "text", "deadline": "date", "completed_on": "date"}


# --- the expression language ---------------------------------------------------------------

class Expr:
    """A predicate over one hazard on one as-of date."""


@dataclass(frozen=True)
class Ref(Expr):
    """A hazard field (see FIELDS)."""

    key: str


@dataclass(frozen=True)
class Day(Expr):
    """A date given with the evaluation: ``as_of`` or ``due_soon_until`` (as_of + due_soon_days)."""

    name: str


@dataclass(frozen=True)
class Is(Expr):
    """A text field equals a constant (a blank field equals nothing)."""

    ref: Ref
    value: str


@dataclass(frozen=True)
class Compare(Expr):
    """``left op right`` on dates; false when either side is missing."""

    left: Ref | Day
    op: str  # one of < <= > >=
    right: Ref | Day


@dataclass(frozen=True)
class Not(Expr):
    """The predicate does not hold."""

    arg: Expr


@dataclass(frozen=True)
class AllOf(Expr):
    """Every predicate holds."""

    args: tuple[Expr, ...]


@dataclass(frozen=True)
class AnyOf(Expr):
    """At least one predicate holds."""

    args: tuple[Expr, ...]


def all_of(*args: Expr) -> AllOf:
    return AllOf(tuple(args))


def any_of(*args: Expr) -> AnyOf:
    return AnyOf(tuple(args))


STATUS, DEADLINE, COMPLETED = Ref("status"), Ref("deadline"), Ref("completed_on")
AS_OF, DUE_SOON_UNTIL = Day("as_of"), Day("due_soon_until")

# --- the declaration (DOMAIN §5) -------------------------------------------------------------

CLOSED = Is(STATUS, CLOSED_STATUS)
OPEN = Not(CLOSED)
DONE_IN_TIME = Compare(COMPLETED, "<=", DEADLINE)  # completed on or before the deadline
COMPLETED_LATE = Compare(COMPLETED, ">", DEADLINE)  # completed after the deadline
# Overdue: not closed, the as-of date past the deadline, and not completed on or before it.
OVERDUE = all_of(OPEN, Compare(DEADLINE, "<", AS_OF), Not(DONE_IN_TIME))
# Due soon: not closed, not completed in time, the deadline today or within due_soon_days.
DUE_SOON = all_of(OPEN, Compare(DEADLINE, ">=", AS_OF), Compare(DEADLINE, "<=", DUE_SOON_UNTIL), Not(DONE_IN_TIME))
CLOSED_LATE = all_of(CLOSED, COMPLETED_LATE)
CLOSED_ON_TIME = all_of(CLOSED, Not(COMPLETED_LATE))

PREDICATES: dict[str, Expr] = {
    "closed": CLOSED, "open": OPEN, "overdue": OVERDUE, "due_soon": DUE_SOON,
    "closed_late": CLOSED_LATE, "closed_on_time": CLOSED_ON_TIME,
    "done_in_time": DONE_IN_TIME, "completed_late": COMPLETED_LATE,
}


def days(as_of: date, due_soon_days: int) -> dict[str, date]:
    """The dates the predicates are evaluated against."""
    return {"as_of": as_of, "due_soon_until": as_of + timedelta(days=due_soon_days)}


# --- Python ------------------------------------------------------------------------------------

Values = Mapping[str, Any]
Evaluator = Callable[[Values, Mapping[str, date]], bool]

_PY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def compile_python(expr: Expr) -> Evaluator:
    """A function (hazard values, dates) → bool for *expr*."""
    if isinstance(expr, Is):
        key, value = expr.ref.key, expr.value
        return lambda v, d: v.get(key) == value
    if isinstance(expr, Compare):
        left, right, op = _py_operand(expr.left), _py_operand(expr.right), _PY_OPS[expr.op]

        def compare(v: Values, d: Mapping[str, date]) -> bool:
            a, b = left(v, d), right(v, d)
            return a is not None and b is not None and op(a, b)
        return compare
    if isinstance(expr, Not):
        inner = compile_python(expr.arg)
        return lambda v, d: not inner(v, d)
    if isinstance(expr, AllOf):
        parts = [compile_python(a) for a in expr.args]
        return lambda v, d: all(p(v, d) for p in parts)
    if isinstance(expr, AnyOf):
        parts = [compile_python(a) for a in expr.args]
        return lambda v, d: any(p(v, d) for p in parts)
    raise TypeError(f"not a predicate: {expr!r}")


def _py_operand(x: Ref | Day) -> Callable[[Values, Mapping[str, date]], Any]:
    if isinstance(x, Ref):
        key = x.key
        return lambda v, d: v.get(key)
    name = x.name
    return lambda v, d: d[name]


_COMPILED: dict[str, Evaluator] = {name: compile_python(expr) for name, expr in PREDICATES.items()}


@dataclass(frozen=True)
class HazardState:
    """Where a hazard stands on the as-of date (DOMAIN §5)."""

    closed: bool
    overdue: bool
    due_soon: bool
    closed_late: bool
    days: int  # days overdue (overdue) or days left until the deadline (otherwise; 0 without one)


def hazard_state(record: Any, as_of: date, due_soon_days: int = DEFAULT_DUE_SOON_DAYS) -> HazardState:
    """The state of *record* (a reader Record or any mapping with the FIELDS keys) on *as_of*."""
    values = {key: record[key] for key in FIELDS}
    d = days(as_of, due_soon_days)
    overdue = _COMPILED["overdue"](values, d)
    deadline = values["deadline"]
    n = 0 if deadline is None else ((as_of - deadline).days if overdue else (deadline - as_of).days)
    return HazardState(_COMPILED["closed"](values, d), overdue, _COMPILED["due_soon"](values, d),
                       _COMPILED["closed_late"](values, d), n)


def holds(name: str, record: Any, as_of: date, due_soon_days: int = DEFAULT_DUE_SOON_DAYS) -> bool:
    """Whether predicate *name* (a key of PREDICATES) holds for *record* on *as_of*."""
    return _COMPILED[name]({key: record[key] for key in FIELDS}, days(as_of, due_soon_days))


# --- SQL -----------------------------------------------------------------------------------------

_SQL_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}


def sql(expr: Expr | str, columns: Mapping[str, str] | None = None) -> str:
    """A SQL boolean expression for *expr* (or the name of a predicate).

    *columns* maps field keys to column expressions (default: the key itself, e.g. ``h.status``
    via ``{"status": "h.status", ...}``). The dates are the named parameters ``:as_of`` and
    ``:due_soon_until`` (see :func:`sql_params`). The result is never NULL: each comparison
    tests its columns for NULL first, so NOT and counting behave as in Python.
    """
    if isinstance(expr, str):
        expr = PREDICATES[expr]
    cols = {key: key for key in FIELDS} | dict(columns or {})
    return _sql(expr, cols)


def _sql(expr: Expr, cols: Mapping[str, str]) -> str:
    if isinstance(expr, Is):
        value = expr.value.replace("'", "''")
        return f"COALESCE({cols[expr.ref.key]}, '') = '{value}'"
    if isinstance(expr, Compare):
        left, right = _sql_operand(expr.left, cols), _sql_operand(expr.right, cols)
        guards = [f"{x} IS NOT NULL" for x, ref in ((left, expr.left), (right, expr.right)) if isinstance(ref, Ref)]
        return "(" + " AND ".join([*guards, f"{left} {_SQL_OPS[expr.op]} {right}"]) + ")"
    if isinstance(expr, Not):
        return f"NOT {_sql(expr.arg, cols)}"
    if isinstance(expr, (AllOf, AnyOf)):
        joiner = " AND " if isinstance(expr, AllOf) else " OR "
        return "(" + joiner.join(_sql(a, cols) for a in expr.args) + ")"
    raise TypeError(f"not a predicate: {expr!r}")


def _sql_operand(x: Ref | Day, cols: Mapping[str, str]) -> str:
    return cols[x.key] if isinstance(x, Ref) else f":{x.name}"


def sql_count(expr: Expr | str, columns: Mapping[str, str] | None = None) -> str:
    """``SUM(CASE WHEN … THEN 1 ELSE 0 END)``: how many rows satisfy *expr* (portable: no summed booleans)."""
    return f"SUM(CASE WHEN {sql(expr, columns)} THEN 1 ELSE 0 END)"


def sql_params(as_of: date, due_soon_days: int = DEFAULT_DUE_SOON_DAYS, *, iso: bool = True) -> dict[str, Any]:
    """The parameters of the SQL expressions: ISO text (SQLite's date columns) or dates."""
    return {k: v.isoformat() if iso else v for k, v in days(as_of, due_soon_days).items()}


# --- Excel -----------------------------------------------------------------------------------------

def excel(expr: Expr | str, cells: Mapping[str, str], *, due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
          today: str = "TODAY()") -> str:
    """An Excel formula (without the leading ``=``) for *expr* (or the name of a predicate).

    *cells* maps each field key to its cell reference, e.g. ``{"status": "$M3", ...}``.
    The as-of date is *today* (``TODAY()`` in a workbook; a cell reference or ``DATE(…)`` in
    tests). Dates are cells holding numbers (serial dates); a blank or text cell is missing.
    """
    if isinstance(expr, str):
        expr = PREDICATES[expr]
    as_of = today
    until = f"({today}+{int(due_soon_days)})"
    return _excel(expr, cells, {"as_of": as_of, "due_soon_until": until})


def _excel(expr: Expr, cells: Mapping[str, str], d: Mapping[str, str]) -> str:
    if isinstance(expr, Is):
        value = expr.value.replace('"', '""')
        return f'{cells[expr.ref.key]}="{value}"'
    if isinstance(expr, Compare):
        left, right = _excel_operand(expr.left, cells, d), _excel_operand(expr.right, cells, d)
        guards = [f"ISNUMBER({x})" for x, ref in ((left, expr.left), (right, expr.right)) if isinstance(ref, Ref)]
        comparison = f"{left}{expr.op}{right}"
        return f"AND({','.join(guards)},{comparison})" if guards else comparison
    if isinstance(expr, Not):
        return f"NOT({_excel(expr.arg, cells, d)})"
    if isinstance(expr, (AllOf, AnyOf)):
        name = "AND" if isinstance(expr, AllOf) else "OR"
        return f"{name}({','.join(_excel(a, cells, d) for a in expr.args)})"
    raise TypeError(f"not a predicate: {expr!r}")


def _excel_operand(x: Ref | Day, cells: Mapping[str, str], d: Mapping[str, str]) -> str:
    return cells[x.key] if isinstance(x, Ref) else d[x.name]


# --- words (docs/字段说明.md) -----------------------------------------------------------------------

LABELS: dict[str, str] = {
    "closed": "已销号", "open": "未销号", "overdue": "逾期", "due_soon": "临期", "closed_late": "逾期销号",
    "closed_on_time": "按期销号", "done_in_time": "按期完成", "completed_late": "逾期完成",
}
_WORD_OPS = {"<": "早于", "<=": "不晚于", ">": "晚于", ">=": "不早于"}
_DAY_WORDS = {"as_of": "检查日", "due_soon_until": f"检查日加 due_soon_days 天（默认 {DEFAULT_DUE_SOON_DAYS} 天）"}


def describe(expr: Expr | str, headers: Mapping[str, str]) -> str:
    """*expr* in Chinese; *headers* names the fields (the register's column headers)."""
    if isinstance(expr, str):
        expr = PREDICATES[expr]
    if isinstance(expr, Is):
        return f"{headers[expr.ref.key]}为“{expr.value}”"
    if isinstance(expr, Compare):
        return f"{_word(expr.left, headers)}{_WORD_OPS[expr.op]}{_word(expr.right, headers)}"
    if isinstance(expr, Not):
        if isinstance(expr.arg, Is):
            return f"{headers[expr.arg.ref.key]}不是“{expr.arg.value}”"
        return f"并非“{describe(expr.arg, headers)}”"
    if isinstance(expr, (AllOf, AnyOf)):
        return ("，且" if isinstance(expr, AllOf) else "，或").join(describe(a, headers) for a in expr.args)
    raise TypeError(f"not a predicate: {expr!r}")


def _word(x: Ref | Day, headers: Mapping[str, str]) -> str:
    return headers[x.key] if isinstance(x, Ref) else _DAY_WORDS[x.name]
