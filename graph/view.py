"""Strawberry's ASGI view wired to our context, authentication and body limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from backend.authz import Actor
from backend.errors import DomainError
from backend.resources import Resources
from graph.auth import authenticate
from graph.context import Context
from graph.request_id import current_request_id

AUTH_ERROR = "auth_error"


def _client(request: Request | WebSocket) -> tuple[str | None, str | None]:
    host = request.client.host if request.client else None
    return host, request.headers.get("user-agent")


class AgentryGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: Any, resources_getter: Any, *, development: bool, origins: list[str]) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=50,
            allowed_origins=origins,
        )
        self._resources = resources_getter

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        resources: Resources = self._resources()
        addr, agent = _client(request)
        rid = current_request_id()
        header = request.headers.get("authorization")
        actor = Actor.anonymous(client_addr=addr, user_agent=agent, request_id=rid)
        if header and isinstance(request, Request):
            try:
                actor = await authenticate(
                    resources, header, client_addr=addr, user_agent=agent, request_id=rid
                )
            except DomainError as err:
                # A bad credential fails the whole operation (see execute_operation), never
                # silently downgrades to anonymous.
                actor.extra[AUTH_ERROR] = err.message
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            resources=resources,
            actor=actor,
            request_id=rid,
        )

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        failure = context.actor.extra.get(AUTH_ERROR)
        if failure is not None:
            return ExecutionResult(
                data=None, errors=[GraphQLError(failure, extensions={"code": "UNAUTHENTICATED"})]
            )
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def on_ws_connect(self, context: Context) -> dict[str, Any] | None:
        """Authenticate once at ``connection_init``; a bad or missing token closes with 4403."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        if not header:
            header = context.request.headers.get("authorization")
        if not isinstance(header, str):
            raise ConnectionRejectionError({"reason": "authentication required"})
        addr, agent = _client(context.request)
        try:
            context.actor = await authenticate(
                context.resources, header, client_addr=addr, user_agent=agent, request_id=context.request_id
            )
        except DomainError as err:
            raise ConnectionRejectionError({"reason": err.message}) from err
        return {"authenticated": True}
