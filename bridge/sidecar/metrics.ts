// The sidecar's Prometheus metrics, in a registry of its own so that several sidecars
// (or a sidecar inside a test process) never collide.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class SidecarMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'meshflow_sidecar_requests_total',
    help: 'Requests proxied, by service, replica that answered, and priority class',
    labelNames: ['service', 'replica', 'class'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'meshflow_sidecar_request_duration_seconds',
    help: 'Time from request received to response headers from the replica',
    labelNames: ['service', 'replica', 'class'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly upstreamFailures = new Counter({
    name: 'meshflow_sidecar_upstream_failures_total',
    help: 'Attempts that failed before a response, by replica and reason',
    labelNames: ['service', 'replica', 'reason'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'meshflow_sidecar_retries_total',
    help: 'Requests retried on another replica after a connect failure',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'meshflow_sidecar_shed_total',
    help: 'Requests refused with 503 by the class scheduler, by class and reason (queue_full, queue_timeout, no_room)',
    labelNames: ['service', 'class', 'reason'] as const,
    registers: [this.registry],
  });
  readonly weight = new Gauge({
    name: 'meshflow_sidecar_weight',
    help: 'Weight in force per replica (0..1000 from the bridge, 1 each when even)',
    labelNames: ['service', 'replica'] as const,
    registers: [this.registry],
  });
  readonly hintsRefused = new Counter({
    name: 'meshflow_sidecar_hints_refused_total',
    help: 'Weights hints refused, per code: HINT_ERR_UNSIGNED, HINT_ERR_SIGNATURE, HINT_ERR_UNTRUSTED (not signed by a trusted bridge key), or invalid',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly weightsFresh = new Gauge({
    name: 'meshflow_sidecar_weights_fresh',
    help: '1 while the weights from the bridge are within their ttl, 0 when even weights are in force',
    registers: [this.registry],
  });
}
