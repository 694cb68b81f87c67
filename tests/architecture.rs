//! The layers of ARCHITECTURE.md, read from the source: every `crate::` and `super::` path in
//! `src/` (in `use` statements, grouped or not, and inline) must lead to the module's own layer or
//! one below it, and no two modules may import each other, directly or around a cycle.
//!
//! Comments, string literals and `#[cfg(test)]` items are not read: a unit test may build a whole
//! stack to test a piece of it. ARCHITECTURE.md's map must rank the same modules the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every top-level module of `src/` with its layer, lowest first; the crate root (`lib.rs`) is
/// above them all. A module imports only from its own layer or below.
const LAYERS: &[(&str, u8)] = &[
    ("value", 0),
    ("format", 1),
    ("config", 2),
    ("model", 3),
    ("check", 4),
    ("components", 5),
    ("stack", 5),
    ("render", 6),
    ("io", 7),
    ("error", 8),
];

#[test]
fn modules_import_only_their_own_layer_or_below_and_form_no_cycle() {
    let mut files = Vec::new();
    read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path(), "", &mut files);
    assert!(files.len() > 40, "expected the crate's sources, found {}", files.len());
    let problems = check(&files, LAYERS);
    assert!(problems.is_empty(), "{} architecture problem(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn architecture_md_maps_the_same_layers() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md is readable");
    // Rows `| 5 components | `src/components/` | ...`: a rank, then the folders and files.
    let mut mapped = BTreeSet::new();
    for row in text.lines().filter_map(|line| line.strip_prefix("| ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let Some(rank) = cells[0].split(' ').next().and_then(|n| n.parse::<u8>().ok()) else { continue };
        for path in cells.get(1).map_or("", |c| *c).split(", ") {
            let name = path.trim_matches('`').trim_start_matches("src/").trim_end_matches('/').trim_end_matches(".rs");
            if name != "lib" {
                mapped.insert((name.to_owned(), rank));
            }
        }
    }
    let layers: BTreeSet<(String, u8)> = LAYERS.iter().map(|(name, rank)| ((*name).to_owned(), *rank)).collect();
    assert_eq!(mapped, layers, "ARCHITECTURE.md's map and LAYERS disagree");
}

#[test]
fn the_scanner_finds_an_upward_import_and_a_cycle() {
    let files = [
        ("lib.rs", "mod low;\nmod high;\n"),
        // A grouped import reaching up; the comment above it does not count.
        (
            "low/mod.rs",
            "//! Low: `crate::high` in a comment does not count.\nmod a;\nmod b;\nuse crate::{\n    high::{self, H},\n};\n",
        ),
        // `a` and `b` import each other, by `super::` and by an inline path; neither the string
        // nor the test module counts.
        ("low/a.rs", "use super::b::B;\nconst S: &str = \"crate::high::H\";\n"),
        (
            "low/b.rs",
            "fn f() -> u8 {\n    crate::low::a::A\n}\n#[cfg(test)]\nmod tests {\n    use crate::high::H;\n}\n",
        ),
        ("high.rs", "pub struct H;\n"),
    ];
    let files: Vec<(String, String)> = files.iter().map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect();
    assert_eq!(
        check(&files, &[("low", 0), ("high", 1)]),
        [
            "src/low/mod.rs:4: `crate::high` reaches up from layer 0 (`low`) to layer 1 (`high`)",
            "cycle: low::a -> low::b -> low::a (src/low/a.rs:1, src/low/b.rs:2)",
        ]
    );
}

#[test]
fn the_scanner_reads_paths_in_every_form() {
    let text = "use crate::a::{b::{self, C}, d as e, f::*};\nfn g() { crate::h::i::<u8>(super::j::K) }\n";
    let paths: Vec<(usize, String)> = references(&["x".into(), "y".into()], &without_tests(blank(text)))
        .into_iter()
        .map(|(n, p)| (n, p.join("::")))
        .collect();
    assert_eq!(
        paths,
        [(1, "a::b"), (1, "a::b::C"), (1, "a::d"), (1, "a::f"), (2, "h::i"), (2, "x::j::K")]
            .map(|(n, p)| (n, p.to_owned()))
    );
}

/// `(path relative to src/, text)` of every `.rs` file below `dir`.
fn read_dir(dir: &Path, prefix: &str, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("src/ is readable").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).expect("UTF-8 file name").to_owned();
        if path.is_dir() {
            read_dir(&path, &format!("{prefix}{name}/"), files);
        } else if name.ends_with(".rs") {
            files.push((format!("{prefix}{name}"), std::fs::read_to_string(&path).expect("readable")));
        }
    }
}

type Module = Vec<String>;

/// The module a file defines: `lib.rs` → the root, `a/mod.rs` and `a.rs` → `a`, `a/b.rs` → `a::b`.
fn module_of(file: &str) -> Module {
    let mut parts: Module = file.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Every problem in `files`: imports from a higher layer, modules in no layer, paths that name no
/// module, and cycles between sibling modules (at every depth).
fn check(files: &[(String, String)], layers: &[(&str, u8)]) -> Vec<String> {
    let blanked: Vec<(&String, Module, String)> =
        files.iter().map(|(file, text)| (file, module_of(file), blank(text))).collect();
    let modules: BTreeSet<Module> = blanked.iter().map(|(_, module, _)| module.clone()).collect();
    let tests: BTreeSet<Module> = blanked.iter().flat_map(|(_, module, code)| test_modules(module, code)).collect();
    let rank = |module: &Module| match module.first() {
        None => Some(u8::MAX),
        Some(top) => layers.iter().find(|(name, _)| name == top).map(|(_, rank)| *rank),
    };
    let mut problems: Vec<String> = layers
        .iter()
        .filter(|(name, _)| !modules.iter().any(|m| m.first().is_some_and(|top| top == name)))
        .map(|(name, _)| format!("LAYERS names `{name}`, which is no module of src/"))
        .collect();
    // Edges between siblings, each with the first import that makes it.
    let mut edges: BTreeMap<(Module, Module), String> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (file, from, code) in blanked {
        if tests.iter().any(|t| from.starts_with(t)) {
            continue;
        }
        let code = without_tests(code);
        let Some(from_rank) = rank(&from) else {
            problems.push(format!("src/{file}: `{}` is in no layer: add it to LAYERS", from[0]));
            continue;
        };
        for (line, path) in references(&from, &code) {
            let at = format!("src/{file}:{line}");
            let target = (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| modules.contains(m));
            if !seen.insert((at.clone(), target.clone())) {
                continue;
            }
            let target = match target {
                Some(target) if !target.is_empty() => target,
                _ => {
                    problems.push(format!(
                        "{at}: `crate::{}` names no module: use the defining module's path",
                        path.join("::")
                    ));
                    continue;
                }
            };
            match rank(&target) {
                Some(to_rank) if to_rank > from_rank => problems.push(format!(
                    "{at}: `crate::{}` reaches up from layer {from_rank} (`{}`) to layer {to_rank} (`{}`)",
                    target.join("::"),
                    from[0],
                    target[0]
                )),
                _ => {}
            }
            let shared = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if shared < from.len() && shared < target.len() {
                edges.entry((from[..=shared].to_vec(), target[..=shared].to_vec())).or_insert(at);
            }
        }
    }
    problems.extend(cycles(&edges));
    problems
}

/// Children of `module` declared `#[cfg(test)] mod name;` (their files are tests).
fn test_modules(module: &[String], code: &str) -> Vec<Module> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("#[cfg(test)]") {
        let item = code[at + "#[cfg(test)]".len()..].trim_start();
        if let Some(name) = item.strip_prefix("mod ").and_then(|rest| rest.split(';').next())
            && is_ident(name.trim())
        {
            found.push([module.to_vec(), vec![name.trim().to_owned()]].concat());
        }
    }
    found
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Every cycle of `edges`, as `a -> b -> a` with the import behind each step.
fn cycles(edges: &BTreeMap<(Module, Module), String>) -> Vec<String> {
    let mut next: BTreeMap<&Module, Vec<&Module>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        next.entry(from).or_default().push(to);
    }
    let mut done: BTreeSet<&Module> = BTreeSet::new();
    let mut found = Vec::new();
    for start in next.keys() {
        let mut path = Vec::new();
        walk(start, &next, &mut path, &mut done, &mut |cycle: &[&Module]| {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            let at: Vec<&str> = cycle.windows(2).map(|w| edges[&((*w[0]).clone(), (*w[1]).clone())].as_str()).collect();
            found.push(format!("cycle: {} ({})", names.join(" -> "), at.join(", ")));
        });
    }
    found
}

/// Depth-first from `module`; calls `report` with each cycle closed by a step back onto `path`.
fn walk<'a>(
    module: &'a Module,
    next: &BTreeMap<&'a Module, Vec<&'a Module>>,
    path: &mut Vec<&'a Module>,
    done: &mut BTreeSet<&'a Module>,
    report: &mut impl FnMut(&[&Module]),
) {
    if let Some(at) = path.iter().position(|m| *m == module) {
        report(&[&path[at..], &[module]].concat());
        return;
    }
    if !done.insert(module) {
        return;
    }
    path.push(module);
    for to in next.get(module).into_iter().flatten() {
        walk(to, next, path, done, report);
    }
    path.pop();
}

/// `text` with comments and string and character literals blanked, newlines kept: what is left
/// is code, line for line.
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let after_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') && chars[i - 1] != 'b';
        let hashes = rest.iter().skip(1).take_while(|&&c| c == '#').count();
        let len = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            (2..=rest.len()).find(|&n| rest[n - 2..n] == ['*', '/']).unwrap_or(rest.len())
        } else if rest[0] == '"' || (rest[0] == 'r' && !after_ident && rest.get(1 + hashes) == Some(&'"')) {
            // A string ends at a quote (followed by as many `#` as a raw string opened with).
            let (raw, hashes) = if rest[0] == 'r' { (true, hashes) } else { (false, 0) };
            let mut n = if raw { 2 + hashes } else { 1 };
            while n < rest.len()
                && !(rest[n] == '"' && rest[n + 1..].iter().take_while(|&&c| c == '#').count() >= hashes)
            {
                n += if !raw && rest[n] == '\\' { 2 } else { 1 };
            }
            (n + 1 + hashes).min(rest.len())
        } else if rest[0] == '\'' && rest.get(1) == Some(&'\\') {
            (3..rest.len()).find(|&n| rest[n] == '\'').map_or(rest.len(), |n| n + 1)
        } else if rest[0] == '\'' && rest.get(2) == Some(&'\'') {
            3
        } else {
            out.push(rest[0]);
            i += 1;
            continue;
        };
        out.extend(rest[..len].iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
        i += len;
    }
    out
}

/// `code` (blanked) without its `#[cfg(test)]` items: each ends at its first `;` or at the brace
/// that closes its first `{`.
fn without_tests(mut code: String) -> String {
    while let Some(at) = code.find("#[cfg(test)]") {
        let mut depth = 0;
        let mut end = code.len();
        for (n, c) in code[at..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ';' if depth == 0 => {}
                _ => continue,
            }
            if depth == 0 {
                end = at + n + 1;
                break;
            }
        }
        let blanked: String = code[at..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
        code.replace_range(at..end, &blanked);
    }
    code
}

/// Every `crate::` and `super::` path in `code` (blanked, without tests), with its line, as a path from the
/// crate root; a group `a::{b, c::d}` gives `a::b` and `a::c::d`, `a::{self}` and `a::*` give `a`.
fn references(module: &[String], code: &str) -> Vec<(usize, Module)> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for prefix in ["crate::", "super::"] {
        for (at, _) in code.match_indices(prefix) {
            let before = at.checked_sub(1).map(|n| bytes[n]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b':') {
                continue;
            }
            let mut base =
                if prefix == "crate::" { Module::new() } else { module[..module.len().saturating_sub(1)].to_vec() };
            let mut rest = &code[at + prefix.len()..];
            while let Some(more) = rest.strip_prefix("super::") {
                base.pop();
                rest = more;
            }
            let line = code[..at].matches('\n').count() + 1;
            let mut paths = Vec::new();
            tree(rest, &base, &mut paths);
            found.extend(paths.into_iter().map(|path| (line, path)));
        }
    }
    found.sort();
    found
}

/// Reads one use-tree from the start of `text` below `base`, pushing each full path; returns what
/// is left of `text`.
fn tree<'a>(text: &'a str, base: &Module, paths: &mut Vec<Module>) -> &'a str {
    let text = text.trim_start();
    if let Some(mut rest) = text.strip_prefix('{') {
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                return after;
            }
            let before = rest.len();
            rest = tree(rest, base, paths).trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest);
            if rest.len() == before {
                return rest;
            }
        }
    }
    if let Some(rest) = text.strip_prefix('*') {
        paths.push(base.clone());
        return rest;
    }
    let len = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    let (ident, rest) = text.split_at(len);
    if ident.is_empty() || ident == "self" {
        paths.push(base.clone());
        return skip_alias(rest);
    }
    let path = [base.clone(), vec![ident.to_owned()]].concat();
    match rest.trim_start().strip_prefix("::") {
        Some(after)
            if after.trim_start().starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '{' || c == '*') =>
        {
            tree(after, &path, paths)
        }
        _ => {
            paths.push(path);
            skip_alias(rest)
        }
    }
}

/// `text` after an ` as name` rename, if it starts with one.
fn skip_alias(text: &str) -> &str {
    match text.trim_start().strip_prefix("as ") {
        Some(rest) => rest.trim_start().trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'),
        None => text,
    }
}
