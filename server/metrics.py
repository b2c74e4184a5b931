"""Server metrics on ``prometheus_client``, rendered in the Prometheus text format.

One `Metrics` per app, each with its own `CollectorRegistry`, so several servers
in one process (the tests) keep separate values. The per-message counters are
plain ints (``metrics.messages_in += 1``) pushed into prometheus counters by
`Metrics.flush` (once per tick, and by `Metrics.render`), because
``Counter.inc`` takes a lock and these are bumped per message per client.

Multiprocess mode: if ``PROMETHEUS_MULTIPROC_DIR`` is set before
``prometheus_client`` is first imported, every metric writes its values to that
directory and `Metrics.render` sums every process's values (gauges: live
processes only). The directory must be emptied before the processes start; call
`mark_process_dead` when a worker exits. Use one `Metrics` per process then.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Sequence
from typing import Literal, TypeVar

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.metrics import MetricWrapperBase

from spatial.interest import InterestStats

__all__ = [
    "CONTENT_TYPE",
    "TICK_BUCKETS",
    "FeatureMetrics",
    "Metrics",
    "mark_process_dead",
]

CONTENT_TYPE: str = prometheus_client.CONTENT_TYPE_LATEST
"""The ``Content-Type`` to serve `Metrics.render` with."""

TICK_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25)

GaugeMode = Literal[
    "all",
    "liveall",
    "min",
    "livemin",
    "max",
    "livemax",
    "sum",
    "livesum",
    "mostrecent",
    "livemostrecent",
]

# No ``*_created`` samples: the output stays as it was before prometheus_client, and
# the same in single- and multiprocess mode (which never exports them).
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

_HOT = (
    ("messages_in", "Messages received from clients."),
    ("messages_out", "Messages sent to clients."),
    ("bytes_in", "Bytes received in messages."),
    ("bytes_out", "Bytes sent in messages."),
    ("frames_skipped", "State frames skipped (full buffer)."),
)

M = TypeVar("M", bound=MetricWrapperBase)


def _multiproc_dir() -> str | None:
    """The multiprocess directory, checked against the value class prometheus_client chose."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    chosen = values.ValueClass is not values.MutexValue
    if chosen != (path is not None):
        raise RuntimeError(
            "PROMETHEUS_MULTIPROC_DIR must be set (or unset) before prometheus_client is"
            " first imported"
        )
    return path


def mark_process_dead(pid: int) -> None:
    """Drop the live gauges of worker ``pid`` (multiprocess mode; call when it exits).

    Its counters and histograms are kept, so totals do not go backwards. A no-op
    when ``PROMETHEUS_MULTIPROC_DIR`` is not set.
    """
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        _multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


class FeatureMetrics:
    """Metrics of one feature, named ``servicepoint_<feature>_<name>``; get via `Metrics.feature`.

    Each method registers the metric in the app's registry on first call and
    returns the same object for the same ``name`` afterwards (the other arguments
    are then ignored); asking for a name already used by another kind raises
    `TypeError`. Use the returned object as prometheus_client documents
    (``.inc()``, ``.labels(code="x").inc()``, ``.set(n)``, ``.observe(s)``); it is
    aggregated across processes in multiprocess mode.
    """

    def __init__(self, registry: CollectorRegistry, feature: str) -> None:
        self._registry = registry
        self.prefix = f"servicepoint_{feature}_"
        self._made: dict[str, MetricWrapperBase] = {}

    def _get(self, kind: type[M], name: str) -> M | None:
        made = self._made.get(name)
        if made is None:
            return None
        if not isinstance(made, kind):
            raise TypeError(f"{self.prefix}{name} is a {type(made).__name__}, not {kind.__name__}")
        return made

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        """The counter ``servicepoint_<feature>_<name>`` (exposed with ``_total``)."""
        made = self._get(Counter, name)
        if made is None:
            made = Counter(self.prefix + name, doc, tuple(labels), registry=self._registry)
            self._made[name] = made
        return made

    def gauge(
        self, name: str, doc: str, labels: Sequence[str] = (), mode: GaugeMode = "livesum"
    ) -> Gauge:
        """The gauge ``servicepoint_<feature>_<name>``; ``mode`` says how processes combine."""
        made = self._get(Gauge, name)
        if made is None:
            made = Gauge(
                self.prefix + name,
                doc,
                tuple(labels),
                registry=self._registry,
                multiprocess_mode=mode,
            )
            self._made[name] = made
        return made

    def histogram(
        self,
        name: str,
        doc: str,
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
        labels: Sequence[str] = (),
    ) -> Histogram:
        """The histogram ``servicepoint_<feature>_<name>`` with ``buckets`` (+Inf added)."""
        made = self._get(Histogram, name)
        if made is None:
            made = Histogram(
                self.prefix + name,
                doc,
                tuple(labels),
                registry=self._registry,
                buckets=tuple(buckets),
            )
            self._made[name] = made
        return made


class Metrics:
    """The app's metrics. ``Metrics()`` makes a fresh registry; pass one to share it.

    How to record:

    - per message: ``m.messages_in += 1``, ``m.bytes_in += n``, likewise
      ``messages_out``, ``bytes_out``, ``frames_skipped`` (plain ints; exported
      at the next `flush`);
    - ``m.interest = manager.stats`` (an `InterestStats` summed since the manager
      was made, live or a fresh snapshot each tick; its growth is exported at each
      `flush`, and one with fewer rows than the last is a new manager, counted from
      zero);
    - ``m.connection_opened()`` / ``m.connection_closed()``; ``m.set_avatars(n)``;
    - ``m.error(code)``, ``m.close(close_code)``, ``m.observe_tick(seconds)``;
    - ``m.flush()`` once per tick; ``m.render()`` for ``/metrics`` (served with
      `CONTENT_TYPE`); ``m.feature("desks").counter(...)`` for a feature's own.

    Read back: ``m.connections``, ``m.avatars``, ``m.errors[code]``,
    ``m.closes[int_code]`` are the counts so far in this process (ints; treat the
    tallies as read-only, or they drift from what is exported).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._multiproc_dir = _multiproc_dir()
        self.registry = CollectorRegistry() if registry is None else registry
        reg = self.registry

        self.messages_in = 0
        self.messages_out = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.frames_skipped = 0
        self.interest = InterestStats()

        self.errors: Tally[str] = Tally()
        self.closes: Tally[int] = Tally()
        self._connections = 0
        self._avatars = 0

        self._connections_gauge = Gauge(
            "servicepoint_connections",
            "Open WebSocket connections.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self._avatars_gauge = Gauge(
            "servicepoint_avatars",
            "Avatars in the world.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self._hot = [
            (attr, Counter(f"servicepoint_{attr}", doc, registry=reg)) for attr, doc in _HOT
        ]
        self._hot_flushed = dict.fromkeys((attr for attr, _ in _HOT), 0)
        self._errors_counter = Counter(
            "servicepoint_errors", "Errors sent to clients, by code.", ("code",), registry=reg
        )
        self._closes_counter = Counter(
            "servicepoint_closes",
            "Connections closed by the server, by close code.",
            ("code",),
            registry=reg,
        )
        self._tick = Histogram(
            "servicepoint_tick_seconds",
            "Time spent in one simulation tick.",
            registry=reg,
            buckets=TICK_BUCKETS,
        )
        self._tick_rate = Gauge(
            "servicepoint_tick_rate_ratio",
            "Ticks run over ticks due in the last second (1: on time; below 0.8 the"
            " clients are told the hall is busy).",
            registry=reg,
            multiprocess_mode="livemin",
        )
        self._tick_rate.set(1.0)
        self._busy_seconds = Counter(
            "servicepoint_busy_seconds",
            "Seconds the tick ran slow enough that clients were told the hall is busy.",
            registry=reg,
        )
        rows = Counter(
            "servicepoint_interest_rows",
            "Observer rows updated by the interest manager, by the work a row needed"
            " (band: the band check alone).",
            ("work",),
            registry=reg,
        )
        secs = Counter(
            "servicepoint_interest_seconds",
            "Time in the interest manager, by phase.",
            ("phase",),
            registry=reg,
        )
        self._rows = {w: rows.labels(work=w) for w in ("band", "rebased", "reanchored", "rebuilt")}
        self._secs = {p: secs.labels(phase=p) for p in ("band", "lists", "output", "other")}
        self._interest_src = self.interest
        self._interest_last = InterestStats()
        self._features: dict[str, FeatureMetrics] = {}

    # -- gauges ---------------------------------------------------------------

    @property
    def connections(self) -> int:
        """Open connections of this process (`connection_opened` minus `connection_closed`)."""
        return self._connections

    def connection_opened(self) -> None:
        """Count one more open connection."""
        self._connections += 1
        self._connections_gauge.inc()

    def connection_closed(self) -> None:
        """Count one connection fewer (once per `connection_opened`)."""
        self._connections -= 1
        self._connections_gauge.dec()

    @property
    def avatars(self) -> int:
        """The last `set_avatars` value."""
        return self._avatars

    def set_avatars(self, n: int) -> None:
        """Set the number of avatars in the world (once per tick is fine)."""
        if n != self._avatars:
            self._avatars = n
            self._avatars_gauge.set(n)

    # -- events ---------------------------------------------------------------

    def error(self, code: str) -> None:
        """Count one error sent to a client; ``errors[code]`` grows by one."""
        self.errors[code] += 1
        self._errors_counter.labels(code=code).inc()

    def close(self, code: int) -> None:
        """Count one connection closed by the server with ``code`` (an int or IntEnum)."""
        code = int(code)
        self.closes[code] += 1
        self._closes_counter.labels(code=str(code)).inc()

    def observe_tick(self, seconds: float) -> None:
        """Record the duration of one simulation tick."""
        self._tick.observe(seconds)

    def observe_tick_rate(self, ratio: float, busy: bool, seconds: float) -> None:
        """Record the last window's tick rate (ticks run / due) and, if ``busy``, its length."""
        self._tick_rate.set(ratio)
        if busy:
            self._busy_seconds.inc(seconds)

    def feature(self, name: str) -> FeatureMetrics:
        """The metrics factory of feature ``name`` (the same object for the same name)."""
        made = self._features.get(name)
        if made is None:
            made = self._features[name] = FeatureMetrics(self.registry, name)
        return made

    # -- export ---------------------------------------------------------------

    def flush(self) -> None:
        """Export the growth of the int counters and of `interest` since the last flush.

        Cheap when nothing changed. A value that went down is not exported; counting
        resumes from it.
        """
        flushed = self._hot_flushed
        for attr, counter in self._hot:
            value: int = getattr(self, attr)
            delta = value - flushed[attr]
            if delta:
                if delta > 0:
                    counter.inc(delta)
                flushed[attr] = value

        st = self.interest
        if st is not self._interest_src:
            self._interest_src = st
            if st.rows < self._interest_last.rows:  # a new manager counts from zero
                self._interest_last = InterestStats()
        last = self._interest_last
        if st == last:
            return
        band = st.rows - st.reanchored - st.rebuilt - st.rebased
        band_last = last.rows - last.reanchored - last.rebuilt - last.rebased
        for work, delta in (
            ("band", band - band_last),
            ("rebased", st.rebased - last.rebased),
            ("reanchored", st.reanchored - last.reanchored),
            ("rebuilt", st.rebuilt - last.rebuilt),
        ):
            if delta > 0:
                self._rows[work].inc(delta)
        other = st.total_ns - st.band_ns - st.lists_ns - st.output_ns
        other_last = last.total_ns - last.band_ns - last.lists_ns - last.output_ns
        for phase, delta in (
            ("band", st.band_ns - last.band_ns),
            ("lists", st.lists_ns - last.lists_ns),
            ("output", st.output_ns - last.output_ns),
            ("other", other - other_last),
        ):
            if delta > 0:
                self._secs[phase].inc(delta / 1e9)
        self._interest_last = st.copy()

    def render(self) -> bytes:
        """`flush`, then the text exposition: this registry, or in multiprocess mode
        every process's values summed from ``PROMETHEUS_MULTIPROC_DIR``."""
        self.flush()
        if self._multiproc_dir is None:
            return prometheus_client.generate_latest(self.registry)
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry, path=self._multiproc_dir)  # type: ignore[no-untyped-call]
        return prometheus_client.generate_latest(registry)
