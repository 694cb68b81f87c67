//! Collector distributions (otelcol*, Jaeger v2) and which component types each version ships.

mod table;

use std::fmt;

use table::Entry;

/// A release version `MAJOR.MINOR.PATCH`, ordered numerically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self { major, minor, patch }
    }

    /// Parses `0.159.0` or `v0.159.0`: exactly three decimal numbers without leading zeros (so
    /// parsing and [`Display`](fmt::Display) round-trip), no pre-release or build suffix.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let mut parts = s.split('.');
        let major = parse_number(parts.next()?)?;
        let minor = parse_number(parts.next()?)?;
        let patch = parse_number(parts.next()?)?;
        match parts.next() {
            Some(_) => None,
            None => Some(Self::new(major, minor, patch)),
        }
    }
}

fn parse_number(s: &str) -> Option<u32> {
    let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A collector distribution: one of the OpenTelemetry Collector release distributions, or Jaeger
/// v2 (itself an OpenTelemetry Collector build).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Distribution {
    /// `otelcol`: the core distribution.
    Otelcol,
    /// `otelcol-contrib`: nearly every component from core and contrib.
    OtelcolContrib,
    /// `otelcol-k8s`: components curated for Kubernetes.
    OtelcolK8s,
    /// `otelcol-otlp`: OTLP in, OTLP out.
    OtelcolOtlp,
    /// `jaeger`: the Jaeger v2 binary.
    Jaeger,
}

impl Distribution {
    /// Every distribution, in declaration order.
    pub const ALL: [Distribution; 5] = [
        Distribution::Otelcol,
        Distribution::OtelcolContrib,
        Distribution::OtelcolK8s,
        Distribution::OtelcolOtlp,
        Distribution::Jaeger,
    ];

    /// The distribution's name: `otelcol`, `otelcol-contrib`, `otelcol-k8s`, `otelcol-otlp` or
    /// `jaeger`.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Otelcol => "otelcol",
            Distribution::OtelcolContrib => "otelcol-contrib",
            Distribution::OtelcolK8s => "otelcol-k8s",
            Distribution::OtelcolOtlp => "otelcol-otlp",
            Distribution::Jaeger => "jaeger",
        }
    }

    /// The distribution named `s` (exactly as [`Distribution::name`] spells it).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == s)
    }

    /// The Docker Hub repository of the distribution's image (no tag).
    ///
    /// OpenTelemetry: `dockerHubRepo = "otel"` plus `imageName`, which replaces the `otelcol` prefix
    /// of the distribution name with `opentelemetry-collector`, in open-telemetry/
    /// opentelemetry-collector-releases `cmd/goreleaser/internal/container.go` (5543f740) and
    /// `helpers.go` (d9e0bd91); e.g. `distributions/otelcol/.goreleaser.yaml` (31485729) and
    /// `distributions/otelcol-k8s/.goreleaser.yaml` (efc08134) publish
    /// `otel/opentelemetry-collector{,-k8s}:{{ .Version }}`. Jaeger: `repo="jaegertracing/${BINARY}"`
    /// with `BINARY='jaeger'` for v2 in jaegertracing/jaeger
    /// `scripts/build/build-all-in-one-image.sh` (e3784fac).
    pub fn default_image(self) -> &'static str {
        match self {
            Distribution::Otelcol => "otel/opentelemetry-collector",
            Distribution::OtelcolContrib => "otel/opentelemetry-collector-contrib",
            Distribution::OtelcolK8s => "otel/opentelemetry-collector-k8s",
            Distribution::OtelcolOtlp => "otel/opentelemetry-collector-otlp",
            Distribution::Jaeger => "jaegertracing/jaeger",
        }
    }

    /// The absolute path of the binary in [`Distribution::default_image`], i.e. the image's
    /// `ENTRYPOINT` (a container `command:` overriding the entrypoint must name it).
    ///
    /// Sources, the `ENTRYPOINT` line of each Dockerfile: open-telemetry/
    /// opentelemetry-collector-releases `distributions/otelcol/Dockerfile` (08b16071:
    /// `["/otelcol"]`), `distributions/otelcol-contrib/Dockerfile` (5ddd7d9e: `["/otelcol-contrib"]`),
    /// `distributions/otelcol-k8s/Dockerfile` (e9326b9f, 00dc9449: `["/otelcol-k8s"]`),
    /// `distributions/otelcol-otlp/Dockerfile` (5543f740: `["/otelcol-otlp"]`); jaegertracing/jaeger
    /// `cmd/jaeger/Dockerfile`, release target (e8bf982b, 2e134ebf:
    /// `COPY jaeger-linux-$TARGETARCH /cmd/jaeger/jaeger-linux`,
    /// `ENTRYPOINT ["/cmd/jaeger/jaeger-linux"]`).
    pub fn binary(self) -> &'static str {
        match self {
            Distribution::Otelcol => "/otelcol",
            Distribution::OtelcolContrib => "/otelcol-contrib",
            Distribution::OtelcolK8s => "/otelcol-k8s",
            Distribution::OtelcolOtlp => "/otelcol-otlp",
            Distribution::Jaeger => "/cmd/jaeger/jaeger-linux",
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of a collector component, as in the config's top-level sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentKind {
    /// `receivers`.
    Receiver,
    /// `processors`.
    Processor,
    /// `exporters`.
    Exporter,
    /// `extensions`.
    Extension,
    /// `connectors`.
    Connector,
}

impl ComponentKind {
    /// Every kind, in declaration order.
    pub const ALL: [ComponentKind; 5] = [
        ComponentKind::Receiver,
        ComponentKind::Processor,
        ComponentKind::Exporter,
        ComponentKind::Extension,
        ComponentKind::Connector,
    ];

    /// The config section name: `receivers`, `processors`, `exporters`, `extensions`,
    /// `connectors`.
    pub fn plural(self) -> &'static str {
        match self {
            ComponentKind::Receiver => "receivers",
            ComponentKind::Processor => "processors",
            ComponentKind::Exporter => "exporters",
            ComponentKind::Extension => "extensions",
            ComponentKind::Connector => "connectors",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            ComponentKind::Receiver => "receiver",
            ComponentKind::Processor => "processor",
            ComponentKind::Exporter => "exporter",
            ComponentKind::Extension => "extension",
            ComponentKind::Connector => "connector",
        }
    }
}

/// Singular and lowercase: `receiver`, `processor`, ...
impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.singular())
    }
}

/// A version the component table does not cover for that distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownVersion {
    /// The distribution asked about.
    pub distribution: Distribution,
    /// The version asked about.
    pub version: Version,
}

impl fmt::Display for UnknownVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} is not in tracestack's component table", self.distribution, self.version)?;
        let known = known_versions(self.distribution);
        match (known.first(), known.last()) {
            (Some(first), Some(last)) => write!(f, " (it knows {first} to {last})"),
            _ => f.write_str(" (it knows no versions)"),
        }
    }
}

impl std::error::Error for UnknownVersion {}

/// The versions of `d` the component table covers, ascending. The table starts at the oldest
/// version the shared `components.json` covers (0.100.0 for `otelcol`, `otelcol-contrib` and
/// `otelcol-k8s`, 0.111.0 for `otelcol-otlp`, 2.0.0 for `jaeger`), and patch releases are listed
/// individually.
pub fn known_versions(d: Distribution) -> &'static [Version] {
    table::table(d).versions
}

/// Whether version `v` of `d` ships a `kind` component of type `type_name` (e.g. exporter `otlp`).
///
/// # Errors
///
/// [`UnknownVersion`] when `v` is not one of [`known_versions`]`(d)`.
pub fn ships(d: Distribution, v: Version, kind: ComponentKind, type_name: &str) -> Result<bool, UnknownVersion> {
    let index = version_index(d, v)?;
    if registered_since(d, kind, type_name).is_some_and(|since| v < since) {
        return Ok(false);
    }
    Ok(runs(d, kind, type_name).is_some_and(|runs| covers(runs, index)))
}

/// Every `kind` component type version `v` of `d` ships, sorted (byte order).
///
/// # Errors
///
/// [`UnknownVersion`] when `v` is not one of [`known_versions`]`(d)`.
pub fn types(d: Distribution, v: Version, kind: ComponentKind) -> Result<Vec<&'static str>, UnknownVersion> {
    let index = version_index(d, v)?;
    Ok(entries(d, kind).iter().filter(|(_, runs)| covers(runs, index)).map(|&(type_name, _)| type_name).collect())
}

/// The newest known version of `d` that ships the `kind` component `type_name`; `None` when no
/// known version does. Components removed before the table starts are unknown, not dated: the
/// `jaeger` exporter, gone from the distributions long before 0.100.0, gives `None`.
pub fn last_version_with(d: Distribution, kind: ComponentKind, type_name: &str) -> Option<Version> {
    let end = runs(d, kind, type_name)?.last()?.1;
    let index = usize::from(end).checked_sub(1)?;
    let last = known_versions(d).get(index).copied()?;
    registered_since(d, kind, type_name).is_none_or(|since| last >= since).then_some(last)
}

/// The oldest known version of `d` that ships the `kind` component `type_name` (the oldest
/// [`known_versions`] entry when it was already there); `None` when no known version does.
pub fn first_version_with(d: Distribution, kind: ComponentKind, type_name: &str) -> Option<Version> {
    let since = registered_since(d, kind, type_name);
    runs(d, kind, type_name)?
        .iter()
        .flat_map(|&(start, end)| known_versions(d).get(usize::from(start)..usize::from(end)).unwrap_or_default())
        .copied()
        .find(|v| since.is_none_or(|since| *v >= since))
}

fn version_index(d: Distribution, v: Version) -> Result<usize, UnknownVersion> {
    known_versions(d).binary_search(&v).map_err(|_| UnknownVersion { distribution: d, version: v })
}

fn entries(d: Distribution, kind: ComponentKind) -> &'static [Entry] {
    let t = table::table(d);
    match kind {
        ComponentKind::Receiver => t.receivers,
        ComponentKind::Processor => t.processors,
        ComponentKind::Exporter => t.exporters,
        ComponentKind::Extension => t.extensions,
        ComponentKind::Connector => t.connectors,
    }
}

/// The name the table (like the shared `components.json` it is generated from) uses for a type.
///
/// The table derives contrib type names from Go module names, which for a few components differ
/// from the type the collector registers (each processor's `metadata.yaml` `type:` field).
fn table_name(type_name: &str) -> &str {
    match type_name {
        "tail_sampling" => "tailsampling",
        "probabilistic_sampler" => "probabilisticsampler",
        other => RENAMED.iter().find(|r| r.new == other).map_or(other, |r| r.old),
    }
}

/// A contrib component that was renamed, the old name staying a deprecated alias that logs a
/// warning at start-up. The table knows such a component under its module-derived (old) name for
/// every version; the new name exists only from `since`.
struct Renamed {
    kind: ComponentKind,
    new: &'static str,
    old: &'static str,
    since: Version,
}

/// Renames of component types the stack emits.
///
/// `k8sattributes` → `k8s_attributes`: open-telemetry/opentelemetry-collector-contrib PR #45901
/// ("rename to k8s_attributes with deprecated alias k8sattributes", merged 2026-02-05, after the
/// v0.145.0 release). dash0hq/dash0-operator PR #829 (2026-02-24) already met the warning
/// "k8sattributes alias is deprecated; use k8s_attributes instead" on a released collector, so the
/// first release with the new name is v0.146.0 at the latest; tracestack dates it there
/// (INFERRED from the two dates: no release note was at hand). A version before it gets the old name.
const RENAMED: [Renamed; 1] = [Renamed {
    kind: ComponentKind::Processor,
    new: "k8s_attributes",
    old: "k8sattributes",
    since: Version::new(0, 146, 0),
}];

/// The first version of `d` that registers `type_name` under that name, when it is a renamed
/// type's new name (`None` otherwise). Jaeger is built from its own collector version line, so
/// tracestack does not date new names there and treats them as absent.
fn registered_since(d: Distribution, kind: ComponentKind, type_name: &str) -> Option<Version> {
    let renamed = RENAMED.iter().find(|r| r.kind == kind && r.new == type_name)?;
    Some(if d == Distribution::Jaeger { Version::new(u32::MAX, 0, 0) } else { renamed.since })
}

fn runs(d: Distribution, kind: ComponentKind, type_name: &str) -> Option<&'static [(u16, u16)]> {
    let type_name = table_name(type_name);
    let entries = entries(d, kind);
    let index = entries.binary_search_by(|(candidate, _)| (*candidate).cmp(type_name)).ok()?;
    entries.get(index).map(|&(_, runs)| runs)
}

fn covers(runs: &[(u16, u16)], index: usize) -> bool {
    runs.iter().any(|&(start, end)| usize::from(start) <= index && index < usize::from(end))
}

#[cfg(test)]
mod tests {
    use super::ComponentKind::{Connector, Exporter, Extension, Processor, Receiver};
    use super::*;

    const K8S_159: Version = Version::new(0, 159, 0);
    const JAEGER_2_20: Version = Version::new(2, 20, 0);

    fn k8s(kind: ComponentKind, type_name: &str) -> Result<bool, UnknownVersion> {
        ships(Distribution::OtelcolK8s, K8S_159, kind, type_name)
    }

    fn jaeger(kind: ComponentKind, type_name: &str) -> Result<bool, UnknownVersion> {
        ships(Distribution::Jaeger, JAEGER_2_20, kind, type_name)
    }

    #[test]
    fn otelcol_k8s_0_159_0() {
        assert_eq!(k8s(Exporter, "otlp"), Ok(true));
        assert_eq!(k8s(Receiver, "zipkin"), Ok(true));
        assert_eq!(k8s(Processor, "k8sattributes"), Ok(true));
        assert_eq!(k8s(Extension, "health_check"), Ok(true));
        assert_eq!(k8s(Connector, "spanmetrics"), Ok(true));
        assert_eq!(k8s(Exporter, "jaeger"), Ok(false));
        // The registered type is `tail_sampling`; the table keeps the module-derived spelling.
        assert_eq!(k8s(Processor, "tail_sampling"), Ok(true));
        assert_eq!(k8s(Processor, "tailsampling"), Ok(true));
        assert_eq!(k8s(Processor, "probabilistic_sampler"), Ok(true));
        assert_eq!(k8s(Exporter, "otlp_grpc"), Ok(true));
        // Right type, wrong kind.
        assert_eq!(k8s(Receiver, "k8sattributes"), Ok(false));
        // Renamed in contrib; the old name stays a deprecated alias.
        assert_eq!(k8s(Processor, "k8s_attributes"), Ok(true));
        assert_eq!(k8s(Receiver, "k8s_attributes"), Ok(false));
    }

    #[test]
    fn renamed_types_exist_under_the_new_name_only_from_the_rename() {
        use Distribution::{Jaeger, OtelcolContrib, OtelcolK8s};
        let at = |d, v| ships(d, v, Processor, "k8s_attributes");
        assert_eq!(at(OtelcolK8s, Version::new(0, 145, 0)), Ok(false));
        assert_eq!(at(OtelcolK8s, Version::new(0, 146, 0)), Ok(true));
        assert_eq!(at(OtelcolContrib, Version::new(0, 100, 0)), Ok(false));
        assert_eq!(ships(OtelcolK8s, Version::new(0, 100, 0), Processor, "k8sattributes"), Ok(true));
        assert_eq!(first_version_with(OtelcolK8s, Processor, "k8s_attributes"), Some(Version::new(0, 146, 0)));
        assert_eq!(first_version_with(OtelcolK8s, Processor, "k8sattributes"), Some(Version::new(0, 100, 0)));
        assert_eq!(last_version_with(OtelcolK8s, Processor, "k8s_attributes"), Some(K8S_159));
        assert_eq!(ships(Jaeger, JAEGER_2_20, Processor, "k8s_attributes"), Ok(false));
        assert_eq!(first_version_with(Jaeger, Processor, "k8s_attributes"), None);
    }

    #[test]
    fn jaeger_2_20_0() {
        assert_eq!(jaeger(Extension, "jaeger_storage"), Ok(true));
        assert_eq!(jaeger(Extension, "jaeger_query"), Ok(true));
        assert_eq!(jaeger(Extension, "healthcheckv2"), Ok(true));
        assert_eq!(jaeger(Exporter, "jaeger_storage_exporter"), Ok(true));
        assert_eq!(jaeger(Extension, "health_check"), Ok(false));
    }

    #[test]
    fn unknown_version_is_an_error() {
        let err = ships(Distribution::OtelcolK8s, Version::new(0, 160, 0), Exporter, "otlp");
        let expected = UnknownVersion { distribution: Distribution::OtelcolK8s, version: Version::new(0, 160, 0) };
        assert_eq!(err, Err(expected));
        assert_eq!(
            expected.to_string(),
            "otelcol-k8s 0.160.0 is not in tracestack's component table \
             (it knows 0.100.0 to 0.159.0)"
        );
        let err = types(Distribution::Jaeger, Version::new(1, 0, 0), Receiver);
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("jaeger 1.0.0 is not in tracestack's component table (it knows 2.0.0 to 2.20.0)".to_owned())
        );
    }

    #[test]
    fn types_are_sorted_and_agree_with_ships() {
        for d in Distribution::ALL {
            for &v in known_versions(d) {
                for kind in ComponentKind::ALL {
                    let Ok(list) = types(d, v, kind) else {
                        panic!("{d} {v} is known but types() failed");
                    };
                    assert!(list.windows(2).all(|w| w[0] < w[1]), "{d} {v} {kind}");
                    for type_name in list {
                        assert_eq!(ships(d, v, kind, type_name), Ok(true));
                    }
                }
            }
        }
        let exporters = types(Distribution::OtelcolK8s, K8S_159, Exporter);
        assert!(exporters.is_ok_and(|list| list.contains(&"otlp") && !list.contains(&"jaeger")));
    }

    #[test]
    fn table_is_well_formed() {
        for d in Distribution::ALL {
            let versions = known_versions(d);
            assert!(!versions.is_empty(), "{d}");
            assert!(versions.windows(2).all(|w| w[0] < w[1]), "{d} versions");
            for kind in ComponentKind::ALL {
                let entries = entries(d, kind);
                assert!(entries.windows(2).all(|w| w[0].0 < w[1].0), "{d} {kind}");
                for (type_name, runs) in entries {
                    assert!(!runs.is_empty(), "{d} {kind} {type_name}");
                    assert!(runs.iter().all(|(s, e)| s < e), "{d} {kind} {type_name}");
                    assert!(runs.windows(2).all(|w| w[0].1 < w[1].0), "{d} {kind} {type_name}: runs overlap or touch");
                    assert!(
                        runs.iter().all(|&(_, e)| usize::from(e) <= versions.len()),
                        "{d} {kind} {type_name}: run past the last version"
                    );
                }
            }
        }
    }

    #[test]
    fn first_and_last_versions() {
        use Distribution::{Jaeger, Otelcol, OtelcolContrib, OtelcolK8s};
        // Removed before the table starts: unknown.
        assert_eq!(last_version_with(Otelcol, Exporter, "jaeger"), None);
        assert_eq!(last_version_with(OtelcolContrib, Exporter, "jaeger"), None);
        // Still shipped: the newest known version.
        assert_eq!(last_version_with(OtelcolK8s, Exporter, "otlp"), Some(K8S_159));
        assert_eq!(first_version_with(OtelcolK8s, Exporter, "otlp"), Some(Version::new(0, 100, 0)));
        assert_eq!(last_version_with(Jaeger, Extension, "jaeger_query"), Some(JAEGER_2_20));
        // `loki` left contrib, came back, then left for good: the end of the last run.
        let last = last_version_with(OtelcolContrib, Exporter, "loki");
        assert!(last.is_some_and(|v| v < K8S_159));
        assert_eq!(last.and_then(|v| ships(OtelcolContrib, v, Exporter, "loki").ok()), Some(true));
    }

    #[test]
    fn version_parse_and_display() {
        assert_eq!(Version::parse("0.159.0"), Some(Version::new(0, 159, 0)));
        assert_eq!(Version::parse("v2.14.1"), Some(Version::new(2, 14, 1)));
        for bad in [
            "",
            "v",
            "1",
            "1.2",
            "1.2.3.4",
            "1.2.x",
            "1..3",
            "01.2.3",
            "1.2.3-rc1",
            "+1.2.3",
            "vv1.2.3",
            " 1.2.3",
            "4294967296.0.0",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Version::new(0, 159, 0).to_string(), "0.159.0");
        assert!(Version::new(0, 99, 9) < Version::new(0, 100, 0));
    }

    #[test]
    fn names_round_trip() {
        for d in Distribution::ALL {
            assert_eq!(Distribution::parse(d.name()), Some(d));
            assert_eq!(d.to_string(), d.name());
            assert!(d.binary().starts_with('/'));
        }
        assert_eq!(Distribution::parse("otelcol-ebpf-profiler"), None);
        assert_eq!(ComponentKind::Receiver.to_string(), "receiver");
        assert_eq!(ComponentKind::Connector.plural(), "connectors");
        assert_eq!(Distribution::Jaeger.binary(), "/cmd/jaeger/jaeger-linux");
        assert_eq!(Distribution::OtelcolK8s.default_image(), "otel/opentelemetry-collector-k8s");
    }
}
