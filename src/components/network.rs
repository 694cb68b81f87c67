//! NetworkPolicies: deny everything in the stack's namespace, then allow only the stack's own flows
//! — OTLP into the gateway, gateway to Jaeger's collector role, UI/API into the query role, metrics
//! scrapes, DNS, and Elasticsearch from the pods that use it.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::config::k8s::{self, Object};
use crate::model::profile::{Profile, StorageSpec};
use crate::value::ports;
use crate::value::url::HttpUrl;

/// Label every namespace carries with its own name (Kubernetes ≥ 1.21).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A pod the policies are about: its selector labels and the ports it serves.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Policy name (the workload's name).
    pub name: String,
    /// Pod selector labels.
    pub selector: BTreeMap<String, String>,
}

/// What the stack's policies need to know about its pods.
#[derive(Clone, Debug)]
pub struct Topology {
    /// The gateway pods and the ports of the `otlp` Service (OTLP, and Zipkin when enabled).
    pub gateway: Endpoint,
    /// Ports of the `otlp` Service.
    pub gateway_ports: Vec<u16>,
    /// Whether the gateway talks to the API server (`k8s_attributes` watches pods).
    pub gateway_api_access: bool,
    /// The Jaeger pods that receive OTLP from the gateway.
    pub jaeger_receiver: Endpoint,
    /// The Jaeger pods that serve the UI and query API (may be the receiver, all-in-one).
    pub jaeger_query: Endpoint,
    /// Pods that talk to Elasticsearch: maintenance jobs (their selector), if any.
    pub es_clients: Vec<Endpoint>,
    /// Metrics ports of the Jaeger pods that receive spans (self-metrics, and span metrics when
    /// monitoring computes them).
    pub jaeger_receiver_metrics_ports: Vec<u16>,
    /// The smoke-test Job's pod: its sender to the gateway's OTLP/gRPC port, then its checker to
    /// the query API.
    pub smoke_test: Option<Endpoint>,
    /// The Prometheus the query role reads span metrics from (Jaeger's Monitor tab), as a URL.
    pub prometheus_url: Option<String>,
    /// The node agents, when they run.
    pub agents: Option<AgentEndpoint>,
    /// The tail-sampling tier, when it runs: the gateway sends to it, it sends to Jaeger.
    pub sampler: Option<Endpoint>,
    /// The tail-sampling tier's metrics ports (self-metrics, and span metrics when it computes them).
    pub sampler_metrics_ports: Vec<u16>,
    /// The Kafka buffer's brokers: their namespace (none: any address) and ports.
    pub kafka: Option<(Option<String>, Vec<u16>)>,
}

/// The node agents' pods and whether they talk to the API server.
#[derive(Clone, Debug)]
pub struct AgentEndpoint {
    /// The agent pods.
    pub endpoint: Endpoint,
    /// Whether they watch pods (`k8s_attributes`).
    pub api_access: bool,
}

/// Namespace and port of an in-cluster `http(s)://name.namespace.svc[.cluster.local][:port]` URL;
/// the namespace is `None` for other hosts. The profile's validation has parsed every URL already;
/// one that does not parse here gives no namespace and the scheme's port.
fn url_target(url: &str) -> (Option<String>, u16) {
    match HttpUrl::parse(url) {
        Ok(u) => (u.namespace().map(str::to_owned), u.port),
        Err(_) => (None, if url.starts_with("https://") { 443 } else { 80 }),
    }
}

/// The stack's NetworkPolicies, in apply order.
#[derive(Clone, Debug, PartialEq)]
pub struct Policies {
    /// Denies all ingress and egress of every pod in the namespace that no other policy allows.
    pub default_deny: NetworkPolicy,
    /// Lets every pod of the namespace resolve names.
    pub allow_dns: NetworkPolicy,
    /// One policy per workload with its allowed flows.
    pub workloads: Vec<NetworkPolicy>,
}

impl Policies {
    /// The objects.
    #[must_use]
    pub fn into_objects(self) -> Vec<Object> {
        let mut objects = vec![Object::from(self.default_deny), Object::from(self.allow_dns)];
        objects.extend(self.workloads.into_iter().map(Object::from));
        objects
    }
}

/// A selector on `labels`; every pod (`{}`) when there are none. An empty `matchLabels: {}` selects
/// the same pods, but the API server stores it as `{}`, so each server-side apply of it changes the
/// object again (its `generation` grows and `kubectl diff` never comes back empty).
fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector { match_labels: (!labels.is_empty()).then_some(labels), match_expressions: None }
}

fn tcp(port: u16) -> NetworkPolicyPort {
    NetworkPolicyPort { port: Some(IntOrString::Int(i32::from(port))), protocol: Some("TCP".into()), end_port: None }
}

fn pods(selector: &BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer { pod_selector: Some(match_labels(selector.clone())), ..NetworkPolicyPeer::default() }
}

/// Every pod of the listed namespaces; every namespace when `names` is empty.
fn namespaces(names: &[String]) -> NetworkPolicyPeer {
    let selector = if names.is_empty() {
        LabelSelector::default()
    } else {
        let mut values = names.to_vec();
        values.sort();
        values.dedup();
        LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: NAMESPACE_NAME_LABEL.into(),
                operator: "In".into(),
                values: Some(values),
            }]),
        }
    };
    NetworkPolicyPeer { namespace_selector: Some(selector), ..NetworkPolicyPeer::default() }
}

fn with_own(own: &str, names: &[String]) -> Vec<String> {
    let mut all = names.to_vec();
    all.push(own.to_owned());
    all
}

fn policy(
    name: &str,
    namespace: &str,
    selector: BTreeMap<String, String>,
    ingress: Vec<NetworkPolicyIngressRule>,
    egress: Vec<NetworkPolicyEgressRule>,
) -> NetworkPolicy {
    let mut types = Vec::new();
    if !ingress.is_empty() {
        types.push("Ingress".to_owned());
    }
    if !egress.is_empty() {
        types.push("Egress".to_owned());
    }
    NetworkPolicy {
        metadata: k8s::meta(name, namespace, &crate::components::namespace::stack_labels()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(match_labels(selector)),
            policy_types: Some(types),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}

fn ip_block(cidr: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock { cidr: cidr.to_owned(), except: None }),
        ..NetworkPolicyPeer::default()
    }
}

fn ingress(from: Vec<NetworkPolicyPeer>, ports: &[u16]) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule { from: Some(from), ports: Some(ports.iter().copied().map(tcp).collect()) }
}

/// Ports of the Elasticsearch URLs (443/80 when a URL names none).
fn es_ports(urls: &[String]) -> Vec<u16> {
    let mut out: Vec<u16> = urls.iter().map(|url| url_target(url).1).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The stack's policies.
#[must_use]
pub fn policies(profile: &Profile, t: &Topology) -> Policies {
    let ns = profile.namespace.as_str();
    let np = &profile.security.network_policy;
    let metrics = |rules: &mut Vec<NetworkPolicyIngressRule>| {
        if !np.metrics_from_namespaces.is_empty() {
            rules.push(ingress(vec![namespaces(&np.metrics_from_namespaces)], &[ports::COLLECTOR_METRICS]));
        }
    };
    let es_egress = match &profile.jaeger.storage {
        StorageSpec::Elasticsearch(es) | StorageSpec::Opensearch(es) => {
            let to = es.namespace.as_ref().map(|n| vec![namespaces(std::slice::from_ref(n))]);
            vec![NetworkPolicyEgressRule { to, ports: Some(es_ports(&es.server_urls).into_iter().map(tcp).collect()) }]
        }
        StorageSpec::Clickhouse(ch) => {
            let to = ch.namespace.as_ref().map(|n| vec![namespaces(std::slice::from_ref(n))]);
            let mut ports: Vec<u16> =
                ch.addresses.iter().filter_map(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse().ok())).collect();
            ports.sort_unstable();
            ports.dedup();
            vec![NetworkPolicyEgressRule { to, ports: Some(ports.into_iter().map(tcp).collect()) }]
        }
        StorageSpec::Memory(_) | StorageSpec::Badger(_) => Vec::new(),
    };
    let otlp_sources = if np.otlp_from_namespaces.is_empty() {
        namespaces(&[])
    } else {
        namespaces(&with_own(ns, &np.otlp_from_namespaces))
    };

    let api_server = || {
        // The API server is no pod a selector can name, and its address differs per cluster: allow
        // its usual ports (443 on the `kubernetes` Service, 6443 on many control planes) to the
        // address blocks the profile gives, else to any address.
        let to = (!np.api_server_cidrs.is_empty()).then(|| np.api_server_cidrs.iter().map(|c| ip_block(c)).collect());
        NetworkPolicyEgressRule { to, ports: Some(vec![tcp(443), tcp(6443)]) }
    };
    let mut gateway_in = vec![ingress(vec![otlp_sources.clone()], &t.gateway_ports)];
    metrics(&mut gateway_in);
    let kafka_out = t.kafka.as_ref().map(|(namespace, broker_ports)| NetworkPolicyEgressRule {
        to: namespace.as_ref().map(|n| vec![namespaces(std::slice::from_ref(n))]),
        ports: Some(broker_ports.iter().copied().map(tcp).collect()),
    });
    // The last collector before Jaeger writes to Kafka instead, when the buffer is on.
    let to_jaeger = kafka_out.clone().unwrap_or_else(|| NetworkPolicyEgressRule {
        to: Some(vec![pods(&t.jaeger_receiver.selector)]),
        ports: Some(vec![tcp(ports::OTLP_GRPC)]),
    });
    // The gateway exports to the sampling tier when it runs, else towards Jaeger.
    let mut gateway_out = vec![match &t.sampler {
        Some(sampler) => NetworkPolicyEgressRule {
            to: Some(vec![pods(&sampler.selector)]),
            ports: Some(vec![tcp(ports::OTLP_GRPC)]),
        },
        None => to_jaeger.clone(),
    }];
    if t.gateway_api_access {
        gateway_out.push(api_server());
    }
    let mut workloads = vec![policy(&t.gateway.name, ns, t.gateway.selector.clone(), gateway_in, gateway_out)];
    if let Some(agents) = &t.agents {
        // Applications on every node send to their agent; the agent sends to the gateway only.
        let mut agent_in = vec![ingress(vec![otlp_sources.clone()], &[ports::OTLP_GRPC, ports::OTLP_HTTP])];
        metrics(&mut agent_in);
        let mut agent_out = vec![NetworkPolicyEgressRule {
            to: Some(vec![pods(&t.gateway.selector)]),
            ports: Some(vec![tcp(ports::OTLP_GRPC)]),
        }];
        if agents.api_access {
            agent_out.push(api_server());
        }
        workloads.push(policy(&agents.endpoint.name, ns, agents.endpoint.selector.clone(), agent_in, agent_out));
    }

    let mut query_from = np.query_from_namespaces.clone();
    let controllers = [
        profile.jaeger.ingress.as_ref().and_then(|i| i.controller_namespace.as_ref()),
        profile.jaeger.http_route.as_ref().and_then(|r| r.from_namespace.as_ref()),
    ];
    for controller in controllers.into_iter().flatten() {
        if !query_from.contains(controller) {
            query_from.push(controller.clone());
        }
    }
    let query_in =
        ingress(vec![namespaces(&with_own(ns, &query_from))], &[ports::JAEGER_QUERY_HTTP, ports::JAEGER_QUERY_GRPC]);
    if let Some(sampler) = &t.sampler {
        let mut sampler_in = vec![ingress(vec![pods(&t.gateway.selector)], &[ports::OTLP_GRPC])];
        if !np.metrics_from_namespaces.is_empty() {
            sampler_in.push(ingress(vec![namespaces(&np.metrics_from_namespaces)], &t.sampler_metrics_ports));
        }
        let sampler_out = vec![to_jaeger.clone()];
        workloads.push(policy(&sampler.name, ns, sampler.selector.clone(), sampler_in, sampler_out));
    }
    // Jaeger receives from whatever exports to it: the sampling tier, else the gateway.
    let jaeger_sender = t.sampler.as_ref().unwrap_or(&t.gateway);
    let mut receiver_in = vec![ingress(vec![pods(&jaeger_sender.selector)], &[ports::OTLP_GRPC, ports::OTLP_HTTP])];
    let same = t.jaeger_receiver.selector == t.jaeger_query.selector;
    if same {
        receiver_in.push(query_in.clone());
    }
    // No metrics port known (an operator's Jaeger v1): no rule. An empty `ports` would open every
    // port, and the API server drops it, so each apply would change the policy again.
    if !np.metrics_from_namespaces.is_empty() && !t.jaeger_receiver_metrics_ports.is_empty() {
        receiver_in.push(ingress(vec![namespaces(&np.metrics_from_namespaces)], &t.jaeger_receiver_metrics_ports));
    }
    let mut query_out = es_egress.clone();
    if let Some(url) = &t.prometheus_url {
        let (namespace, port) = url_target(url);
        query_out.push(NetworkPolicyEgressRule {
            to: namespace.map(|n| vec![namespaces(&[n])]),
            ports: Some(vec![tcp(port)]),
        });
    }
    let mut receiver_out = if same { query_out.clone() } else { es_egress.clone() };
    // Jaeger's receiving role consumes the topic.
    receiver_out.extend(kafka_out.clone());
    workloads.push(policy(&t.jaeger_receiver.name, ns, t.jaeger_receiver.selector.clone(), receiver_in, receiver_out));
    if !same {
        let mut query = vec![query_in];
        metrics(&mut query);
        workloads.push(policy(&t.jaeger_query.name, ns, t.jaeger_query.selector.clone(), query, query_out));
    }
    if let Some(smoke) = &t.smoke_test {
        let to = |target: &Endpoint, port: u16| NetworkPolicyEgressRule {
            to: Some(vec![pods(&target.selector)]),
            ports: Some(vec![tcp(port)]),
        };
        // It sends where applications send: the node agents when they run, else the gateway.
        let sends_to = t.agents.as_ref().map_or(&t.gateway, |a| &a.endpoint);
        let egress = vec![to(sends_to, ports::OTLP_GRPC), to(&t.jaeger_query, ports::JAEGER_QUERY_HTTP)];
        workloads.push(policy(&smoke.name, ns, smoke.selector.clone(), Vec::new(), egress));
    }
    for client in &t.es_clients {
        workloads.push(policy(&client.name, ns, client.selector.clone(), Vec::new(), es_egress.clone()));
    }

    let all_pods = BTreeMap::new();
    let default_deny = NetworkPolicy {
        metadata: k8s::meta("default-deny", ns, &crate::components::namespace::stack_labels()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: None,
        }),
    };
    let dns_ports = vec![
        NetworkPolicyPort { port: Some(IntOrString::Int(53)), protocol: Some("UDP".into()), end_port: None },
        tcp(53),
    ];
    // Port 53 of the cluster DNS pods only (one peer: their namespace and their labels), not of
    // every pod in every namespace; NodeLocal DNSCache runs on the host network, so it is reached
    // by its address.
    let dns = &np.dns;
    let mut dns_peers = vec![NetworkPolicyPeer {
        namespace_selector: namespaces(std::slice::from_ref(&dns.namespace)).namespace_selector,
        pod_selector: Some(LabelSelector { match_labels: Some(dns.pod_labels.clone()), match_expressions: None }),
        ip_block: None,
    }];
    if let Some(address) = &dns.node_local_address {
        let bits = if address.contains(':') { 128 } else { 32 };
        dns_peers.push(ip_block(&format!("{address}/{bits}")));
    }
    let allow_dns = policy(
        "allow-dns",
        ns,
        all_pods,
        Vec::new(),
        vec![NetworkPolicyEgressRule { to: Some(dns_peers), ports: Some(dns_ports) }],
    );
    Policies { default_deny, allow_dns, workloads }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elasticsearch_ports_come_from_the_urls() {
        let urls = |u: &[&str]| u.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(es_ports(&urls(&["https://es:9200", "https://es2:9200/"])), [9200]);
        assert_eq!(es_ports(&urls(&["https://es.example.com", "http://es:9201/path"])), [443, 9201]);
        assert_eq!(es_ports(&urls(&["http://es"])), [80]);
    }

    #[test]
    fn in_cluster_urls_name_their_namespace() {
        assert_eq!(url_target("http://prometheus-operated.monitoring.svc:9090"), (Some("monitoring".into()), 9090));
        assert_eq!(url_target("https://prom.obs.svc.cluster.local/api"), (Some("obs".into()), 443));
        assert_eq!(url_target("http://prometheus.example.com:9090"), (None, 9090));
    }
}
