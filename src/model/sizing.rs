//! Sizing from declared load: replicas, CPU and memory, the exporter queue and batch sizes for the
//! collector gateway and Jaeger's collector role, derived from peak spans per second, average span
//! size and the backend outage the queue must ride out.
//!
//! The formulas, for a workload that processes `SPANS_PER_CORE` spans per second per core:
//!
//! ```text
//! min_replicas = max(2, ceil(peak / POD_RATE))          # a pod handles POD_RATE spans/s at peak
//! per_pod      = ceil(peak / min_replicas)
//! cpu_request  = per_pod / SPANS_PER_CORE / 0.7         # peak runs at the 70 % HPA target
//! cpu_limit    = 2 × cpu_request                        # bursts and GC
//! max_replicas = max(min_replicas + 1, ceil(2 × peak / POD_RATE))   # absorbs twice the peak
//! queue_spans  = per_pod × outage_seconds               # rides out the outage at peak
//! memory_need  = 128 MiB + per_pod × 2 s × span_bytes + queue_spans × span_bytes
//! memory_limit = memory_need / 0.64, rounded up to 64 MiB   # memory_limiter refuses from 64 %
//! memory_request = memory_limit                          # no overcommit for a buffering process
//! GOMEMLIMIT = memory_limiter.limit_mib = 80 % of memory_limit; spike_limit_mib = 20 % of that
//! batch_max    = min(2 × clamp(per_pod × 200 ms, 512, 8192), 3 MiB / span_bytes)   # under Jaeger's 4 MiB gRPC limit
//! batch_size   = min(clamp(per_pod × 200 ms, 512, 8192), batch_max)
//! ```
//!
//! When `memory_limit` would exceed `MAX_POD_MEMORY_MIB`, `min_replicas` grows until it fits: more
//! pods each hold a smaller share of the queue. A load that would need more than `MAX_REPLICAS`
//! pods is [`Unservable`]. Jaeger's collector role is sized for `peak × sampling percentage`
//! ([`Load::sampled`]): the gateway's sampler drops the rest before it. `SPANS_PER_CORE` values are planning figures (the
//! collector's own load tests show roughly 10–20k spans/s per core for an OTLP-in/OTLP-out
//! pipeline; Jaeger's Elasticsearch writer is dominated by bulk encoding, about half that) — every
//! derived value can be overridden in the profile.

/// Memory settings derived from a container's memory limit.
///
/// The collector's `memory_limiter` hard limit is 80 % of the container limit and its spike
/// headroom 20 % of that, so data is refused from 64 % on; `GOMEMLIMIT` is set to the hard limit so
/// the Go GC works harder before the limiter has to refuse data (the memory_limiter README
/// recommends GOMEMLIMIT at about 80 % of the container's limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemorySizing {
    /// `memory_limiter.limit_mib`.
    pub limit_mib: u32,
    /// `memory_limiter.spike_limit_mib`.
    pub spike_limit_mib: u32,
}

impl MemorySizing {
    /// Sizing for a container limit of `limit_bytes`.
    #[must_use]
    pub fn from_limit_bytes(limit_bytes: u64) -> Self {
        let limit_mib = u32::try_from(limit_bytes / (1024 * 1024) * 4 / 5).unwrap_or(u32::MAX);
        Self { limit_mib, spike_limit_mib: limit_mib / 5 }
    }

    /// The `GOMEMLIMIT` value, e.g. `409MiB`.
    #[must_use]
    pub fn gomemlimit(self) -> String {
        format!("{}MiB", self.limit_mib)
    }
}

/// Declared load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Peak spans per second across the whole stack.
    pub spans_per_second: u64,
    /// Average size of one span in bytes, as encoded in OTLP.
    pub average_span_bytes: u64,
    /// How long a backend outage the queues must absorb without dropping spans, at peak.
    pub outage_seconds: u64,
}

impl Load {
    /// The load after keeping `percentage` % of traces: what reaches Jaeger behind the gateway's
    /// sampler (at least 1 span/s).
    #[must_use]
    pub fn sampled(self, percentage: f64) -> Self {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let kept = ((self.spans_per_second as f64) * percentage.clamp(0.0, 100.0) / 100.0).ceil() as u64;
        Self { spans_per_second: kept.max(1), ..self }
    }
}

/// Planning constants of one kind of workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Spans per second one core processes.
    pub spans_per_core: u64,
    /// Spans per second one pod is planned to carry at peak.
    pub pod_rate: u64,
}

/// The OpenTelemetry Collector gateway: OTLP in, batch, OTLP out.
pub const GATEWAY: Capacity = Capacity { spans_per_core: 10_000, pod_rate: 15_000 };
/// Jaeger's collector role: OTLP in, Elasticsearch bulk writes out.
pub const JAEGER_COLLECTOR: Capacity = Capacity { spans_per_core: 5_000, pod_rate: 7_500 };
/// No pod is planned above this memory limit; more replicas are used instead.
pub const MAX_POD_MEMORY_MIB: u64 = 8 * 1024;
/// No workload is planned above this many pods: a load that needs more is refused, with the count
/// it would need, rather than rendered into an autoscaler no cluster of one stack should run.
pub const MAX_REPLICAS: u64 = 1_000;
/// Memory every pod needs before it holds any span: Go runtime, receivers, buffers.
pub const BASE_MEMORY_MIB: u64 = 128;
/// Seconds of peak traffic in flight inside a pod (receive, batch, export).
pub const IN_FLIGHT_SECONDS: u64 = 2;
/// HPA CPU target, in percent of the request.
pub const CPU_TARGET_PERCENT: u64 = 70;
/// The share of the memory limit at which `memory_limiter` starts refusing data (80 % × 80 %).
pub const REFUSAL_PERCENT: u64 = 64;

/// What [`size`] derives for one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizing {
    /// HPA minimum (and the initial replica count).
    pub min_replicas: u32,
    /// HPA maximum.
    pub max_replicas: u32,
    /// Spans per second one pod carries at peak with `min_replicas`.
    pub per_pod_spans: u64,
    /// CPU request in millicores.
    pub cpu_request_milli: u64,
    /// CPU limit in millicores.
    pub cpu_limit_milli: u64,
    /// Memory request and limit in MiB.
    pub memory_mib: u64,
    /// Exporter queue capacity in spans, per pod.
    pub queue_spans: u64,
    /// `send_batch_size`.
    pub batch_size: u32,
    /// `send_batch_max_size`.
    pub batch_max: u32,
}

impl Sizing {
    /// `memory_limiter` and `GOMEMLIMIT` for this memory limit.
    #[must_use]
    pub fn memory(&self) -> MemorySizing {
        MemorySizing::from_limit_bytes(self.memory_mib.saturating_mul(1024 * 1024))
    }
}

/// The largest gateway batch, in bytes of average spans: three quarters of the 4 MiB a gRPC server
/// accepts by default.
pub const BATCH_MAX_BYTES: u64 = 3 * 1024 * 1024;

/// `send_batch_size` for a pod's peak rate: 200 ms of it, within 512–8192.
fn batch_size_for(per_pod: u64) -> u64 {
    (per_pod / 5).clamp(512, 8192)
}

fn ceil_div(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { a.div_ceil(b) }
}

fn round_up(value: u64, step: u64) -> u64 {
    ceil_div(value, step).saturating_mul(step)
}

/// A load no plan within [`MAX_REPLICAS`] pods of at most [`MAX_POD_MEMORY_MIB`] serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unservable {
    /// Pods the load would need (at most `u64::MAX`), or `None` when not even one span per second
    /// fits a pod (the outage's queue of one span/s exceeds the memory cap).
    pub replicas_needed: Option<u64>,
}

impl Unservable {
    /// What would be needed, as a sentence for an error message; `sampled` when the workload
    /// sits behind the gateway's sampler, so that a lower percentage would help.
    #[must_use]
    pub fn explain(self, workload: &str, sampled: bool) -> String {
        let sampling = if sampled { " or `sampling.percentage`" } else { "" };
        match self.replicas_needed {
            Some(n) => format!(
                "would need about {n} {workload} pods of at most {MAX_POD_MEMORY_MIB} MiB, more than the {MAX_REPLICAS} tracestack plans for one stack: split the load over several stacks, or lower `load.outage_seconds`{sampling}"
            ),
            None => format!(
                "leaves no room in a {workload} pod of at most {MAX_POD_MEMORY_MIB} MiB for even one span per second over the declared outage: lower `load.outage_seconds` or `load.average_span_bytes`"
            ),
        }
    }
}

/// Sizes a workload of capacity `cap` for `load`.
///
/// # Errors
/// [`Unservable`] when the load needs more than [`MAX_REPLICAS`] pods of at most
/// [`MAX_POD_MEMORY_MIB`].
pub fn size(load: &Load, cap: Capacity) -> Result<Sizing, Unservable> {
    let peak = load.spans_per_second.max(1);
    let span_bytes = load.average_span_bytes.max(1);
    // Spans per second one pod can hold in memory under the cap, before the 64 MiB rounding.
    let usable =
        (MAX_POD_MEMORY_MIB * 1024 * 1024 * REFUSAL_PERCENT / 100).saturating_sub(BASE_MEMORY_MIB * 1024 * 1024);
    let per_pod_by_memory =
        usable / IN_FLIGHT_SECONDS.saturating_add(load.outage_seconds).saturating_mul(span_bytes).max(1);
    let needed = (per_pod_by_memory > 0)
        .then(|| ceil_div(peak.saturating_mul(2), cap.pod_rate).max(ceil_div(peak, per_pod_by_memory)));
    if needed.is_none_or(|n| n > MAX_REPLICAS) {
        return Err(Unservable { replicas_needed: needed });
    }
    let mut min_replicas = ceil_div(peak, cap.pod_rate).max(2);
    loop {
        let per_pod = ceil_div(peak, min_replicas);
        let queue_spans = per_pod.saturating_mul(load.outage_seconds);
        let need_bytes = (BASE_MEMORY_MIB * 1024 * 1024)
            .saturating_add(per_pod.saturating_mul(IN_FLIGHT_SECONDS).saturating_mul(span_bytes))
            .saturating_add(queue_spans.saturating_mul(span_bytes));
        let need_mib = ceil_div(need_bytes, 1024 * 1024);
        let memory_mib = round_up(ceil_div(need_mib.saturating_mul(100), REFUSAL_PERCENT), 64);
        if memory_mib > MAX_POD_MEMORY_MIB {
            if min_replicas >= MAX_REPLICAS {
                return Err(Unservable { replicas_needed: Some(MAX_REPLICAS + 1) });
            }
            min_replicas += 1;
            continue;
        }
        let cpu_request_milli = round_up(
            ceil_div(per_pod.saturating_mul(1000).saturating_mul(100), cap.spans_per_core * CPU_TARGET_PERCENT),
            50,
        )
        .max(100);
        let max_replicas = ceil_div(peak.saturating_mul(2), cap.pod_rate).max(min_replicas + 1);
        // The batch processor counts spans, but Jaeger's OTLP gRPC receiver refuses a request
        // over 4 MiB (grpc-go's default `max_recv_msg_size_mib`, which Jaeger keeps): a batch at
        // most `BATCH_MAX_BYTES` of average spans leaves a quarter for encoding overhead and
        // larger-than-average spans.
        let max_by_bytes = (BATCH_MAX_BYTES / span_bytes).max(1);
        let batch_max = (batch_size_for(per_pod) * 2).min(max_by_bytes);
        let batch_size = batch_size_for(per_pod).min(batch_max);
        if max_replicas > MAX_REPLICAS {
            return Err(Unservable { replicas_needed: Some(max_replicas) });
        }
        return Ok(Sizing {
            min_replicas: u32::try_from(min_replicas).unwrap_or(u32::MAX),
            max_replicas: u32::try_from(max_replicas).unwrap_or(u32::MAX),
            per_pod_spans: per_pod,
            cpu_request_milli,
            cpu_limit_milli: cpu_request_milli * 2,
            memory_mib,
            queue_spans,
            batch_size: u32::try_from(batch_size).unwrap_or(8192),
            batch_max: u32::try_from(batch_max).unwrap_or(16384),
        });
    }
}

/// A node agent: OTLP in, `k8s_attributes` for its own node's pods, batch, OTLP out to the gateway;
/// planned at the gateway's spans per core.
pub const AGENT: Capacity = GATEWAY;
/// Seconds of its node's peak an agent queues while the gateway is unreachable: the gateway's
/// queue rides out backend outages, the agent's only a gateway rollout or restart.
pub const AGENT_QUEUE_SECONDS: u64 = 10;

/// Sizes one node agent for `load` spread over `nodes` nodes: the same memory, CPU and batch
/// formulas as [`size`] for a single pod carrying `⌈peak / nodes⌉` spans/s, with a queue of
/// [`AGENT_QUEUE_SECONDS`] of it.
///
/// # Errors
/// [`Unservable`] with the number of nodes the load would need when one agent would need more than
/// [`MAX_POD_MEMORY_MIB`].
pub fn agent(load: &Load, nodes: u64) -> Result<Sizing, Unservable> {
    let peak = load.spans_per_second.max(1);
    let nodes = nodes.max(1);
    let span_bytes = load.average_span_bytes.max(1);
    let per_pod = ceil_div(peak, nodes);
    let queue_spans = per_pod.saturating_mul(AGENT_QUEUE_SECONDS);
    let memory_of = |per_pod: u64| {
        let need_bytes = (BASE_MEMORY_MIB * 1024 * 1024)
            .saturating_add(per_pod.saturating_mul(IN_FLIGHT_SECONDS).saturating_mul(span_bytes))
            .saturating_add(per_pod.saturating_mul(AGENT_QUEUE_SECONDS).saturating_mul(span_bytes));
        round_up(ceil_div(ceil_div(need_bytes, 1024 * 1024).saturating_mul(100), REFUSAL_PERCENT), 64)
    };
    let memory_mib = memory_of(per_pod);
    if memory_mib > MAX_POD_MEMORY_MIB {
        let mut needed = nodes;
        while memory_of(ceil_div(peak, needed)) > MAX_POD_MEMORY_MIB && needed < u64::MAX / 2 {
            needed *= 2;
        }
        return Err(Unservable { replicas_needed: Some(needed) });
    }
    let cpu_request_milli = round_up(
        ceil_div(per_pod.saturating_mul(1000).saturating_mul(100), AGENT.spans_per_core * CPU_TARGET_PERCENT),
        50,
    )
    .max(50);
    let max_by_bytes = (BATCH_MAX_BYTES / span_bytes).max(1);
    let batch_max = (batch_size_for(per_pod) * 2).min(max_by_bytes);
    let batch_size = batch_size_for(per_pod).min(batch_max);
    Ok(Sizing {
        min_replicas: 1,
        max_replicas: 1,
        per_pod_spans: per_pod,
        cpu_request_milli,
        cpu_limit_milli: cpu_request_milli * 2,
        memory_mib,
        queue_spans,
        batch_size: u32::try_from(batch_size).unwrap_or(8192),
        batch_max: u32::try_from(batch_max).unwrap_or(16384),
    })
}

/// The sampling tier: OTLP in, traces held for `decision_wait`, OTLP out; planned at the gateway's
/// spans per core.
pub const SAMPLER: Capacity = GATEWAY;

/// Sizes the sampling tier for `load` (it sees every span): [`size`] with room for
/// `decision_wait_secs` of each pod's spans held besides its outage queue; `num_traces` is twice
/// the spans a pod receives in one decision wait (a trace has at least one span).
///
/// # Errors
/// [`Unservable`] as for [`size`].
pub fn sampler(load: &Load, decision_wait_secs: u64) -> Result<(Sizing, u64), Unservable> {
    let held = Load { outage_seconds: load.outage_seconds.saturating_add(decision_wait_secs), ..*load };
    let mut sizing = size(&held, SAMPLER)?;
    sizing.queue_spans = sizing.per_pod_spans.saturating_mul(load.outage_seconds);
    let num_traces = sizing.per_pod_spans.saturating_mul(decision_wait_secs.max(1)).saturating_mul(2);
    Ok((sizing, num_traces))
}

/// A Markdown table of the gateway and Jaeger collector sizing at several loads (1 KiB spans, a
/// 60 s outage), for the README.
#[must_use]
pub fn table(loads: &[u64]) -> String {
    let mut out = String::from(
        "| Peak spans/s | Workload | Replicas (min–max) | CPU request / limit | Memory (request = limit) | GOMEMLIMIT | Queue (spans/pod) | Batch size / max |\n\
         |---:|---|---|---|---|---|---:|---|\n",
    );
    for &peak in loads {
        let load = Load { spans_per_second: peak, average_span_bytes: 1024, outage_seconds: 60 };
        for (name, cap) in [("gateway", GATEWAY), ("jaeger-collector", JAEGER_COLLECTOR)] {
            let Ok(s) = size(&load, cap) else { continue };
            out.push_str(&format!(
                "| {peak} | {name} | {}–{} | {}m / {}m | {}Mi | {} | {} | {} / {} |\n",
                s.min_replicas,
                s.max_replicas,
                s.cpu_request_milli,
                s.cpu_limit_milli,
                s.memory_mib,
                s.memory().gomemlimit(),
                s.queue_spans,
                s.batch_size,
                s.batch_max
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sized(load: &Load, cap: Capacity) -> Sizing {
        size(load, cap).expect("a servable load")
    }

    fn load(peak: u64) -> Load {
        Load { spans_per_second: peak, average_span_bytes: 1024, outage_seconds: 60 }
    }

    #[test]
    fn ten_thousand_spans_per_second_needs_two_gateways() {
        let s = sized(&load(10_000), GATEWAY);
        assert_eq!((s.min_replicas, s.max_replicas), (2, 3));
        assert_eq!(s.per_pod_spans, 5_000);
        assert_eq!(s.queue_spans, 300_000);
        // 128 MiB + 5000 × 2 × 1 KiB (≈ 9.8 MiB) + 300000 × 1 KiB (≈ 293 MiB) = 431 MiB needed,
        // / 0.64 = 674 MiB, rounded up to 704 MiB.
        assert_eq!(s.memory_mib, 704);
        // 5000 spans/s at 10000/core is 0.5 core = 70 % of 715m, rounded up to 750m.
        assert_eq!((s.cpu_request_milli, s.cpu_limit_milli), (750, 1500));
        assert_eq!((s.batch_size, s.batch_max), (1000, 2000));
    }

    #[test]
    fn sizing_never_decreases_with_load() {
        let mut previous = sized(&load(1), GATEWAY);
        for peak in (1..=400).map(|i| i * 1_000) {
            let s = sized(&load(peak), GATEWAY);
            let total = |s: &Sizing| {
                (u64::from(s.min_replicas) * s.cpu_request_milli, u64::from(s.min_replicas) * s.memory_mib)
            };
            assert!(s.min_replicas >= previous.min_replicas, "replicas fell at {peak}");
            assert!(s.max_replicas >= previous.max_replicas, "max replicas fell at {peak}");
            assert!(total(&s).0 >= total(&previous).0, "total CPU fell at {peak}");
            assert!(
                u64::from(s.min_replicas) * s.queue_spans >= u64::from(previous.min_replicas) * previous.queue_spans
            );
            previous = s;
        }
    }

    #[test]
    fn the_queue_and_in_flight_spans_fit_under_the_refusal_threshold() {
        for peak in [100, 1_000, 10_000, 100_000, 1_000_000, 3_000_000] {
            for cap in [GATEWAY, JAEGER_COLLECTOR] {
                let s = sized(&load(peak), cap);
                let used = BASE_MEMORY_MIB * 1024 * 1024 + (s.queue_spans + s.per_pod_spans * IN_FLIGHT_SECONDS) * 1024;
                let refusal = s.memory_mib * 1024 * 1024 * REFUSAL_PERCENT / 100;
                assert!(used <= refusal, "{peak} spans/s: {used} bytes used, refusal at {refusal}");
                assert!(s.memory_mib <= MAX_POD_MEMORY_MIB, "{peak} spans/s: {} MiB", s.memory_mib);
                assert!(u64::from(s.memory().limit_mib) < s.memory_mib);
                assert!(s.min_replicas >= 2 && s.max_replicas > s.min_replicas);
            }
        }
    }

    #[test]
    fn memory_bound_loads_get_more_replicas_instead_of_bigger_pods() {
        let long_outage = Load { spans_per_second: 100_000, average_span_bytes: 2048, outage_seconds: 600 };
        let s = sized(&long_outage, GATEWAY);
        assert!(s.memory_mib <= MAX_POD_MEMORY_MIB);
        assert!(s.min_replicas > 7, "got {}", s.min_replicas);
        assert!(u64::from(s.min_replicas) * s.per_pod_spans >= 100_000);
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let absurd = Load { spans_per_second: u64::MAX, average_span_bytes: u64::MAX, outage_seconds: u64::MAX };
        assert_eq!(size(&absurd, GATEWAY), Err(Unservable { replicas_needed: None }));
        let s = sized(&Load { spans_per_second: 0, average_span_bytes: 0, outage_seconds: 0 }, GATEWAY);
        assert_eq!(s.min_replicas, 2);
    }

    #[test]
    fn loads_beyond_the_replica_bound_or_the_memory_cap_are_unservable() {
        // 7.5 million spans/s: 1,000 gateways at twice the peak; one more is too many.
        assert!(size(&load(7_500_000), GATEWAY).is_ok());
        assert_eq!(size(&load(7_500_001), GATEWAY), Err(Unservable { replicas_needed: Some(1_001) }));
        // 1 MiB spans over an hour: a pod holds one span/s, so 10,000 spans/s needs 10,000 pods.
        let heavy = Load { spans_per_second: 10_000, average_span_bytes: 1024 * 1024, outage_seconds: 3600 };
        let err = size(&heavy, GATEWAY).expect_err("unservable");
        assert!(err.replicas_needed.is_some_and(|n| n >= 7_000), "{err:?}");
        assert!(err.explain("gateway", false).contains("more than the 1000 tracestack plans for one stack"));
        assert!(!err.explain("gateway", false).contains("sampling"));
        assert!(err.explain("jaeger.collector", true).contains("or `sampling.percentage`"));
        let huge = Load { spans_per_second: 1, average_span_bytes: 1024 * 1024, outage_seconds: 36_000 };
        assert_eq!(size(&huge, GATEWAY), Err(Unservable { replicas_needed: None }));
    }

    #[test]
    fn sampling_scales_the_load_that_reaches_jaeger() {
        assert_eq!(load(20_000).sampled(10.0).spans_per_second, 2_000);
        assert_eq!(load(3).sampled(10.0).spans_per_second, 1);
        assert_eq!(load(20_000).sampled(100.0), load(20_000));
    }
}
