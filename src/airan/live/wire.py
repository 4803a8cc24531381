"""The wire: gRPC method paths, messages (``airan_live.proto``), tokens, clients and handlers.

The messages are the protobuf classes generated from ``airan_live.proto`` (committed as
``airan_live_pb2.py``). Servers register their methods with :func:`generic_handler`, whose
request parser turns bytes that are not a valid message into ``INVALID_ARGUMENT`` rather than
gRPC's generic ``INTERNAL``, and which serves ``InferStream`` from the same ``Infer``; clients
call :class:`Stub`.

``InferStream`` carries many requests over one call. A unary call costs each side about twice
the CPU of a message on a stream (gRPC's asyncio API: ~0.76 against ~0.37 ms a request for both
ends together, a 15 KB payload on a 2-core 2026 cloud machine); a device emulator and a gateway
send every request of a run, so theirs go on streams, and a burst of simultaneous requests waits
behind half as much of that work.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

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


def generic_handler(service: str, impl: dict[str, Handler],
                    max_in_flight: int = 100_000) -> grpc.GenericRpcHandler:
    """The gRPC handler of ``service`` (``Site`` or ``Gateway``) with ``impl[method]``; with
    ``Infer``, also ``InferStream`` (at most ``max_in_flight`` of its requests at once, over
    all streams: a request beyond is answered ERROR, ``RESOURCE_EXHAUSTED``, as a unary call
    beyond the server's limit on calls is)."""
    handlers = {}
    for name, fn in impl.items():
        req_cls, rep_cls = _METHODS[name]
        handlers[name] = grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=_parser(req_cls), response_serializer=rep_cls.SerializeToString
        )
    if "Infer" in impl:
        handlers["InferStream"] = grpc.stream_stream_rpc_method_handler(
            _stream_of(impl["Infer"], max_in_flight), request_deserializer=_parser(InferRequest),
            response_serializer=InferReply.SerializeToString)
    return grpc.method_handlers_generic_handler(f"{PACKAGE}.{service}", handlers)


class _Refused(Exception):
    """A request of a stream refused with a status code, as ``abort`` ends a unary call."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


class _RequestContext:
    """What an ``Infer`` handler reads of its call's context, for one request of a stream:
    the stream's metadata, and ``abort``, which refuses that request alone."""

    def __init__(self, metadata: Any) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> Any:
        return self._metadata

    async def abort(self, code: grpc.StatusCode, details: str = "", *_: Any) -> NoReturn:
        raise _Refused(code, details)


def _error_reply(request_id: str, code: grpc.StatusCode, details: str) -> Any:
    return InferReply(status=InferReply.ERROR, request_id=request_id, reason=details,
                      error_code=code.value[0])


def _stream_of(infer: Handler, max_in_flight: int) -> Callable[..., AsyncIterator[Any]]:
    """``InferStream`` from ``infer``: each request handled as a unary call would be, at once
    and concurrently, its reply written when it is ready (by request_id, in any order); a
    request the handler refuses is answered ERROR and the stream goes on. When the caller goes
    away, its requests still in hand are cancelled (a site frees their places in its queue)."""
    in_flight = [0]  # over every stream of this server

    async def stream(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
                     ) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        ctx = _RequestContext(context.invocation_metadata())
        replies: asyncio.Queue[Any] = asyncio.Queue()
        tasks: set[asyncio.Task[None]] = set()
        mine = [0, False]  # this stream's requests in hand; whether the caller stopped sending

        async def one(req: Any) -> None:
            rid = "" if isinstance(req, Malformed) else req.request_id
            try:
                rep = await infer(req, ctx)  # type: ignore[arg-type]
            except _Refused as exc:
                rep = _error_reply(rid, exc.code, exc.details)
            except Exception as exc:  # the handler's own failure: a unary call's UNKNOWN
                traceback.print_exc()  # (gRPC logs a unary handler's)
                rep = _error_reply(rid, grpc.StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}")
            replies.put_nowait(rep)

        def ended(task: asyncio.Task[None]) -> None:
            # (a done callback: it runs for a task cancelled before it started, too)
            tasks.discard(task)
            in_flight[0] -= 1
            mine[0] -= 1
            replies.put_nowait(None)  # wakes the writer to check whether all is done

        async def read() -> None:
            # (a failed read, the caller gone: the stream ends, and its waiting requests with it)
            with contextlib.suppress(Exception):
                await _read_all()

        async def _read_all() -> None:
            try:
                async for req in requests:
                    if in_flight[0] >= max_in_flight:
                        replies.put_nowait(_error_reply(
                            "" if isinstance(req, Malformed) else req.request_id,
                            grpc.StatusCode.RESOURCE_EXHAUSTED,
                            f"more than {max_in_flight} requests in flight"))
                        continue
                    in_flight[0] += 1
                    mine[0] += 1
                    task = loop.create_task(one(req))
                    tasks.add(task)
                    task.add_done_callback(ended)
            finally:
                mine[1] = True
                replies.put_nowait(None)

        reader = loop.create_task(read())
        try:
            while True:
                rep = await replies.get()
                if rep is not None:
                    yield rep
                if mine[1] and mine[0] == 0 and replies.empty():
                    return
        finally:
            reader.cancel()
            for task in list(tasks):
                task.cancel()

    return stream


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


@dataclass(frozen=True)
class Tls:
    """TLS for the live runtime's gRPC, as PEM files: a server's certificate (its chain) and
    private key, and the certificates of the authorities its clients trust (``ca``; None:
    the system's roots). Off (``enabled`` false) without a certificate or a CA: plain TCP, as
    on one machine's loopback. Clients authenticate by their tenant token, which TLS keeps
    from being read on the way (RFC 8446; no client certificates)."""

    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    enabled: bool = False

    def server_credentials(self) -> grpc.ServerCredentials | None:
        if self.cert is None or self.key is None:
            return None
        return grpc.ssl_server_credentials([(_read(self.key), _read(self.cert))])

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        if not self.enabled:
            return None
        return grpc.ssl_channel_credentials(None if self.ca is None else _read(self.ca))


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


async def serve(service: str, impl: dict[str, Handler], host: str, port: int,
                max_payload_bytes: int, max_rpcs: int, label: str,
                tls: Tls | None = None) -> tuple[Any, int]:
    """Start a gRPC server of ``service`` on ``host:port`` (0: any free port): (server, port);
    over TLS where ``tls`` has a certificate and key."""
    options: list[tuple[str, int]] = channel_options(max_payload_bytes)
    if port:  # a given port is this server's alone (gRPC shares ports by default)
        options.append(("grpc.so_reuseport", 0))
    server = grpc.aio.server(options=options, maximum_concurrent_rpcs=max_rpcs)
    server.add_generic_rpc_handlers((generic_handler(service, impl, max_rpcs),))
    credentials = tls.server_credentials() if tls is not None else None
    try:
        bound = (server.add_secure_port(address(host, port), credentials)
                 if credentials is not None else server.add_insecure_port(address(host, port)))
    except RuntimeError as exc:  # gRPC's "Failed to bind to address ...; set GRPC_VERBOSITY"
        raise OSError(f"{label}: cannot listen on {address(host, port)}: the port is taken (a "
                      "process listens there) or the address is not this host's") from exc
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
    """A client of one server (a site or a gateway) over an ``grpc.aio`` channel. With
    ``streamed``, :meth:`infer` sends over one ``InferStream`` call per tenant token (opened
    when first needed, again after it ends) rather than a call per request, with the same
    answers and errors (``grpc.aio.AioRpcError`` with the code the unary call would end with)."""

    def __init__(self, address: str, service: str, token: str,
                 max_payload_bytes: int = MAX_PAYLOAD_BYTES, *, streamed: bool = False,
                 tls: Tls | None = None) -> None:
        self.address = address
        credentials = tls.channel_credentials() if tls is not None else None
        options = channel_options(max_payload_bytes)
        self.channel = (grpc.aio.secure_channel(address, credentials, options=options)
                        if credentials is not None
                        else grpc.aio.insecure_channel(address, options=options))
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
        self.streamed = streamed
        self.max_message_bytes = max_payload_bytes + MESSAGE_SLACK_BYTES
        # requests go as bytes (serialised when sent: a caller may change its message after)
        self._infer_stream = self.channel.stream_stream(
            base + "InferStream", response_deserializer=InferReply.FromString)
        self._streams: dict[str, _Stream] = {}
        self._cancels: set[asyncio.Task[Any]] = set()

    async def infer(self, req: Any, timeout_s: float | None, metadata: Any = None) -> Any:
        """Send one request; ``timeout_s`` bounds the whole call (s; None: no bound)."""
        if not self.streamed:
            return await self._infer(req, timeout=timeout_s, metadata=metadata or self.metadata)
        try:
            return await self._infer_streamed(req, timeout_s, metadata)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED or rpc_error_is_ours(exc):
                raise
            self.streamed = False  # a server without InferStream (an older airan): unary calls
            return await self._infer(req, timeout=timeout_s, metadata=metadata or self.metadata)

    async def _infer_streamed(self, req: Any, timeout_s: float | None, metadata: Any) -> Any:
        token = _authorization(metadata) if metadata else self.metadata[0][1]
        message = req.SerializeToString()
        if len(message) > self.max_message_bytes:
            # over gRPC's limit a message would end the whole stream, every request on it
            raise rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED,
                            f"a message of {len(message)} bytes is over this channel's limit "
                            f"of {self.max_message_bytes}")
        stream = self._streams.get(token)
        if stream is None or not stream.open:
            stream = self._streams[token] = _Stream(self._infer_stream,
                                                    (("authorization", token),))
        rid = req.request_id
        if rid in stream.waiting:
            raise rpc_error(grpc.StatusCode.INVALID_ARGUMENT,
                            f"request_id {rid!r} is already in flight")
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        stream.send(rid, message, answer)
        timer = loop.call_later(timeout_s, _expire, answer) if timeout_s is not None else None
        try:
            rep = await answer
        except (grpc.aio.AioRpcError, asyncio.CancelledError) as exc:
            if stream.open and (isinstance(exc, asyncio.CancelledError)
                                or exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED):
                # as a unary call's deadline, or its caller's cancellation, ends its handler:
                # the server lets it go (a request still on its way there when the Cancel
                # arrives is served all the same)
                task = loop.create_task(self._cancel_quietly(rid, token))
                self._cancels.add(task)
                task.add_done_callback(self._cancels.discard)
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if stream.waiting.get(rid) is answer:
                del stream.waiting[rid]
        if rep.status == InferReply.ERROR:
            raise rpc_error(_CODES.get(rep.error_code, grpc.StatusCode.UNKNOWN), rep.reason)
        return rep

    async def _cancel_quietly(self, request_id: str, token: str) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError):  # answered meanwhile, or server gone
            await self.cancel(request_id, metadata=(("authorization", token),))

    async def load(self, timeout_s: float = 1.0) -> Any:
        return await self._load(LoadRequest(), timeout=timeout_s, metadata=self.metadata)

    async def cancel(self, request_id: str, timeout_s: float = 1.0, metadata: Any = None) -> Any:
        return await self._cancel(CancelRequest(request_id=request_id), timeout=timeout_s,
                                  metadata=metadata or self.metadata)

    async def close(self) -> None:
        for stream in self._streams.values():
            stream.close()
        for task in list(self._cancels):
            task.cancel()
        await self.channel.close(grace=None)


_CODES = {code.value[0]: code for code in grpc.StatusCode}


_OURS = "airan-stream"  # the debug string of the errors made here, not by gRPC


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    """The error a call ends with, made here (for a request of a stream)."""
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details, _OURS)


def rpc_error_is_ours(exc: grpc.aio.AioRpcError) -> bool:
    """Whether ``exc`` is a request's own error (a server's ERROR reply, a timeout), not the
    stream call's."""
    return exc.debug_error_string() == _OURS


def _authorization(metadata: Any) -> str:
    return next((v for k, v in metadata if k == "authorization"), "")


def _expire(answer: asyncio.Future[Any]) -> None:
    if not answer.done():
        answer.set_exception(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))


class _Stream:
    """One ``InferStream`` call: requests written in the order sent, each answer handed to the
    future of its request_id; when the call ends, every request still waiting gets its error."""

    def __init__(self, method: Any, metadata: Any) -> None:
        self.waiting: dict[str, asyncio.Future[Any]] = {}
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.open = True
        self.call = method(self._requests(), metadata=metadata)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    def send(self, request_id: str, message: bytes, answer: asyncio.Future[Any]) -> None:
        self.waiting[request_id] = answer
        self._outbox.put_nowait(message)

    async def _requests(self) -> AsyncIterator[bytes]:
        while (message := await self._outbox.get()) is not None:
            yield message

    async def _read(self) -> None:
        error = rpc_error(grpc.StatusCode.UNAVAILABLE, "the stream ended")
        try:
            async for rep in self.call:
                answer = self.waiting.pop(rep.request_id, None)
                if answer is not None and not answer.done():
                    answer.set_result(rep)
        except grpc.aio.AioRpcError as exc:
            error = exc
        except asyncio.CancelledError:
            error = rpc_error(grpc.StatusCode.CANCELLED, "the client closed the stream")
            raise
        finally:
            self.open = False
            for answer in self.waiting.values():
                if not answer.done():
                    answer.set_exception(error)
            self.waiting.clear()
            self._outbox.put_nowait(None)  # ends the task that writes the requests

    def close(self) -> None:
        self._outbox.put_nowait(None)
        self.call.cancel()
        self._reader.cancel()


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
