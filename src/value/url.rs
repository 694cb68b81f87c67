//! `http://` and `https://` URLs a profile names (Elasticsearch, Prometheus): parsed once, so that
//! validation and the NetworkPolicies derived from them read the same host and port.

/// The parts of an `http(s)://host[:port][/path]` URL tracestack uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// The host, without brackets for an IPv6 address.
    pub host: &'a str,
    /// The port given, else the scheme's (80, 443).
    pub port: u16,
}

impl<'a> HttpUrl<'a> {
    /// Parses `url`: scheme `http` or `https`, a host of letters, digits, `.`, `-`, `_` (or a
    /// bracketed IPv6 address), an optional port from 1 to 65535 (Go's `net/url` and the dialer
    /// refuse others, and a NetworkPolicy port must be 1–65535), no user-info (credentials would be
    /// written into a ConfigMap) and nothing that is not a URL character.
    ///
    /// # Errors
    /// A message naming the URL and the part that is wrong.
    pub fn parse(url: &'a str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{url}` must be an `http://` or `https://` URL: {why}");
        let (scheme, rest, default) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest, 443)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest, 80)
        } else {
            return Err(bad("the scheme is neither"));
        };
        // RFC 3986 unreserved, reserved and `%`: everything else (spaces, quotes, backticks,
        // newlines) would need escaping wherever the URL is written.
        if let Some(c) = url.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(*c))) {
            return Err(bad(&format!("{c:?} is not a URL character (percent-encode it)")));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            // The URL itself is not repeated: it holds a password.
            return Err(
                "the URL carries credentials (`user:password@`); they would be written into a ConfigMap and the runbook: drop them from the URL, and for Elasticsearch put them in a Secret named in `jaeger.storage.elasticsearch.credentials` (`secret`, `username_key`, `password_key`)"
                .to_owned());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("an IPv6 address lacks its `]`"))?;
            if host.is_empty() || !host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                return Err(bad("the IPv6 address is malformed"));
            }
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or_else(|| bad("text follows the IPv6 address"))?)),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        if !authority.starts_with('[') && !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
            return Err(bad(&format!("the host `{host}` must be letters, digits, `.`, `-` or `_`")));
        }
        let port = match port {
            None => default,
            Some(p) => match p.parse::<u32>() {
                Ok(n @ 1..=65535) if p.bytes().all(|b| b.is_ascii_digit()) => u16::try_from(n).unwrap_or(default),
                _ => return Err(bad(&format!("the port `{p}` must be a number from 1 to 65535"))),
            },
        };
        Ok(Self { scheme, host, port })
    }

    /// The namespace of an in-cluster `name.namespace.svc[.cluster.local]` host, else `None`.
    #[must_use]
    pub fn namespace(&self) -> Option<&'a str> {
        let labels: Vec<&str> = self.host.split('.').collect();
        (labels.len() >= 3 && labels[2] == "svc").then(|| labels[1])
    }
}

#[cfg(test)]
mod tests {
    use super::HttpUrl;

    #[test]
    fn urls_give_host_port_and_namespace() {
        let u = HttpUrl::parse("https://es-http.elastic.svc:9200/x?y=1").expect("valid");
        assert_eq!((u.scheme, u.host, u.port, u.namespace()), ("https", "es-http.elastic.svc", 9200, Some("elastic")));
        let u = HttpUrl::parse("http://[fd00::1]").expect("valid");
        assert_eq!((u.host, u.port, u.namespace()), ("fd00::1", 80, None));
        assert_eq!(HttpUrl::parse("https://es.example.com").map(|u| u.port), Ok(443));
    }

    #[test]
    fn bad_urls_are_refused_naming_the_part() {
        for (url, why) in [
            ("es:9200", "the scheme is neither"),
            ("https://es:0", "the port `0` must be a number from 1 to 65535"),
            ("https://es:65536", "the port `65536`"),
            ("https://es:+80", "the port `+80`"),
            ("https://es:", "the port ``"),
            ("https://", "the host is missing"),
            ("https://:9200", "the host is missing"),
            ("https://e$s:9200", "the host `e$s`"),
            ("https://es:9200/a b", "' ' is not a URL character"),
            ("https://es:9200/\n", "'\\n' is not a URL character"),
            ("https://es:9200/`id`", "'`' is not a URL character"),
            ("https://[fd00::1:9200", "lacks its `]`"),
        ] {
            let err = HttpUrl::parse(url).expect_err(url);
            assert!(err.contains(why), "{url}: {err}");
        }
        let err = HttpUrl::parse("https://elastic:s3cret@es:9200").expect_err("credentials");
        assert!(
            err.contains("carries credentials") && err.contains("jaeger.storage.elasticsearch.credentials"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "the message repeats the password: {err}");
    }
}
