"""The authorisation API used by every service and the GraphQL field permissions.

All four functions consult the same compiled plans (see plan.py), derived from the policy in
``policies/*.polar``; nothing here decides who may do what.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.actor import Actor
from backend.authz.engine import RESOURCE_FIELDS, get_oso
from backend.authz.plan import Plan, PlanCompiler
from backend.authz.principal import Principal, load_principal
from backend.errors import Forbidden, NotFound, Unauthenticated
from backend.logging import log

_compiler: PlanCompiler | None = None


def compiler() -> PlanCompiler:
    global _compiler
    if _compiler is None:
        _compiler = PlanCompiler(get_oso())
    return _compiler


def resource_type(model: type) -> str:
    """``MemoryItem`` -> ``memory_item`` (the audit log's resource type)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()


def _model_of(resource: Any) -> type:
    model = type(resource)
    if model not in RESOURCE_FIELDS:
        raise TypeError(f"{model.__name__} is not an authorisation resource")
    return model


def _require_authenticated(actor: Actor) -> None:
    if not actor.authenticated:
        raise Unauthenticated("Sign in to continue")


async def plan_for(session: AsyncSession, actor: Actor, action: str, model: type) -> Plan:
    principal: Principal = await load_principal(session, actor)
    return compiler().plan(principal, principal.key, action, model)


async def is_allowed(session: AsyncSession, actor: Actor, action: str, resource: Any) -> bool:
    """A yes/no answer without auditing (for UI hints such as ``viewerCanEdit``)."""
    if not actor.authenticated:
        return False
    return (await plan_for(session, actor, action, _model_of(resource))).matches(resource)


async def authorize(session: AsyncSession, actor: Actor, action: str, resource: Any) -> None:
    """Raise unless ``actor`` may ``action`` the loaded ``resource``.

    ``NotFound`` when the actor may not even read it (never reveal another tenant's data),
    ``Forbidden`` when it may read but not act. Every denial is audited in its own
    transaction, so it survives the rollback that the exception causes.
    """
    _require_authenticated(actor)
    model = _model_of(resource)
    if (await plan_for(session, actor, action, model)).matches(resource):
        return
    visible = action != "read" and (await plan_for(session, actor, "read", model)).matches(resource)
    from backend.audit import record_denial

    await record_denial(
        session,
        actor,
        action=f"{resource_type(model)}.{action}",
        resource_type=resource_type(model),
        resource_id=str(getattr(resource, "id", "")) or None,
        organization_id=_organization_id(resource),
        reason="forbidden" if visible else "not_found",
    )
    log.info("authz.denied", action=action, resource=resource_type(model), actor=str(actor.id))
    if visible:
        raise Forbidden(
            f"You may not {action.replace('_', ' ')} this {resource_type(model).replace('_', ' ')}"
        )
    raise NotFound(f"No such {resource_type(model).replace('_', ' ')}")


async def authorized_select(session: AsyncSession, actor: Actor, action: str, model: type) -> Select[Any]:
    """``select(model)`` limited in SQL to the rows ``actor`` may ``action``.

    Add ``where``/``order_by``/``limit`` on top; anonymous actors get a select matching nothing.
    """
    if model not in RESOURCE_FIELDS:
        raise TypeError(f"{model.__name__} is not an authorisation resource")
    if not actor.authenticated:
        return Plan(model, ()).select()
    return (await plan_for(session, actor, action, model)).select()


async def allowed_fields(
    session: AsyncSession, actor: Actor, resource: Any, action: str = "read"
) -> frozenset[str]:
    """The protected fields (GraphQL names) of ``resource`` that ``actor`` may ``action``."""
    if not actor.authenticated:
        return frozenset()
    model = _model_of(resource)
    principal = await load_principal(session, actor)
    plans = compiler().field_plans(principal, principal.key, action, model)
    verdicts: dict[int, bool] = {}
    allowed = []
    for name, plan in plans.items():
        ok = verdicts.get(id(plan))
        if ok is None:
            ok = verdicts[id(plan)] = plan.matches(resource)
        if ok:
            allowed.append(name)
    return frozenset(allowed)


def _organization_id(resource: Any) -> Any:
    from backend.models import Organization

    if isinstance(resource, Organization):
        return resource.id
    return getattr(resource, "organization_id", None)
