//! A YAML 1.1 reading of emitted YAML, to prove that kubectl (whose reader, go-yaml v2, follows
//! YAML 1.1) sees the same types and values that were serialised.
//!
//! The structure comes from `serde_saphyr::granit_parser`'s event stream; every plain scalar is
//! resolved with the YAML 1.1 implicit-type regexes of yaml.org/type/{null,bool,int,float,
//! timestamp,merge,value}.html, widened where go-yaml accepts more (`0o17`, `1e3` without a dot,
//! underscores anywhere in a number, one-digit timestamp fields), so that anything either reads as
//! a non-string counts as one.

use serde_json::Value;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

/// What a plain scalar resolves to under YAML 1.1.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// `tag:yaml.org,2002:null`: `~`, `null`, `Null`, `NULL`, or nothing.
    Null,
    /// `tag:yaml.org,2002:bool`: `y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`.
    Bool(bool),
    /// `tag:yaml.org,2002:int`, with its value when it fits.
    Int(Option<i128>),
    /// `tag:yaml.org,2002:float`, with its value when it can be constructed (`1.2.3` matches the
    /// regex but has none).
    Float(Option<f64>),
    /// `tag:yaml.org,2002:timestamp`.
    Timestamp,
    /// `tag:yaml.org,2002:merge`: `<<`.
    Merge,
    /// `tag:yaml.org,2002:value`: `=`.
    Value,
    /// A string.
    Str,
}

/// Which YAML 1.1 reader resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// The yaml.org regexes as written (PyYAML follows them closely).
    Spec,
    /// The yaml.org regexes widened by what go-yaml v2, kubectl's reader, also accepts.
    Go,
}

/// Resolves a plain scalar under YAML 1.1 as `reader` does.
pub fn resolve(s: &str, reader: Reader) -> Resolved {
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return Resolved::Null;
    }
    const TRUE: [&str; 11] = ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"];
    const FALSE: [&str; 11] = ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"];
    if TRUE.contains(&s) {
        return Resolved::Bool(true);
    }
    if FALSE.contains(&s) {
        return Resolved::Bool(false);
    }
    match s {
        "<<" => return Resolved::Merge,
        "=" => return Resolved::Value,
        _ => {}
    }
    if let Some(v) = int(s, reader) {
        return Resolved::Int(v);
    }
    if let Some(v) = float(s, reader) {
        return Resolved::Float(v);
    }
    if timestamp(s, reader) {
        return Resolved::Timestamp;
    }
    Resolved::Str
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(f)
}

fn split_sign(s: &str) -> (i128, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    }
}

/// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
/// [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`, plus go-yaml's `0o` and upper-case prefixes. `None` inside
/// when the value does not fit.
fn int(s: &str, reader: Reader) -> Option<Option<i128>> {
    let (sign, body) = split_sign(s);
    let go = reader == Reader::Go;
    let digits = |d: &str, radix: u32| -> Option<Option<i128>> {
        let clean: String = d.chars().filter(|c| *c != '_').collect();
        let ok = all(d, |b| b == b'_' || char::from(b).is_digit(radix));
        ok.then(|| i128::from_str_radix(&clean, radix).ok().map(|v| sign * v))
    };
    // Go's strconv.ParseInt(s, 0, 64) also takes `0o` and upper-case prefixes.
    let prefixed = if go { body.to_ascii_lowercase() } else { body.to_owned() };
    if let Some(d) = prefixed.strip_prefix("0b") {
        return digits(d, 2);
    }
    if let Some(d) = prefixed.strip_prefix("0x") {
        return digits(d, 16);
    }
    if let Some(d) = prefixed.strip_prefix("0o").filter(|_| go) {
        return digits(d, 8);
    }
    if body == "0" {
        return Some(Some(0));
    }
    if let Some(d) = body.strip_prefix('0') {
        return digits(d, 8);
    }
    if body.starts_with(|c: char| c.is_ascii_digit()) && all(body, |b| b.is_ascii_digit() || b == b'_') {
        return digits(body, 10);
    }
    // Base 60: 1:30 is 90.
    if let Some((first, rest)) = body.split_once(':')
        && first.starts_with(|c: char| ('1'..='9').contains(&c))
        && all(first, |b| b.is_ascii_digit() || b == b'_')
        && rest.split(':').all(sexagesimal_part)
    {
        let mut value: Option<i128> = first.replace('_', "").parse().ok();
        for part in rest.split(':') {
            value = value.and_then(|v| v.checked_mul(60)).and_then(|v| v.checked_add(part.parse().ok()?));
        }
        return Some(value.map(|v| sign * v));
    }
    None
}

/// `[0-5]?[0-9]`.
fn sexagesimal_part(p: &str) -> bool {
    match p.as_bytes() {
        [d] => d.is_ascii_digit(),
        [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
        _ => false,
    }
}

/// `[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)? | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* |
/// [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)`, plus go-yaml's `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
/// (after removing underscores). `None` inside when the value cannot be constructed.
fn float(s: &str, reader: Reader) -> Option<Option<f64>> {
    let (sign, body) = split_sign(s);
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return Some(Some(sign as f64 * f64::INFINITY));
    }
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return Some(Some(f64::NAN));
    }
    // yaml.org base 10: the exponent needs a sign; the fraction may hold more dots.
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some((whole, fraction)) = mantissa.split_once('.') {
        let whole_ok = whole.is_empty()
            || (whole.starts_with(|c: char| c.is_ascii_digit()) && all(whole, |b| b.is_ascii_digit() || b == b'_'));
        let fraction_ok = fraction.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let exponent_ok = exponent.is_none_or(|e| {
            e.len() > 1 && matches!(e.as_bytes()[0], b'+' | b'-') && all(&e[1..], |b| b.is_ascii_digit())
        });
        if whole_ok && fraction_ok && exponent_ok {
            return Some(s.replace('_', "").parse().ok());
        }
    }
    // Base 60 float: 190:20:30.15.
    if let Some((int_part, fraction)) = body.split_once('.')
        && let Some((first, rest)) = int_part.split_once(':')
        && first.starts_with(|c: char| c.is_ascii_digit())
        && all(first, |b| b.is_ascii_digit() || b == b'_')
        && rest.split(':').all(sexagesimal_part)
        && fraction.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return Some(None);
    }
    if reader == Reader::Spec {
        return None;
    }
    // go-yaml: strconv.ParseFloat on `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    let plain = body.replace('_', "");
    let (m, e) = match plain.find(['e', 'E']) {
        Some(i) => (&plain[..i], Some(&plain[i + 1..])),
        None => (plain.as_str(), None),
    };
    let m_ok = match m.split_once('.') {
        Some(("", f)) => all(f, |b| b.is_ascii_digit()),
        Some((w, f)) => all(w, |b| b.is_ascii_digit()) && f.bytes().all(|b| b.is_ascii_digit()),
        None => all(m, |b| b.is_ascii_digit()),
    };
    let e_ok = e.is_none_or(|e| all(e.strip_prefix(['+', '-']).unwrap_or(e), |b| b.is_ascii_digit()));
    if m_ok && e_ok {
        return Some(s.replace('_', "").parse().ok());
    }
    None
}

/// `[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?` with an optional time
/// `([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?`
/// (yaml.org requires two-digit months for the date-only form; go-yaml does not).
fn timestamp(s: &str, reader: Reader) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, min: usize, max: usize| -> Option<usize> {
        let n = b.get(from..)?.iter().take_while(|c| c.is_ascii_digit()).count();
        (min..=max).contains(&n).then_some(from + n)
    };
    let Some(i) = digits(0, 4, 4) else { return false };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(i) = digits(i + 1, 1, 2) else { return false };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    let Some(mut i) = digits(i + 1, 1, 2) else { return false };
    if i == b.len() {
        // yaml.org's date-only form has two-digit month and day.
        return reader == Reader::Go || i == 10;
    }
    match b[i] {
        b'T' | b't' => i += 1,
        b' ' | b'\t' => {
            while matches!(b.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
        }
        _ => return false,
    }
    let Some(j) = digits(i, 1, 2) else { return false };
    if b.get(j) != Some(&b':') {
        return false;
    }
    let Some(j) = digits(j + 1, 2, 2) else { return false };
    if b.get(j) != Some(&b':') {
        return false;
    }
    let Some(mut j) = digits(j + 1, 2, 2) else { return false };
    if b.get(j) == Some(&b'.') {
        j = digits(j + 1, 0, usize::MAX).unwrap_or(j + 1);
    }
    while matches!(b.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    let rest = &s[j..];
    rest.is_empty()
        || rest == "Z"
        || (rest.starts_with(['+', '-']) && {
            let r = &rest.as_bytes()[1..];
            let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
            (1..=2).contains(&n)
                && (r.len() == n || (r[n] == b':' && r.len() == n + 3 && r[n + 1..].iter().all(u8::is_ascii_digit)))
        })
}

/// A node of the event stream.
#[derive(Debug)]
enum Node {
    Scalar { text: String, plain: bool, tag: Option<String> },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

fn nodes(text: &str) -> Result<Vec<Node>, String> {
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    let mut documents = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| format!("does not parse: {e}"))?;
        let node = match event {
            Event::Scalar(value, style, _, tag) => Some(Node::Scalar {
                text: value.into_owned(),
                plain: style == ScalarStyle::Plain,
                tag: tag.map(|t| t.to_string()),
            }),
            Event::SequenceStart(..) => {
                stack.push((Node::Seq(Vec::new()), None));
                None
            }
            Event::MappingStart(..) => {
                stack.push((Node::Map(Vec::new()), None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => stack.pop().map(|(node, _)| node),
            Event::Alias(_) | Event::UnresolvedAlias(_) => return Err(format!("has an alias at {span:?}")),
            _ => None,
        };
        let Some(node) = node else { continue };
        match stack.last_mut() {
            None => documents.push(node),
            Some((Node::Seq(items), _)) => items.push(node),
            Some((Node::Map(pairs), pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => pairs.push((key, node)),
            },
            Some((Node::Scalar { .. }, _)) => unreachable!("scalars hold no children"),
        }
    }
    Ok(documents)
}

/// How many scalars [`compare`] looked at, and what differed.
#[derive(Debug, Default)]
pub struct Report {
    /// Scalars (keys included) resolved.
    pub scalars: usize,
    /// Every difference, with its path.
    pub errors: Vec<String>,
}

/// Reads `text` (one document) as YAML 1.1 and compares it with `expected`, the value that was
/// serialised: same structure, every string still a string, every number and bool the same value.
pub fn compare(text: &str, expected: &Value) -> Report {
    let mut report = Report::default();
    match nodes(text) {
        Ok(docs) if docs.len() == 1 => walk(&docs[0], expected, "", &mut report),
        Ok(docs) => report.errors.push(format!("holds {} documents, not 1", docs.len())),
        Err(e) => report.errors.push(e),
    }
    report
}

fn walk(node: &Node, expected: &Value, path: &str, report: &mut Report) {
    let at = if path.is_empty() { "." } else { path };
    match (node, expected) {
        (Node::Map(pairs), Value::Object(map)) => {
            if pairs.len() != map.len() {
                report.errors.push(format!("{at}: {} keys, expected {}", pairs.len(), map.len()));
            }
            for (key, value) in pairs {
                let Node::Scalar { text, .. } = key else {
                    report.errors.push(format!("{at}: a key is not a scalar"));
                    continue;
                };
                let child = format!("{path}.{text}");
                walk(key, &Value::String(text.clone()), &format!("{child} (key)"), report);
                match map.get(text) {
                    Some(v) => walk(value, v, &child, report),
                    None => report.errors.push(format!("{child}: unexpected key")),
                }
            }
        }
        (Node::Seq(items), Value::Array(values)) => {
            if items.len() != values.len() {
                report.errors.push(format!("{at}: {} items, expected {}", items.len(), values.len()));
            }
            for (i, (item, value)) in items.iter().zip(values).enumerate() {
                walk(item, value, &format!("{path}[{i}]"), report);
            }
        }
        (Node::Scalar { text, plain, tag }, expected) => {
            report.scalars += 1;
            if let Some(tag) = tag {
                if !(tag == "tag:yaml.org,2002:str" && expected.is_string()) {
                    report.errors.push(format!("{at}: tagged `{tag}`"));
                }
                return;
            }
            for reader in [Reader::Spec, Reader::Go] {
                let resolved = if *plain { resolve(text, reader) } else { Resolved::Str };
                if !same(&resolved, text, expected) {
                    report.errors.push(format!(
                        "{at}: {} `{text}` reads as {resolved:?} under YAML 1.1 ({reader:?}), but {expected} was written",
                        if *plain { "plain" } else { "quoted" }
                    ));
                }
            }
        }
        (node, expected) => report.errors.push(format!("{at}: {node:?} where {expected} was written")),
    }
}

fn same(resolved: &Resolved, text: &str, expected: &Value) -> bool {
    match (resolved, expected) {
        (Resolved::Str, Value::String(s)) => s == text,
        (Resolved::Null, Value::Null) => true,
        (Resolved::Bool(b), Value::Bool(e)) => b == e,
        (Resolved::Int(Some(i)), Value::Number(n)) => {
            n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)) == Some(*i)
                || n.as_f64().is_some_and(|f| n.is_f64() && f == *i as f64)
        }
        (Resolved::Float(Some(f)), Value::Number(n)) => n.as_f64() == Some(*f),
        _ => false,
    }
}
