"""The Prometheus metrics of `eblagh run` and `eblagh worker`, all registered here, in a registry of the
process's own (never the global one), served on `--metrics-listen` (bot/metrics_server.py).

What the code already counts is read live at scrape time, not counted twice: the delivery consumers'
`LaneMetrics` and the update pipeline's stats. Queue depth is read from the database at scrape time
(services/queue_stats.py, cached a few seconds). Only what nobody counted has its own instruments:
reply latency, intents, callback attempts.

    eblagh_messages_total{lane,platform,outcome}        send outcomes: sent, retried, blocked, failed,
                                                         rate_limited (a 429: the lane paused)
    eblagh_messages_sent_by_kind_total{lane,platform,kind}
    eblagh_delivery_events_total{lane,platform,event}   deferred, skipped, late_slot, backend_error
    eblagh_queue_depth{lane,platform}                   queued rows (due now or waiting for a retry)
    eblagh_queue_due{lane,platform}                     queued rows due now
    eblagh_queue_in_flight{lane,platform}               rows claimed by a worker (sending)
    eblagh_queue_oldest_age_seconds{lane,platform}      age of the oldest queued row (0 when empty)
    eblagh_queue_read_failures_total                    scrapes whose database read failed
    eblagh_updates_total{outcome}                       accepted, duplicates, ignored, handled, failed
    eblagh_reply_latency_seconds                        update accepted -> its replies sent (histogram)
    eblagh_intents_total{intent}                        questions recognised, one per part of a message
    eblagh_callback_attempts_total{outcome}             ok, retry, permanent
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client import Counter as CounterMetric
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.clock import Clock
from services.delivery.consumer import LaneMetrics
from services.delivery.engine import DeliveryEngine
from services.metrics import callback_attempts
from services.queue_stats import QueueStats

if TYPE_CHECKING:
    from nlp.intents import Analysis

# (lane, destination platform, the lane consumer's live counts)
LaneCounts = tuple[str, str, LaneMetrics]

SEND_OUTCOMES = ("sent", "retried", "blocked", "failed", "rate_limited")
DELIVERY_EVENTS = {"deferred": "deferred", "skipped": "skipped", "late_slots": "late_slot",
                   "backend_errors": "backend_error"}
REPLY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Analyzer(Protocol):
    def analyze(self, text: str) -> Analysis: ...


class ProcessMetrics:
    def __init__(self, clock: Clock, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._clock = clock
        self._refreshers: list[Callable[[], Awaitable[None]]] = []
        self._queues: QueueStats | None = None
        self.callback_attempts = callback_attempts(self.registry)
        self.reply_latency = Histogram("eblagh_reply_latency_seconds", "update accepted -> its replies sent",
                                       registry=self.registry, buckets=REPLY_BUCKETS)
        self.intents = CounterMetric("eblagh_intents", "questions recognised, by intent", ["intent"],
                                     registry=self.registry)
        ProcessCollector(registry=self.registry)  # CPU, memory, open files (Linux)

    def watch_engine(self, engine: DeliveryEngine) -> None:
        """Expose the counts of the engine's lane consumers, read when scraped; its queues show even when empty."""
        lanes = [(c.lane.name.value, c.lane.platform) for c in engine.consumers]
        self.registry.register(_LaneCollector(
            lambda: [(c.lane.name.value, c.lane.platform, c.metrics) for c in engine.consumers]))
        if self._queues is not None:
            for lane, platform in lanes:
                self._queues.expect(lane, platform)

    def watch_updates(self, stats: Callable[[], Mapping[str, int]]) -> None:
        """Expose the update pipeline's counts (outcome -> count), read when scraped."""
        self.registry.register(_UpdateCollector(stats))

    def watch_queues(self, stats: QueueStats) -> None:
        """Expose queue depth and age; the database is read (at most every few seconds) before a scrape."""
        self._queues = stats
        self.registry.register(_QueueCollector(stats, self._clock))
        self._refreshers.append(stats.refresh)

    def count_intents(self, model: Analyzer) -> Analyzer:
        """The same model, counting what it recognises."""
        return _CountedIntents(model, self.intents)

    async def render(self) -> bytes:
        for refresh in self._refreshers:
            await refresh()
        return generate_latest(self.registry)


class _CountedIntents:
    def __init__(self, model: Analyzer, counter: CounterMetric) -> None:
        self._model = model
        self._counter = counter

    def analyze(self, text: str) -> Analysis:
        analysis = self._model.analyze(text)
        for intent in [part.intent for part in analysis.parts] or [analysis.intent]:
            self._counter.labels(intent).inc()
        return analysis


class _LaneCollector(Collector):
    def __init__(self, lanes: Callable[[], Iterable[LaneCounts]]) -> None:
        self._lanes = lanes

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        messages, by_kind, events = self._families()
        for lane, platform, counts in self._lanes():
            for outcome in SEND_OUTCOMES:
                messages.add_metric([lane, platform, outcome], getattr(counts, outcome))
            for kind, sent in sorted(counts.by_kind.items()):
                by_kind.add_metric([lane, platform, kind], sent)
            for field, event in DELIVERY_EVENTS.items():
                events.add_metric([lane, platform, event], getattr(counts, field))
        return iter((messages, by_kind, events))

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, CounterMetricFamily, CounterMetricFamily]:
        return (CounterMetricFamily("eblagh_messages", "messages by lane and send outcome (rate_limited: a 429)",
                                    labels=["lane", "platform", "outcome"]),
                CounterMetricFamily("eblagh_messages_sent_by_kind", "messages sent by lane and kind",
                                    labels=["lane", "platform", "kind"]),
                CounterMetricFamily("eblagh_delivery_events", "delivery events other than a send's outcome",
                                    labels=["lane", "platform", "event"]))


class _UpdateCollector(Collector):
    def __init__(self, stats: Callable[[], Mapping[str, int]]) -> None:
        self._stats = stats

    def describe(self) -> Iterator[Metric]:
        return iter([self._family()])

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for outcome, count in self._stats().items():
            family.add_metric([outcome], count)
        return iter([family])

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily("eblagh_updates", "updates by outcome", labels=["outcome"])


class _QueueCollector(Collector):
    def __init__(self, stats: QueueStats, clock: Clock) -> None:
        self._stats = stats
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        depth, due, flying, age, failures = self._families()
        now = self._clock()
        for lane in self._stats.depths:
            labels = [lane.lane, lane.platform]
            depth.add_metric(labels, lane.queued)
            due.add_metric(labels, lane.due)
            flying.add_metric(labels, lane.sending)
            oldest = lane.oldest_queued_at
            age.add_metric(labels, max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
        failures.add_metric([], self._stats.failures)
        return iter((depth, due, flying, age, failures))

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily,
                             CounterMetricFamily]:
        labels = ["lane", "platform"]
        return (GaugeMetricFamily("eblagh_queue_depth", "queued messages (due now or waiting for a retry)",
                                  labels=labels),
                GaugeMetricFamily("eblagh_queue_due", "queued messages due now", labels=labels),
                GaugeMetricFamily("eblagh_queue_in_flight", "messages claimed by a worker", labels=labels),
                GaugeMetricFamily("eblagh_queue_oldest_age_seconds", "age of the oldest queued message",
                                  labels=labels),
                CounterMetricFamily("eblagh_queue_read_failures", "scrapes whose queue read failed"))
