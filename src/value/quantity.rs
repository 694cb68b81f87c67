//! Kubernetes resource quantities (`500m`, `2`, `512Mi`, `1e3`): strict parsing with helpful errors, exact conversion, serde and JSON Schema support.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The regular expression a quantity string matches, as used in the JSON Schema.
///
/// It is the Kubernetes `resource.Quantity` grammar: an optional sign, a decimal number, then
/// an optional decimal exponent (`e3`, `E-2`), decimal SI suffix (`n u m k M G T P E`) or
/// binary SI suffix (`Ki Mi Gi Ti Pi Ei`).
pub const QUANTITY_PATTERN: &str = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$";

/// A validated Kubernetes resource quantity such as `500m`, `2`, `1.5Gi` or `1e3`.
///
/// The text is kept exactly as written so that rendered output matches the input; the parsed
/// value is kept alongside it for conversions. Two quantities are equal when their texts are
/// equal (`1000m` and `1` are different quantities with the same value), so this type has no
/// ordering: compare [`Quantity::millis`] or [`Quantity::bytes`] instead.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    /// The text as written, for output.
    text: String,
    /// Whether the value is below zero (never set for zero).
    negative: bool,
    /// The significant decimal digits, without leading or trailing zeros; empty for zero.
    mantissa: String,
    /// Power of ten the mantissa is multiplied by.
    exp10: i64,
    /// Power of two the mantissa is multiplied by (a binary SI suffix).
    exp2: u32,
}

/// Why a text is not a Kubernetes quantity.
///
/// The `Display` text is a complete, lowercase sentence fragment without a trailing period that
/// names the offending text and says how to fix it, e.g.
/// "`512MB` is not a Kubernetes quantity: unknown suffix `MB` (did you mean `512M` or `512Mi`?)".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// The text is empty.
    #[error("an empty string is not a Kubernetes quantity: write a number such as `1`, `500m` or `512Mi`")]
    Empty,
    /// The text contains whitespace.
    #[error("`{text}` is not a Kubernetes quantity: it must not contain spaces{}", did_you_mean(.fixes))]
    Whitespace {
        /// The text as given.
        text: String,
        /// Corrected spellings that would be accepted.
        fixes: Vec<String>,
    },
    /// The text does not start with a number (after an optional sign).
    #[error(
        "`{text}` is not a Kubernetes quantity: it must start with a number such as `1`, `0.5` or `512`, optionally followed by a suffix such as `m` or `Mi`"
    )]
    MissingNumber {
        /// The text as given.
        text: String,
    },
    /// The number itself is malformed, e.g. `1.5.2` or `1,5`.
    #[error("`{text}` is not a Kubernetes quantity: {problem}{}", did_you_mean(.fixes))]
    MalformedNumber {
        /// The text as given.
        text: String,
        /// What is wrong with the number.
        problem: &'static str,
        /// Corrected spellings that would be accepted.
        fixes: Vec<String>,
    },
    /// The text after the number is not a known suffix.
    #[error("`{text}` is not a Kubernetes quantity: unknown suffix `{suffix}` {}", suffix_hint(.fixes))]
    UnknownSuffix {
        /// The text as given.
        text: String,
        /// The unrecognised text after the number.
        suffix: String,
        /// Corrected spellings that would be accepted.
        fixes: Vec<String>,
    },
    /// A decimal exponent (`e<int>`) is missing its digits, is not whole, or is out of range.
    #[error(
        "`{text}` is not a Kubernetes quantity: {problem} (write a whole number after `e`, such as `1e3` or `5e-3`)"
    )]
    BadExponent {
        /// The text as given.
        text: String,
        /// What is wrong with the exponent.
        problem: String,
    },
}

impl QuantityError {
    /// The text that failed to parse (empty for [`QuantityError::Empty`]).
    #[must_use]
    pub fn text(&self) -> &str {
        match self {
            QuantityError::Empty => "",
            QuantityError::Whitespace { text, .. }
            | QuantityError::MissingNumber { text }
            | QuantityError::MalformedNumber { text, .. }
            | QuantityError::UnknownSuffix { text, .. }
            | QuantityError::BadExponent { text, .. } => text,
        }
    }
}

/// Renders " (did you mean `a` or `b`?)", or nothing when there is no fix.
fn did_you_mean(fixes: &[String]) -> String {
    match fixes {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|f| format!("`{f}`")).collect();
            format!(" (did you mean {} or `{last}`?)", rest.join(", "))
        }
    }
}

/// The hint after an unknown suffix: the fixes, or the list of valid suffixes.
fn suffix_hint(fixes: &[String]) -> String {
    if fixes.is_empty() {
        "(valid suffixes are n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or a decimal exponent such as `e3`)"
            .to_owned()
    } else {
        did_you_mean(fixes).trim_start().to_owned()
    }
}

/// Parses a Kubernetes quantity, exactly as apimachinery's `resource.ParseQuantity` accepts it.
///
/// # Errors
///
/// Returns a [`QuantityError`] naming the text and what is wrong with it, with a suggested
/// spelling for common mistakes such as `512MB`, `1GiB` or `2 Gi`.
pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
    if s.is_empty() {
        return Err(QuantityError::Empty);
    }
    if s.chars().any(char::is_whitespace) {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let fixes = match parse_strict(&compact) {
            Ok(_) => vec![compact],
            Err(e) => fixes_of(&e),
        };
        return Err(QuantityError::Whitespace { text: s.to_owned(), fixes });
    }
    parse_strict(s)
}

/// The suggested fixes carried by an error, if any.
fn fixes_of(e: &QuantityError) -> Vec<String> {
    match e {
        QuantityError::Whitespace { fixes, .. }
        | QuantityError::MalformedNumber { fixes, .. }
        | QuantityError::UnknownSuffix { fixes, .. } => fixes.clone(),
        _ => Vec::new(),
    }
}

/// Length of the run of ASCII digits at the start of `s`.
fn digit_run(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// Parses a text known to contain no whitespace.
fn parse_strict(s: &str) -> Result<Quantity, QuantityError> {
    let text = s.to_owned();
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let int_len = digit_run(unsigned);
    let int_part = unsigned.get(..int_len).unwrap_or("");
    let mut rest = unsigned.get(int_len..).unwrap_or("");
    let mut frac_part = "";
    let had_point = rest.starts_with('.');
    if had_point {
        let after = rest.get(1..).unwrap_or("");
        let frac_len = digit_run(after);
        frac_part = after.get(..frac_len).unwrap_or("");
        rest = after.get(frac_len..).unwrap_or("");
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(QuantityError::MissingNumber { text });
    }
    let number = s.get(..s.len().saturating_sub(rest.len())).unwrap_or("");

    if rest.starts_with('.') {
        return Err(QuantityError::MalformedNumber {
            text,
            problem: "it has more than one decimal point",
            fixes: Vec::new(),
        });
    }
    if !had_point
        && let Some(after_comma) = rest.strip_prefix(',')
        && after_comma.starts_with(|c: char| c.is_ascii_digit())
    {
        let candidate = format!("{number}.{after_comma}");
        let fixes = if parse_strict(&candidate).is_ok() { vec![candidate] } else { Vec::new() };
        return Err(QuantityError::MalformedNumber { text, problem: "use `.` as the decimal point", fixes });
    }

    let (exp10_suffix, exp2) = parse_suffix(s, number, rest)?;

    // Significant digits: drop leading zeros, then move trailing zeros into the exponent.
    let all_digits = format!("{int_part}{frac_part}");
    let trimmed_front = all_digits.trim_start_matches('0');
    let mantissa = trimmed_front.trim_end_matches('0');
    let trailing_zeros = trimmed_front.len().saturating_sub(mantissa.len());
    let out_of_range =
        || QuantityError::BadExponent { text: s.to_owned(), problem: "the value is out of range".to_owned() };
    let frac_len = i64::try_from(frac_part.len()).map_err(|_| out_of_range())?;
    let zeros = i64::try_from(trailing_zeros).map_err(|_| out_of_range())?;
    let exp10 = exp10_suffix.checked_sub(frac_len).and_then(|e| e.checked_add(zeros)).ok_or_else(out_of_range)?;

    Ok(if mantissa.is_empty() {
        Quantity { text, negative: false, mantissa: String::new(), exp10: 0, exp2: 0 }
    } else {
        Quantity { text, negative, mantissa: mantissa.to_owned(), exp10, exp2 }
    })
}

/// Interprets the text after the number; returns the power of ten and power of two it adds.
fn parse_suffix(s: &str, number: &str, suffix: &str) -> Result<(i64, u32), QuantityError> {
    let known = match suffix {
        "" => Some((0, 0)),
        "n" => Some((-9, 0)),
        "u" => Some((-6, 0)),
        "m" => Some((-3, 0)),
        "k" => Some((3, 0)),
        "M" => Some((6, 0)),
        "G" => Some((9, 0)),
        "T" => Some((12, 0)),
        "P" => Some((15, 0)),
        "E" => Some((18, 0)),
        "Ki" => Some((0, 10)),
        "Mi" => Some((0, 20)),
        "Gi" => Some((0, 30)),
        "Ti" => Some((0, 40)),
        "Pi" => Some((0, 50)),
        "Ei" => Some((0, 60)),
        _ => None,
    };
    if let Some(found) = known {
        return Ok(found);
    }
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        let unsigned = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        // `1e`, `1e+`, `1e3`, `1e3.5` are exponent attempts; `1EB` is a suffix mistake.
        if unsigned.is_empty() || unsigned.starts_with(|c: char| c.is_ascii_digit()) {
            let bad = |problem: String| QuantityError::BadExponent { text: s.to_owned(), problem };
            let digits = digit_run(unsigned);
            if digits == 0 {
                return Err(bad(format!("the exponent `{suffix}` has no digits")));
            }
            if digits < unsigned.len() {
                if unsigned.get(digits..).is_some_and(|r| r.starts_with('.')) {
                    return Err(bad(format!("the exponent `{suffix}` must be a whole number")));
                }
                return Err(unknown_suffix(s, number, suffix));
            }
            // Kubernetes reads the exponent as a 32-bit integer.
            return match exp.parse::<i32>() {
                Ok(e) => Ok((i64::from(e), 0)),
                Err(_) => Err(bad(format!("the exponent `{suffix}` is out of range"))),
            };
        }
    }
    Err(unknown_suffix(s, number, suffix))
}

/// Builds the unknown-suffix error, with fixes for common spellings of units.
fn unknown_suffix(s: &str, number: &str, suffix: &str) -> QuantityError {
    let fixes = suffix_fixes(suffix).into_iter().map(|fix| format!("{number}{fix}")).collect();
    QuantityError::UnknownSuffix { text: s.to_owned(), suffix: suffix.to_owned(), fixes }
}

/// Valid suffixes a mistaken one was probably meant to be, most likely first.
fn suffix_fixes(suffix: &str) -> Vec<String> {
    let lower: String = suffix.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    match lower.as_str() {
        "b" | "byte" | "bytes" | "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" => {
            return vec![String::new()];
        }
        "millicore" | "millicores" | "millicpu" | "millicpus" | "mcpu" | "mcpus" => {
            return vec!["m".to_owned()];
        }
        "µ" | "μ" => return vec!["u".to_owned()],
        _ => {}
    }
    let mut chars = lower.chars();
    let Some(first) = chars.next() else {
        return Vec::new();
    };
    if !matches!(first, 'k' | 'm' | 'g' | 't' | 'p' | 'e') {
        return Vec::new();
    }
    let tail: String = chars.collect();
    let decimal = if first == 'k' { 'k' } else { first.to_ascii_uppercase() };
    let binary = format!("{}i", first.to_ascii_uppercase());
    match tail.as_str() {
        "" | "b" | "byte" | "bytes" => vec![decimal.to_string(), binary],
        "i" | "ib" | "ibyte" | "ibytes" => vec![binary],
        _ => Vec::new(),
    }
}

impl Quantity {
    /// Parses a Kubernetes quantity; the same as the module's [`parse`].
    ///
    /// # Errors
    ///
    /// Returns a [`QuantityError`] naming the text and what is wrong with it.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        parse(s)
    }

    /// The quantity exactly as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value in thousandths of the base unit (`500m` is 500, `1` is 1000, `1Gi` is
    /// 1 073 741 824 000).
    ///
    /// Values finer than a thousandth are rounded up to the next thousandth (`1n` is 1), as
    /// Kubernetes rounds requests up rather than to zero. Returns `None` for negative values
    /// and values too large for a `u128`.
    #[must_use]
    pub fn millis(&self) -> Option<u128> {
        self.scaled_ceil(3)
    }

    /// The value in whole base units (bytes for memory), rounded up (`1.5` is 2, `1m` is 1).
    ///
    /// Returns `None` for negative values and values too large for a `u64`.
    #[must_use]
    pub fn bytes(&self) -> Option<u64> {
        self.scaled_ceil(0).and_then(|v| u64::try_from(v).ok())
    }

    /// A quantity of `n` mebibytes, written `{n}Mi`.
    #[must_use]
    pub fn from_mebibytes(n: u64) -> Quantity {
        Quantity::from_integer(format!("{n}Mi"), n, 0, 20)
    }

    /// A quantity of `n` thousandths of a CPU, written `{n}m`, or as whole CPUs (`2`) when `n`
    /// is a multiple of 1000.
    #[must_use]
    pub fn from_millicores(n: u64) -> Quantity {
        if n.is_multiple_of(1000) {
            let cores = n / 1000;
            Quantity::from_integer(cores.to_string(), cores, 0, 0)
        } else {
            Quantity::from_integer(format!("{n}m"), n, -3, 0)
        }
    }

    /// Builds a quantity worth `n * 10^exp10 * 2^exp2` with the given text.
    fn from_integer(text: String, n: u64, exp10: i64, exp2: u32) -> Quantity {
        if n == 0 {
            return Quantity { text, negative: false, mantissa: String::new(), exp10: 0, exp2: 0 };
        }
        let digits = n.to_string();
        let mantissa = digits.trim_end_matches('0');
        let zeros = i64::try_from(digits.len().saturating_sub(mantissa.len())).unwrap_or(0);
        Quantity { text, negative: false, mantissa: mantissa.to_owned(), exp10: exp10.saturating_add(zeros), exp2 }
    }

    /// `ceil(value * 10^scale)`, or `None` when negative or larger than `u128::MAX`.
    fn scaled_ceil(&self, scale: i64) -> Option<u128> {
        if self.mantissa.is_empty() {
            return Some(0);
        }
        if self.negative {
            return None;
        }
        let len = i64::try_from(self.mantissa.len()).ok()?;
        let exp = self.exp10.checked_add(scale)?;
        // The mantissa has no leading zero, so the result is at least 10^(top - 1) ...
        let top = len.checked_add(exp)?;
        if top > 39 {
            return None; // >= 10^39 > u128::MAX
        }
        // ... and, as 2^exp2 <= 2^60 < 10^19, below 10^(top + 19).
        if top.checked_add(19)? <= 0 {
            return Some(1); // a positive value below one unit rounds up to one
        }
        if exp >= 0 {
            // Here the mantissa has at most 39 digits and `exp` is at most 38.
            let mut big = Big::from_digits(&self.mantissa)?;
            for _ in 0..exp {
                big.mul_small(10)?;
            }
            big.mul_pow2(self.exp2)?;
            return big.to_u128();
        }
        // value = M * 2^b / 10^k. With r = min(k, b) and d = k - r this is
        // M * 2^(b - r) / (10^d * 5^r), and for integers ceil(x / (p * q)) equals
        // ceil(ceil(x / p) / q), so the d lowest decimal digits can be dropped first (rounding
        // up) and only a short number (at most 99 digits) is left for exact arithmetic.
        let k = u32::try_from(exp.checked_neg()?).ok()?;
        let r = k.min(self.exp2);
        let drop = usize::try_from(k.checked_sub(r)?).ok()?;
        let kept = self.mantissa.len().saturating_sub(drop);
        let (head, tail) = self.mantissa.split_at_checked(kept)?;
        let mut big = Big::from_digits(head)?;
        if tail.bytes().any(|d| d != b'0') {
            big.add_small(1)?;
        }
        big.mul_pow2(self.exp2.checked_sub(r)?)?;
        let mut remainder = false;
        let mut fives = r;
        while fives > 0 {
            let step = fives.min(12);
            remainder |= big.div_small(5u32.checked_pow(step)?)?;
            fives = fives.checked_sub(step)?;
        }
        let floor = big.to_u128()?;
        if remainder { floor.checked_add(1) } else { Some(floor) }
    }
}

/// A minimal unsigned big integer (little-endian limbs in base 10^9), just enough for exact
/// rounding of long decimal mantissas. Every operation is checked and returns `None` rather
/// than overflow, though with the documented argument bounds none can.
struct Big(Vec<u32>);

/// The limb base of [`Big`].
const BIG_BASE: u64 = 1_000_000_000;

impl Big {
    /// Reads a string of ASCII decimal digits (other bytes count as zero).
    fn from_digits(digits: &str) -> Option<Big> {
        let mut big = Big(Vec::new());
        for chunk in digits.as_bytes().chunks(9) {
            let mut scale = 1u32;
            let mut value = 0u32;
            for b in chunk {
                let d = u32::from(b.checked_sub(b'0').filter(|d| *d < 10).unwrap_or(0));
                value = value.checked_mul(10)?.checked_add(d)?;
                scale = scale.checked_mul(10)?;
            }
            big.mul_small(scale)?;
            big.add_small(value)?;
        }
        Some(big)
    }

    /// Multiplies in place by `m` (at most 2^32 - 1).
    fn mul_small(&mut self, m: u32) -> Option<()> {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let v = u64::from(*limb).checked_mul(u64::from(m))?.checked_add(carry)?;
            *limb = u32::try_from(v.checked_rem(BIG_BASE)?).ok()?;
            carry = v.checked_div(BIG_BASE)?;
        }
        while carry > 0 {
            self.0.push(u32::try_from(carry.checked_rem(BIG_BASE)?).ok()?);
            carry = carry.checked_div(BIG_BASE)?;
        }
        Some(())
    }

    /// Multiplies in place by `2^n`.
    fn mul_pow2(&mut self, n: u32) -> Option<()> {
        let mut left = n;
        while left > 0 {
            let step = left.min(16);
            self.mul_small(2u32.checked_pow(step)?)?;
            left = left.checked_sub(step)?;
        }
        Some(())
    }

    /// Adds `a` in place.
    fn add_small(&mut self, a: u32) -> Option<()> {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            if carry == 0 {
                return Some(());
            }
            let v = u64::from(*limb).checked_add(carry)?;
            *limb = u32::try_from(v.checked_rem(BIG_BASE)?).ok()?;
            carry = v.checked_div(BIG_BASE)?;
        }
        while carry > 0 {
            self.0.push(u32::try_from(carry.checked_rem(BIG_BASE)?).ok()?);
            carry = carry.checked_div(BIG_BASE)?;
        }
        Some(())
    }

    /// Divides in place by `d` (non-zero, at most 2^32 - 1); returns whether a remainder was
    /// left.
    fn div_small(&mut self, d: u32) -> Option<bool> {
        let d = u64::from(d);
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = rem.checked_mul(BIG_BASE)?.checked_add(u64::from(*limb))?;
            *limb = u32::try_from(v.checked_div(d)?).ok()?;
            rem = v.checked_rem(d)?;
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        Some(rem != 0)
    }

    /// The value as a `u128`, or `None` when it does not fit.
    fn to_u128(&self) -> Option<u128> {
        self.0
            .iter()
            .rev()
            .try_fold(0u128, |acc, limb| acc.checked_mul(u128::from(BIG_BASE))?.checked_add(u128::from(*limb)))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// Accepts a quantity written as a string or as a bare number (`cpu: 2`, `cpu: 0.5`).
struct QuantityVisitor;

impl QuantityVisitor {
    /// Parses `text`, turning a failure into the deserializer's error.
    fn parse_as<E: de::Error>(text: &str) -> Result<Quantity, E> {
        parse(text).map_err(E::custom)
    }
}

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes quantity such as `500m`, `2` or `512Mi`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Self::parse_as(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Self::parse_as(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Self::parse_as(&v.to_string())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Quantity, E> {
        Self::parse_as(&v.to_string())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Quantity, E> {
        Self::parse_as(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("`{v}` is not a Kubernetes quantity: it must be a finite number")));
        }
        // `Display` for f64 never uses an exponent and prints the shortest exact form (`0.5`).
        Self::parse_as(&v.to_string())
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Kubernetes resource quantity: a number with an optional suffix, such as `500m` (half a CPU), `2`, `512Mi` or `1.5Gi`. Binary suffixes Ki, Mi, Gi, Ti, Pi, Ei are powers of 1024; decimal suffixes n, u, m, k, M, G, T, P, E are powers of 1000; `e3` is a decimal exponent.",
            "anyOf": [
                { "type": "string", "pattern": QUANTITY_PATTERN },
                { "type": "number" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a text that must be valid.
    fn q(s: &str) -> Quantity {
        match parse(s) {
            Ok(q) => q,
            Err(e) => panic!("`{s}` should parse: {e}"),
        }
    }

    /// The error message for a text that must be invalid.
    fn err(s: &str) -> String {
        match parse(s) {
            Ok(q) => panic!("`{s}` should not parse, got {q:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_the_kubernetes_grammar() {
        for s in [
            "0", "1", "+1", "-1", "1.", ".5", "0.5", "1.5", "500m", "100n", "5u", "2k", "3M", "4G", "5T", "6P", "7E",
            "1Ki", "1Mi", "1.5Gi", "2Ti", "3Pi", "4Ei", "1e3", "1E3", "1e+3", "1e-3", "1.e3", ".5e1", "007", "-0",
            "0.000",
        ] {
            assert_eq!(q(s).as_str(), s);
        }
    }

    #[test]
    fn rejects_unknown_suffixes_with_fixes() {
        assert_eq!(
            err("512MB"),
            "`512MB` is not a Kubernetes quantity: unknown suffix `MB` (did you mean `512M` or `512Mi`?)"
        );
        assert_eq!(
            err("1.5GiB"),
            "`1.5GiB` is not a Kubernetes quantity: unknown suffix `GiB` (did you mean `1.5Gi`?)"
        );
        assert_eq!(err("2kb"), "`2kb` is not a Kubernetes quantity: unknown suffix `kb` (did you mean `2k` or `2Ki`?)");
        assert_eq!(err("2KB"), "`2KB` is not a Kubernetes quantity: unknown suffix `KB` (did you mean `2k` or `2Ki`?)");
        assert_eq!(err("1K"), "`1K` is not a Kubernetes quantity: unknown suffix `K` (did you mean `1k` or `1Ki`?)");
        assert_eq!(
            err("64mb"),
            "`64mb` is not a Kubernetes quantity: unknown suffix `mb` (did you mean `64M` or `64Mi`?)"
        );
        assert_eq!(err("8gb"), "`8gb` is not a Kubernetes quantity: unknown suffix `gb` (did you mean `8G` or `8Gi`?)");
        assert_eq!(
            err("256Mib"),
            "`256Mib` is not a Kubernetes quantity: unknown suffix `Mib` (did you mean `256Mi`?)"
        );
        assert_eq!(err("1MI"), "`1MI` is not a Kubernetes quantity: unknown suffix `MI` (did you mean `1Mi`?)");
        assert_eq!(
            err("-1EB"),
            "`-1EB` is not a Kubernetes quantity: unknown suffix `EB` (did you mean `-1E` or `-1Ei`?)"
        );
        assert_eq!(err("100B"), "`100B` is not a Kubernetes quantity: unknown suffix `B` (did you mean `100`?)");
        assert_eq!(err("2cores"), "`2cores` is not a Kubernetes quantity: unknown suffix `cores` (did you mean `2`?)");
        assert_eq!(
            err("500millicores"),
            "`500millicores` is not a Kubernetes quantity: unknown suffix `millicores` (did you mean `500m`?)"
        );
        assert_eq!(
            err("1x"),
            "`1x` is not a Kubernetes quantity: unknown suffix `x` (valid suffixes are n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or a decimal exponent such as `e3`)"
        );
        assert_eq!(
            err("1Mi5"),
            "`1Mi5` is not a Kubernetes quantity: unknown suffix `Mi5` (valid suffixes are n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or a decimal exponent such as `e3`)"
        );
        assert!(err("1e3Mi").contains("unknown suffix `e3Mi`"));
    }

    #[test]
    fn rejects_whitespace_with_a_fix() {
        assert_eq!(
            err("12 Mi"),
            "`12 Mi` is not a Kubernetes quantity: it must not contain spaces (did you mean `12Mi`?)"
        );
        assert_eq!(
            err("1G B"),
            "`1G B` is not a Kubernetes quantity: it must not contain spaces (did you mean `1G` or `1Gi`?)"
        );
        assert_eq!(err(" 1"), "` 1` is not a Kubernetes quantity: it must not contain spaces (did you mean `1`?)");
        assert_eq!(err("a b"), "`a b` is not a Kubernetes quantity: it must not contain spaces");
    }

    #[test]
    fn rejects_missing_or_malformed_numbers() {
        assert_eq!(
            err(""),
            "an empty string is not a Kubernetes quantity: write a number such as `1`, `500m` or `512Mi`"
        );
        let missing = "is not a Kubernetes quantity: it must start with a number such as `1`, `0.5` or `512`, optionally followed by a suffix such as `m` or `Mi`";
        for s in ["Mi", "-", "+", ".", "-.", "abc", "e3", "+-1", "--1", "NaN"] {
            assert_eq!(err(s), format!("`{s}` {missing}"));
        }
        assert_eq!(err("1.5.2"), "`1.5.2` is not a Kubernetes quantity: it has more than one decimal point");
        assert_eq!(
            err("1,5Gi"),
            "`1,5Gi` is not a Kubernetes quantity: use `.` as the decimal point (did you mean `1.5Gi`?)"
        );
        assert_eq!(err("1,5,6"), "`1,5,6` is not a Kubernetes quantity: use `.` as the decimal point");
    }

    #[test]
    fn rejects_bad_exponents() {
        assert_eq!(
            err("1e"),
            "`1e` is not a Kubernetes quantity: the exponent `e` has no digits (write a whole number after `e`, such as `1e3` or `5e-3`)"
        );
        assert_eq!(
            err("1E+"),
            "`1E+` is not a Kubernetes quantity: the exponent `E+` has no digits (write a whole number after `e`, such as `1e3` or `5e-3`)"
        );
        assert_eq!(
            err("1e1.5"),
            "`1e1.5` is not a Kubernetes quantity: the exponent `e1.5` must be a whole number (write a whole number after `e`, such as `1e3` or `5e-3`)"
        );
        assert_eq!(
            err("1e99999999999"),
            "`1e99999999999` is not a Kubernetes quantity: the exponent `e99999999999` is out of range (write a whole number after `e`, such as `1e3` or `5e-3`)"
        );
    }

    #[test]
    fn error_exposes_its_text() {
        let e = parse("512MB").err();
        assert_eq!(e.as_ref().map(QuantityError::text), Some("512MB"));
        assert_eq!(parse("").err().as_ref().map(QuantityError::text), Some(""));
    }

    #[test]
    fn millis_are_exact_and_round_up() {
        assert_eq!(q("500m").millis(), Some(500));
        assert_eq!(q("1").millis(), Some(1000));
        assert_eq!(q("0").millis(), Some(0));
        assert_eq!(q("-0").millis(), Some(0));
        assert_eq!(q("0.000").millis(), Some(0));
        assert_eq!(q("1Gi").millis(), Some(1_073_741_824_000));
        assert_eq!(q("1.5Ki").millis(), Some(1_536_000));
        assert_eq!(q("2.5").millis(), Some(2500));
        assert_eq!(q("1e3").millis(), Some(1_000_000));
        assert_eq!(q("1e-3").millis(), Some(1));
        assert_eq!(q("1n").millis(), Some(1));
        assert_eq!(q("1500u").millis(), Some(2));
        assert_eq!(q("1000u").millis(), Some(1));
        assert_eq!(q("0.0001Ki").millis(), Some(103)); // 102.4 rounds up
        assert_eq!(q("1e-100").millis(), Some(1));
        assert_eq!(q("-1").millis(), None);
        assert_eq!(q("1e36").millis(), None);
        assert_eq!(q("1e35").millis(), Some(10u128.pow(38)));
        assert_eq!(q("1Ei").millis(), Some(1_152_921_504_606_846_976_000));
        assert_eq!(q("1e2147483647").millis(), None);
        assert_eq!(q("1e-2147483648").millis(), Some(1));
        let long = format!("0.{}1", "0".repeat(5000));
        assert_eq!(q(&long).millis(), Some(1));
        let long = format!("1.{}1", "0".repeat(5000));
        assert_eq!(q(&long).millis(), Some(1001));
        // 0.333...Ki = 341.333... (exactly 1024/3 in the limit): 341333.33... millis.
        let long = format!("0.{}Ki", "3".repeat(5000));
        assert_eq!(q(&long).millis(), Some(341_334));
        assert_eq!(q(&long).bytes(), Some(342));
        // 0.5Ki is exactly 512; 0.5000...01Ki is just above it.
        assert_eq!(q("0.5Ki").bytes(), Some(512));
        let long = format!("0.5{}1Ki", "0".repeat(5000));
        assert_eq!(q(&long).bytes(), Some(513));
        assert_eq!(q("0.000000000000000001Ei").bytes(), Some(2)); // 1.15...
        assert_eq!(q("0.000000000000000001Ei").millis(), Some(1153));
    }

    /// Straightforward `ceil(value * 10^scale)` over the whole mantissa, to check the shortcut.
    fn reference_ceil(q: &Quantity, scale: i64) -> Option<u128> {
        if q.mantissa.is_empty() {
            return Some(0);
        }
        if q.negative {
            return None;
        }
        let mut big = Big::from_digits(&q.mantissa)?;
        big.mul_pow2(q.exp2)?;
        let exp = q.exp10 + scale;
        let mut remainder = false;
        for _ in 0..exp.max(0) {
            big.mul_small(10)?;
        }
        for _ in 0..(-exp).max(0) {
            remainder |= big.div_small(10)?;
        }
        let floor = big.to_u128()?;
        if remainder { floor.checked_add(1) } else { Some(floor) }
    }

    #[test]
    fn shortcut_matches_reference_arithmetic() {
        let suffixes = [
            "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e-30", "e-7", "e5",
            "e20",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        for _ in 0..20_000 {
            let int: String = (0..next(25)).map(|_| char::from(b'0' + next(10) as u8)).collect();
            let frac: String = (0..next(30)).map(|_| char::from(b'0' + next(10) as u8)).collect();
            let suffix = suffixes[next(suffixes.len() as u64) as usize];
            let text =
                if frac.is_empty() && int.is_empty() { format!("0{suffix}") } else { format!("{int}.{frac}{suffix}") };
            let parsed = q(&text);
            assert_eq!(parsed.millis(), reference_ceil(&parsed, 3), "{text}");
            assert_eq!(parsed.scaled_ceil(0), reference_ceil(&parsed, 0), "{text}");
        }
    }

    #[test]
    fn bytes_round_up_to_whole_units() {
        assert_eq!(q("512Mi").bytes(), Some(512 * 1024 * 1024));
        assert_eq!(q("1G").bytes(), Some(1_000_000_000));
        assert_eq!(q("1.5").bytes(), Some(2));
        assert_eq!(q("1m").bytes(), Some(1));
        assert_eq!(q("0").bytes(), Some(0));
        assert_eq!(q("-1Mi").bytes(), None);
        assert_eq!(q("15Ei").bytes(), Some(15 << 60));
        assert_eq!(q("16Ei").bytes(), None);
        assert_eq!(q("18446744073709551615").bytes(), Some(u64::MAX));
        assert_eq!(q("18446744073709551616").bytes(), None);
    }

    #[test]
    fn constructors_write_canonical_text() {
        assert_eq!(Quantity::from_mebibytes(512).as_str(), "512Mi");
        assert_eq!(Quantity::from_mebibytes(512), q("512Mi"));
        assert_eq!(Quantity::from_mebibytes(0), q("0Mi"));
        assert_eq!(Quantity::from_mebibytes(u64::MAX).bytes(), None);
        assert_eq!(Quantity::from_millicores(250).as_str(), "250m");
        assert_eq!(Quantity::from_millicores(250), q("250m"));
        assert_eq!(Quantity::from_millicores(2000).as_str(), "2");
        assert_eq!(Quantity::from_millicores(2000), q("2"));
        assert_eq!(Quantity::from_millicores(0), q("0"));
        assert_eq!(Quantity::from_millicores(1500), q("1500m"));
        assert_eq!(Quantity::from_millicores(u64::MAX).millis(), Some(u128::from(u64::MAX)));
    }

    #[test]
    fn associated_parse_matches_the_function() {
        assert_eq!(Quantity::parse("250m"), parse("250m"));
        assert_eq!(
            Quantity::parse("1 Gi").map_err(|e| e.to_string()),
            Err("`1 Gi` is not a Kubernetes quantity: it must not contain spaces (did you mean `1Gi`?)".to_owned())
        );
    }

    #[test]
    fn display_and_from_str_round_trip() {
        let parsed: Result<Quantity, _> = "1.5Gi".parse();
        assert_eq!(parsed.map(|q| q.to_string()), Ok("1.5Gi".to_owned()));
        let bad: Result<Quantity, _> = "1.5GB".parse();
        assert_eq!(
            bad.map_err(|e| e.to_string()),
            Err("`1.5GB` is not a Kubernetes quantity: unknown suffix `GB` (did you mean `1.5G` or `1.5Gi`?)"
                .to_owned())
        );
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Resources {
        cpu: Quantity,
        memory: Quantity,
    }

    #[test]
    fn deserializes_strings_and_bare_numbers_from_yaml() {
        let r: Resources = match serde_saphyr::from_str("cpu: 2\nmemory: 512Mi\n") {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(r.cpu.as_str(), "2");
        assert_eq!(r.memory.as_str(), "512Mi");
        let r: Resources = match serde_saphyr::from_str("cpu: 0.5\nmemory: '1Gi'\n") {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(r.cpu.millis(), Some(500));
        assert_eq!(r.cpu.as_str(), "0.5");
        assert_eq!(r.memory.as_str(), "1Gi");
        let r: Resources = match serde_saphyr::from_str("cpu: -3\nmemory: \"100m\"\n") {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(r.cpu.as_str(), "-3");
        assert_eq!(r.memory.as_str(), "100m");
    }

    #[test]
    fn deserialize_errors_carry_the_quantity_message() {
        let e = serde_saphyr::from_str::<Resources>("cpu: 1\nmemory: 512MB\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("`512MB` is not a Kubernetes quantity: unknown suffix `MB` (did you mean `512M` or `512Mi`?)"),
            "{e}"
        );
        let e = serde_saphyr::from_str::<Resources>("cpu: true\nmemory: 1Mi\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("expected a Kubernetes quantity such as `500m`, `2` or `512Mi`"), "{e}");
    }

    #[test]
    fn deserializes_plain_serde_values() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error as ValueError;
        let from = |d: Result<Quantity, ValueError>| d.map(|q| q.to_string()).map_err(|e| e.to_string());
        assert_eq!(from(Quantity::deserialize(7u64.into_deserializer())), Ok("7".to_owned()));
        assert_eq!(from(Quantity::deserialize((-7i64).into_deserializer())), Ok("-7".to_owned()));
        assert_eq!(from(Quantity::deserialize(0.25f64.into_deserializer())), Ok("0.25".to_owned()));
        assert_eq!(from(Quantity::deserialize(1e21f64.into_deserializer())), Ok("1000000000000000000000".to_owned()));
        assert_eq!(from(Quantity::deserialize(u128::MAX.into_deserializer())), Ok(u128::MAX.to_string()));
        assert_eq!(
            from(Quantity::deserialize(f64::INFINITY.into_deserializer())),
            Err("`inf` is not a Kubernetes quantity: it must be a finite number".to_owned())
        );
        assert_eq!(
            from(Quantity::deserialize("1 Gi".into_deserializer())),
            Err("`1 Gi` is not a Kubernetes quantity: it must not contain spaces (did you mean `1Gi`?)".to_owned())
        );
    }

    #[test]
    fn serializes_as_the_original_text() {
        let r = Resources { cpu: Quantity::from_millicores(500), memory: q("1.5Gi") };
        let out = serde_saphyr::to_string(&r).unwrap_or_default();
        assert!(out.contains("cpu: 500m"), "{out}");
        assert!(out.contains("memory: 1.5Gi"), "{out}");
    }

    #[test]
    fn schema_is_a_string_pattern_or_a_number() {
        let schema = schemars::schema_for!(Quantity);
        let any_of = schema.get("anyOf").and_then(|v| v.as_array()).cloned().unwrap_or_default();
        assert_eq!(any_of.len(), 2);
        assert_eq!(any_of.first().and_then(|s| s.get("type")).and_then(|t| t.as_str()), Some("string"));
        assert_eq!(any_of.first().and_then(|s| s.get("pattern")).and_then(|t| t.as_str()), Some(QUANTITY_PATTERN));
        assert_eq!(any_of.get(1).and_then(|s| s.get("type")).and_then(|t| t.as_str()), Some("number"));
        assert!(
            schema
                .get("description")
                .and_then(|d| d.as_str())
                .is_some_and(|d| d.contains("Kubernetes resource quantity"))
        );
    }
}
