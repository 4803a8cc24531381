"""The wire: gRPC method paths, messages (``airan_live.proto``), tokens, clients and handlers.

The messages are the protobuf classes generated from ``airan_live.proto`` (committed as
``airan_live_pb2.py``). Servers register their methods with :func:`generic_handler`, whose
request parser turns bytes that are not a valid message into ``INVALID_ARGUMENT`` rather than
gRPC's generic ``INTERNAL``; clients call :class:`Stub`.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message

from airan.live import airan_live_pb2 as pb

InferRequest = pb.InferRequest
InferReply = pb.InferReply
Timing = pb.Timing
LoadRequest = pb.LoadRequest
LoadReport = pb.LoadReport
CancelRequest = pb.CancelRequest
CancelReply = pb.CancelReply

PACKAGE = "airan.live.v1"
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024  # default payload limit per request (4 MiB)
# a request may be posted this long before its ``sent_unix_s`` (s); its gateway holds it until then
MAX_LEAD_S = 5e-3
MESSAGE_SLACK_BYTES = 64 * 1024  # gRPC may carry this much beyond the payload limit
DEFAULT_TENANT = "default"
TOKEN_ENV = "AIRAN_TOKEN"


class Malformed:
    """What the request parser returns for bytes that are not a valid message."""

    def __init__(self, error: str) -> None:
        self.error = error


def _parser(cls: type[Message]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return cls.FromString(data)
        except (DecodeError, ValueError, RuntimeError) as exc:
            return Malformed(str(exc) or "not a valid protobuf message")

    return parse


Handler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]

_METHODS: dict[str, tuple[type[Message], type[Message]]] = {
    "Infer": (InferRequest, InferReply),
    "Load": (LoadRequest, LoadReport),
    "Cancel": (CancelRequest, CancelReply),
}


def generic_handler(service: str, impl: dict[str, Handler]) -> grpc.GenericRpcHandler:
    """The gRPC handler of ``service`` (``Site`` or ``Gateway``) with ``impl[method]``."""
    handlers = {}
    for name, fn in impl.items():
        req_cls, rep_cls = _METHODS[name]
        handlers[name] = grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=_parser(req_cls), response_serializer=rep_cls.SerializeToString
        )
    return grpc.method_handlers_generic_handler(f"{PACKAGE}.{service}", handlers)


PARENT_ENV = "AIRAN_PARENT_PID"  # set by the runtime for the components it starts


def exit_with_parent() -> None:
    """Have this component process get SIGTERM when the runtime that started it dies (Linux's
    parent-death signal): an ``airan live`` killed with SIGKILL, or by the OOM killer, left its
    servers listening for ever. A no-op where the runtime did not ask (``PARENT_ENV`` unset)
    or on other systems."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    if os.getppid() != int(parent):  # it died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def address(host: str, port: int) -> str:
    """``host:port`` as gRPC reads it: an IPv6 literal in brackets ("[::1]:50051")."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


async def serve(service: str, impl: dict[str, Handler], host: str, port: int,
                max_payload_bytes: int, max_rpcs: int, label: str) -> tuple[Any, int]:
    """Start a gRPC server of ``service`` on ``host:port`` (0: any free port): (server, port)."""
    options: list[tuple[str, int]] = channel_options(max_payload_bytes)
    if port:  # a given port is this server's alone (gRPC shares ports by default)
        options.append(("grpc.so_reuseport", 0))
    server = grpc.aio.server(options=options, maximum_concurrent_rpcs=max_rpcs)
    server.add_generic_rpc_handlers((generic_handler(service, impl),))
    bound = server.add_insecure_port(address(host, port))
    if not bound:
        raise OSError(f"{label}: cannot listen on {address(host, port)}")
    await server.start()
    return server, bound


def channel_options(max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> list[tuple[str, int]]:
    """gRPC options: messages up to the payload limit plus slack, fast reconnects."""
    size = max_payload_bytes + MESSAGE_SLACK_BYTES
    return [
        ("grpc.max_receive_message_length", size),
        ("grpc.max_send_message_length", size),
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1000),
        ("grpc.min_reconnect_backoff_ms", 100),
    ]


class Stub:
    """A client of one server (a site or a gateway) over an ``grpc.aio`` channel."""

    def __init__(self, address: str, service: str, token: str,
                 max_payload_bytes: int = MAX_PAYLOAD_BYTES) -> None:
        self.address = address
        self.channel = grpc.aio.insecure_channel(address, options=channel_options(
            max_payload_bytes))
        self.metadata = (("authorization", f"Bearer {token}"),)
        base = f"/{PACKAGE}.{service}/"
        self._infer = self.channel.unary_unary(
            base + "Infer", request_serializer=InferRequest.SerializeToString,
            response_deserializer=InferReply.FromString)
        self._load = self.channel.unary_unary(
            base + "Load", request_serializer=LoadRequest.SerializeToString,
            response_deserializer=LoadReport.FromString)
        self._cancel = self.channel.unary_unary(
            base + "Cancel", request_serializer=CancelRequest.SerializeToString,
            response_deserializer=CancelReply.FromString)

    async def infer(self, req: Any, timeout_s: float, metadata: Any = None) -> Any:
        """Send one request; ``timeout_s`` bounds the whole call (s)."""
        return await self._infer(req, timeout=timeout_s, metadata=metadata or self.metadata)

    async def load(self, timeout_s: float = 1.0) -> Any:
        return await self._load(LoadRequest(), timeout=timeout_s, metadata=self.metadata)

    async def cancel(self, request_id: str, timeout_s: float = 1.0, metadata: Any = None) -> Any:
        return await self._cancel(CancelRequest(request_id=request_id), timeout=timeout_s,
                                  metadata=metadata or self.metadata)

    async def close(self) -> None:
        await self.channel.close(grace=None)


@dataclass
class Tenants:
    """Tenant names by token. A request's tenant is the one whose token it carries."""

    by_token: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, tenants: dict[str, str]) -> Tenants:
        """From ``{tenant: token}``."""
        return cls({tok: name for name, tok in tenants.items()})

    def tenant_of(self, metadata: Any) -> str | None:
        """The tenant of a call's metadata, or None for a missing or unknown token."""
        for key, value in metadata or ():
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                return self.by_token.get(value[7:].strip())
        return None


def new_token() -> str:
    """A fresh random tenant token (URL-safe, 32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


def token_from_env(default: str | None = None) -> str | None:
    return os.environ.get(TOKEN_ENV, default)


async def authenticate(tenants: Tenants, context: grpc.aio.ServicerContext) -> str:
    """The caller's tenant; aborts the call with UNAUTHENTICATED when there is none."""
    tenant = tenants.tenant_of(context.invocation_metadata())
    if tenant is None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED,
                            "missing or unknown tenant token (metadata 'authorization: Bearer …')")
    return tenant  # type: ignore[return-value]
