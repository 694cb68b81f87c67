//! Checks of collector and Jaeger configs against their build and the objects around them: wiring
//! and shipped components (via [`Config::validate`](crate::config::collector::Config::validate)), the
//! ConfigMap that carries each config and the workload that mounts it, every endpoint the config
//! connects to, and a listener behind every port the workload declares.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::endpoints::{self, Client};
use super::{Checker, ConfigRef, Index};
use crate::config::k8s::Object;

pub(super) fn check(index: &Index<'_>, configs: &[ConfigRef], checker: &mut Checker) {
    for config in configs {
        one(index, config, checker);
    }
}

fn one(index: &Index<'_>, r: &ConfigRef, checker: &mut Checker) {
    let whose = format!("{} config", r.workload);
    // Wiring counts as one check, each component's presence in the build as one more.
    checker.checks += 1 + r.config.component_types().count();
    if let Err(errors) = r.config.validate(r.distribution, r.version) {
        for e in errors {
            checker.violations.push(super::Violation { check: "config", message: format!("{whose}: {e}") });
        }
    }
    let ns = r.workload.namespace.as_deref();
    let workload = index.get(&r.workload.kind, ns, &r.workload.name);
    let pod = workload.and_then(|w| w.pod_template()).and_then(|t| t.spec.as_ref());
    checker.check("config-workload", pod.is_some(), || format!("{whose}: {} is not a rendered workload", r.workload));
    let Some(pod) = pod else { return };
    let config_map = index.get("ConfigMap", ns, &r.config_map);
    let held = match config_map {
        Some(Object::ConfigMap(cm)) => cm.data.as_ref().and_then(|d| d.get(&r.key)),
        _ => None,
    };
    checker.check("config-map", held.is_some(), || {
        format!("{whose}: ConfigMap `{}` with key `{}` is not rendered", r.config_map, r.key)
    });
    if let Some(held) = held {
        let same = match r.written.as_deref().and_then(|w| w.text_of(&r.config)) {
            Some(text) => text == held,
            None => crate::format::yaml::to_string(&r.config).is_ok_and(|text| &text == held),
        } || operator_holds(held, &r.config);
        checker.check("config-map", same, || {
            format!(
                "{whose}: ConfigMap `{}` key `{}` does not hold this config; render both from the same typed config",
                r.config_map, r.key
            )
        });
    }
    let runners = runners(pod, &r.config_map);
    checker.check("config-map", !runners.is_empty(), || {
        format!("{whose}: no container of {} mounts ConfigMap `{}`", r.workload, r.config_map)
    });
    for client in endpoints::clients(&r.config) {
        endpoint(index, &whose, ns.unwrap_or_default(), &client, checker);
    }
    listeners(&whose, &r.config, &runners, checker);
}

/// Whether `held` is the JSON text of `config`, as the stand-in for the ConfigMap an operator
/// writes from a resource's `spec.config` holds it (see [`super::managed_objects`]).
fn operator_holds(held: &str, config: &crate::config::collector::Config) -> bool {
    held.starts_with('{') && serde_json::from_str::<serde_json::Value>(held).ok() == serde_json::to_value(config).ok()
}

/// The containers that mount `config_map`: the ones that run the config.
fn runners<'a>(pod: &'a PodSpec, config_map: &str) -> Vec<&'a Container> {
    let volumes: BTreeSet<&str> = pod
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.config_map.as_ref().is_some_and(|c| c.name == config_map))
        .map(|v| v.name.as_str())
        .collect();
    pod.containers
        .iter()
        .filter(|c| c.volume_mounts.iter().flatten().any(|m| volumes.contains(m.name.as_str())))
        .collect()
}

/// An endpoint is declared external, or names a rendered Service port that speaks its protocol.
fn endpoint(index: &Index<'_>, whose: &str, namespace: &str, client: &Client, checker: &mut Checker) {
    let Client { component, field, address, protocol, every_address } = client;
    let at = format!("{whose}: {component} {field} `{address}`");
    if index.external.endpoints.contains(address) {
        checker.check("endpoint", true, String::new);
        return;
    }
    let Some((host, port)) = endpoints::host_port(address) else {
        checker.fail("endpoint", format!("{at} is not a `host:port` address"));
        return;
    };
    let Some((name, ns)) = endpoints::service_of(host, namespace) else {
        checker.fail(
            "endpoint",
            format!("{at} names `{host}`, which is not an in-cluster Service name nor declared external"),
        );
        return;
    };
    let service = match index.get("Service", Some(ns), name) {
        Some(Object::Service(s)) => Some(s),
        _ => None,
    };
    checker.check("endpoint", service.is_some(), || {
        format!("{at} names Service `{ns}/{name}`, which is neither rendered nor declared external")
    });
    let Some(spec) = service.and_then(|s| s.spec.as_ref()) else { return };
    let ports = spec.ports.as_deref().unwrap_or_default();
    let found = ports.iter().find(|p| i32::from(port) == p.port);
    checker.check("endpoint", found.is_some(), || {
        let have: Vec<String> =
            ports.iter().map(|p| format!("{} `{}`", p.port, p.name.as_deref().unwrap_or_default())).collect();
        format!("{at} names port {port} of Service `{name}`, which exposes only {}", have.join(", "))
    });
    if let Some(found) = found {
        // Without `appProtocol` a port's protocol is its name's prefix (`grpc-otlp`), as Istio reads
        // it: the Jaeger Operator names its ports so.
        let prefix = found.name.as_deref().and_then(|n| n.split_once('-')).map(|(p, _)| p);
        let app = found.app_protocol.as_deref().or(prefix);
        checker.check("endpoint-protocol", app.is_some_and(|a| protocol.app_protocols().contains(&a)), || {
            format!(
                "{at} speaks {} but port {port} `{}` of Service `{name}` has appProtocol `{}` (expected `{}`)",
                protocol.name(),
                found.name.as_deref().unwrap_or_default(),
                app.unwrap_or("none"),
                protocol.app_protocols().join("` or `")
            )
        });
    }
    if *every_address {
        checker.check("endpoint-headless", spec.cluster_ip.as_deref() == Some("None"), || {
            format!(
                "{at} balances over every address of Service `{name}`, but it is not headless (clusterIP: None), \
                 so DNS returns one virtual IP and nothing is balanced"
            )
        });
    }
}

/// Every port a container running the config declares is one the config listens on, on an address
/// other pods can reach.
fn listeners(whose: &str, config: &crate::config::collector::Config, runners: &[&Container], checker: &mut Checker) {
    let servers = endpoints::servers(config);
    for container in runners {
        for port in container.ports.iter().flatten() {
            let name = port.name.as_deref().unwrap_or_default();
            let matching: Vec<_> = servers
                .iter()
                .filter(|s| endpoints::host_port(&s.address).is_some_and(|(_, p)| i32::from(p) == port.container_port))
                .collect();
            checker.check("listener", !matching.is_empty(), || {
                format!(
                    "{whose}: container `{}` declares port `{name}` ({}), but the config listens on no such port",
                    container.name, port.container_port
                )
            });
            for server in matching {
                let loopback = endpoints::host_port(&server.address)
                    .is_some_and(|(host, _)| matches!(host, "localhost" | "127.0.0.1" | "::1"));
                checker.check("listener", !loopback, || {
                    format!(
                        "{whose}: {} {} `{}` listens on loopback only, so port `{name}` of container `{}` is \
                         unreachable from other pods; listen on `0.0.0.0`",
                        server.component, server.field, server.address, container.name
                    )
                });
            }
        }
    }
}
