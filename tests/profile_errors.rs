//! Bad Istio and application settings are refused before anything is rendered, each with the
//! file, line, field path and what is wrong.

fn error(text: &str) -> String {
    match tracestack::model::load::load_str("profiles/mine.yaml", text) {
        Ok(profile) => panic!("accepted: {profile:#?}"),
        Err(e) => e.to_string(),
    }
}

fn check(text: &str, expected: &[&str]) {
    let got = error(text);
    let lines: Vec<&str> = got.lines().filter(|l| l.starts_with("profiles/")).collect();
    assert_eq!(lines, expected, "full message:\n{got}");
}

const APP: &str = "apps:\n  - name: checkout\n    namespace: shop\n    language: java\n";

#[test]
fn istio_sampling_must_be_a_percentage() {
    check(
        "istio:\n  enabled: true\n  sampling_percentage: 150\n",
        &["profiles/mine.yaml:3:24: `istio.sampling_percentage`: must be from 0 to 100 (got 150)"],
    );
    check(
        "istio:\n  sampling_percentage: -1\n",
        &["profiles/mine.yaml:2:24: `istio.sampling_percentage`: must be from 0 to 100 (got -1)"],
    );
}

#[test]
fn enrolled_namespaces_are_valid_distinct_and_not_the_stack_or_system() {
    check(
        "istio:\n  namespaces: [shop, Shop_2, shop, observability, kube-system]\n",
        &[
            "profiles/mine.yaml:2:22: `istio.namespaces[1]`: `Shop_2` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `shop-2`?)",
            "profiles/mine.yaml:2:30: `istio.namespaces[2]`: `shop` is already listed at istio.namespaces[0]",
            "profiles/mine.yaml:2:36: `istio.namespaces[3]`: `observability` is the stack's own namespace: a sidecar in front of the gateway would hide each sender's pod IP from `k8s_attributes`, and Envoy would trace the span exports themselves",
            "profiles/mine.yaml:2:51: `istio.namespaces[4]`: `kube-system` is a system namespace Istio does not inject sidecars into",
        ],
    );
}

#[test]
fn custom_tags_are_checked_by_source() {
    check(
        "istio:\n  custom_tags:\n    ua:\n      header: {name: User-Agent}\n    env:\n      environment: {name: 1POD}\n    fixed:\n      literal: {value: \"\"}\n",
        &[
            "profiles/mine.yaml:6:27: `istio.custom_tags.env.environment.name`: `1POD` must be an environment variable name (letters, digits, `_`, not starting with a digit)",
            "profiles/mine.yaml:8:24: `istio.custom_tags.fixed.literal.value`: must not be empty (Istio requires a value)",
            "profiles/mine.yaml:4:22: `istio.custom_tags.ua.header.name`: `User-Agent` must be a lower-case HTTP header name (Envoy matches lower-cased names)",
        ],
    );
    let unknown = error("istio:\n  custom_tags:\n    ua:\n      cookie: {name: x}\n");
    assert!(unknown.contains("`istio.custom_tags.ua`: unknown variant `cookie`, expected one of"), "{unknown}");
}

#[test]
fn the_provider_name_is_a_label() {
    check(
        "istio:\n  provider: Otel Tracing\n",
        &[
            "profiles/mine.yaml:2:13: `istio.provider`: `Otel Tracing` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `otel-tracing`?)",
        ],
    );
}

#[test]
fn an_unknown_language_is_named_with_the_choices() {
    let got = error("apps:\n  - name: checkout\n    namespace: shop\n    language: rust\n");
    assert!(
        got.starts_with("profiles/mine.yaml:4:15: `apps[0].language`: unknown variant `rust`, expected one of java, nodejs, python, dotnet, go"),
        "{got}"
    );
    let got = error("apps:\n  - name: checkout\n    namespace: shop\n    language: jav\n");
    assert!(got.contains("(did you mean `java`?)"), "{got}");
}

#[test]
fn an_unknown_protocol_suggests_the_spelling() {
    let got = error(&format!("{APP}    protocol: http/proto\n"));
    assert!(got.contains("`apps[0].protocol`: unknown variant `http/proto`, expected one of http/protobuf, grpc (did you mean `http/protobuf`?)"), "{got}");
}

#[test]
fn app_names_and_deployments_are_unique() {
    check(
        &format!(
            "{APP}  - name: checkout\n    namespace: shop\n    deployment: checkout-v2\n    language: go\n  - name: cart\n    namespace: shop\n    deployment: checkout\n    language: go\n"
        ),
        &[
            "profiles/mine.yaml:5:11: `apps[1].name`: `checkout` is already the name of apps[0]; names must be unique (each is a directory `apps/<name>/`)",
            "profiles/mine.yaml:11:17: `apps[2].deployment`: Deployment `shop/checkout` is already onboarded by apps[0]; two Components would patch one container",
        ],
    );
}

#[test]
fn app_names_namespaces_and_containers_are_kubernetes_names() {
    check(
        "apps:\n  - name: Checkout\n    namespace: my shop\n    deployment: checkout.v2\n    language: java\n",
        &[
            "profiles/mine.yaml:2:11: `apps[0].name`: `Checkout` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `checkout`?)",
            "profiles/mine.yaml:3:16: `apps[0].namespace`: `my shop` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `my-shop`?)",
            "profiles/mine.yaml:2:5: `apps[0].container`: defaults to the Deployment name, and `checkout.v2` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `checkout-v2`?); set `container` to the container's name",
        ],
    );
}

#[test]
fn an_invalid_deployment_name_is_reported_once() {
    check(
        "apps:\n  - name: checkout\n    namespace: shop\n    deployment: Checkout\n    language: java\n",
        &[
            "profiles/mine.yaml:4:17: `apps[0].deployment`: `Checkout` is not a valid DNS-1123 subdomain: it must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (did you mean `checkout`?)",
        ],
    );
}

#[test]
fn sampler_ratios_belong_to_ratio_samplers_and_lie_in_0_to_1() {
    check(
        &format!("{APP}    sampler: {{type: traceidratio, ratio: 1.5}}\n"),
        &["profiles/mine.yaml:5:42: `apps[0].sampler.ratio`: must be from 0 to 1 (got 1.5)"],
    );
    check(
        &format!("{APP}    sampler: {{type: always_on, ratio: 0.5}}\n"),
        &[
            "profiles/mine.yaml:5:39: `apps[0].sampler.ratio`: `always_on` takes no ratio; use `traceidratio` or `parentbased_traceidratio`, or drop `ratio`",
        ],
    );
}

#[test]
fn go_has_no_auto_instrumentation() {
    check(
        "apps:\n  - name: ledger\n    namespace: payments\n    language: go\n    auto_instrumentation: true\n",
        &[
            "profiles/mine.yaml:5:27: `apps[0].auto_instrumentation`: is not offered for `go`: the Operator instruments Go with a privileged eBPF sidecar, which the restricted Pod Security Standard forbids; use the Go SDK, which reads the environment the Component sets",
        ],
    );
}

#[test]
fn attribute_values_need_no_escaping() {
    check(
        &format!("environment: prod east\n{APP}    version: \"1,2\"\n"),
        &[
            "profiles/mine.yaml:1:14: `environment`: `prod east` must be 1–255 letters, digits, `.`, `_`, `-`, `+`, `:`, `/` or `@` (it goes into OTEL_RESOURCE_ATTRIBUTES unescaped)",
            "profiles/mine.yaml:6:14: `apps[0].version`: `1,2` must be 1–255 letters, digits, `.`, `_`, `-`, `+`, `:`, `/` or `@` (it goes into OTEL_RESOURCE_ATTRIBUTES unescaped)",
        ],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let got = error(
        "istio:\n  sampling_percentage: 150\n  namespaces: [a, a]\napps:\n  - name: x\n    namespace: x\n    language: go\n    auto_instrumentation: true\n",
    );
    assert_eq!(got.lines().filter(|l| l.starts_with("profiles/")).count(), 3, "{got}");
}
