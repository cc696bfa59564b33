# Using an agent: threads, runs and memories belong to the user who created them.
# Managers of the agent (and auditors) may read others' runs and traces; traces (steps,
# tool calls, frozen configuration) are for managers only.

role_allows(p: Principal, action: String, t: Thread) if
    action in ["read", "write", "delete"] and t.user_id = p.user_id;
role_allows(p: Principal, "read", t: Thread) if
    agent_permission(p, "read_runs", t.agent_id, t.organization_id);
role_allows(p: Principal, "delete", t: Thread) if
    has_org_permission(p, "manage", t.organization_id);

role_allows(p: Principal, action: String, r: Run) if
    action in ["read", "cancel"] and r.user_id = p.user_id;
role_allows(p: Principal, action: String, r: Run) if
    action in ["read", "read_trace"] and
    agent_permission(p, "read_runs", r.agent_id, r.organization_id);
role_allows(p: Principal, "cancel", r: Run) if
    agent_permission(p, "edit", r.agent_id, r.organization_id);

run_trace_field(f) if f in ["steps", "trace", "config", "events"];
allow_field(p: Principal, "read", r: Run, field) if
    allow(p, "read", r) and
    field in ["id", "status", "input", "output", "error", "usage", "createdAt", "startedAt",
              "finishedAt", "threadId", "trigger"];
allow_field(p: Principal, "read", r: Run, field) if
    allow(p, "read_trace", r) and run_trace_field(field);

# Schedules are managed like deployments (they start runs as their creator).
role_allows(p: Principal, "read", s: Schedule) if
    deployment_permission(p, "read_runs", s.deployment_id, s.organization_id);
role_allows(p: Principal, "read", s: Schedule) if
    s.created_by_id = p.user_id and has_org_permission(p, "read", s.organization_id);
role_allows(p: Principal, "manage", s: Schedule) if
    deployment_permission(p, "deploy", s.deployment_id, s.organization_id);

# Long-term memories: visible and erasable by their owner; admins may erase (erasure requests).
role_allows(p: Principal, action: String, m: MemoryItem) if
    action in ["read", "delete"] and m.user_id = p.user_id;
role_allows(p: Principal, "delete", m: MemoryItem) if
    has_org_permission(p, "manage", m.organization_id);

scope_for(_: Thread, "read", "runs:read");
scope_for(_: Thread, a, "runs:write") if a in ["write", "delete"];
scope_for(_: Run, a, "runs:read") if a in ["read", "read_trace"];
scope_for(_: Run, "cancel", "runs:write");
scope_for(_: Schedule, "read", scope) if scope in ["schedules:write", "runs:read", "agents:read"];
scope_for(_: Schedule, "manage", "schedules:write");
scope_for(_: MemoryItem, "read", "runs:read");
scope_for(_: MemoryItem, "delete", "runs:write");
