# Agents: managing (configure, publish, deploy, read others' runs) is separate from using.
#
# Decision: builders create agents and manage the agents they created or were granted
# (per-agent owner/editor); owners and admins manage every agent of the organisation.
# Everyone in the organisation sees agents' listing fields; configuration is for managers
# and auditors (read-only).

agent_action(a) if a in [
    "read", "read_config", "edit", "publish", "deploy", "archive", "manage_grants", "playground", "read_runs"];

# Organisation-wide rights over all agents of the organisation.
org_agent_permission("owner", a) if agent_action(a);
org_agent_permission("admin", a) if agent_action(a);
org_agent_permission("builder", "read");
org_agent_permission("member", "read");
org_agent_permission("auditor", a) if a in ["read", "read_config", "read_runs"];

# Per-agent roles granted to organisation members. "creator" is the agent's author, who
# owns it for as long as they are a builder (or more) in its organisation.
agent_role_permission("owner", a) if agent_action(a);
agent_role_permission("editor", a) if a in [
    "read", "read_config", "edit", "publish", "deploy", "playground", "read_runs"];
agent_role_permission("viewer", a) if a in ["read", "read_config", "read_runs"];

# `action` on the agent `agent_id` of organisation `org_id`; usable from every resource that
# points at an agent (deployment, thread, run, memory).
agent_permission(p: Principal, action: String, _agent_id, org_id) if
    org_role(role) and org_agent_permission(role, action) and has_org_role(p, role, org_id);
agent_permission(p: Principal, action: String, agent_id, _org_id) if
    role in ["owner", "editor", "viewer"] and
    agent_role_permission(role, action) and
    agent_id in p.agent_ids(role);
agent_permission(p: Principal, action: String, agent_id, org_id) if
    agent_role_permission("owner", action) and
    agent_id in p.agent_ids("creator") and
    role in ["owner", "admin", "builder"] and has_org_role(p, role, org_id);

# The same, reached through the agent's deployment id (schedules point at deployments).
deployment_permission(p: Principal, action: String, _deployment_id, org_id) if
    org_role(role) and org_agent_permission(role, action) and has_org_role(p, role, org_id);
deployment_permission(p: Principal, action: String, deployment_id, _org_id) if
    role in ["owner", "editor", "viewer"] and
    agent_role_permission(role, action) and
    deployment_id in p.deployment_ids(role);
deployment_permission(p: Principal, action: String, deployment_id, org_id) if
    agent_role_permission("owner", action) and
    deployment_id in p.deployment_ids("creator") and
    role in ["owner", "admin", "builder"] and has_org_role(p, role, org_id);

role_allows(p: Principal, action: String, agent: Agent) if
    agent_permission(p, action, agent.id, agent.organization_id);

# Deployments: using is discovering and chatting; managing is (un)deploying, schedules, triggers.
role_allows(_p: Principal, "use", d: Deployment) if
    d.undeployed_at = nil and d.visibility = "public";
role_allows(p: Principal, "use", d: Deployment) if
    d.undeployed_at = nil and d.visibility = "organization" and
    org_role(role) and has_org_role(p, role, d.organization_id);
role_allows(p: Principal, "read", d: Deployment) if role_allows(p, "use", d);
role_allows(p: Principal, "read", d: Deployment) if
    agent_permission(p, "read_config", d.agent_id, d.organization_id);
role_allows(p: Principal, action: String, d: Deployment) if
    action in ["manage", "manage_schedules"] and
    agent_permission(p, "deploy", d.agent_id, d.organization_id);

# Field-level rules. Listing fields follow "read"; configuration follows "read_config".
agent_listing_field(f) if f in [
    "id", "slug", "name", "description", "category", "tags", "icon", "examplePrompts",
    "organizationId", "createdAt", "updatedAt", "archivedAt", "versions", "deployments", "deployment"];
agent_config_field(f) if f in [
    "instructions", "model", "modelSettings", "toolNames", "tools", "handoffs", "config", "settings", "memory",
    "limits", "traces", "versionConfig", "runs", "grants"];

# (allow first: it is evaluated once per rule, then the field list is enumerated.)
allow_field(p: Principal, "read", agent: Agent, field) if
    allow(p, "read", agent) and agent_listing_field(field);
allow_field(p: Principal, "read", agent: Agent, field) if
    allow(p, "read_config", agent) and agent_config_field(field);

scope_for(_: Agent, "read", scope) if scope in ["agents:read", "runs:read"];
scope_for(_: Agent, "read_config", "agents:read");
scope_for(_: Agent, "read_runs", "runs:read");
scope_for(_: Agent, a, "agents:write") if a in [
    "edit", "publish", "deploy", "archive", "manage_grants", "playground"];
scope_for(_: Deployment, "use", "runs:write");
scope_for(_: Deployment, "read", scope) if scope in ["agents:read", "runs:read"];
scope_for(_: Deployment, "manage", "agents:write");
scope_for(_: Deployment, "manage_schedules", scope) if scope in ["schedules:write", "agents:write"];
