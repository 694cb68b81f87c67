//! The effective size of every workload: a value set in the profile wins, else the value derived
//! from the declared `load` (see [`crate::model::sizing`]), else the built-in default.

use crate::model::Error;
use crate::model::profile::{AutoscalingSpec, CpuMemory, Profile, Resources, RoleSpec, StorageSpec};
use crate::model::sizing::{self, Capacity, MemorySizing, Sizing};
use crate::value::quantity::Quantity;

/// HPA targets of a workload that autoscales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    /// Average CPU use in percent of the request.
    pub cpu_percent: u32,
    /// Average memory use in percent of the request.
    pub memory_percent: u32,
}

/// Effective values of one workload.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadPlan {
    /// Fewest pods (the Deployment's count when it does not autoscale).
    pub min_replicas: u32,
    /// Most pods.
    pub max_replicas: u32,
    /// HPA targets, when `max_replicas > min_replicas`.
    pub autoscaling: Option<Targets>,
    /// CPU and memory per pod.
    pub resources: Resources,
    /// `memory_limiter` and `GOMEMLIMIT` from the memory limit.
    pub memory: MemorySizing,
    /// Exporter queue capacity in spans.
    pub queue_spans: u64,
    /// `send_batch_size`.
    pub batch_size: u32,
    /// `send_batch_max_size`.
    pub batch_max: u32,
}

/// Effective values of every workload a profile can run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The collector gateway.
    pub gateway: WorkloadPlan,
    /// One node agent (when `agents.enabled`; planned either way).
    pub agent: WorkloadPlan,
    /// The tail-sampling tier (when `tail_sampling.enabled`; planned either way).
    pub sampler: WorkloadPlan,
    /// `num_traces` of each sampling pod's `tail_sampling`.
    pub sampler_num_traces: u64,
    /// Jaeger all-in-one (memory storage).
    pub all_in_one: WorkloadPlan,
    /// Jaeger's collector role (shared storage).
    pub jaeger_collector: WorkloadPlan,
    /// Jaeger's query role (shared storage).
    pub jaeger_query: WorkloadPlan,
}

fn q(text: &str) -> Quantity {
    Quantity::parse(text).unwrap_or_else(|_| unreachable!("built-in quantity {text}"))
}

fn resources(req_cpu: &str, req_mem: &str, lim_cpu: &str, lim_mem: &str) -> Resources {
    Resources {
        requests: CpuMemory { cpu: q(req_cpu), memory: q(req_mem) },
        limits: CpuMemory { cpu: q(lim_cpu), memory: q(lim_mem) },
    }
}

fn derived_resources(s: &Sizing) -> Resources {
    let memory = Quantity::from_mebibytes(s.memory_mib);
    Resources {
        requests: CpuMemory { cpu: Quantity::from_millicores(s.cpu_request_milli), memory: memory.clone() },
        limits: CpuMemory { cpu: Quantity::from_millicores(s.cpu_limit_milli), memory },
    }
}

/// Built-in values of a workload when neither the profile nor the load says otherwise.
struct Defaults {
    replicas: u32,
    resources: Resources,
    queue_spans: u64,
    batch: (u32, u32),
    /// Maximum as a multiple of the minimum when a load is declared but the workload is not sized
    /// from it (the query role).
    load_max_factor: u32,
}

/// What a profile sets explicitly for one workload.
struct Explicit<'a> {
    replicas: Option<u32>,
    autoscaling: &'a AutoscalingSpec,
    resources: Option<&'a Resources>,
    queue: Option<u64>,
}

fn workload(
    path: &str,
    explicit: Explicit<'_>,
    derived: Option<Sizing>,
    load_declared: bool,
    defaults: Defaults,
) -> Result<WorkloadPlan, Error> {
    let Explicit { replicas, autoscaling, resources: explicit_resources, queue: explicit_queue } = explicit;
    let min_replicas =
        autoscaling.min_replicas.or(replicas).or(derived.map(|d| d.min_replicas)).unwrap_or(defaults.replicas);
    // An explicit `replicas` pins the count unless autoscaling bounds say otherwise.
    let derived_max = if replicas.is_some() && autoscaling.min_replicas.is_none() {
        None
    } else {
        derived.map(|d| d.max_replicas).or_else(|| {
            (load_declared && defaults.load_max_factor > 1).then(|| min_replicas * defaults.load_max_factor)
        })
    };
    let max_replicas = autoscaling.max_replicas.or(derived_max).unwrap_or(min_replicas).max(min_replicas);
    let resources =
        explicit_resources.cloned().or_else(|| derived.as_ref().map(derived_resources)).unwrap_or(defaults.resources);
    let memory = resources.limits.memory.bytes().map(MemorySizing::from_limit_bytes).ok_or_else(|| Error::Invalid {
        path: format!("{path}.resources.limits.memory"),
        message: format!("`{}` is not a memory size", resources.limits.memory),
    })?;
    Ok(WorkloadPlan {
        min_replicas,
        max_replicas,
        autoscaling: (max_replicas > min_replicas).then_some(Targets {
            cpu_percent: autoscaling.target_cpu_percent,
            memory_percent: autoscaling.target_memory_percent,
        }),
        resources,
        memory,
        queue_spans: explicit_queue.or(derived.map(|d| d.queue_spans)).unwrap_or(defaults.queue_spans),
        batch_size: derived.map_or(defaults.batch.0, |d| d.batch_size),
        batch_max: derived.map_or(defaults.batch.1, |d| d.batch_max),
    })
}

/// The sizing `cap` derives from the profile's load, `sampled` when the workload sits behind the
/// gateway's sampler (Jaeger receives only the traces it keeps); `None` without a load.
fn derive(profile: &Profile, cap: Capacity, sampled: bool, workload: &str) -> Result<Option<Sizing>, Error> {
    let Some(spec) = &profile.load else { return Ok(None) };
    let percentage = profile.sampling.percentage;
    let load = if sampled { spec.load().sampled(percentage) } else { spec.load() };
    sizing::size(&load, cap).map(Some).map_err(|unservable| Error::Invalid {
        path: "load.spans_per_second".into(),
        message: format!(
            "({} spans/s{}) {}",
            spec.spans_per_second,
            if sampled && percentage < 100.0 {
                format!(", {} after sampling {percentage} %", load.spans_per_second)
            } else {
                String::new()
            },
            unservable.explain(workload, sampled)
        ),
    })
}

fn role(
    path: &str,
    spec: &RoleSpec,
    capacity: Option<Capacity>,
    profile: &Profile,
    defaults: Defaults,
) -> Result<WorkloadPlan, Error> {
    let derived = match capacity {
        Some(cap) => derive(profile, cap, true, path)?,
        None => None,
    };
    workload(
        path,
        Explicit {
            replicas: spec.replicas,
            autoscaling: &spec.autoscaling,
            resources: spec.resources.as_ref(),
            queue: spec.queue_size,
        },
        derived,
        profile.load.is_some(),
        defaults,
    )
}

/// Spans per second one in-memory Jaeger is planned for: it runs as a single all-in-one replica
/// (each replica would keep its own traces), planned like one pod of Jaeger's collector role.
pub const MEMORY_STORAGE_SPANS_PER_SECOND: u64 = sizing::JAEGER_COLLECTOR.pod_rate;

/// In-memory storage cannot scale out: a declared load that reaches Jaeger faster than one pod
/// takes is refused, saying what would serve it.
fn check_memory_storage(profile: &Profile) -> Result<(), Error> {
    let (Some(spec), StorageSpec::Memory(_)) = (&profile.load, &profile.jaeger.storage) else { return Ok(()) };
    let percentage = profile.sampling.percentage;
    let reaching = spec.load().sampled(percentage).spans_per_second;
    if reaching <= MEMORY_STORAGE_SPANS_PER_SECOND {
        return Ok(());
    }
    #[allow(clippy::cast_precision_loss)]
    let fits = MEMORY_STORAGE_SPANS_PER_SECOND as f64 * 100.0 / spec.spans_per_second as f64;
    Err(Error::Invalid {
        path: "load.spans_per_second".into(),
        message: format!(
            "({} spans/s, {reaching} reaching Jaeger after sampling {percentage} %) is more than in-memory storage takes: it runs as one all-in-one pod, planned for {MEMORY_STORAGE_SPANS_PER_SECOND} spans/s; use `jaeger.storage.elasticsearch`, or keep at most {} % with `sampling.percentage`",
            spec.spans_per_second,
            (fits * 10_000.0).floor() / 10_000.0
        ),
    })
}

/// One node agent: explicit resources win, else sized from `load` over `agents.nodes`, else the
/// defaults; always one pod per node, never autoscaled.
fn agent(profile: &Profile) -> Result<WorkloadPlan, Error> {
    let spec = &profile.agents;
    let derived = match &profile.load {
        Some(load) if spec.enabled => {
            Some(sizing::agent(&load.load(), u64::from(spec.nodes)).map_err(|unservable| Error::Invalid {
                path: "agents.nodes".into(),
                message: format!(
                    "({}) leaves each agent {} spans/s: one agent would need more than {} MiB; plan for at least {} nodes, or lower `load.average_span_bytes`",
                    spec.nodes,
                    load.spans_per_second.div_ceil(u64::from(spec.nodes.max(1))),
                    sizing::MAX_POD_MEMORY_MIB,
                    unservable.replicas_needed.unwrap_or(u64::MAX)
                ),
            })?)
        }
        _ => None,
    };
    workload(
        "agents",
        Explicit {
            replicas: Some(1),
            autoscaling: &AutoscalingSpec::default(),
            resources: spec.resources.as_ref(),
            queue: None,
        },
        derived,
        false,
        Defaults {
            replicas: 1,
            resources: resources("50m", "128Mi", "250m", "128Mi"),
            queue_spans: 5_000,
            batch: (1024, 2048),
            load_max_factor: 1,
        },
    )
}

/// The sampling tier: explicit values win, else sized from `load` (every span, held for
/// `decision_wait`), else 2 pods of 200m/512Mi → 1/512Mi holding 50,000 traces each.
fn sampler(profile: &Profile) -> Result<(WorkloadPlan, u64), Error> {
    let spec = &profile.tail_sampling;
    let wait = spec.decision_wait.as_secs_ceil();
    let derived = match &profile.load {
        Some(load) if spec.enabled => {
            Some(sizing::sampler(&load.load(), wait).map_err(|unservable| Error::Invalid {
                path: "load.spans_per_second".into(),
                message: format!("({} spans/s) {}", load.spans_per_second, unservable.explain("tail-sampling", false)),
            })?)
        }
        _ => None,
    };
    let plan = workload(
        "tail_sampling",
        Explicit {
            replicas: spec.replicas,
            autoscaling: &AutoscalingSpec::default(),
            resources: spec.resources.as_ref(),
            queue: None,
        },
        derived.map(|(s, _)| s),
        // Members are fixed: a new member changes which member each trace goes to, splitting
        // the traces in flight.
        false,
        Defaults {
            replicas: 2,
            resources: resources("200m", "512Mi", "1", "512Mi"),
            queue_spans: 50_000,
            batch: (8192, 10_000),
            load_max_factor: 1,
        },
    )?;
    // A fixed count: no autoscaler reshuffles the trace-to-member mapping.
    let plan = WorkloadPlan { max_replicas: plan.min_replicas, autoscaling: None, ..plan };
    Ok((plan, derived.map_or(50_000, |(_, n)| n)))
}

impl Plan {
    /// Resolves every workload of `profile`.
    ///
    /// # Errors
    /// When an effective memory limit is not a byte size.
    pub fn resolve(profile: &Profile) -> Result<Self, Error> {
        let c = &profile.collector;
        let derived = derive(profile, sizing::GATEWAY, false, "gateway")?;
        check_memory_storage(profile)?;
        let mut gateway = workload(
            "collector",
            Explicit {
                replicas: c.replicas,
                autoscaling: &c.autoscaling,
                resources: c.resources.as_ref(),
                queue: c.queue.queue_size,
            },
            derived,
            profile.load.is_some(),
            Defaults {
                replicas: 1,
                resources: resources("100m", "128Mi", "500m", "256Mi"),
                queue_spans: 50_000,
                // The collector's own default batch size with an upper bound: unbounded batches
                // can exceed Jaeger's 4 MiB gRPC message limit when spans are large.
                batch: (8192, 10_000),
                load_max_factor: 1,
            },
        )?;
        if let Some(size) = c.batch.send_batch_size {
            gateway.batch_size = size;
        }
        if let Some(max) = c.batch.send_batch_max_size {
            // The batch processor refuses `send_batch_max_size` below `send_batch_size` at start-up
            // (collector `processor/batchprocessor/config.go`, `Validate`), whichever of the two
            // was derived.
            if max != 0 && max < gateway.batch_size {
                return Err(Error::Invalid {
                    path: "collector.batch.send_batch_max_size".into(),
                    message: format!(
                        "({max}) must be 0 or at least `send_batch_size` ({}{})",
                        gateway.batch_size,
                        if c.batch.send_batch_size.is_some() { "" } else { ", derived from `load`" }
                    ),
                });
            }
            gateway.batch_max = max;
        } else if gateway.batch_max != 0 && gateway.batch_max < gateway.batch_size {
            gateway.batch_max = gateway.batch_size;
        }
        let agent = agent(profile)?;
        let (sampler, sampler_num_traces) = sampler(profile)?;
        let j = &profile.jaeger;
        Ok(Self {
            gateway,
            agent,
            sampler,
            sampler_num_traces,
            all_in_one: role(
                "jaeger.all_in_one",
                &j.all_in_one,
                None,
                profile,
                Defaults {
                    replicas: 1,
                    resources: resources("100m", "256Mi", "500m", "512Mi"),
                    queue_spans: 10_000,
                    batch: (1000, 2000),
                    load_max_factor: 1,
                },
            )?,
            jaeger_collector: role(
                "jaeger.collector",
                &j.collector,
                Some(sizing::JAEGER_COLLECTOR),
                profile,
                Defaults {
                    replicas: 2,
                    resources: resources("250m", "512Mi", "1", "1Gi"),
                    queue_spans: 50_000,
                    batch: (1000, 2000),
                    load_max_factor: 1,
                },
            )?,
            jaeger_query: role(
                "jaeger.query",
                &j.query,
                None,
                profile,
                Defaults {
                    replicas: 2,
                    resources: resources("100m", "256Mi", "500m", "512Mi"),
                    queue_spans: 0,
                    batch: (0, 0),
                    load_max_factor: 2,
                },
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::profile::{ElasticsearchSpec, LoadSpec};

    /// A profile with Elasticsearch storage (in-memory storage takes little load) and `peak`.
    fn with_load(peak: u64) -> Profile {
        let mut profile = Profile {
            load: Some(LoadSpec { spans_per_second: peak, average_span_bytes: 1024, outage_seconds: 60 }),
            ..Profile::default()
        };
        profile.jaeger.storage =
            StorageSpec::Elasticsearch(Box::new(ElasticsearchSpec::new(vec!["https://es.search.svc:9200".into()])));
        profile
    }

    #[test]
    fn jaeger_is_sized_for_what_the_sampler_keeps() {
        let mut profile = with_load(100_000);
        let all = Plan::resolve(&profile).expect("plan");
        profile.sampling.percentage = 10.0;
        let sampled = Plan::resolve(&profile).expect("plan");
        assert_eq!((all.gateway.min_replicas, sampled.gateway.min_replicas), (7, 7), "the gateway sees every span");
        assert_eq!(all.jaeger_collector.min_replicas, 14);
        assert_eq!(sampled.jaeger_collector.min_replicas, 2, "10,000 spans/s reach Jaeger");
        assert!(sampled.jaeger_collector.queue_spans < all.jaeger_collector.queue_spans);
    }

    #[test]
    fn in_memory_storage_refuses_a_load_one_pod_cannot_take() {
        let mut profile = with_load(20_000);
        profile.jaeger.storage = Profile::default().jaeger.storage;
        let err = Plan::resolve(&profile).expect_err("too much for memory").to_string();
        assert!(err.contains("load.spans_per_second"), "{err}");
        assert!(
            err.contains(
                "(20000 spans/s, 20000 reaching Jaeger after sampling 100 %) is more than in-memory storage takes"
            ),
            "{err}"
        );
        assert!(err.contains("keep at most 37.5 %"), "{err}");
        profile.sampling.percentage = 30.0;
        assert!(Plan::resolve(&profile).is_ok(), "6,000 spans/s reach Jaeger");
    }

    #[test]
    fn absurd_loads_are_refused_saying_what_they_need() {
        let err = Plan::resolve(&with_load(50_000_000)).expect_err("absurd").to_string();
        assert!(err.contains("(50000000 spans/s) would need about 6667 gateway pods"), "{err}");
    }

    #[test]
    fn without_load_the_defaults_apply_and_nothing_autoscales() {
        let plan = Plan::resolve(&Profile::default()).unwrap();
        assert_eq!((plan.gateway.min_replicas, plan.gateway.max_replicas), (1, 1));
        assert_eq!(plan.gateway.autoscaling, None);
        assert_eq!(plan.gateway.resources.limits.memory.as_str(), "256Mi");
        assert_eq!((plan.gateway.queue_spans, plan.gateway.batch_size, plan.gateway.batch_max), (50_000, 8192, 10_000));
        assert_eq!(plan.jaeger_query.autoscaling, None);
    }

    #[test]
    fn load_derives_replicas_resources_queue_and_batch() {
        let plan = Plan::resolve(&with_load(10_000)).unwrap();
        let expected = sizing::size(&with_load(10_000).load.unwrap().load(), sizing::GATEWAY).expect("servable");
        assert_eq!(
            (plan.gateway.min_replicas, plan.gateway.max_replicas),
            (expected.min_replicas, expected.max_replicas)
        );
        assert_eq!(plan.gateway.autoscaling, Some(Targets { cpu_percent: 70, memory_percent: 80 }));
        assert_eq!(plan.gateway.resources.requests.memory, plan.gateway.resources.limits.memory);
        assert_eq!(plan.gateway.resources.limits.memory.as_str(), format!("{}Mi", expected.memory_mib));
        assert_eq!(plan.gateway.queue_spans, expected.queue_spans);
        assert_eq!(plan.jaeger_query.max_replicas, 4, "query scales to twice its minimum under load");
    }

    #[test]
    fn explicit_values_win_over_derived_ones() {
        let mut profile = with_load(100_000);
        profile.collector.replicas = Some(3);
        profile.collector.queue.queue_size = Some(1234);
        profile.collector.batch.send_batch_size = Some(100);
        profile.collector.batch.send_batch_max_size = Some(200);
        profile.jaeger.collector.autoscaling.max_replicas = Some(40);
        let plan = Plan::resolve(&profile).unwrap();
        assert_eq!((plan.gateway.min_replicas, plan.gateway.max_replicas), (3, 3), "fixed replicas do not autoscale");
        assert_eq!((plan.gateway.queue_spans, plan.gateway.batch_size, plan.gateway.batch_max), (1234, 100, 200));
        assert_eq!(plan.jaeger_collector.max_replicas, 40);
    }

    #[test]
    fn an_agent_is_sized_for_its_share_of_the_load() {
        let mut profile = with_load(60_000);
        profile.agents.enabled = true;
        profile.agents.nodes = 30;
        let plan = Plan::resolve(&profile).unwrap();
        // 2,000 spans/s per node: 2000 / 10,000 per core / 0.7 = 286m → 300m; 128 MiB + 2 s and a
        // 10 s queue of 1 KiB spans (about 24 MiB) over 0.64 → 256Mi.
        assert_eq!(plan.agent.resources.requests.cpu.as_str(), "300m");
        assert_eq!(plan.agent.resources.limits.memory.as_str(), "256Mi");
        assert_eq!(plan.agent.queue_spans, 20_000);
        assert_eq!((plan.agent.min_replicas, plan.agent.max_replicas, plan.agent.autoscaling), (1, 1, None));
        profile.agents.nodes = 3;
        let fewer = Plan::resolve(&profile).unwrap();
        assert!(fewer.agent.resources.limits.memory.bytes() > plan.agent.resources.limits.memory.bytes());
        profile.agents.nodes = 1;
        profile.load.as_mut().unwrap().spans_per_second = 2_000_000;
        let err = Plan::resolve(&profile).expect_err("one node cannot take it").to_string();
        assert!(err.contains("agents.nodes") && err.contains("plan for at least"), "{err}");
    }

    #[test]
    fn the_sampling_tier_holds_its_decision_wait_and_never_autoscales() {
        let mut profile = with_load(20_000);
        profile.tail_sampling.enabled = true;
        let plan = Plan::resolve(&profile).unwrap();
        let gateway = plan.gateway.clone();
        assert_eq!((plan.sampler.min_replicas, plan.sampler.max_replicas, plan.sampler.autoscaling), (2, 2, None));
        // 10,000 spans/s per pod held for 10 s: twice that many traces at most, and more memory than
        // the gateway, which holds only its queue.
        assert_eq!(plan.sampler_num_traces, 200_000);
        assert!(plan.sampler.resources.limits.memory.bytes() > gateway.resources.limits.memory.bytes());
        assert_eq!(plan.sampler.queue_spans, gateway.queue_spans);
        profile.tail_sampling.decision_wait = crate::value::duration::Duration::from_secs(30);
        let longer = Plan::resolve(&profile).unwrap();
        assert_eq!(longer.sampler_num_traces, 600_000);
        assert!(longer.sampler.resources.limits.memory.bytes() > plan.sampler.resources.limits.memory.bytes());
    }

    #[test]
    fn autoscaling_bounds_override_a_fixed_count() {
        let mut profile = Profile::default();
        profile.collector.replicas = Some(2);
        profile.collector.autoscaling.max_replicas = Some(6);
        let plan = Plan::resolve(&profile).unwrap();
        assert_eq!((plan.gateway.min_replicas, plan.gateway.max_replicas), (2, 6));
        assert!(plan.gateway.autoscaling.is_some());
    }
}
