//! Broken profiles get a clear error — the file, the line, the field in backticks and what is wrong
//! (with a suggestion for a misspelt key) — and never a panic.
//!
//! Each file in `tests/bad/` is a small, realistic profile with one defect, named after it, and has
//! a test of its own below; [`every_bad_profile_has_a_test`] fails when a file is added without one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracestack::model::load::{self, MAX_PROFILE_BYTES};
use tracestack::render::{self, Source};

/// Where the broken profiles live, relative to the package root (the tests' working directory).
const BAD: &str = "tests/bad";

/// Every file in `tests/bad/`, each with a dedicated test below.
const COVERED: &[&str] = &[
    "alias-bomb-merge-keys.yaml",
    "alias-bomb.yaml",
    "alias-missing-field.yaml",
    "all-in-one-replicas-two.yaml",
    "api-server-cidr-invalid.yaml",
    "batch-max-below-size.yaml",
    "bom-and-comments.yaml",
    "ca-secret-invalid.yaml",
    "collector-empty-value.yaml",
    "collector-key-misspelt.yaml",
    "collector-replicas-zero.yaml",
    "collector-version-not-in-table.yaml",
    "comments-only.yaml",
    "credentials-secret-invalid.yaml",
    "distribution-lacks-components.yaml",
    "distribution-unknown.yaml",
    "dns-node-local-not-an-address.yaml",
    "document-is-list.yaml",
    "duplicate-key.yaml",
    "duration-in-words.yaml",
    "duration-without-unit.yaml",
    "elasticsearch-key-misspelt.yaml",
    "empty.yaml",
    "http-route-hostname-invalid.yaml",
    "image-with-tag.yaml",
    "ingress-host-uppercase.yaml",
    "istio-revision-dotted.yaml",
    "istio-sampling-below-envoy-share.yaml",
    "jaeger-query-replicas-zero.yaml",
    "jaeger-version-lacks-components.yaml",
    "jaeger-version-not-in-table.yaml",
    "key-camelcase.yaml",
    "load-beyond-any-replica-bound.yaml",
    "load-too-much-for-memory-storage.yaml",
    "memory-limit-too-large.yaml",
    "memory-limit-under-32mi.yaml",
    "memory-unit-mb.yaml",
    "multiple-documents.yaml",
    "namespace-default.yaml",
    "namespace-istio-system.yaml",
    "namespace-kube-system.yaml",
    "namespace-null.yaml",
    "namespace-too-long.yaml",
    "namespace-underscore.yaml",
    "namespace-uppercase.yaml",
    "not-utf8.yaml",
    "pods-label-value-invalid.yaml",
    "pods-pull-secret-invalid.yaml",
    "pods-registry-url.yaml",
    "pods-taint-effect-unknown.yaml",
    "prometheus-url-port-zero.yaml",
    "quantity-too-large.yaml",
    "quantity-two-dots.yaml",
    "quantity-unit-only.yaml",
    "quantity-with-space.yaml",
    "replicas-negative.yaml",
    "replicas-string.yaml",
    "request-above-limit.yaml",
    "resources-list.yaml",
    "retry-initial-interval-zero.yaml",
    "sampling-above-100.yaml",
    "sampling-below-one-share.yaml",
    "sampling-negative.yaml",
    "sampling-too-small-for-the-collector.yaml",
    "sampling-zero.yaml",
    "schedule-hour-24.yaml",
    "schedule-six-fields.yaml",
    "server-url-not-http.yaml",
    "server-url-port-too-large.yaml",
    "server-url-port-zero.yaml",
    "server-url-with-credentials.yaml",
    "server-urls-empty.yaml",
    "server-urls-missing.yaml",
    "server-urls-number.yaml",
    "storage-empty.yaml",
    "storage-scalar.yaml",
    "storage-two-backends.yaml",
    "storage-variant-unknown.yaml",
    "syntax-bad-indentation.yaml",
    "syntax-unclosed-bracket.yaml",
    "tag-custom.yaml",
    "tag-include.yaml",
    "tag-python.yaml",
    "top-level-key-misspelt.yaml",
    "version-malformed.yaml",
];

/// Words from the deserialiser's API that must never reach a user.
const JARGON: &[&str] = &[
    "DuplicateKeyPolicy",
    "from_str_multiple",
    "Option<",
    "externally tagged",
    "budget breached",
    "(defined",
    "(used",
];

fn bad(file: &str) -> PathBuf {
    Path::new(BAD).join(file)
}

/// Asserts `text` contains every expected piece. A piece starting with `:` is a location and must
/// follow the file name directly (`tests/bad/x.yaml:5:`).
fn assert_mentions(file: &str, text: &str, expected: &[&str]) {
    let shown = bad(file).display().to_string();
    assert!(text.contains(&shown), "the error does not name `{shown}`:\n{text}");
    for piece in expected {
        let wanted = if piece.starts_with(':') { format!("{shown}{piece}") } else { (*piece).to_owned() };
        assert!(text.contains(&wanted), "the error for {file} lacks {wanted:?}:\n{text}");
    }
    for word in JARGON {
        assert!(!text.contains(word), "the error for {file} speaks of {word:?}:\n{text}");
    }
}

/// Loads `tests/bad/<file>`, which must fail to load with an error mentioning every `expected`
/// piece; returns the error text.
fn check(file: &str, expected: &[&str]) -> String {
    let error = match load::load_file(&bad(file)) {
        Ok(profile) => panic!("{file} loaded: {profile:?}"),
        Err(e) => e.to_string(),
    };
    assert_mentions(file, &error, expected);
    error
}

/// Loads `tests/bad/<file>`, which must load, then builds it, which must fail with an error
/// mentioning every `expected` piece; through `project::render_file` it must also name the file.
fn check_build(file: &str, expected: &[&str]) -> String {
    let profile = load::load_file(&bad(file)).unwrap_or_else(|e| panic!("{file} should load:\n{e}"));
    let source = Source { profile: "bad".into(), origin: bad(file).display().to_string() };
    let error = match render::render_profile(&profile, &source) {
        Ok(_) => panic!("{file} rendered"),
        Err(e) => e.to_string(),
    };
    for piece in expected {
        assert!(error.contains(piece), "the build error for {file} lacks {piece:?}:\n{error}");
    }
    assert!(tracestack::Stack::build(&profile).is_err(), "{file}: render_profile failed but Stack::build succeeded");
    // Through the project layer (what `cargo xtask render` uses) the error names the file.
    let path = bad(file);
    match tracestack::io::project::render_file(&path, "bad") {
        Ok(_) => panic!("{file} rendered through project::render_file"),
        Err(e) => assert!(
            e.to_string().starts_with(&format!("{}: ", path.display())),
            "the build error does not start with the file name:\n{e}"
        ),
    }
    error
}

/// The profile files in `tests/bad/`, sorted.
fn listing() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(BAD)
        .expect("read tests/bad")
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

// --- The whole directory ---

#[test]
fn every_bad_profile_is_rejected_without_panicking() {
    let mut failures = Vec::new();
    for file in listing() {
        let path = bad(&file);
        let outcome = catch_unwind(AssertUnwindSafe(|| match load::load_file(&path) {
            Err(e) => Err(e.to_string()),
            Ok(profile) => {
                let source = Source { profile: "bad".into(), origin: file.clone() };
                render::render_profile(&profile, &source).map(|_| ()).map_err(|e| e.to_string())
            }
        }));
        match outcome {
            Err(_) => failures.push(format!("{file}: panicked")),
            Ok(Ok(())) => failures.push(format!("{file}: was accepted and rendered")),
            Ok(Err(message)) if message.trim().is_empty() => failures.push(format!("{file}: empty error message")),
            Ok(Err(_)) => {}
        }
    }
    assert!(failures.is_empty(), "bad profiles not cleanly rejected:\n{}", failures.join("\n"));
}

#[test]
fn every_bad_profile_has_a_test() {
    let on_disk = listing();
    let untested: Vec<&String> = on_disk.iter().filter(|f| !COVERED.contains(&f.as_str())).collect();
    let gone: Vec<&&str> = COVERED.iter().filter(|f| !on_disk.iter().any(|d| d == **f)).collect();
    assert!(untested.is_empty(), "files in tests/bad/ without a test (add one and list it in COVERED): {untested:?}");
    assert!(gone.is_empty(), "COVERED lists files that are not in tests/bad/: {gone:?}");
    assert!(COVERED.windows(2).all(|w| w[0] < w[1]), "keep COVERED sorted and without duplicates");
    assert!(on_disk.len() >= 30, "expected at least 30 bad profiles, found {}", on_disk.len());
}

// --- Misspelt keys: named where they are, with a suggestion ---

#[test]
fn misspelt_top_level_key_suggests_namespace() {
    check(
        "top-level-key-misspelt.yaml",
        &[":2:1:", "`namspace`", "unknown field `namspace`", "did you mean `namespace`?"],
    );
}

#[test]
fn misspelt_nested_key_suggests_replicas() {
    check(
        "collector-key-misspelt.yaml",
        &[":5:3:", "`collector.replica`", "unknown field `replica`", "did you mean `replicas`?", "5 |   replica: 2"],
    );
}

#[test]
fn misspelt_deep_key_suggests_server_urls() {
    check(
        "elasticsearch-key-misspelt.yaml",
        &[
            ":5:",
            "`jaeger.storage.elasticsearch.server_url`",
            "unknown field `server_url`",
            "did you mean `server_urls`?",
        ],
    );
}

#[test]
fn collector_config_camel_case_key_suggests_the_profile_key() {
    check(
        "key-camelcase.yaml",
        &[":4:", "`collector.sendingQueue`", "unknown field `sendingQueue`", "did you mean `queue`?"],
    );
}

#[test]
fn truncated_storage_variant_suggests_elasticsearch() {
    check(
        "storage-variant-unknown.yaml",
        &[
            ":5:",
            "`jaeger.storage`",
            "unknown variant `elastic`",
            "memory, badger, elasticsearch, opensearch, clickhouse",
            "did you mean `elasticsearch`?",
        ],
    );
}

#[test]
fn misspelt_distribution_suggests_otelcol_k8s() {
    check(
        "distribution-unknown.yaml",
        &[
            ":3:",
            "`collector.distribution`",
            "unknown collector distribution `otelcol-k8`",
            "did you mean `otelcol-k8s`?",
        ],
    );
}

// --- Wrong types and shapes ---

#[test]
fn word_for_a_number_is_rejected() {
    check("replicas-string.yaml", &[":3:", "`collector.replicas`", "must be a whole number"]);
}

#[test]
fn negative_replicas_are_rejected() {
    check("replicas-negative.yaml", &[":3:", "`collector.replicas`", "must be a whole number from 0"]);
}

#[test]
fn list_where_a_mapping_belongs_is_rejected() {
    check("resources-list.yaml", &[":5:", "`collector.resources`", "must be a mapping of `key: value` pairs"]);
}

#[test]
fn number_where_a_list_belongs_is_rejected() {
    check("server-urls-number.yaml", &[":5:", "`jaeger.storage.elasticsearch.server_urls`", "must be a list"]);
}

#[test]
fn key_without_a_value_must_be_a_mapping() {
    check("collector-empty-value.yaml", &[":2:", "`collector`", "must be a mapping", "`{}` for all defaults"]);
}

#[test]
fn null_namespace_needs_a_value() {
    check("namespace-null.yaml", &[":2:", "`namespace`", "must have a value (got null)"]);
}

#[test]
fn storage_named_as_a_word_needs_its_mapping() {
    check("storage-scalar.yaml", &[":3:", "`jaeger.storage.memory`", "must be a mapping"]);
}

#[test]
fn storage_without_a_backend_is_rejected() {
    check("storage-empty.yaml", &[":4:", "`jaeger.storage`", "exactly one key"]);
}

#[test]
fn storage_with_two_backends_points_at_the_second() {
    check("storage-two-backends.yaml", &[":6:", "`jaeger.storage`:", "exactly one key", "has a second one"]);
}

#[test]
fn missing_required_field_points_at_its_mapping() {
    check("server-urls-missing.yaml", &[":4:", "`jaeger.storage.elasticsearch`", "missing field `server_urls`"]);
}

#[test]
fn alias_to_an_incomplete_mapping_names_the_missing_field() {
    check("alias-missing-field.yaml", &[":5:", "`jaeger.storage.elasticsearch`", "missing field `server_urls`"]);
}

// --- Values out of range ---

#[test]
fn zero_collector_replicas_are_rejected() {
    check("collector-replicas-zero.yaml", &[":4:", "`collector.replicas`", "must be at least 1 (got 0)"]);
}

#[test]
fn zero_jaeger_query_replicas_are_rejected() {
    check("jaeger-query-replicas-zero.yaml", &[":12:", "`jaeger.query.replicas`", "must be at least 1 (got 0)"]);
}

#[test]
fn an_istio_revision_must_be_a_dns_label_and_gets_a_suggestion() {
    check(
        "istio-revision-dotted.yaml",
        &[":8:", "`istio.revision`", "`1.27` is not a valid DNS-1123 label", "(did you mean `1-27`?)"],
    );
}

#[test]
fn all_in_one_with_memory_storage_must_have_one_replica() {
    check(
        "all-in-one-replicas-two.yaml",
        &[":6:", "`jaeger.all_in_one.replicas`", "must be 1 with `memory` storage (got 2)"],
    );
}

#[test]
fn sampling_above_100_is_rejected() {
    check("sampling-above-100.yaml", &[":3:", "`sampling.percentage`", "at most 100 (got 150)"]);
}

#[test]
fn sampling_zero_is_rejected() {
    check("sampling-zero.yaml", &[":3:", "`sampling.percentage`", "must be more than 0", "(got 0)"]);
}

#[test]
fn negative_sampling_is_rejected() {
    check("sampling-negative.yaml", &[":3:", "`sampling.percentage`", "must be more than 0", "(got -5)"]);
}

#[test]
fn batch_max_below_batch_size_is_rejected() {
    check(
        "batch-max-below-size.yaml",
        &[":6:", "`collector.batch.send_batch_max_size`", "(1000) must be 0 or at least `send_batch_size` (8192)"],
    );
}

// --- Names ---

#[test]
fn extension_points_name_the_field_and_the_rule() {
    check(
        "pods-taint-effect-unknown.yaml",
        &[":6:15:", "`pods.tolerations[0].effect`", "unknown variant `NoSchedul`", "did you mean `NoSchedule`?"],
    );
    check("pods-label-value-invalid.yaml", &[":5:13:", "`collector.pod.labels.team`", "not a valid label value"]);
    check(
        "pods-pull-secret-invalid.yaml",
        &[":3:24:", "`pods.image_pull_secrets[0]`", "DNS-1123 subdomain", "did you mean `registry-cred`?"],
    );
    check("pods-registry-url.yaml", &[":3:19:", "`pods.image_registry`", "without a scheme, tag or digest"]);
    check("ingress-host-uppercase.yaml", &[":4:11:", "`jaeger.ingress.host`", "did you mean `jaeger.example.com`?"]);
    check(
        "http-route-hostname-invalid.yaml",
        &[
            ":5:17:",
            "`jaeger.http_route.hostnames[0]`",
            "DNS-1123 subdomain",
            "; a leading `*.` (a wildcard) is allowed",
        ],
    );
}

#[test]
fn uppercase_namespace_suggests_lowercase() {
    check(
        "namespace-uppercase.yaml",
        &[":2:", "`namespace`", "`Observability` is not a valid DNS-1123 label", "did you mean `observability`?"],
    );
}

#[test]
fn underscore_namespace_suggests_a_dash() {
    check(
        "namespace-underscore.yaml",
        &[":2:", "`namespace`", "`my_ns` is not a valid DNS-1123 label", "did you mean `my-ns`?"],
    );
}

#[test]
fn namespace_over_63_characters_is_rejected() {
    check("namespace-too-long.yaml", &[":2:", "`namespace`", "no more than 63 characters"]);
}

#[test]
fn invalid_credentials_secret_name_suggests_a_valid_one() {
    check(
        "credentials-secret-invalid.yaml",
        &[
            ":7:",
            "`jaeger.storage.elasticsearch.credentials.secret`",
            "`Jaeger_ES_Credentials` is not a valid DNS-1123 subdomain",
            "did you mean `jaeger-es-credentials`?",
        ],
    );
}

#[test]
fn invalid_ca_secret_name_is_rejected() {
    check(
        "ca-secret-invalid.yaml",
        &[":7:", "`jaeger.storage.elasticsearch.ca.secret`", "`es-certs/ca` is not a valid DNS-1123 subdomain"],
    );
}

#[test]
fn image_with_a_tag_is_rejected() {
    check(
        "image-with-tag.yaml",
        &[":5:", "`collector.image`", "`otel/opentelemetry-collector-k8s:0.159.0`", "without tag or digest"],
    );
}

// --- Elasticsearch URLs ---

#[test]
fn empty_server_url_list_is_rejected() {
    check(
        "server-urls-empty.yaml",
        &[":5:", "`jaeger.storage.elasticsearch.server_urls`", "must list at least one URL"],
    );
}

#[test]
fn sampling_below_one_share_of_the_sampler_is_rejected() {
    // The collector would start, with a sampler that keeps nothing.
    check(
        "sampling-below-one-share.yaml",
        &[
            ":3:",
            "`sampling.percentage`",
            "(0.005) keeps no trace at all",
            "smallest percentage it applies is 0.006103515625",
        ],
    );
    // The collector's own `Validate` refuses this one ("sampling rate is too small").
    check(
        "sampling-too-small-for-the-collector.yaml",
        &[":3:", "`sampling.percentage`", "(0.0000000000000001) keeps no trace at all"],
    );
}

#[test]
fn cron_schedules_kubernetes_refuses_are_rejected() {
    check(
        "schedule-hour-24.yaml",
        &[
            ":7:",
            "`jaeger.storage.elasticsearch.lifecycle.schedule`",
            "`30 24 * * *` is not a cron schedule Kubernetes accepts: hour `24`: above the maximum 23",
        ],
    );
    check(
        "schedule-six-fields.yaml",
        &[":7:", "`jaeger.storage.elasticsearch.lifecycle.schedule`", "it has 6 field(s); a schedule has five"],
    );
}

#[test]
fn url_ports_outside_1_to_65535_are_rejected() {
    check(
        "server-url-port-zero.yaml",
        &[":6:", "`jaeger.storage.elasticsearch.server_urls[0]`", "the port `0` must be a number from 1 to 65535"],
    );
    check(
        "server-url-port-too-large.yaml",
        &[":6:", "`jaeger.storage.elasticsearch.server_urls[0]`", "the port `92000` must be a number from 1 to 65535"],
    );
    check(
        "prometheus-url-port-zero.yaml",
        &[":5:", "`monitoring.red.prometheus_url`", "the port `0` must be a number from 1 to 65535"],
    );
}

#[test]
fn system_and_shared_namespaces_are_rejected() {
    for (file, ns) in [
        ("namespace-kube-system.yaml", "kube-system"),
        ("namespace-default.yaml", "default"),
        ("namespace-istio-system.yaml", "istio-system"),
    ] {
        check(
            file,
            &[":1:", "`namespace`", &format!("`{ns}` is a system or shared namespace"), "restricted Pod Security"],
        );
    }
}

#[test]
fn yaml_tags_are_rejected_naming_the_field() {
    let why = "which tracestack does not read";
    check("tag-custom.yaml", &[":2:", "`collector`", "has the YAML tag `!custom`", why]);
    check("tag-python.yaml", &[":1:", "`namespace`", "has the YAML tag `!!python/object/apply:os.system`", why]);
    check("tag-include.yaml", &[":2:", "`jaeger`", "has the YAML tag `!include`", why]);
}

#[test]
fn a_byte_order_mark_and_comments_are_empty() {
    check("bom-and-comments.yaml", &["is empty; a profile is a YAML mapping"]);
}

#[test]
fn credentials_in_a_url_are_rejected_pointing_at_the_secret() {
    let error = check(
        "server-url-with-credentials.yaml",
        &[
            ":6:",
            "`jaeger.storage.elasticsearch.server_urls[0]`",
            "carries credentials",
            "jaeger.storage.elasticsearch.credentials",
        ],
    );
    assert!(!error.contains("s3cret"), "the error prints the password:\n{error}");
    assert!(error.contains("- https://…@elasticsearch-es-http"), "{error}");
}

#[test]
fn network_policy_addresses_must_parse() {
    check(
        "api-server-cidr-invalid.yaml",
        &[
            ":4:",
            "`security.network_policy.api_server_cidrs[0]`",
            "`10.0.0.1` must be an address block in CIDR notation",
        ],
    );
    check(
        "dns-node-local-not-an-address.yaml",
        &[":5:", "`security.network_policy.dns.node_local_address`", "`node-local-dns` must be an IP address"],
    );
}

#[test]
fn loads_no_plan_can_serve_are_rejected_saying_what_they_need() {
    check(
        "load-too-much-for-memory-storage.yaml",
        &[
            ":3:",
            "`load.spans_per_second`",
            "is more than in-memory storage takes",
            "use `jaeger.storage.elasticsearch`, or keep at most 37.5 %",
        ],
    );
    check(
        "load-beyond-any-replica-bound.yaml",
        &[
            ":3:",
            "`load.spans_per_second`",
            "(50000000 spans/s) would need about 6667 gateway pods",
            "split the load over several stacks",
        ],
    );
}

#[test]
fn a_retry_that_starts_at_zero_is_rejected() {
    check(
        "retry-initial-interval-zero.yaml",
        &[":4:", "`collector.retry.initial_interval`", "must be longer than 0s", "every retry is immediate"],
    );
}

#[test]
fn istio_sampling_below_envoys_smallest_share_is_rejected() {
    check(
        "istio-sampling-below-envoy-share.yaml",
        &[":4:", "`istio.sampling_percentage`", "(0.001) traces nothing", "use 0 to turn tracing off"],
    );
}

#[test]
fn url_without_a_scheme_is_rejected_by_index() {
    check(
        "server-url-not-http.yaml",
        &[":7:", "`jaeger.storage.elasticsearch.server_urls[1]`", "must be an `http://` or `https://` URL"],
    );
}

// --- Quantities ---

#[test]
fn megabytes_suffix_suggests_m_or_mi() {
    check(
        "memory-unit-mb.yaml",
        &[
            ":5:",
            "`collector.resources.limits.memory`",
            "`512MB` is not a Kubernetes quantity",
            "did you mean `512M` or `512Mi`?",
        ],
    );
}

#[test]
fn quantity_with_two_decimal_points_is_rejected() {
    check(
        "quantity-two-dots.yaml",
        &[
            ":4:",
            "`collector.resources.requests.cpu`",
            "`1.5.2` is not a Kubernetes quantity",
            "more than one decimal point",
        ],
    );
}

#[test]
fn quantity_with_a_space_suggests_without() {
    check(
        "quantity-with-space.yaml",
        &[":4:", "`collector.resources.requests.memory`", "must not contain spaces", "did you mean `12Mi`?"],
    );
}

#[test]
fn unit_without_a_number_is_rejected() {
    check(
        "quantity-unit-only.yaml",
        &[
            ":4:",
            "`collector.resources.requests.memory`",
            "`Mi` is not a Kubernetes quantity",
            "must start with a number",
        ],
    );
}

#[test]
fn quantity_too_large_to_count_says_so() {
    let error = check(
        "quantity-too-large.yaml",
        &[":5:", "`collector.resources.limits.memory`", "`99999999999999999999999Ei` is too large"],
    );
    assert!(!error.contains("non-negative"), "a huge quantity is not a negative one:\n{error}");
}

#[test]
fn memory_limit_beyond_what_a_go_process_can_count_is_rejected() {
    check("memory-limit-too-large.yaml", &[":5:", "`collector.resources.limits.memory`", "`100Ei` is too large"]);
}

#[test]
fn request_above_limit_is_rejected() {
    check(
        "request-above-limit.yaml",
        &[":4:", "`collector.resources.requests.memory`", "(1Gi) must not exceed the limit (512Mi)"],
    );
}

#[test]
fn memory_limit_under_32mi_is_rejected() {
    check(
        "memory-limit-under-32mi.yaml",
        &[":5:", "`collector.resources.limits.memory`", "(16Mi) must be at least 32Mi"],
    );
}

// --- Durations and versions ---

#[test]
fn duration_without_a_unit_is_rejected() {
    check(
        "duration-without-unit.yaml",
        &[":4:", "`collector.retry.initial_interval`", "`5` is not a duration", "a unit is missing", "`5s`"],
    );
}

#[test]
fn duration_in_words_is_rejected() {
    check(
        "duration-in-words.yaml",
        &[":4:", "`collector.batch.timeout`", "`5 seconds` is not a duration", "unknown unit"],
    );
}

#[test]
fn version_that_is_not_a_version_is_rejected() {
    check("version-malformed.yaml", &[":4:", "`collector.version`", "`latest` is not a version", "MAJOR.MINOR.PATCH"]);
}

#[test]
fn collector_version_not_in_the_component_table_names_the_known_range() {
    check(
        "collector-version-not-in-table.yaml",
        &[
            ":4:",
            "`collector.version`",
            "otelcol-k8s 0.999.0 is not in tracestack's component table (it knows 0.100.0 to 0.159.0)",
        ],
    );
}

#[test]
fn jaeger_version_not_in_the_component_table_names_the_known_range() {
    check(
        "jaeger-version-not-in-table.yaml",
        &[
            ":3:",
            "`jaeger.version`",
            "jaeger 2.999.0 is not in tracestack's component table (it knows 2.0.0 to 2.20.0)",
        ],
    );
}

// --- Known versions whose components do not fit: caught when the stack is built ---

#[test]
fn distribution_without_the_gateways_processors_fails_the_build() {
    check_build(
        "distribution-lacks-components.yaml",
        &[
            "`otel-collector` config is inconsistent",
            "otelcol-otlp 0.159.0 does not ship the processor `batch`",
            "otelcol-otlp 0.159.0 does not ship the processor `memory_limiter`",
        ],
    );
}

#[test]
fn jaeger_version_without_the_query_roles_components_fails_the_build() {
    check_build(
        "jaeger-version-lacks-components.yaml",
        &["`jaeger-query` config is inconsistent", "jaeger 2.0.0 does not ship the receiver `nop`", "added in 2.4.0"],
    );
}

// --- Files that are not a profile-shaped YAML document ---

#[test]
fn empty_file_is_rejected() {
    check("empty.yaml", &[": is empty", "profiles/demo.yaml"]);
}

#[test]
fn comments_only_file_is_rejected_as_empty() {
    check("comments-only.yaml", &[": is empty"]);
}

#[test]
fn non_utf8_bytes_are_located() {
    let bytes = std::fs::read(bad("not-utf8.yaml")).expect("read not-utf8.yaml");
    assert!(bytes.contains(&0xFF), "not-utf8.yaml must hold a 0xFF byte");
    check("not-utf8.yaml", &[":2:18:", "is not UTF-8 text", "save the profile as UTF-8"]);
}

#[test]
fn bad_indentation_reports_the_syntax_error_not_a_type_error() {
    let error =
        check("syntax-bad-indentation.yaml", &[":4:13:", "is not valid YAML", "indentation", "log_level: info"]);
    assert!(!error.contains("whole number"), "the syntax error is hidden behind a type error:\n{error}");
}

#[test]
fn unclosed_bracket_is_a_syntax_error() {
    check(
        "syntax-unclosed-bracket.yaml",
        &[":6:", "`jaeger.storage.elasticsearch.server_urls`", "is not valid YAML", "left unclosed?"],
    );
}

#[test]
fn duplicate_key_names_the_key() {
    check("duplicate-key.yaml", &[":5:", "`collector.replicas`", "`replicas` is given twice"]);
}

#[test]
fn list_document_must_be_a_mapping() {
    check("document-is-list.yaml", &[":1:1:", "must be a mapping", "not a list"]);
}

#[test]
fn second_document_is_rejected() {
    check("multiple-documents.yaml", &[":6:", "more than one YAML document", "its own file"]);
}

#[test]
fn alias_bomb_is_rejected_quickly() {
    let start = Instant::now();
    check("alias-bomb.yaml", &[":1:1:", "unknown field `a`"]);
    // Not a speed target (benches/ hold those): a bound far above any loaded machine's time that
    // an unbounded expansion (minutes, gigabytes) would still break.
    assert!(start.elapsed() < Duration::from_secs(60), "the alias bomb took {:?}", start.elapsed());
}

#[test]
fn alias_bomb_through_merge_keys_hits_the_reader_limit() {
    // Every anchor merges the previous one nine times into a valid field, so nothing fails
    // before the aliases are replayed: the reader's node budget must stop it.
    let start = Instant::now();
    check(
        "alias-bomb-merge-keys.yaml",
        &[
            ":16:",
            "`jaeger.collector.resources.limits`",
            "expands to more than tracestack reads",
            "anchors and aliases",
        ],
    );
    // As above: a guard against an unbounded expansion, not a speed target.
    assert!(start.elapsed() < Duration::from_secs(60), "the alias bomb took {:?}", start.elapsed());
}

#[test]
fn file_over_one_mebibyte_is_refused_before_parsing() {
    let dir = std::env::temp_dir().join(format!("tracestack-bad-profiles-{}-oversized", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let path = dir.join("huge.yaml");
    let mut text = String::from("namespace: observability\n");
    while text.len() <= MAX_PROFILE_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, &text).expect("write huge.yaml");
    let start = Instant::now();
    let result = load::load_file(&path);
    let elapsed = start.elapsed();
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
    let error = result.expect_err("a file over 1 MiB loaded").to_string();
    let shown = path.display().to_string();
    assert!(error.starts_with(&format!("{shown}: is {} bytes", text.len())), "{error}");
    assert!(error.contains("limited to 1048576 bytes (1 MiB)"), "{error}");
    assert!(elapsed < Duration::from_secs(2), "refusing a large file took {elapsed:?}");
}
