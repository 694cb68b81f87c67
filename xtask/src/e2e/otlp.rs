//! OTLP/HTTP spans the harness sends itself (JSON encoding, `POST /v1/traces`), each with a trace
//! id it knows, to time how long a span takes from its send to being queryable in Jaeger.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::cluster::uuid;
use super::http;

/// A new random trace id, 32 hex digits.
pub fn trace_id() -> String {
    uuid().replace('-', "")
}

/// Sends one trace of one server span of `service` with `trace_id`.
pub fn send_trace(gateway: SocketAddr, service: &str, trace_id: &str) -> Result<(), String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let span_id = &trace_id[..16];
    let body = serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{
                "scope": {"name": "tracestack-e2e"},
                "spans": [{
                    "traceId": trace_id,
                    "spanId": span_id,
                    "name": "probe",
                    "kind": 2,
                    "startTimeUnixNano": (now - 1_000_000).to_string(),
                    "endTimeUnixNano": now.to_string(),
                }]
            }]
        }]
    })
    .to_string();
    let response = http::request(
        gateway,
        "POST",
        "/v1/traces",
        Some(("application/json", body.as_bytes())),
        Duration::from_secs(5),
    )?;
    if response.status == 200 {
        Ok(())
    } else {
        Err(format!("POST /v1/traces: HTTP {}: {}", response.status, response.body))
    }
}

/// Whether Jaeger can return the trace.
pub fn queryable(query: SocketAddr, trace_id: &str) -> bool {
    http::get(query, &format!("/api/traces/{trace_id}"), Duration::from_secs(2)).is_ok_and(|r| r.status == 200)
}
