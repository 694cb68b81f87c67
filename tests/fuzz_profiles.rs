//! A bounded, deterministic fuzz run of the profile loader and renderer: the real profiles with their
//! bytes flipped, inserted, deleted, duplicated and keys spliced between them, 20,000 times with a
//! fixed seed. Whatever the bytes, `load_bytes` returns a profile or an error naming the file and
//! never panics, and a profile that loads renders (validation catches everything rendering would);
//! and the layering writer turns each into a document that loads exactly as the original does.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};

use support::Rng;
use tracestack::render::{self, Source};

/// Bytes that matter to YAML and to the profile's values.
const INTERESTING: &[&[u8]] = &[
    b":",
    b"- ",
    b"\n",
    b"  ",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!str ",
    b"!!binary ",
    b"|",
    b">",
    b"\"",
    b"'",
    b"#",
    b"~",
    b"null",
    b"on",
    b"0x10",
    b"1e400",
    b"-1",
    b"4294967296",
    b"18446744073709551616",
    b"NaN",
    b".inf",
    b"0.0",
    b"150",
    b"1:30",
    b"2024-01-01",
    b"\t",
    b"\r",
    b"\xff",
    b"\xc3",
    b"\0",
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n",
    b"? ",
    b"\xef\xbb\xbf",
    b"0",
    b"Mi",
    b"Ki",
    b"m",
    b"Ei",
    b"e9",
    b"99999999999999999999Gi",
];

fn mutate(rng: &mut Rng, seeds: &[&[u8]]) -> Vec<u8> {
    let mut bytes = seeds[rng.below(seeds.len())].to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            // Flip one bit.
            0 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            // Insert an interesting token.
            1 => {
                let token = INTERESTING[rng.below(INTERESTING.len())];
                bytes.splice(at..at, token.iter().copied());
            }
            // Delete a run.
            2 => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            // Duplicate a run (repeated keys, deeper nesting).
            3 => {
                let end = (at + rng.below(64)).min(bytes.len());
                let run = bytes[at.min(end)..end].to_vec();
                bytes.splice(at..at, run);
            }
            // Splice a line from another profile (keys from one section into another).
            4 => {
                let other = seeds[rng.below(seeds.len())];
                let lines: Vec<&[u8]> = other.split(|b| *b == b'\n').collect();
                let line = lines[rng.below(lines.len())];
                let line_start = bytes[..at].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                let mut insert = line.to_vec();
                insert.push(b'\n');
                bytes.splice(line_start..line_start, insert);
            }
            // Replace a byte with a random one.
            _ if at < bytes.len() => bytes[at] = rng.next() as u8,
            _ => {}
        }
    }
    bytes
}

#[test]
fn mutated_profiles_never_panic() {
    let demo = std::fs::read("profiles/demo.yaml").expect("profiles/demo.yaml");
    let prod = std::fs::read("profiles/prod-elasticsearch.yaml").expect("profiles/prod-elasticsearch.yaml");
    let seeds: [&[u8]; 2] = [&demo, &prod];
    let mut rng = Rng(0x6675_7a7a_7072_6f66);
    let (mut rejected, mut loaded) = (0_usize, 0_usize);
    let iterations = 20_000;
    let source = Source { profile: "fuzz".into(), origin: "fuzz.yaml".into() };
    for i in 0..iterations {
        let bytes = mutate(&mut rng, &seeds);
        let outcome =
            catch_unwind(AssertUnwindSafe(|| match tracestack::model::load::load_bytes("fuzz.yaml", &bytes) {
                Err(e) => {
                    let text = e.to_string();
                    assert!(text.starts_with("fuzz.yaml"), "an error without the file name: {text}");
                    (false, false)
                }
                Ok(profile) => match render::render_profile(&profile, &source) {
                    Ok(_) => (true, true),
                    Err(e) => panic!("a profile that loads must render, but: {e}"),
                },
            }));
        match outcome {
            Ok((false, _)) => rejected += 1,
            Ok((true, _)) => loaded += 1,
            Err(_) => panic!("iteration {i} panicked on input:\n{}", String::from_utf8_lossy(&bytes)),
        }
    }
    eprintln!("fuzz: {iterations} mutated profiles: {rejected} rejected with an error, {loaded} loaded and rendered");
    // The mutations must be neither all harmless nor all fatal, or the run explores nothing.
    assert!(rejected > iterations / 10 && loaded > iterations / 10, "{rejected} rejected, {loaded} loaded");
}

/// The layering path writes a merged document for the single-file loader: for every mutated
/// profile its tree parses, the written document loads exactly when the original does, to the same
/// profile, and nothing panics.
#[test]
fn the_layering_writer_keeps_what_a_profile_says() {
    use tracestack::model::layers::Node;
    use tracestack::model::load::load_str;
    let demo = std::fs::read("profiles/demo.yaml").expect("profiles/demo.yaml");
    let prod = std::fs::read("profiles/prod-elasticsearch.yaml").expect("profiles/prod-elasticsearch.yaml");
    let istio = std::fs::read("profiles/istio-demo.yaml").expect("profiles/istio-demo.yaml");
    let seeds: [&[u8]; 3] = [&demo, &prod, &istio];
    let mut rng = Rng(0x6c61_7965_7273_0001);
    let (mut compared, mut refused) = (0_usize, 0_usize);
    let iterations = 5_000;
    for i in 0..iterations {
        let bytes = mutate(&mut rng, &seeds);
        let Ok(text) = std::str::from_utf8(&bytes) else { continue };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let Ok(tree) = Node::parse(0, text) else { return None };
            let (written, lines) = tree.write();
            assert_eq!(written.lines().count(), lines.len(), "one source position per written line");
            Some((load_str("fuzz.yaml", text).ok(), load_str("fuzz.yaml", &written).ok(), written))
        }));
        match outcome {
            Err(_) => panic!("iteration {i} panicked on input:\n{text}"),
            Ok(None) => refused += 1,
            Ok(Some((original, merged, written))) => {
                compared += 1;
                assert_eq!(merged, original, "iteration {i}:\n{text}\n--- written:\n{written}");
            }
        }
    }
    eprintln!("layering fuzz: {compared} trees written and compared, {refused} refused by the tree parser");
    assert!(compared > iterations / 5, "{compared} compared");
}
