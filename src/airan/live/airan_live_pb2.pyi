from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InferRequest(_message.Message):
    __slots__ = ("request_id", "device", "service", "payload", "reply_bytes", "sent_unix_s", "posted_unix_s", "due_unix_s", "reply_lead_s")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    REPLY_BYTES_FIELD_NUMBER: _ClassVar[int]
    SENT_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    POSTED_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    DUE_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    REPLY_LEAD_S_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    device: int
    service: str
    payload: bytes
    reply_bytes: int
    sent_unix_s: float
    posted_unix_s: float
    due_unix_s: float
    reply_lead_s: float
    def __init__(self, request_id: _Optional[str] = ..., device: _Optional[int] = ..., service: _Optional[str] = ..., payload: _Optional[bytes] = ..., reply_bytes: _Optional[int] = ..., sent_unix_s: _Optional[float] = ..., posted_unix_s: _Optional[float] = ..., due_unix_s: _Optional[float] = ..., reply_lead_s: _Optional[float] = ...) -> None: ...

class Timing(_message.Message):
    __slots__ = ("ul_wait_ms", "ul_air_ms", "ul_transport_ms", "queue_ms", "compute_ms", "dl_transport_ms", "dl_air_ms", "gateway_ms", "site_ms", "batch_size", "attempts", "local_ms", "uplink_hop_ms", "site_hop_ms", "held_ms")
    UL_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    UL_AIR_MS_FIELD_NUMBER: _ClassVar[int]
    UL_TRANSPORT_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_MS_FIELD_NUMBER: _ClassVar[int]
    DL_TRANSPORT_MS_FIELD_NUMBER: _ClassVar[int]
    DL_AIR_MS_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_MS_FIELD_NUMBER: _ClassVar[int]
    SITE_MS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_MS_FIELD_NUMBER: _ClassVar[int]
    UPLINK_HOP_MS_FIELD_NUMBER: _ClassVar[int]
    SITE_HOP_MS_FIELD_NUMBER: _ClassVar[int]
    HELD_MS_FIELD_NUMBER: _ClassVar[int]
    ul_wait_ms: float
    ul_air_ms: float
    ul_transport_ms: float
    queue_ms: float
    compute_ms: float
    dl_transport_ms: float
    dl_air_ms: float
    gateway_ms: float
    site_ms: float
    batch_size: int
    attempts: int
    local_ms: float
    uplink_hop_ms: float
    site_hop_ms: float
    held_ms: float
    def __init__(self, ul_wait_ms: _Optional[float] = ..., ul_air_ms: _Optional[float] = ..., ul_transport_ms: _Optional[float] = ..., queue_ms: _Optional[float] = ..., compute_ms: _Optional[float] = ..., dl_transport_ms: _Optional[float] = ..., dl_air_ms: _Optional[float] = ..., gateway_ms: _Optional[float] = ..., site_ms: _Optional[float] = ..., batch_size: _Optional[int] = ..., attempts: _Optional[int] = ..., local_ms: _Optional[float] = ..., uplink_hop_ms: _Optional[float] = ..., site_hop_ms: _Optional[float] = ..., held_ms: _Optional[float] = ...) -> None: ...

class InferReply(_message.Message):
    __slots__ = ("status", "request_id", "site", "reason", "output", "output_shape", "timing", "due_unix_s", "error_code")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OK: _ClassVar[InferReply.Status]
        OVERLOADED: _ClassVar[InferReply.Status]
        DROPPED: _ClassVar[InferReply.Status]
        LOCAL: _ClassVar[InferReply.Status]
        CANCELLED: _ClassVar[InferReply.Status]
        ERROR: _ClassVar[InferReply.Status]
    OK: InferReply.Status
    OVERLOADED: InferReply.Status
    DROPPED: InferReply.Status
    LOCAL: InferReply.Status
    CANCELLED: InferReply.Status
    ERROR: InferReply.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SHAPE_FIELD_NUMBER: _ClassVar[int]
    TIMING_FIELD_NUMBER: _ClassVar[int]
    DUE_UNIX_S_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    status: InferReply.Status
    request_id: str
    site: str
    reason: str
    output: bytes
    output_shape: _containers.RepeatedScalarFieldContainer[int]
    timing: Timing
    due_unix_s: float
    error_code: int
    def __init__(self, status: _Optional[_Union[InferReply.Status, str]] = ..., request_id: _Optional[str] = ..., site: _Optional[str] = ..., reason: _Optional[str] = ..., output: _Optional[bytes] = ..., output_shape: _Optional[_Iterable[int]] = ..., timing: _Optional[_Union[Timing, _Mapping]] = ..., due_unix_s: _Optional[float] = ..., error_code: _Optional[int] = ...) -> None: ...

class LoadRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LoadReport(_message.Message):
    __slots__ = ("name", "healthy", "backlog_s", "queue_len", "queue_limit", "in_service", "gpus", "busy_s", "queue_area", "served", "batches", "overloaded", "bad_requests", "uptime_s", "rss_bytes", "realtime_busy_s", "seed", "scenario_digest")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_S_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LEN_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    IN_SERVICE_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    BUSY_S_FIELD_NUMBER: _ClassVar[int]
    QUEUE_AREA_FIELD_NUMBER: _ClassVar[int]
    SERVED_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    OVERLOADED_FIELD_NUMBER: _ClassVar[int]
    BAD_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    REALTIME_BUSY_S_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_DIGEST_FIELD_NUMBER: _ClassVar[int]
    name: str
    healthy: bool
    backlog_s: float
    queue_len: int
    queue_limit: int
    in_service: int
    gpus: int
    busy_s: float
    queue_area: float
    served: int
    batches: int
    overloaded: int
    bad_requests: int
    uptime_s: float
    rss_bytes: int
    realtime_busy_s: float
    seed: int
    scenario_digest: str
    def __init__(self, name: _Optional[str] = ..., healthy: _Optional[bool] = ..., backlog_s: _Optional[float] = ..., queue_len: _Optional[int] = ..., queue_limit: _Optional[int] = ..., in_service: _Optional[int] = ..., gpus: _Optional[int] = ..., busy_s: _Optional[float] = ..., queue_area: _Optional[float] = ..., served: _Optional[int] = ..., batches: _Optional[int] = ..., overloaded: _Optional[int] = ..., bad_requests: _Optional[int] = ..., uptime_s: _Optional[float] = ..., rss_bytes: _Optional[int] = ..., realtime_busy_s: _Optional[float] = ..., seed: _Optional[int] = ..., scenario_digest: _Optional[str] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class CancelReply(_message.Message):
    __slots__ = ("cancelled",)
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    cancelled: bool
    def __init__(self, cancelled: _Optional[bool] = ...) -> None: ...
