//! A stand-in Elasticsearch for the `metrics` suite: enough of the HTTP API for Jaeger's writer and
//! reader to start (version ping, index templates, searches answered empty) and for its bulk writes
//! to succeed — or, in `fail` mode, to fail as a whole (HTTP 500), as a down or overloaded cluster
//! answers. It runs as a process of its own (`cargo xtask e2e-fake-es`) in a simulated pod, so
//! Jaeger reaches it by a Service-like name through its hosts file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Serves forever on `listen`.
pub fn serve(listen: &str, fail: bool) -> Result<(), String> {
    let listener = TcpListener::bind(listen).map_err(|e| format!("{listen}: {e}"))?;
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || {
            let _ = connection(stream, fail);
        });
    }
    Ok(())
}

/// One keep-alive connection: requests until the client closes it.
fn connection(stream: TcpStream, fail: bool) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut close = parts.next() == Some("HTTP/1.0");
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "connection" => close = value.trim().eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let body = if chunked { read_chunked(&mut reader)? } else { read_exact(&mut reader, length)? };
        let (status, answer) = answer(&method, &path, &body, fail);
        let text = if method == "HEAD" { String::new() } else { answer };
        write!(
            writer,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\nContent-Length: {}\r\n\r\n{text}",
            if method == "HEAD" { 0 } else { text.len() }
        )?;
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}

fn read_exact(reader: &mut impl Read, length: usize) -> std::io::Result<Vec<u8>> {
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        let mut chunk = read_exact(reader, n + 2)?;
        chunk.truncate(n);
        body.extend(chunk);
        if n == 0 {
            return Ok(body);
        }
    }
}

fn answer(method: &str, path: &str, body: &[u8], fail: bool) -> (&'static str, String) {
    let path = path.split('?').next().unwrap_or_default();
    if path.ends_with("/_bulk") {
        if fail {
            return (
                "500 Internal Server Error",
                r#"{"error":{"type":"e2e_outage","reason":"Elasticsearch is failing on purpose"},"status":500}"#.into(),
            );
        }
        // One successful item per action line (every other line is a document).
        let text = String::from_utf8_lossy(body);
        let actions = text.lines().filter(|l| !l.trim().is_empty()).step_by(2).count();
        let items: Vec<String> = (0..actions)
            .map(|i| format!(r#"{{"index":{{"_index":"jaeger","_id":"{i}","status":201,"result":"created"}}}}"#))
            .collect();
        return ("200 OK", format!(r#"{{"took":1,"errors":false,"items":[{}]}}"#, items.join(",")));
    }
    if method == "GET" && (path == "/" || path.is_empty()) {
        return (
            "200 OK",
            r#"{"name":"e2e","cluster_name":"e2e","version":{"number":"8.15.0","build_flavor":"default"},"tagline":"You Know, for Search"}"#.into(),
        );
    }
    if path.ends_with("/_search") || path.ends_with("/_msearch") {
        return ("200 OK", r#"{"took":1,"hits":{"total":{"value":0},"hits":[]},"responses":[]}"#.into());
    }
    ("200 OK", r#"{"acknowledged":true}"#.into())
}
