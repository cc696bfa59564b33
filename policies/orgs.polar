# Organisation roles: owner > admin > builder > member, and auditor (read-only oversight).

org_role(role) if role in ["owner", "admin", "builder", "member", "auditor"];

# p holds exactly `role` in organisation org_id.
has_org_role(p: Principal, role: String, org_id) if org_id in p.org_ids(role);

# What each role may do to its organisation.
org_role_permission("owner", perm) if perm in [
    "read", "manage", "manage_members", "manage_owners", "create_agent", "manage_integrations",
    "read_audit", "manage_api_keys", "create_api_key", "read_runs"];
org_role_permission("admin", perm) if perm in [
    "read", "manage", "manage_members", "create_agent", "manage_integrations",
    "read_audit", "manage_api_keys", "create_api_key", "read_runs"];
org_role_permission("builder", perm) if perm in ["read", "create_agent", "create_api_key"];
org_role_permission("member", "read");
org_role_permission("auditor", perm) if perm in ["read", "read_audit", "read_runs"];

has_org_permission(p: Principal, perm: String, org_id) if
    org_role(role) and
    org_role_permission(role, perm) and
    has_org_role(p, role, org_id);

role_allows(p: Principal, action: String, org: Organization) if
    has_org_permission(p, action, org.id);

# Memberships: visible to the organisation, managed by member managers.
role_allows(p: Principal, "read", m: Membership) if has_org_permission(p, "read", m.organization_id);
role_allows(p: Principal, "manage", m: Membership) if has_org_permission(p, "manage_members", m.organization_id);
# Anyone may leave an organisation (the service still refuses to remove the last owner).
role_allows(p: Principal, "leave", m: Membership) if m.user_id = p.user_id;

# API keys: your own keys, plus all keys for key managers; auditors may list them.
role_allows(p: Principal, action: String, k: ApiKey) if
    action in ["read", "manage"] and
    k.user_id = p.user_id and
    has_org_permission(p, "read", k.organization_id);
role_allows(p: Principal, action: String, k: ApiKey) if
    action in ["read", "manage"] and has_org_permission(p, "manage_api_keys", k.organization_id);
role_allows(p: Principal, "read", k: ApiKey) if has_org_permission(p, "read_audit", k.organization_id);

# Audit events of an organisation.
role_allows(p: Principal, "read", e: AuditEvent) if has_org_permission(p, "read_audit", e.organization_id);

# Scopes needed by API keys. manage_api_keys, create_api_key and manage_owners have no
# scope: a key can never mint keys or change owners.
scope_for(_: Organization, "read", scope) if scope in [
    "agents:read", "runs:read", "schedules:write", "integrations:write", "members:write", "audit:read"];
scope_for(_: Organization, "manage", "members:write");
scope_for(_: Organization, "manage_members", "members:write");
scope_for(_: Organization, "create_agent", "agents:write");
scope_for(_: Organization, "manage_integrations", "integrations:write");
scope_for(_: Organization, "read_audit", "audit:read");
scope_for(_: Organization, "read_runs", "runs:read");
scope_for(_: Membership, "read", scope) if scope in ["members:write", "audit:read", "agents:read"];
scope_for(_: Membership, a, "members:write") if a in ["manage", "leave"];
scope_for(_: AuditEvent, "read", "audit:read");
