//! The Kafka buffer's client side, shared by the collector that writes to the topic (the gateway,
//! or the tail-sampling tier) and Jaeger's receiving role that consumes it: brokers, TLS with the
//! profile's CA bundle, SASL credentials from a Secret as environment variables (the Kafka
//! clients read them only from their config, which takes `${env:…}`), and the ports and
//! namespace egress policies open.

use k8s_openapi::api::core::v1::{EnvVar, Volume, VolumeMount};

use crate::config::collector::component::{ClientTls, KafkaAuth, KafkaClient, KafkaSasl, KafkaTopic};
use crate::config::k8s;
use crate::model::profile::Profile;

/// Where the CA bundle that verifies the brokers is mounted.
pub const CA_DIR: &str = "/etc/kafka/ca";
/// The variable holding the SASL user name.
pub const USERNAME_ENV: &str = "KAFKA_USERNAME";
/// The variable holding the SASL password.
pub const PASSWORD_ENV: &str = "KAFKA_PASSWORD";

/// Brokers, TLS and authentication, as the profile says.
#[must_use]
pub fn client(profile: &Profile) -> KafkaClient {
    let k = &profile.kafka;
    KafkaClient {
        brokers: k.brokers.clone(),
        tls: k
            .tls
            .as_ref()
            .map(|ca| ClientTls { ca_file: Some(format!("{CA_DIR}/{}", ca.key)), ..ClientTls::default() }),
        auth: k.sasl.as_ref().map(|sasl| KafkaAuth {
            sasl: KafkaSasl {
                username: format!("${{env:{USERNAME_ENV}}}"),
                password: format!("${{env:{PASSWORD_ENV}}}"),
                mechanism: sasl.mechanism.as_str().to_owned(),
            },
        }),
    }
}

/// The topic and encoding of spans.
#[must_use]
pub fn topic(profile: &Profile) -> KafkaTopic {
    KafkaTopic { topic: profile.kafka.topic.clone(), encoding: profile.kafka.encoding.as_str().to_owned() }
}

/// The SASL variables, from the profile's Secret.
#[must_use]
pub fn env(profile: &Profile) -> Vec<EnvVar> {
    profile
        .kafka
        .sasl
        .iter()
        .flat_map(|sasl| {
            [
                k8s::env_from_secret(USERNAME_ENV, &sasl.secret, &sasl.username_key),
                k8s::env_from_secret(PASSWORD_ENV, &sasl.secret, &sasl.password_key),
            ]
        })
        .collect()
}

/// The CA bundle's volume and mount.
#[must_use]
pub fn volumes(profile: &Profile) -> Vec<(Volume, VolumeMount)> {
    profile
        .kafka
        .tls
        .iter()
        .map(|ca| k8s::secret_volume("kafka-ca", &ca.secret, &[(&ca.key, &ca.key)], CA_DIR))
        .collect()
}

/// The brokers' ports, sorted, for egress policies.
#[must_use]
pub fn broker_ports(profile: &Profile) -> Vec<u16> {
    let mut out: Vec<u16> =
        profile.kafka.brokers.iter().filter_map(|b| b.rsplit_once(':').and_then(|(_, p)| p.parse().ok())).collect();
    out.sort_unstable();
    out.dedup();
    out
}
