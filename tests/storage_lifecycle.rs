//! Index lifecycle policies (Elasticsearch ILM, OpenSearch ISM) and the Monitor tab read from the
//! storage itself: what they render (snapshots of the Jaeger configs, the init container and the
//! runbook section) and the located errors for settings that cannot work.

use tracestack::render::{self, Source};

const ES: &str = "jaeger:
  version: 2.20.0
  storage:
    elasticsearch:
      server_urls: [\"https://es.elastic.svc:9200\"]
      lifecycle:
        mode: rollover
        rollover_max_age: 12h
        retention_days: 5
        policy: jaeger-ilm-policy
";

fn render(text: &str) -> std::collections::BTreeMap<String, String> {
    let profile = tracestack::model::load::load_str("profiles/mine.yaml", text).unwrap_or_else(|e| panic!("{e}"));
    render::render_profile(&profile, &Source { profile: "mine".into(), origin: "profiles/mine.yaml".into() })
        .unwrap_or_else(|e| panic!("{e}"))
        .files
}

fn file<'a>(files: &'a std::collections::BTreeMap<String, String>, suffix: &str) -> &'a str {
    files
        .iter()
        .find(|(name, _)| name.ends_with(suffix))
        .map(|(_, text)| text.as_str())
        .unwrap_or_else(|| panic!("no file ending in {suffix}: {:?}", files.keys().collect::<Vec<_>>()))
}

/// The runbook section from `### Storage: … policy` to the next heading.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme.find(heading).unwrap_or_else(|| panic!("no `{heading}` in the runbook"));
    let rest = &readme[start..];
    let end = rest[4..].find("\n#").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

/// Snapshots live beside, not in, `tests/snapshots/` (which holds exactly the built-in profiles' files).
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "storage_snapshots", prepend_module_to_snapshot => true }, {
        insta::assert_snapshot!(name, text);
    });
}

fn error(text: &str) -> Vec<String> {
    match tracestack::model::load::load_str("profiles/mine.yaml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string().lines().filter(|l| l.starts_with("profiles/")).map(str::to_owned).collect(),
    }
}

#[test]
fn elasticsearch_ilm_at_2_20_uses_auto_rollover_and_no_cronjobs() {
    let files = render(ES);
    assert!(!files.keys().any(|f| f.ends_with("-cronjob.yaml")), "{:?}", files.keys().collect::<Vec<_>>());
    let collector = file(&files, "jaeger-collector-configmap.yaml");
    assert!(collector.contains("policy_name: jaeger-ilm-policy"), "{collector}");
    assert!(collector.contains("create_mappings: false"), "{collector}");
    assert!(!collector.contains("use_ilm"), "{collector}");
    snapshot("ilm_2_20_collector_config", collector);
    snapshot("ilm_2_20_collector_deployment", file(&files, "jaeger-collector-deployment.yaml"));
    snapshot("ilm_runbook", section(file(&files, "README.md"), "### Storage: Elasticsearch ILM policy"));
}

#[test]
fn elasticsearch_ilm_below_2_20_uses_the_legacy_flags() {
    let files = render(&ES.replace("2.20.0", "2.13.0"));
    let collector = file(&files, "jaeger-collector-configmap.yaml");
    for wanted in ["use_aliases: true", "use_ilm: true", "create_mappings: false"] {
        assert!(collector.contains(wanted), "no `{wanted}`:\n{collector}");
    }
    assert!(!collector.contains("rotation"), "{collector}");
    snapshot("ilm_2_13_collector_config", collector);
}

#[test]
fn opensearch_ism_policy_attaches_through_its_ism_template() {
    let files = render(&ES.replace("elasticsearch:", "opensearch:").replace("jaeger-ilm-policy", "jaeger-ism-policy"));
    let runbook = section(file(&files, "README.md"), "### Storage: OpenSearch ISM policy");
    assert!(runbook.contains("_plugins/_ism/policies/jaeger-ism-policy"), "{runbook}");
    assert!(runbook.contains("\"jaeger-jaeger-span-*\""), "{runbook}");
    snapshot("ism_runbook", runbook);
}

#[test]
fn monitor_tab_from_opensearch_storage() {
    let text = "jaeger:
  version: 2.13.0
  storage:
    opensearch:
      server_urls: [\"http://opensearch.search.svc:9200\"]
monitoring:
  enabled: true
  red:
    monitor_backend: storage
";
    let files = render(text);
    let query = file(&files, "jaeger-query-configmap.yaml");
    assert!(query.contains("metric_backends:"), "{query}");
    assert!(query.contains("metrics: span-metrics"), "{query}");
    let collector = file(&files, "jaeger-collector-configmap.yaml");
    assert!(!collector.contains("metric_backends"), "the writer serves no Monitor tab:\n{collector}");
    snapshot("storage_monitor_query_config", query);
    assert!(file(&files, "README.md").contains("Jaeger computes from the spans in OpenSearch itself"));
}

#[test]
fn bad_policies_and_monitor_backends_are_located() {
    assert_eq!(
        error(&ES.replace("mode: rollover", "mode: daily")),
        [
            "profiles/mine.yaml:10:17: `jaeger.storage.elasticsearch.lifecycle.policy`: needs `mode: rollover` (a lifecycle policy rolls over aliases); drop it or set `mode: rollover`"
        ]
    );
    assert_eq!(
        error(&ES.replace("jaeger-ilm-policy", "Jaeger_ILM")),
        [
            "profiles/mine.yaml:10:17: `jaeger.storage.elasticsearch.lifecycle.policy`: `Jaeger_ILM` must be 1–255 lowercase letters, digits, `-`, `_` or `.`, not starting with `-`, `_` or `.`, e.g. `jaeger-ilm-policy`"
        ]
    );
    let old_opensearch = ES.replace("elasticsearch:", "opensearch:").replace("2.20.0", "2.13.0");
    let got = error(&old_opensearch);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("profiles/mine.yaml:10:17: `jaeger.storage.opensearch.lifecycle.policy`: needs Jaeger 2.20.0 or newer on OpenSearch (jaeger.version is 2.13.0)"),
        "{got:?}"
    );
    assert_eq!(
        error("monitoring:\n  enabled: true\n  red:\n    monitor_backend: storage\n"),
        [
            "profiles/mine.yaml:4:22: `monitoring.red.monitor_backend`: `storage` needs Elasticsearch or OpenSearch storage (Jaeger computes the Monitor tab from their span indices); use `prometheus` with `prometheus_url`"
        ]
    );
    assert_eq!(
        error(&format!(
            "{ES}monitoring:\n  enabled: true\n  red:\n    monitor_backend: storage\n    prometheus_url: http://prom.monitoring.svc:9090\n"
        )),
        [
            "profiles/mine.yaml:15:21: `monitoring.red.prometheus_url`: is not read with `monitor_backend: storage`; drop it, or set `monitor_backend: prometheus`"
        ]
    );
    assert_eq!(
        error("monitoring:\n  enabled: true\n  red:\n    monitor_backend: influx\n")
            .first()
            .map(|l| l.starts_with("profiles/mine.yaml:4:22: `monitoring.red.monitor_backend`")),
        Some(true)
    );
}
