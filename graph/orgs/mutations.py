"""Organisations, members, invitations and per-agent grants."""

from __future__ import annotations

import strawberry

from backend.db import transaction
from backend.orgs import grants, service
from graph.context import Info
from graph.identity.mutations import signed_in, uuid_arg
from graph.orgs.types import AgentGrant, AgentRole, Membership, Organization, OrgRole


@strawberry.input(description="A new organisation; you become its OWNER.")
class CreateOrganizationInput:
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL name: lowercase letters, digits and hyphens.")


@strawberry.input(description="Add a person by e-mail; unknown addresses get an invitation.")
class AddMemberInput:
    organization_id: strawberry.ID = strawberry.field(description="The organisation.")
    email: str = strawberry.field(description="The person's e-mail address.")
    role: OrgRole = strawberry.field(description="Their role.")


@strawberry.input(description="A new role for a member.")
class ChangeMemberRoleInput:
    organization_id: strawberry.ID = strawberry.field(description="The organisation.")
    user_id: strawberry.ID = strawberry.field(description="The member.")
    role: OrgRole = strawberry.field(description="The new role.")


@strawberry.input(description="A member to remove (yourself: leave the organisation).")
class RemoveMemberInput:
    organization_id: strawberry.ID = strawberry.field(description="The organisation.")
    user_id: strawberry.ID = strawberry.field(description="The member.")


@strawberry.input(description="Grant a per-agent role to a member of the agent's organisation.")
class GrantAgentRoleInput:
    agent_id: strawberry.ID = strawberry.field(description="The agent.")
    user_id: strawberry.ID = strawberry.field(description="The member.")
    role: AgentRole = strawberry.field(description="OWNER, EDITOR or VIEWER.")


@strawberry.input(description="Remove a member's per-agent role.")
class RevokeAgentRoleInput:
    agent_id: strawberry.ID = strawberry.field(description="The agent.")
    user_id: strawberry.ID = strawberry.field(description="The member.")


@strawberry.type
class OrgMutations:
    @strawberry.mutation(description="Create an organisation; you become its OWNER.")
    async def create_organization(self, info: Info, input: CreateOrganizationInput) -> Organization:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            org = await service.create_organization(
                session, info.context.actor, name=input.name, slug=input.slug
            )
        return Organization.from_row(org)

    @strawberry.mutation(description="Add a member, or invite an e-mail address without an account.")
    async def add_member(self, info: Info, input: AddMemberInput) -> Membership:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            member, invitation, token = await service.add_member(
                session,
                info.context.actor,
                organization_id=uuid_arg(input.organization_id, "organizationId"),
                email=input.email,
                role=input.role.value,
            )
        return Membership.from_row(member) if member else Membership.from_invitation(invitation, token)  # type: ignore[arg-type]

    @strawberry.mutation(description="Accept an invitation sent to your e-mail address.")
    async def accept_invitation(self, info: Info, token: str) -> Membership:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            member = await service.accept_invitation(session, info.context.actor, token=token)
        return Membership.from_row(member)

    @strawberry.mutation(description="Change a member's role; the last OWNER cannot be demoted (CONFLICT).")
    async def change_member_role(self, info: Info, input: ChangeMemberRoleInput) -> Membership:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            member = await service.change_member_role(
                session,
                info.context.actor,
                organization_id=uuid_arg(input.organization_id, "organizationId"),
                user_id=uuid_arg(input.user_id, "userId"),
                role=input.role.value,
            )
        return Membership.from_row(member)

    @strawberry.mutation(
        description="Remove a member (their grants and keys here go too); never the last OWNER."
    )
    async def remove_member(self, info: Info, input: RemoveMemberInput) -> Membership:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            member = await service.remove_member(
                session,
                info.context.actor,
                organization_id=uuid_arg(input.organization_id, "organizationId"),
                user_id=uuid_arg(input.user_id, "userId"),
            )
        return Membership.from_row(member)

    @strawberry.mutation(description="Grant (or change) a member's per-agent role.")
    async def grant_agent_role(self, info: Info, input: GrantAgentRoleInput) -> AgentGrant:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            grant = await grants.grant_agent_role(
                session,
                info.context.actor,
                agent_id=uuid_arg(input.agent_id, "agentId"),
                user_id=uuid_arg(input.user_id, "userId"),
                role=input.role.value,
            )
        return AgentGrant(
            agent_id=strawberry.ID(str(grant.agent_id)),
            user_id=strawberry.ID(str(grant.user_id)),
            role=AgentRole(grant.role),
        )

    @strawberry.mutation(description="Remove a member's per-agent role; false when they had none.")
    async def revoke_agent_role(self, info: Info, input: RevokeAgentRoleInput) -> bool:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            return await grants.revoke_agent_role(
                session,
                info.context.actor,
                agent_id=uuid_arg(input.agent_id, "agentId"),
                user_id=uuid_arg(input.user_id, "userId"),
            )
