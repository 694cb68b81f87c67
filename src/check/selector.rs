//! Label selectors as the API server evaluates them: equality maps (Services) and `LabelSelector`s
//! with `matchLabels` and `matchExpressions` (Deployments, PodDisruptionBudgets).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether every `key=value` of `selector` is among `labels`.
#[must_use]
pub fn matches_map(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether `selector` selects an object with `labels`.
///
/// The requirements are ANDed; operators are `In`, `NotIn`, `Exists` and `DoesNotExist`
/// (apimachinery `pkg/apis/meta/v1/helpers.go`, `LabelSelectorAsSelector`). An empty selector
/// selects everything, as a `policy/v1` PodDisruptionBudget's does. An unknown operator selects
/// nothing (the API server rejects it).
#[must_use]
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector.match_labels.as_ref().is_none_or(|m| matches_map(m, labels));
    let by_expressions = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    by_labels && by_expressions
}

/// The selector in `kubectl`'s notation: `a=b,c in (d,e),!f`.
#[must_use]
pub fn describe(selector: &LabelSelector) -> String {
    let mut parts: Vec<String> =
        selector.match_labels.iter().flatten().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {other} ({values})", e.key),
        });
    }
    if parts.is_empty() { "everything".into() } else { parts.join(",") }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn expression(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: operator.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    #[test]
    fn expressions_and_labels_are_anded() {
        let pod = labels(&[("app", "jaeger"), ("tier", "query")]);
        let selector = LabelSelector {
            match_labels: Some(labels(&[("app", "jaeger")])),
            match_expressions: Some(vec![
                expression("tier", "In", &["query", "collector"]),
                expression("canary", "DoesNotExist", &[]),
            ]),
        };
        assert!(matches(&selector, &pod));
        assert_eq!(describe(&selector), "app=jaeger,tier in (query,collector),!canary");
        let not_in =
            LabelSelector { match_expressions: Some(vec![expression("tier", "NotIn", &["query"])]), ..selector };
        assert!(!matches(&not_in, &pod));
        let exists =
            LabelSelector { match_labels: None, match_expressions: Some(vec![expression("tier", "Exists", &[])]) };
        assert!(matches(&exists, &pod));
        let bogus = LabelSelector { match_labels: None, match_expressions: Some(vec![expression("tier", "Has", &[])]) };
        assert!(!matches(&bogus, &pod));
        assert!(matches(&LabelSelector::default(), &pod));
        assert_eq!(describe(&LabelSelector::default()), "everything");
    }

    #[test]
    fn a_map_selector_needs_every_pair() {
        let pod = labels(&[("a", "1"), ("b", "2")]);
        assert!(matches_map(&labels(&[("a", "1")]), &pod));
        assert!(!matches_map(&labels(&[("a", "1"), ("c", "3")]), &pod));
        assert!(!matches_map(&labels(&[("a", "2")]), &pod));
    }
}
