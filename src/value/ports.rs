//! Well-known ports of the stack, in one place so configs, Services and probes agree.

/// OTLP over gRPC.
pub const OTLP_GRPC: u16 = 4317;
/// OTLP over HTTP/protobuf.
pub const OTLP_HTTP: u16 = 4318;
/// Zipkin v2 JSON/protobuf over HTTP (legacy Envoy tracer).
pub const ZIPKIN: u16 = 9411;
/// `health_check` / `healthcheckv2` HTTP endpoint.
pub const HEALTH: u16 = 13133;
/// The collector's (and Jaeger's) own Prometheus metrics.
pub const COLLECTOR_METRICS: u16 = 8888;
/// RED metrics computed from spans (the `spanmetrics` connector's `prometheus` exporter).
pub const SPAN_METRICS: u16 = 8889;
/// Jaeger UI and HTTP query API.
pub const JAEGER_QUERY_HTTP: u16 = 16686;
/// Jaeger gRPC query API.
pub const JAEGER_QUERY_GRPC: u16 = 16685;
/// Jaeger remote sampling over HTTP.
pub const SAMPLING_HTTP: u16 = 5778;
/// Jaeger remote sampling over gRPC.
pub const SAMPLING_GRPC: u16 = 5779;
