"""The base of every emulator: serving in a background thread, statistics, faults, control endpoints.

Everything here is provider-neutral. The provider's package supplies ``handle_http`` (paths,
paging, batches, error bodies, quotas) and ``_fault_error`` (its error type), and calls
``_arrive`` for each request it counts, ``_control`` for ``/_emulator/...`` paths, and
``self._faults.take``/``take_throttle`` where its admission checks run.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar

from .faults import Faults
from .httpd import Answer, LoopbackHTTPServer, RequestHandler
from .inject import UNAVAILABLE_HTML, Fault, FaultInjector, html_page
from .stats import Stats

E = TypeVar("E")

CONTROL_PREFIX = "/_emulator/"
STATS_PATH = CONTROL_PREFIX + "stats"
RESET_PATH = CONTROL_PREFIX + "reset"


class LoopbackEmulator(ABC, Generic[E]):
    """An emulator served on ``127.0.0.1`` by ``start()`` at ``url``; ``E`` is its error type.

    A subclass calls ``super().__init__`` first, sets its configuration, and ends its
    ``__init__`` with ``self.reset()``; its ``reset`` builds the initial state under ``_lock`` and
    calls ``super().reset()``. ``_lock`` (re-entrant) guards all state, the statistics and faults.
    """

    thread_name: ClassVar[str] = "emulator"
    url_path: ClassVar[str] = ""                        # what ``url`` ends with after the port
    handler_class: ClassVar[type[RequestHandler]] = RequestHandler
    stats_counters: ClassVar[tuple[str, ...]] = ()      # the ``Stats.counters`` that ``stats()`` reports
    reset_answer: ClassVar[tuple[int, Any]] = (204, None)   # status and JSON of POST /_emulator/reset
    unavailable_html: ClassVar[bytes] = UNAVAILABLE_HTML    # the front end's 503 page (injected faults)

    _stats: Stats
    _faults: Faults[E]

    def __init__(self, *, latency_ms: float = 0) -> None:
        self.latency_ms = latency_ms
        self._lock = threading.RLock()
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --------------------------------------------------------------------------- lifecycle

    def start(self, port: int = 0) -> Self:
        """Serve on ``127.0.0.1:port`` (0: any free port) in a daemon thread; ``url`` says where."""
        handler = type("Handler", (self.handler_class,), {"emulator": self})
        self._server = LoopbackHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.url_path}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """No pending faults or throttling, and empty statistics (subclasses also reset their state)."""
        with self._lock:
            self._faults = Faults()
            self._injector = FaultInjector()
            self.reset_stats()

    # --------------------------------------------------------------------------- statistics and faults

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats.snapshot(self.stats_counters)

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = Stats()

    def calls(self) -> list[tuple[str, str]]:
        """Every API call made, in order: (HTTP method, decoded path without the query)."""
        with self._lock:
            return [(entry["method"], entry["path"]) for entry in self._stats.log]

    def call_log(self) -> list[dict[str, Any]]:
        """The calls with whatever else the emulator records about each."""
        with self._lock:
            return copy.deepcopy(self._stats.log)

    def fail_next(self, method: str, path_regex: str, status: int, code: str, message: str,
                  count: int = 1) -> None:
        """Answer the next ``count`` calls matching method (``*`` for any) and path regex with this error;
        ``code`` is the provider's error code (Google's ``reason``, Graph's ``code``)."""
        with self._lock:
            self._faults.add(method, path_regex, self._fault_error(status, code, message), count)

    def inject(self, fault: Fault, method: str = "*", path_regex: str = "", count: int = 1,
               body_regex: str | None = None) -> None:
        """Meet the next ``count`` requests with a call matching method (``*``: any) and path regex
        (and body regex: a batch's inner request line, say) with ``fault`` (inject.py)."""
        with self._lock:
            self._injector.add(fault, method, path_regex, count, body_regex)

    def inject_at_rate(self, rate: float, kinds: Sequence[Fault], seed: int = 0) -> None:
        """Meet a share ``rate`` of all API requests with one of ``kinds`` (a fault-rate run); 0 stops it."""
        with self._lock:
            self._injector.at_rate(rate, kinds, seed)

    def requests_seen(self) -> int:
        """Every request but control ones since ``reset``, including those a fault met before they
        were served (``stats()`` counts only what reached the API)."""
        with self._lock:
            return self._injector.seen

    def clear_faults(self) -> None:
        """No pending faults and no rate any more (what was served stays counted)."""
        with self._lock:
            self._injector.pending.clear()
            self._injector.rate = 0.0

    def faults_served(self) -> dict[str, int]:
        """How many requests met each fault, by its label (``reset after commit``: 3)."""
        with self._lock:
            return dict(self._injector.served)

    def take_fault(self, method: str, target: str, body: bytes) -> Fault | None:
        """Asked by the HTTP handler before it serves a request (control requests never fail)."""
        path = "/" + target.partition("?")[0].lstrip("/")
        if path.startswith(CONTROL_PREFIX):
            return None
        with self._lock:
            return self._injector.take(self._calls_of(method, path, body), body,
                                       lambda fault: fault.kind != "stale" or self._reads_one(method, target))

    def fault_answer(self, fault: Fault, method: str, target: str) -> Answer:
        """What an ``error``, ``html`` or ``stale`` fault answers."""
        if fault.kind == "html":
            page = self.unavailable_html if fault.status == 503 else html_page(fault.status, "Bad Gateway")
            return Answer(fault.status, {"Content-Type": "text/html; charset=UTF-8"}, page)
        if fault.kind == "stale":
            return self._not_found_answer(method, target)
        return self._error_answer(fault)

    def _calls_of(self, method: str, path: str, body: bytes) -> list[tuple[str, str]]:
        """The calls one HTTP request carries, for matching ``inject`` (an emulator with batches adds
        the calls inside)."""
        return [(method.upper(), path)]

    def _reads_one(self, method: str, target: str) -> bool:
        """Whether this request reads one object (only those meet a ``stale`` fault)."""
        return False

    def _not_found_answer(self, method: str, target: str) -> Answer:
        """The service's 404 for the object a request reads (``_reads_one`` said it reads one)."""
        raise NotImplementedError

    @abstractmethod
    def _error_answer(self, fault: Fault) -> Answer:
        """The service's own answer for an ``error`` fault: a 429 with Retry-After (``throttle``),
        a rate-limit refusal (``rate-limit``), a 5xx in its JSON (``server``)."""

    @abstractmethod
    def _fault_error(self, status: int, code: str, message: str) -> E:
        """The provider's error for ``fail_next``."""

    # --------------------------------------------------------------------------- serving

    @abstractmethod
    def handle_http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """One HTTP request (``headers`` with lower-case names), answered as the provider would."""

    def _arrive(self) -> None:
        """A request for the API (not a control request): wait the configured latency, count it."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        with self._lock:
            self._stats.requests += 1

    def _control(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        """``GET /_emulator/stats`` and ``POST /_emulator/reset``, for emulators run standalone."""
        if method == "GET" and path == STATS_PATH:
            return self._json_answer(200, self.stats(), headers)
        if method == "POST" and path == RESET_PATH:
            self.reset()
            return self._json_answer(*self.reset_answer, headers)
        return self._control_not_found(method, path, headers)

    def _json_answer(self, status: int, payload: Any, headers: dict[str, str]) -> Answer:
        """A control answer in the provider's JSON style (``headers`` are the request's, to echo)."""
        if payload is None:
            return Answer(status, {}, b"")
        return Answer(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())

    def _control_not_found(self, method: str, path: str, headers: dict[str, str]) -> Answer:
        return self._json_answer(404, {"error": {"code": "NotFound",
                                                 "message": f"no emulator endpoint {method} {path}"}}, headers)
