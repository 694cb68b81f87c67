//! Typed configuration tracestack writes: collector and Jaeger configs, Kubernetes objects, Istio,
//! Prometheus Operator and kustomize kinds.

pub mod collector;
pub mod gateway_api;
pub mod istio;
pub mod jaeger_operator;
pub mod k8s;
pub mod kustomize;
pub mod otel_operator;
pub mod prometheus;
