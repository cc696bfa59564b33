"""Compiled authorisation plans: the policy, partially evaluated for one principal.

Oso evaluates ``allow(principal, action, <any Model>)`` with the resource left unknown and
returns the conditions a row must meet (a disjunction of conjunctions over the model's own
columns). The same :class:`Plan` then serves both sides of every decision:

* lists: :meth:`Plan.select` renders it as a SQLAlchemy 2 ``select()`` (filtered in SQL);
* objects: :meth:`Plan.matches` evaluates it on a loaded row in microseconds.

A plan depends only on the principal's facts, the action and the model (the policy is fixed
once loaded), so plans are memoised by those: any change of roles yields a new principal key.
This keeps one source of truth (Polar) and takes Polar off the per-row hot path.
Policies must therefore be data-filterable: conditions on the resource's declared columns and
the principal's facts, no ``not`` and no relations (checked when a plan is compiled).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, reduce
from typing import Any

from oso import Oso
from polar import Expression, Pattern, Variable
from polar.data.filter import Condition, DataFilter, Projection
from polar.data_filtering import serialize_types
from sqlalchemy import ColumnElement, Select, false, inspect, select, true

MAX_PLANS = 8192


@dataclass(frozen=True)
class Term:
    """One comparison: ``column <cmp> value`` or ``column <cmp> other column``."""

    field: str
    cmp: str
    value: Any
    value_is_field: bool = False

    def holds(self, obj: Any) -> bool:
        left = getattr(obj, self.field)
        right = getattr(obj, self.value) if self.value_is_field else self.value
        if self.cmp == "Eq":
            return bool(left == right)
        if self.cmp == "Neq":
            return bool(left != right)
        if self.cmp == "In":
            return left in right
        if self.cmp == "Nin":
            return left not in right
        raise ValueError(self.cmp)

    def column(self, model: type) -> ColumnElement[bool]:
        left = getattr(model, self.field)
        right = getattr(model, self.value) if self.value_is_field else self.value
        ops = {"Eq": left.__eq__, "Neq": left.__ne__, "In": left.in_, "Nin": left.not_in}
        return ops[self.cmp](right)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Plan:
    """``any(all(term) for conjunction)``: an empty conjunction is ``true``; no conjunction, ``false``."""

    model: type
    conjunctions: tuple[tuple[Term, ...], ...]

    @property
    def allows_nothing(self) -> bool:
        return not self.conjunctions

    @property
    def allows_everything(self) -> bool:
        return any(not c for c in self.conjunctions)

    def matches(self, obj: Any) -> bool:
        return any(all(t.holds(obj) for t in conj) for conj in self.conjunctions)

    def where(self) -> ColumnElement[bool]:
        if self.allows_everything:
            return true()
        parts = [reduce(lambda a, b: a & b, [t.column(self.model) for t in c]) for c in self.conjunctions]
        return reduce(lambda a, b: a | b, parts, false())

    @cached_property
    def _select(self) -> Select[Any]:
        return select(self.model).where(self.where())

    def select(self) -> Select[Any]:
        """The same (immutable) statement object for every call: SQLAlchemy's compiled cache hits."""
        return self._select


def _side(side: Any, model: type) -> tuple[Any, bool]:
    if isinstance(side, Projection):
        if side.source is not model:
            raise NotImplementedError("policies may only filter on the resource's own columns")
        return side.field or inspect(model).primary_key[0].name, True
    mapper = inspect(type(side), raiseerr=False)
    if mapper is not None:  # a whole row compared: use its primary key
        return getattr(side, mapper.primary_key[0].name), False
    return side, False


def _term(cond: Condition, model: type) -> Term:
    left, left_is_field = _side(cond.left, model)
    right, right_is_field = _side(cond.right, model)
    if not left_is_field:  # normalise "value = column" to "column = value"
        if not right_is_field or cond.cmp not in ("Eq", "Neq"):
            raise NotImplementedError(f"unsupported condition {cond.cmp}")
        left, right, right_is_field = right, left, False
    return Term(left, cond.cmp, tuple(right) if isinstance(right, list) else right, right_is_field)


class PlanCompiler:
    """Partial evaluation with a small LRU; Polar runs only on a cache miss."""

    def __init__(self, oso: Oso) -> None:
        self.oso = oso
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def _remember(self, key: tuple[Any, ...], value: Any) -> Any:
        self._cache[key] = value
        if len(self._cache) > MAX_PLANS:
            self._cache.popitem(last=False)
        return value

    def _cached(self, key: tuple[Any, ...]) -> Any:
        value = self._cache.get(key)
        if value is not None:
            self._cache.move_to_end(key)
        return value

    def plan(self, principal: Any, principal_key: tuple[Any, ...], action: str, model: type) -> Plan:
        key = ("allow", principal_key, action, model)
        cached = self._cached(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        results = self._query(model, "allow", principal, action)
        return self._remember(key, self._build(model, [r["resource"] for r in results]))  # type: ignore[no-any-return]

    def field_plans(
        self, principal: Any, principal_key: tuple[Any, ...], action: str, model: type
    ) -> dict[str, Plan]:
        key = ("allow_field", principal_key, action, model)
        cached = self._cached(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        by_field: dict[str, list[Any]] = {}
        for result in self._query(model, "allow_field", principal, action, Variable("field")):
            name = result["field"]
            if not isinstance(name, str):
                raise NotImplementedError("allow_field rules must name their fields")
            by_field.setdefault(name, []).append(result["resource"])
        # Fields guarded by the same rule share one plan (compiled once, evaluated once per row).
        shared: dict[str, Plan] = {}
        plans: dict[str, Plan] = {}
        for name, exprs in by_field.items():
            signature = repr([self.oso.host.to_polar(e) for e in exprs])
            if signature not in shared:
                shared[signature] = self._build(model, exprs)
            plans[name] = shared[signature]
        return self._remember(key, plans)  # type: ignore[no-any-return]

    def _query(self, model: type, rule: str, *args: Any) -> list[dict[str, Any]]:
        resource = Variable("resource")
        class_name = self.oso.host.types[model].name
        constraint = Expression("And", [Expression("Isa", [resource, Pattern(class_name, {})])])
        args_with_resource = [*args[:2], resource, *args[2:]]
        return [
            result["bindings"]
            for result in self.oso.query_rule(
                rule, *args_with_resource, bindings={"resource": constraint}, accept_expression=True
            )
        ]

    def _build(self, model: type, expressions: list[Any]) -> Plan:
        if not expressions:
            return Plan(model, ())
        oso = self.oso
        types = serialize_types(oso.host.distinct_user_types(), oso.host.types)
        class_name = oso.host.types[model].name
        results = [{"bindings": {"resource": oso.host.to_polar(e)}} for e in expressions]
        raw = oso.ffi_polar.build_data_filter(types, results, "resource", class_name)
        parsed = DataFilter.parse(oso, raw)
        if parsed.relations:
            raise NotImplementedError("policies may not use relations (they would join rows)")
        conjunctions = tuple(tuple(_term(c, model) for c in conj) for conj in parsed.conditions)
        return Plan(model, conjunctions)
