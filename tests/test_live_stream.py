"""``InferStream``: many requests over one call, answered as their unary calls would be.

The device emulator and the gateways send every request of a live run over one stream per
server and tenant (``wire.Stub(streamed=True)``): each request gets the answer, or the error
code, that ``Infer`` gives it; a request past its timeout is let go at the server; requests
waiting when the server goes away fail with a code a gateway retries elsewhere; a request
beyond the server's limit on requests in flight is refused as an overload.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from test_live import TOKEN_A, TOKEN_B, _req, _site

from airan.live import wire
from airan.live.gateway import RETRYABLE

pytestmark = pytest.mark.usefixtures("model_cache")
S = grpc.StatusCode


async def _code(coro: Any) -> Any:
    """The reply's status, or the error's code."""
    try:
        return (await coro).status
    except grpc.aio.AioRpcError as exc:
        return exc.code()


def test_a_stream_answers_and_refuses_each_request_as_its_unary_call_would() -> None:
    async def main() -> dict[str, Any]:
        site = _site(max_payload_bytes=2000, max_wait_s=0.3)
        port = await site.start()
        addr = f"127.0.0.1:{port}"
        a, nobody = (wire.Stub(addr, "Site", t, streamed=True) for t in (TOKEN_A, "wrong"))
        raw = a.channel.stream_stream(f"/{wire.PACKAGE}.Site/InferStream",
                                      response_deserializer=wire.InferReply.FromString)
        got: dict[str, Any] = {}
        try:
            # four at once: one batch, answered on the one stream, each by its request_id
            reps = await asyncio.gather(*(a.infer(_req(f"b{i}"), 5) for i in range(4)))
            got["batch"] = sorted((r.request_id, r.status, r.timing.batch_size) for r in reps)
            got["too_large"] = await _code(a.infer(_req("big", payload=b"x" * 5000), 5))
            got["wrong_token"] = await _code(nobody.infer(_req("t"), 5))
            got["unknown_service"] = await _code(a.infer(_req("u", service="nope"), 5))
            got["empty_id"] = await _code(a.infer(_req(""), 5))
            first = asyncio.ensure_future(a.infer(_req("twice"), 5))
            await asyncio.sleep(0.05)
            got["duplicate"] = await _code(a.infer(_req("twice"), 5))
            got["first_of_twice"] = (await first).status
            # bytes that are not a message, on a stream of their own: an ERROR reply
            call = raw(iter([b"\xff\xff\xff\xff"]), metadata=a.metadata)
            bad = [r async for r in call]
            got["malformed"] = [(r.status, r.error_code) for r in bad]
            got["after"] = (await a.infer(_req("after"), 5)).status
            got["streams"] = len(a._streams)
            got["bad_count"] = (await a.load()).bad_requests
        finally:
            for s in (a, nobody):
                await s.close()
            await site.stop()
        return got

    g = asyncio.run(main())
    ok = wire.InferReply.OK
    assert g["batch"] == [(f"b{i}", ok, 4) for i in range(4)]
    assert g["too_large"] == S.RESOURCE_EXHAUSTED
    assert g["wrong_token"] == S.UNAUTHENTICATED
    assert g["unknown_service"] == S.INVALID_ARGUMENT
    assert g["empty_id"] == S.INVALID_ARGUMENT
    assert g["duplicate"] == S.INVALID_ARGUMENT and g["first_of_twice"] == ok
    assert g["malformed"] == [(wire.InferReply.ERROR, S.INVALID_ARGUMENT.value[0])]
    assert g["after"] == ok
    assert g["streams"] == 1  # every request of the tenant on one call
    # refused at the site: too large, the wrong token, unknown service, empty id, malformed
    # (the stub refuses the duplicate itself, as the site would)
    assert g["bad_count"] == 5


def test_a_streamed_request_past_its_timeout_leaves_the_sites_queue() -> None:
    """As a unary call's deadline ends its handler: the stub cancels it at the site."""

    async def main() -> tuple[Any, int, int]:
        site = _site(max_wait_s=2.0)  # it would wait 2 s for a batch
        port = await site.start()
        a = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_A, streamed=True)
        try:
            code = await _code(a.infer(_req("slow"), 0.2))
            queued_at_timeout = site.queued
            await _until(lambda: site.queued == 0)
            return code, queued_at_timeout, site.queued
        finally:
            await a.close()
            await site.stop()

    code, before, after = asyncio.run(main())
    assert code == S.DEADLINE_EXCEEDED
    assert before == 1 and after == 0


async def _until(condition: Any, timeout_s: float = 1.0) -> None:
    """Wait until ``condition()`` holds (at most ``timeout_s``)."""
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("leave", ["close the stub", "cancel the call"])
def test_a_caller_that_goes_away_takes_its_request_out_of_the_site(leave: str) -> None:
    """As a unary call's end does: a device gone cancels the gateway's forward to the site,
    and the site must not compute it."""

    async def main() -> tuple[int, int]:
        site = _site(max_wait_s=2.0)  # it would wait 2 s for a batch
        port = await site.start()
        a = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_A, streamed=True)
        try:
            pending = asyncio.ensure_future(a.infer(_req("w"), 5))
            await _until(lambda: site.queued)
            queued = site.queued
            if leave == "close the stub":
                await a.close()
            else:
                pending.cancel()
            with pytest.raises((grpc.aio.AioRpcError, asyncio.CancelledError)):
                await pending
            await _until(lambda: site.queued == 0)
            return queued, site.queued
        finally:
            await a.close()
            await site.stop()

    queued, after = asyncio.run(main())
    assert queued == 1 and after == 0


def test_requests_waiting_on_a_stream_fail_retryably_when_the_site_goes_away() -> None:
    """A gateway re-routes a request whose site died: the code must be one it retries."""

    async def main() -> tuple[Any, Any]:
        site = _site(max_wait_s=2.0)
        port = await site.start()
        a = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_A, streamed=True)
        try:
            pending = asyncio.ensure_future(a.infer(_req("w"), 5))
            await asyncio.sleep(0.1)
            await site.stop(0.0)
            code = await _code(pending)
            again = await _code(a.infer(_req("x"), 1))  # a new stream, to a dead server
            return code, again
        finally:
            await a.close()

    code, again = asyncio.run(main())
    assert code in RETRYABLE and again in RETRYABLE


async def _gated_server(max_in_flight: int) -> tuple[Any, int, asyncio.Event]:
    """A server whose Infer answers OK once the gate is set: (server, port, gate)."""
    gate = asyncio.Event()

    async def infer(req: Any, context: Any) -> Any:
        await gate.wait()
        return wire.InferReply(status=wire.InferReply.OK, request_id=req.request_id)

    server, port = await wire.serve("Site", {"Infer": infer}, "127.0.0.1", 0,
                                    wire.MAX_PAYLOAD_BYTES, max_in_flight, "test")
    return server, port, gate


def test_a_stream_beyond_the_servers_requests_in_flight_is_refused_as_overloaded() -> None:
    async def main() -> list[Any]:
        server, port, gate = await _gated_server(max_in_flight=2)
        a = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_B, streamed=True)
        try:
            calls = [asyncio.ensure_future(_code(a.infer(_req(f"r{i}"), 5))) for i in range(3)]
            await asyncio.sleep(0.2)
            gate.set()
            return list(await asyncio.gather(*calls))
        finally:
            await a.close()
            await server.stop(0)

    codes = asyncio.run(main())
    assert sorted(map(str, codes)) == sorted(map(str, [wire.InferReply.OK, wire.InferReply.OK,
                                                       S.RESOURCE_EXHAUSTED]))
    # a gateway answers it OVERLOADED (reason queue_full), as for a unary call refused so


def test_a_stream_closed_mid_burst_gives_back_its_places_in_flight() -> None:
    """The server's bound on requests in flight counts every stream: one that went away with
    requests in hand (some not started yet) must not keep them."""

    async def main() -> list[Any]:
        server, port, gate = await _gated_server(max_in_flight=2)
        addr = f"127.0.0.1:{port}"
        try:
            first = wire.Stub(addr, "Site", TOKEN_A, streamed=True)
            burst = [asyncio.ensure_future(first.infer(_req(f"a{i}"), 5)) for i in range(2)]
            await asyncio.sleep(0.2)
            await first.close()
            await asyncio.gather(*burst, return_exceptions=True)
            await asyncio.sleep(0.2)
            second = wire.Stub(addr, "Site", TOKEN_A, streamed=True)
            calls = [asyncio.ensure_future(_code(second.infer(_req(f"b{i}"), 5)))
                     for i in range(2)]
            await asyncio.sleep(0.2)
            gate.set()
            codes = list(await asyncio.gather(*calls))
            await second.close()
            return codes
        finally:
            await server.stop(0)

    assert asyncio.run(main()) == [wire.InferReply.OK, wire.InferReply.OK]


def test_an_oversized_request_fails_alone_not_the_stream_it_shares() -> None:
    async def main() -> tuple[Any, Any]:
        site = _site(max_wait_s=0.2)
        port = await site.start()
        a = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_A, max_payload_bytes=10_000,
                      streamed=True)
        try:
            ok = asyncio.ensure_future(_code(a.infer(_req("small"), 5)))
            await asyncio.sleep(0.05)
            big = await _code(a.infer(_req("big", payload=b"x" * 200_000), 5))
            return big, await ok
        finally:
            await a.close()
            await site.stop()

    big, ok = asyncio.run(main())
    assert big == S.RESOURCE_EXHAUSTED and ok == wire.InferReply.OK


def test_a_server_without_streams_is_called_one_request_at_a_time() -> None:
    """An older server (no InferStream): the stub falls back to unary calls."""

    async def main() -> tuple[Any, bool]:
        async def infer(req: Any, context: Any) -> Any:
            return wire.InferReply(status=wire.InferReply.OK, request_id=req.request_id)

        server = grpc.aio.server()
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            f"{wire.PACKAGE}.Site", {"Infer": grpc.unary_unary_rpc_method_handler(
                infer, request_deserializer=wire.InferRequest.FromString,
                response_serializer=wire.InferReply.SerializeToString)}),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        a = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_A, streamed=True)
        try:
            rep = await a.infer(_req("r"), 5)
            return rep.status, a.streamed
        finally:
            await a.close()
            await server.stop(0)

    assert asyncio.run(main()) == (wire.InferReply.OK, False)
