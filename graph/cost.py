"""Query cost limit: a validation rule that estimates the work an operation asks for.

Every field costs 1; a list multiplies its sub-selection by the page size it asks for
(``first``: a literal, the variable's default, or ``MAX_PAGE`` when a variable has none),
or by ``DEFAULT_LIST_SIZE`` when it has no ``first``. ``edges``/``nodes`` inside a
connection do not multiply again. Introspection fields are free (introspection itself is
disabled outside development). Operations over ``MAX_COST`` are refused before execution.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)

MAX_COST = 10_000
DEFAULT_LIST_SIZE = 10
MAX_PAGE = 200
PAGE_ARGUMENTS = ("first", "last", "limit")


class QueryCostRule(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._defaults: dict[str, Any] = {}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        if root is None:
            return
        self._defaults = {
            v.variable.name.value: getattr(v.default_value, "value", None)
            for v in node.variable_definitions or ()
        }
        cost = self._selection_cost(node.selection_set, root, set())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"Query is too expensive: estimated cost {cost} exceeds {MAX_COST}; "
                    "ask for smaller pages.",
                    node,
                    extensions={"code": "BAD_USER_INPUT", "cost": cost, "maxCost": MAX_COST},
                )
            )

    def _page_size(self, field: FieldNode) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(0, int(value.value))
            if isinstance(value, VariableNode):
                default = self._defaults.get(value.name.value)
                return int(default) if default is not None else MAX_PAGE
        return None

    def _selection_cost(self, selection_set: SelectionSetNode | None, parent: Any, seen: set[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.context.schema.get_type(selection.type_condition.name.value) or parent
                total += self._selection_cost(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in seen:  # unknown/cyclic: other rules report it
                    continue
                target = self.context.schema.get_type(fragment.type_condition.name.value) or parent
                total += self._selection_cost(fragment.selection_set, target, seen | {name})
        return total

    def _field_cost(self, field: FieldNode, parent: Any, seen: set[str]) -> int:
        name = field.name.value
        if name.startswith("__"):
            return 0
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:
            return 1  # unknown fields are reported by FieldsOnCorrectTypeRule
        kind = definition.type
        is_list = False
        while isinstance(kind, GraphQLNonNull | GraphQLList):
            is_list = is_list or isinstance(kind, GraphQLList)
            kind = kind.of_type
        page = self._page_size(field)
        in_connection = str(getattr(parent, "name", "")).endswith("Connection") and name in ("edges", "nodes")
        if page is not None:
            factor = page
        elif is_list and not in_connection:
            factor = DEFAULT_LIST_SIZE
        else:
            factor = 1
        return 1 + factor * self._selection_cost(field.selection_set, kind, seen)
