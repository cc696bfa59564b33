# Agentry authorisation: the only place where access rules live.
#
# Every decision is `allow(principal, action, resource)`:
#   the permission a role gives (role_allows, one file per domain),
#   narrowed by the credential's scopes (API keys, agents acting in runs),
#   and confined to the credential's one organisation (API keys, agents).
# A key or an agent therefore never exceeds its owner/user: all three must hold.
# Principal facts (ids per role) are loaded by backend/authz/principal.py.

# Platform jobs act as the system principal.
allow(p: Principal, _action: String, _resource) if p.is_system = true;

allow(p: Principal, action: String, resource) if
    p.is_system = false and
    p.user_id != nil and
    role_allows(p, action, resource) and
    scope_ok(p, action, resource) and
    confined_ok(p, resource);

# ---- scopes ---------------------------------------------------------------
# Interactive sessions are not narrowed.
scope_ok(p: Principal, _action: String, _resource) if p.scoped = false;
scope_ok(p: Principal, action: String, resource) if
    p.scoped = true and
    scope_for(resource, action, scope) and
    scope_held(p, scope);

# A write scope implies the matching read scope.
scope_held(p: Principal, scope: String) if scope in p.scopes;
scope_held(p: Principal, "agents:read") if "agents:write" in p.scopes;
scope_held(p: Principal, "runs:read") if "runs:write" in p.scopes;

# ---- confinement ------------------------------------------------------------
confined_ok(p: Principal, _resource) if p.confined = false;
confined_ok(p: Principal, resource) if
    p.confined = true and
    organization_of(resource, org_id) and
    org_id = p.home_org_id;

organization_of(org: Organization, org.id);
organization_of(r: Agent, r.organization_id);
organization_of(r: Deployment, r.organization_id);
organization_of(r: Thread, r.organization_id);
organization_of(r: Run, r.organization_id);
organization_of(r: Schedule, r.organization_id);
organization_of(r: Integration, r.organization_id);
organization_of(r: MemoryItem, r.organization_id);
organization_of(r: ApiKey, r.organization_id);
organization_of(r: Membership, r.organization_id);
organization_of(r: AuditEvent, r.organization_id);

# ---- fields -------------------------------------------------------------------
# allow_field(p, "read", resource, field) rules live next to each resource.
