"""Counters and gauges, rendered in the Prometheus text format at ``/metrics``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from spatial.interest import InterestStats

TICK_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25)


@dataclass
class Metrics:
    connections: int = 0
    avatars: int = 0
    messages_in: int = 0
    messages_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    frames_skipped: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)
    tick_count: int = 0
    tick_sum: float = 0.0
    tick_buckets: list[int] = field(default_factory=lambda: [0] * len(TICK_BUCKETS))
    interest: InterestStats = field(default_factory=InterestStats)

    def observe_tick(self, seconds: float) -> None:
        self.tick_count += 1
        self.tick_sum += seconds
        for i, bound in enumerate(TICK_BUCKETS):
            if seconds <= bound:
                self.tick_buckets[i] += 1

    def render(self) -> str:
        lines = [
            "# HELP servicepoint_connections Open WebSocket connections.",
            "# TYPE servicepoint_connections gauge",
            f"servicepoint_connections {self.connections}",
            "# HELP servicepoint_avatars Avatars in the world.",
            "# TYPE servicepoint_avatars gauge",
            f"servicepoint_avatars {self.avatars}",
        ]
        for name, value, help_ in (
            ("messages_in_total", self.messages_in, "Messages received from clients."),
            ("messages_out_total", self.messages_out, "Messages sent to clients."),
            ("bytes_in_total", self.bytes_in, "Bytes received in messages."),
            ("bytes_out_total", self.bytes_out, "Bytes sent in messages."),
            ("frames_skipped_total", self.frames_skipped, "State frames skipped (full buffer)."),
        ):
            lines += [
                f"# HELP servicepoint_{name} {help_}",
                f"# TYPE servicepoint_{name} counter",
                f"servicepoint_{name} {value}",
            ]
        lines += [
            "# HELP servicepoint_errors_total Errors sent to clients, by code.",
            "# TYPE servicepoint_errors_total counter",
        ]
        lines += [
            f'servicepoint_errors_total{{code="{c}"}} {n}' for c, n in sorted(self.errors.items())
        ]
        lines += [
            "# HELP servicepoint_closes_total Connections closed by the server, by close code.",
            "# TYPE servicepoint_closes_total counter",
        ]
        lines += [
            f'servicepoint_closes_total{{code="{c}"}} {n}' for c, n in sorted(self.closes.items())
        ]
        lines += [
            "# HELP servicepoint_tick_seconds Time spent in one simulation tick.",
            "# TYPE servicepoint_tick_seconds histogram",
        ]
        lines += [
            f'servicepoint_tick_seconds_bucket{{le="{b}"}} {n}'
            for b, n in zip(TICK_BUCKETS, self.tick_buckets, strict=True)
        ]
        lines += [
            f'servicepoint_tick_seconds_bucket{{le="+Inf"}} {self.tick_count}',
            f"servicepoint_tick_seconds_sum {self.tick_sum:.6f}",
            f"servicepoint_tick_seconds_count {self.tick_count}",
        ]
        st = self.interest
        lines += [
            "# HELP servicepoint_interest_rows_total Observer rows updated by the interest"
            " manager, by the work a row needed (band: the band check alone).",
            "# TYPE servicepoint_interest_rows_total counter",
            f'servicepoint_interest_rows_total{{work="band"}} '
            f"{st.rows - st.reanchored - st.rebuilt - st.rebased}",
            f'servicepoint_interest_rows_total{{work="rebased"}} {st.rebased}',
            f'servicepoint_interest_rows_total{{work="reanchored"}} {st.reanchored}',
            f'servicepoint_interest_rows_total{{work="rebuilt"}} {st.rebuilt}',
            "# HELP servicepoint_interest_seconds_total Time in the interest manager, by phase.",
            "# TYPE servicepoint_interest_seconds_total counter",
        ]
        other = st.total_ns - st.band_ns - st.lists_ns - st.output_ns
        for phase, ns in (
            ("band", st.band_ns),
            ("lists", st.lists_ns),
            ("output", st.output_ns),
            ("other", other),
        ):
            lines.append(f'servicepoint_interest_seconds_total{{phase="{phase}"}} {ns / 1e9:.6f}')
        return "\n".join(lines) + "\n"
