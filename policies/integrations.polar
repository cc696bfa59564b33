# Integrations: configured by owners/admins; builders see them and bind them to agents;
# connection settings (config) are for owners, admins and auditors. Secrets are never readable.

org_integration_permission("owner", a) if a in ["read", "read_config", "manage", "use"];
org_integration_permission("admin", a) if a in ["read", "read_config", "manage", "use"];
org_integration_permission("builder", a) if a in ["read", "use"];
org_integration_permission("auditor", a) if a in ["read", "read_config"];
# Inside a run, the agent calls the tools its configuration binds ("invoke"): the binding itself was
# authorised by "use" when it was saved; any member the run acts for may invoke (integrations engineer).
org_integration_permission(role, "invoke") if role in ["owner", "admin", "builder", "member", "auditor"];

role_allows(p: Principal, action: String, i: Integration) if
    org_role(role) and
    org_integration_permission(role, action) and
    has_org_role(p, role, i.organization_id);

allow_field(p: Principal, "read", i: Integration, field) if
    allow(p, "read", i) and
    field in ["id", "type", "name", "organizationId", "createdAt", "updatedAt", "tools"];
allow_field(p: Principal, "read", i: Integration, field) if
    allow(p, "read_config", i) and field = "config";

scope_for(_: Integration, a, scope) if a in ["read", "read_config"] and scope in ["integrations:write", "agents:read"];
scope_for(_: Integration, "manage", "integrations:write");
scope_for(_: Integration, "use", "agents:write");
scope_for(_: Integration, "invoke", "runs:write");
