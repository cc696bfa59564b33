"""Sign up, log in/out, password changes, API keys and service accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from backend.db import transaction
from backend.errors import Invalid, Unauthenticated
from backend.identity import apikeys, service
from graph.context import Info
from graph.identity.types import ApiKey, ApiKeyCreated, AuthPayload, User


def uuid_arg(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{field}: not a valid id", field=field) from None


def signed_in(info: Info) -> None:
    if not info.context.actor.authenticated:
        raise Unauthenticated("Sign in to continue")


@strawberry.input(description="A new account.")
class SignUpInput:
    email: str = strawberry.field(description="E-mail address; the login name.")
    password: str = strawberry.field(description="At least 12 characters.")
    display_name: str = strawberry.field(description="Name shown to others.")


@strawberry.input(description="Credentials to log in.")
class LogInInput:
    email: str = strawberry.field(description="E-mail address.")
    password: str = strawberry.field(description="Password.")


@strawberry.input(description="A password change; all your other sessions are signed out.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="The new password (at least 12 characters).")


@strawberry.input(description="A new API key for an organisation.")
class CreateApiKeyInput:
    organization_id: strawberry.ID = strawberry.field(description="The one organisation the key acts in.")
    name: str = strawberry.field(description="A label to recognise it.")
    scopes: list[str] = strawberry.field(
        description="agents:read agents:write runs:read runs:write schedules:write integrations:write "
        "members:write audit:read"
    )
    expires_at: datetime | None = strawberry.field(default=None, description="Expiry; null: never.")
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="A service account of the organisation to own the key; default: you."
    )


@strawberry.input(description="A service account: a non-human member that owns API keys.")
class CreateServiceAccountInput:
    organization_id: strawberry.ID = strawberry.field(description="Its organisation.")
    name: str = strawberry.field(description="Display name.")
    role: str = strawberry.field(description="ADMIN, BUILDER, MEMBER or AUDITOR.")


@strawberry.type
class IdentityMutations:
    @strawberry.mutation(description="Create an account and sign in.")
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        ctx = info.context
        async with transaction(ctx.resources.sessions) as session:
            user, token = await service.sign_up(
                session,
                ctx.resources,
                ctx.actor,
                email=input.email,
                password=input.password,
                display_name=input.display_name,
            )
        return AuthPayload(token=token, user=User.from_row(user))

    @strawberry.mutation(description="Sign in; repeated failures are throttled (RATE_LIMITED).")
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        ctx = info.context
        async with transaction(ctx.resources.sessions) as session:
            user, token = await service.log_in(
                session, ctx.resources, ctx.actor, email=input.email, password=input.password
            )
        return AuthPayload(token=token, user=User.from_row(user))

    @strawberry.mutation(description="Revoke the current session token.")
    async def log_out(self, info: Info) -> bool:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            return await service.log_out(session, info.context.actor)

    @strawberry.mutation(description="Change your password; signs out all your other sessions.")
    async def change_password(self, info: Info, input: ChangePasswordInput) -> User:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            user = await service.change_password(
                session,
                info.context.actor,
                current_password=input.current_password,
                new_password=input.new_password,
            )
        return User.from_row(user)

    @strawberry.mutation(description="Create an API key; its secret is returned once.")
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> ApiKeyCreated:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            key, secret = await apikeys.create_api_key(
                session,
                info.context.actor,
                organization_id=uuid_arg(input.organization_id, "organizationId"),
                name=input.name,
                scopes=input.scopes,
                expires_at=input.expires_at,
                user_id=uuid_arg(input.user_id, "userId") if input.user_id else None,
            )
        return ApiKeyCreated(api_key=ApiKey.from_row(key), secret=secret)

    @strawberry.mutation(description="Revoke an API key; it stops working immediately.")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            key = await apikeys.revoke_api_key(session, info.context.actor, key_id=uuid_arg(id, "id"))
        return ApiKey.from_row(key)

    @strawberry.mutation(description="Create a service account member (owners and admins).")
    async def create_service_account(self, info: Info, input: CreateServiceAccountInput) -> User:
        signed_in(info)
        async with transaction(info.context.resources.sessions) as session:
            user = await apikeys.create_service_account(
                session,
                info.context.actor,
                organization_id=uuid_arg(input.organization_id, "organizationId"),
                name=input.name,
                role=input.role,
            )
        return User.from_row(user)
