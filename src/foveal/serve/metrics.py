"""Prometheus metrics of one server, in a registry of its own (no process-wide state)."""

from __future__ import annotations

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    """Requests by route and status, latencies, batch sizes, queue depth, model load time."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("foveal_http_requests", "HTTP requests answered, by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("foveal_http_request_duration_seconds", "Time to answer a request, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram("foveal_batch_size", "Images per forward pass", ["model"],
                                    buckets=BATCH_BUCKETS, registry=r)
        self.inference = Histogram("foveal_inference_duration_seconds", "Time of one forward pass", ["model"],
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("foveal_queue_depth", "Images waiting for a forward pass", ["model"], registry=r)
        self.load_seconds = Gauge("foveal_model_load_seconds", "Time to load and warm a bundle", ["model"],
                                  registry=r)
        self.images = Counter("foveal_images", "Images received, by model and outcome", ["model", "outcome"],
                              registry=r)

    def batch_observer(self, model: str):
        size, seconds = self.batch_size.labels(model), self.inference.labels(model)

        def observe(n: int, elapsed: float) -> None:
            size.observe(n)
            seconds.observe(elapsed)
        return observe

    def depth_observer(self, model: str):
        return self.queue_depth.labels(model).set

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
