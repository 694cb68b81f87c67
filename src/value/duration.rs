//! Go-style durations (`200ms`, `5s`, `1m30s`) as the collector and Jaeger configs spell them.

use std::fmt;
use std::str::FromStr;

/// A non-negative duration, kept in nanoseconds and written back in one canonical unit.
///
/// Parsing accepts what Go's `time.ParseDuration` accepts for non-negative values (`ns`, `us`, `µs`,
/// `ms`, `s`, `m`, `h`, decimals and sequences such as `1m30s`); output uses the largest unit that
/// divides the value exactly, so `1m30s` is written `90s` and `1.5s` is written `1500ms`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    nanos: u64,
}

const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

impl Duration {
    /// A duration of `n` milliseconds.
    #[must_use]
    pub const fn from_millis(n: u64) -> Self {
        Self { nanos: n.saturating_mul(1_000_000) }
    }

    /// A duration of `n` seconds.
    #[must_use]
    pub const fn from_secs(n: u64) -> Self {
        Self { nanos: n.saturating_mul(1_000_000_000) }
    }

    /// The duration in whole milliseconds, rounded down.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.nanos / 1_000_000
    }

    /// The duration in whole seconds, rounded up (what a Kubernetes field in seconds needs).
    #[must_use]
    pub const fn as_secs_ceil(self) -> u64 {
        self.nanos.div_ceil(1_000_000_000)
    }

    /// The duration in nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Parses a Go duration string such as `5s`, `200ms` or `1m30s`.
    ///
    /// # Errors
    /// A message naming the text and what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{text}` is not a duration: {why} (write e.g. `200ms`, `5s`, `1m30s`)");
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        if text == "0" {
            return Ok(Self::default());
        }
        let mut rest = text;
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
            let (num, after) = rest.split_at(num_len);
            if num.is_empty() {
                return Err(bad("expected a number"));
            }
            let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
            let (unit, after) = after.split_at(unit_len);
            let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
                return Err(if unit.is_empty() {
                    bad("a unit is missing")
                } else {
                    bad(&format!("unknown unit `{unit}`"))
                });
            };
            let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
            if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
                return Err(bad(&format!("`{num}` is not a number")));
            }
            let whole: u64 =
                if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad("the number is too large"))? };
            let mut part = whole.checked_mul(scale).ok_or_else(|| bad("it is too long"))?;
            let mut place = scale;
            for digit in frac.bytes() {
                place /= 10;
                part = part.checked_add(u64::from(digit - b'0') * place).ok_or_else(|| bad("it is too long"))?;
            }
            total = total.checked_add(part).ok_or_else(|| bad("it is too long"))?;
            rest = after;
        }
        // Go keeps a duration in an int64 of nanoseconds: anything longer fails to parse in the
        // collector and in Jaeger (about 2562047h).
        if total > i64::MAX as u64 {
            return Err(bad("it is longer than Go's longest duration, 2562047h47m16.854775807s"));
        }
        Ok(Self { nanos: total })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0s");
        }
        let (name, scale) = [("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000)]
            .into_iter()
            .chain([("ms", 1_000_000), ("us", 1_000), ("ns", 1)])
            .find(|(_, scale)| self.nanos.is_multiple_of(*scale))
            .unwrap_or(("ns", 1));
        // Minutes are written in seconds below ten minutes: `90s` reads better than `1.5m`, and
        // `300s` is how the collector's own defaults are usually documented.
        if name == "m" && self.nanos < 600_000_000_000 {
            return write!(f, "{}s", self.nanos / 1_000_000_000);
        }
        write!(f, "{}{name}", self.nanos / scale)
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A Go duration such as `200ms`, `5s` or `1m30s`.",
            "pattern": "^([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$|^0$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(Duration::parse(input).map(|d| d.to_string()), Ok(expected.to_owned()));
    }

    #[test]
    fn parses_and_canonicalises() {
        check("5s", "5s");
        check("200ms", "200ms");
        check("1m30s", "90s");
        check("1.5s", "1500ms");
        check("10m", "10m");
        check("2h", "2h");
        check("0", "0s");
        check("300s", "300s");
    }

    #[test]
    fn rejects_bad_text_with_reason() {
        assert_eq!(
            Duration::parse("5").unwrap_err(),
            "`5` is not a duration: a unit is missing (write e.g. `200ms`, `5s`, `1m30s`)"
        );
        assert!(Duration::parse("5 s").unwrap_err().contains("unknown unit ` s`"));
        assert!(Duration::parse("-5s").unwrap_err().contains("expected a number"));
        assert!(Duration::parse("99999999999999h").unwrap_err().contains("too long"));
        assert!(Duration::parse("1..5s").unwrap_err().contains("is not a number"));
    }
}
