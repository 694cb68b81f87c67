//! Kubernetes name and label rules (DNS-1123 labels and subdomains, label values, qualified names) and "did you mean" spelling suggestions.

/// Longest DNS-1123 label, label value or qualified-name name part.
const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
const SUBDOMAIN_MAX: usize = 253;

/// What a DNS-1123 label must look like.
const LABEL_RULE: &str =
    "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/// What a DNS-1123 subdomain must look like.
const SUBDOMAIN_RULE: &str = "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/// What a label value (or the name part of a qualified name) must look like.
const VALUE_RULE: &str =
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Checks a DNS-1123 label, as Kubernetes requires of most object names (Services,
/// Namespaces, container and port names): at most 63 characters, lower case alphanumeric or
/// `-`, starting and ending with an alphanumeric character.
///
/// # Errors
///
/// Returns a message naming the text and every rule it breaks, e.g. "`My_App` is not a valid
/// DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start
/// and end with an alphanumeric character (did you mean `my-app`?)".
pub fn dns1123_label(s: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    if s.is_empty() {
        problems.push("it must not be empty".to_owned());
    } else {
        if s.len() > LABEL_MAX {
            problems.push(format!("it must be no more than {LABEL_MAX} characters"));
        }
        if !is_label(s) {
            problems.push(format!("it {LABEL_RULE}"));
        }
    }
    finish(s, "a valid DNS-1123 label", &problems, false, |fix| fix.len() <= LABEL_MAX && is_label(fix))
}

/// Checks a DNS-1123 subdomain, as Kubernetes requires of some object names (`ConfigMap`,
/// `Secret`, `Deployment`) and of label-key prefixes: at most 253 characters, DNS-1123 labels
/// joined with `.`.
///
/// Like Kubernetes, this does not limit the length of each dot-separated part.
///
/// # Errors
///
/// Returns a message naming the text and every rule it breaks, e.g. "`a..b` is not a valid
/// DNS-1123 subdomain: it must consist of lower case alphanumeric characters, '-' or '.', and
/// must start and end with an alphanumeric character".
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    let problems = subdomain_problems(s, "it");
    finish(s, "a valid DNS-1123 subdomain", &problems, true, |fix| fix.len() <= SUBDOMAIN_MAX && is_subdomain(fix))
}

/// The DNS-1123 subdomain rules `s` breaks, each starting with `subject` ("it", "the prefix").
fn subdomain_problems(s: &str, subject: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if s.is_empty() {
        problems.push(format!("{subject} must not be empty"));
    } else {
        if s.len() > SUBDOMAIN_MAX {
            problems.push(format!("{subject} must be no more than {SUBDOMAIN_MAX} characters"));
        }
        if !is_subdomain(s) {
            problems.push(format!("{subject} {SUBDOMAIN_RULE}"));
        }
    }
    problems
}

/// Checks a Kubernetes label value: empty, or at most 63 characters of alphanumerics, `-`,
/// `_` and `.`, starting and ending with an alphanumeric character.
///
/// # Errors
///
/// Returns a message naming the text and every rule it breaks, e.g. "`-x` is not a valid label
/// value: it must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start
/// and end with an alphanumeric character".
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    if s.len() > LABEL_MAX {
        problems.push(format!("it must be no more than {LABEL_MAX} characters"));
    }
    if !is_value(s) {
        problems.push(format!("it must be empty or {VALUE_RULE}"));
    }
    finish(s, "a valid label value", &problems, false, |_| false)
}

/// Checks a Secret or ConfigMap key as Kubernetes does (`IsConfigMapKey` in apimachinery's
/// `util/validation`): 1–253 letters, digits, `-`, `_` or `.`, and not `.` or `..` or starting
/// with `..`. Such a key is also a plain shell word and a file name.
///
/// # Errors
///
/// A message naming the key and the rule.
pub fn secret_key(s: &str) -> Result<(), String> {
    let chars_ok =
        !s.is_empty() && s.len() <= 253 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if chars_ok && s != "." && !s.starts_with("..") {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a valid Secret key: it must be 1–253 letters, digits, '-', '_' or '.', and not '.', '..' or start with '..'"
        ))
    }
}

/// Checks a Kubernetes qualified name, the form of label and annotation keys: an optional
/// DNS-1123 subdomain prefix and `/`, then a name part of at most 63 alphanumerics, `-`, `_`
/// and `.`, starting and ending with an alphanumeric character (`app`,
/// `app.kubernetes.io/name`).
///
/// # Errors
///
/// Returns a message naming the text and every rule it breaks, e.g. "`a/b/c` is not a valid
/// qualified name: it must be a name part with an optional DNS-1123 subdomain prefix and '/'
/// (e.g. `example.com/my-name`)".
pub fn qualified_name(s: &str) -> Result<(), String> {
    if is_qualified_name(s) {
        return Ok(());
    }
    let mut problems = Vec::new();
    let mut parts = s.splitn(3, '/');
    let name = match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, None) => Some(name),
        (Some(prefix), Some(name), None) => {
            if prefix.is_empty() {
                problems.push("the prefix before '/' must not be empty".to_owned());
            } else {
                problems.extend(subdomain_problems(prefix, "the prefix"));
            }
            Some(name)
        }
        _ => {
            problems.push(
                "it must be a name part with an optional DNS-1123 subdomain prefix and '/' (e.g. `example.com/my-name`)"
                    .to_owned(),
            );
            None
        }
    };
    if let Some(name) = name {
        if name.is_empty() {
            problems.push("the name part must not be empty".to_owned());
        } else {
            if name.len() > LABEL_MAX {
                problems.push(format!("the name part must be no more than {LABEL_MAX} characters"));
            }
            if !is_value(name) {
                problems.push(format!("the name part must {VALUE_RULE}"));
            }
        }
    }
    finish(s, "a valid qualified name", &problems, false, |_| false)
}

/// Turns a list of broken rules into the error message, adding a "did you mean" when a simple
/// clean-up of `s` (see [`clean_up`]) passes `accepts`.
fn finish(
    s: &str,
    what: &str,
    problems: &[String],
    keep_dots: bool,
    accepts: impl Fn(&str) -> bool,
) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    let fix = clean_up(s, keep_dots);
    let hint =
        if !fix.is_empty() && fix != s && accepts(&fix) { format!(" (did you mean `{fix}`?)") } else { String::new() };
    let subject = if s.is_empty() { "an empty string".to_owned() } else { format!("`{s}`") };
    Err(format!("{subject} is not {what}: {}{hint}", problems.join("; ")))
}

/// Lower-cases `s`, replaces runs of characters other than `[a-z0-9]` (and `.` when
/// `keep_dots`) with one `-` and trims `-` and `.` from both ends.
fn clean_up(s: &str, keep_dots: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || (keep_dots && c == '.') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches(['-', '.']).to_owned()
}

/// Whether `s` matches `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (length not checked).
fn is_label(s: &str) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-'),
        _ => false,
    }
}

/// Whether `s` is DNS-1123 labels joined with `.` (length not checked), in one pass over its
/// bytes: every `.` ends a non-empty label, and no label starts or ends with `-`.
fn is_subdomain(s: &str) -> bool {
    let mut prev = b'.';
    for &b in s.as_bytes() {
        let ok = match b {
            b'a'..=b'z' | b'0'..=b'9' => true,
            b'-' => prev != b'.',
            b'.' => prev != b'.' && prev != b'-',
            _ => false,
        };
        if !ok {
            return false;
        }
        prev = b;
    }
    prev != b'.' && prev != b'-'
}

/// Whether [`qualified_name`] accepts `s`, decided without building a message.
fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.as_bytes().iter().position(|&b| b == b'/') {
        Some(slash) => (Some(&s[..slash]), &s[slash + 1..]),
        None => (None, s),
    };
    prefix.is_none_or(|p| p.len() <= SUBDOMAIN_MAX && is_subdomain(p)) && name.len() <= LABEL_MAX && is_value(name)
}

/// Whether `s` matches `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` (length not checked).
fn is_value(s: &str) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// Finds the candidate closest to `word`, for "did you mean" hints.
///
/// Words are compared case-insensitively and ignoring `-` and `_`, so separators and camelCase
/// humps make no difference (`sendingQueue`, `sending-queue` and `Sending_Queue` all equal
/// `sending_queue`). The distance is the optimal-string-alignment (restricted
/// Damerau-Levenshtein) distance between these normalised forms, counted in characters; a
/// candidate is only suggested when it is at most `max(1, n / 3)` away, where `n` is the number
/// of characters in the normalised `word`. Ties go to the earliest candidate. A `word` that
/// normalises to nothing suggests nothing; a candidate equal to `word` is returned as is.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let target = normalise(word);
    if target.is_empty() {
        return None;
    }
    let limit = (target.len() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let other = normalise(candidate);
        let bound = best.map_or(limit, |(d, _)| d.saturating_sub(1).min(limit));
        if let Some(d) = osa_distance(&target, &other, bound)
            && best.is_none_or(|(best_d, _)| d < best_d)
        {
            best = Some((d, candidate));
            if d == 0 {
                break;
            }
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The characters of `s`, lower-cased, without `-` and `_`.
fn normalise(s: &str) -> Vec<char> {
    s.chars().filter(|c| !matches!(c, '-' | '_')).flat_map(char::to_lowercase).collect()
}

/// The optimal-string-alignment distance between `a` and `b`, or `None` when it exceeds
/// `bound`.
fn osa_distance(a: &[char], b: &[char], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let width = b.len().checked_add(1)?;
    // Three rolling rows: two rows back (for transpositions), the previous one and the current.
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for (i, ca) in a.iter().enumerate() {
        let row = i.checked_add(1)?;
        if let Some(first) = current.first_mut() {
            *first = row;
        }
        let mut row_min = row;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let up = previous.get(j.checked_add(1)?)?.saturating_add(1);
            let left = current.get(j)?.saturating_add(1);
            let diagonal = previous.get(j)?.saturating_add(cost);
            let mut d = up.min(left).min(diagonal);
            if let (Some(pi), Some(pj)) = (i.checked_sub(1), j.checked_sub(1))
                && ca != cb
                && a.get(pi) == Some(cb)
                && b.get(pj) == Some(ca)
            {
                d = d.min(before.get(pj)?.saturating_add(1));
            }
            *current.get_mut(j.checked_add(1)?)? = d;
            row_min = row_min.min(d);
        }
        if row_min > bound {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let d = *previous.last()?;
    (d <= bound).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to `max` characters drawn from `alphabet`.
    fn strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn the_one_pass_checks_agree_with_the_rules_they_implement() {
        // The rules as Kubernetes states them: labels joined with `.`; an optional subdomain
        // prefix and `/`, then a name part.
        let subdomain = |s: &str| s.split('.').all(is_label);
        let qualified = |s: &str| {
            let parts: Vec<&str> = s.split('/').collect();
            let (prefix, name) = match parts.as_slice() {
                [name] => (None, *name),
                [prefix, name] => (Some(*prefix), *name),
                _ => return false,
            };
            prefix.is_none_or(|p| p.len() <= SUBDOMAIN_MAX && subdomain(p)) && name.len() <= LABEL_MAX && is_value(name)
        };
        let cases = strings(&['a', '0', '-', '.', '/', 'A', '_'], 6);
        assert_eq!(cases.len(), 137_257);
        for s in &cases {
            assert_eq!(is_subdomain(s), subdomain(s), "{s:?}");
            assert_eq!(is_qualified_name(s), qualified(s), "{s:?}");
            assert_eq!(qualified_name(s).is_ok(), qualified(s), "{s:?}");
        }
    }

    /// The error message of a check that must fail.
    fn message(result: Result<(), String>) -> String {
        match result {
            Ok(()) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn labels_follow_dns_1123() {
        for ok in ["a", "0", "my-app", "a-b-c", "123-abc", &"a".repeat(63)] {
            assert_eq!(dns1123_label(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            message(dns1123_label("My_App")),
            "`My_App` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `my-app`?)"
        );
        assert_eq!(
            message(dns1123_label("-app")),
            "`-app` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `app`?)"
        );
        assert_eq!(
            message(dns1123_label("a.b")),
            "`a.b` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `a-b`?)"
        );
        assert_eq!(
            message(dns1123_label("--")),
            "`--` is not a valid DNS-1123 label: it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
        );
        assert_eq!(message(dns1123_label("")), "an empty string is not a valid DNS-1123 label: it must not be empty");
        let long = "a".repeat(64);
        assert_eq!(
            message(dns1123_label(&long)),
            format!("`{long}` is not a valid DNS-1123 label: it must be no more than 63 characters")
        );
        let long = format!("{}_", "a".repeat(63));
        assert_eq!(
            message(dns1123_label(&long)),
            format!(
                "`{long}` is not a valid DNS-1123 label: it must be no more than 63 characters; it must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (did you mean `{}`?)",
                "a".repeat(63)
            )
        );
        assert!(message(dns1123_label("ünï")).contains("lower case alphanumeric"));
    }

    #[test]
    fn subdomains_are_labels_joined_by_dots() {
        for ok in ["a", "example.com", "a-1.b-2.c", &"a".repeat(100), "a.".repeat(126).trim_end_matches('.')] {
            assert_eq!(dns1123_subdomain(ok), Ok(()), "{ok}");
        }
        for bad in ["a..b", ".a", "a.", "a.-b", "A.b", "a_b.c"] {
            assert_eq!(
                message(dns1123_subdomain(bad)),
                format!(
                    "`{bad}` is not a valid DNS-1123 subdomain: it must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character{}",
                    match bad {
                        "A.b" => " (did you mean `a.b`?)",
                        ".a" | "a." => " (did you mean `a`?)",
                        "a_b.c" => " (did you mean `a-b.c`?)",
                        _ => "",
                    }
                )
            );
        }
        let long = "a".repeat(254);
        assert_eq!(
            message(dns1123_subdomain(&long)),
            format!("`{long}` is not a valid DNS-1123 subdomain: it must be no more than 253 characters")
        );
        assert_eq!(
            message(dns1123_subdomain("")),
            "an empty string is not a valid DNS-1123 subdomain: it must not be empty"
        );
    }

    #[test]
    fn label_values() {
        for ok in ["", "a", "A", "v1.2.3", "my_value-1", "Z9", &"x".repeat(63)] {
            assert_eq!(label_value(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            message(label_value("-x")),
            "`-x` is not a valid label value: it must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        );
        assert_eq!(
            message(label_value("a b")),
            "`a b` is not a valid label value: it must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        );
        let long = "x".repeat(64);
        assert_eq!(
            message(label_value(&long)),
            format!("`{long}` is not a valid label value: it must be no more than 63 characters")
        );
    }

    #[test]
    fn qualified_names() {
        for ok in ["app", "MyName", "my.name", "123-abc", "app.kubernetes.io/name", "example.com/My_Name"] {
            assert_eq!(qualified_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            message(qualified_name("a/b/c")),
            "`a/b/c` is not a valid qualified name: it must be a name part with an optional DNS-1123 subdomain prefix and '/' (e.g. `example.com/my-name`)"
        );
        assert_eq!(
            message(qualified_name("/name")),
            "`/name` is not a valid qualified name: the prefix before '/' must not be empty"
        );
        assert_eq!(
            message(qualified_name("example.com/")),
            "`example.com/` is not a valid qualified name: the name part must not be empty"
        );
        assert_eq!(
            message(qualified_name("")),
            "an empty string is not a valid qualified name: the name part must not be empty"
        );
        assert_eq!(
            message(qualified_name("Example.com/name")),
            "`Example.com/name` is not a valid qualified name: the prefix must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        );
        assert_eq!(
            message(qualified_name("example.com/-name")),
            "`example.com/-name` is not a valid qualified name: the name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        );
        let long = format!("{}/x", "a".repeat(254));
        assert_eq!(
            message(qualified_name(&long)),
            format!("`{long}` is not a valid qualified name: the prefix must be no more than 253 characters")
        );
        let long = "n".repeat(64);
        assert_eq!(
            message(qualified_name(&long)),
            format!("`{long}` is not a valid qualified name: the name part must be no more than 63 characters")
        );
    }

    #[test]
    fn suggests_close_spellings() {
        let keys = ["collector", "resources", "sending_queue", "server_urls", "memory", "cpu"];
        assert_eq!(suggest("colector", keys), Some("collector"));
        assert_eq!(suggest("resouces", keys), Some("resources"));
        assert_eq!(suggest("sendin_queu", keys), Some("sending_queue")); // 2 edits, 11 long
        assert_eq!(suggest("rseources", keys), Some("resources")); // one transposition
        assert_eq!(suggest("Memory", keys), Some("memory"));
        assert_eq!(suggest("cpus", keys), Some("cpu"));
        assert_eq!(suggest("xyz", keys), None);
        assert_eq!(suggest("mem", keys), None);
        assert_eq!(suggest("", keys), None);
        assert_eq!(suggest("memory", keys), Some("memory"));
        assert_eq!(suggest("anything", std::iter::empty()), None);
    }

    #[test]
    fn separators_and_camel_case_are_equivalent() {
        let keys = ["collector", "sending_queue", "server_urls", "http_server"];
        assert_eq!(suggest("sendingQueue", keys), Some("sending_queue"));
        assert_eq!(suggest("server-urls", keys), Some("server_urls"));
        assert_eq!(suggest("Server_URLs", keys), Some("server_urls"));
        assert_eq!(suggest("HTTPServer", keys), Some("http_server"));
        assert_eq!(suggest("sending_queue", ["sendingQueue"]), Some("sendingQueue"));
        assert_eq!(normalise("sendingQueue"), normalise("sending_queue"));
        assert_eq!(normalise("Server-URLs"), normalise("server_urls"));
        assert_eq!(suggest("_-_", keys), None);
        // The allowed distance comes from the normalised length (6, so 2 edits), not 11.
        assert_eq!(suggest("a_b_c_d_e_f", ["abcdxy"]), Some("abcdxy"));
        assert_eq!(suggest("a_b_c_d_e_f", ["abcxyz"]), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(suggest("cat", ["bat", "hat", "cat1"]), Some("bat"));
        assert_eq!(suggest("cat", ["hat", "bat"]), Some("hat"));
        // A later exact (normalised) match still wins over an earlier near one.
        assert_eq!(suggest("sendingQueue", ["sending_queues", "sending_queue"]), Some("sending_queue"));
    }

    #[test]
    fn distance_is_optimal_string_alignment() {
        let d = |a: &str, b: &str| {
            let a: Vec<char> = a.chars().collect();
            let b: Vec<char> = b.chars().collect();
            osa_distance(&a, &b, usize::MAX)
        };
        assert_eq!(d("", ""), Some(0));
        assert_eq!(d("abc", ""), Some(3));
        assert_eq!(d("", "abc"), Some(3));
        assert_eq!(d("kitten", "sitting"), Some(3));
        assert_eq!(d("ab", "ba"), Some(1));
        assert_eq!(d("ca", "abc"), Some(3)); // OSA, not unrestricted Damerau (2)
        assert_eq!(d("héllo", "hello"), Some(1));
        let a: Vec<char> = "abcdef".chars().collect();
        let b: Vec<char> = "uvwxyz".chars().collect();
        assert_eq!(osa_distance(&a, &b, 2), None);
    }
}
