//! Settings many components share, after the collector's own `config*` packages: servers, TLS,
//! the sending queue and retries, and the empty config. Collector and Jaeger components both build
//! on them.

use serde::Serialize;

use crate::value::duration::Duration;

/// A component whose configuration is empty (`nop`, `forward`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Empty {}

/// TLS settings of a server (receiver).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerTls {
    /// Certificate presented by the server.
    pub cert_file: String,
    /// Its private key.
    pub key_file: String,
    /// When set, clients must present a certificate signed by this CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ca_file: Option<String>,
}

/// TLS settings of a client (exporter, storage).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClientTls {
    /// Plain text instead of TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// CA bundle used to verify the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Client certificate, for mutual TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// Client key, for mutual TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// Name expected in the server certificate, when it differs from the endpoint host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name_override: Option<String>,
}

impl ClientTls {
    /// Plain text, for in-cluster hops that the mesh or the network policy protects.
    #[must_use]
    pub fn plaintext() -> Self {
        Self { insecure: Some(true), ..Self::default() }
    }
}

/// A gRPC server (`configgrpc.server_config`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GrpcServer {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// Largest message accepted, in MiB (collector default 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_recv_msg_size_mib: Option<u64>,
    /// Connection keepalive and maximum age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<ServerKeepalive>,
    /// TLS, when the server terminates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
}

/// `keepalive` of a gRPC server.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerKeepalive {
    /// Connection lifetime settings.
    pub server_parameters: ServerParameters,
}

/// `keepalive.server_parameters` of a gRPC server.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ServerParameters {
    /// Close connections after this long, so clients re-resolve DNS and spread over new pods.
    pub max_connection_age: Duration,
    /// Time given to in-flight requests after `max_connection_age`.
    pub max_connection_age_grace: Duration,
}

/// An HTTP server (`confighttp.server_config`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HttpServer {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// TLS, when the server terminates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<ServerTls>,
}

/// `sending_queue` of an exporter (`exporterhelper` queue, counted in requests).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SendingQueue {
    /// Whether data is queued at all.
    pub enabled: bool,
    /// Concurrent senders draining the queue.
    pub num_consumers: u32,
    /// Capacity, in units of `sizer`.
    pub queue_size: u64,
    /// What `queue_size` counts: `requests`, `items` (spans) or `bytes`.
    pub sizer: String,
    /// Block the pipeline (apply back-pressure) instead of dropping when the queue is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_on_overflow: Option<bool>,
}

/// `retry_on_failure` of an exporter (`configretry.back_off_config`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetryOnFailure {
    /// Whether failed sends are retried.
    pub enabled: bool,
    /// First wait.
    pub initial_interval: Duration,
    /// Longest wait between tries.
    pub max_interval: Duration,
    /// Give up (and drop the batch) after this long; `0s` retries forever.
    pub max_elapsed_time: Duration,
}
