//! Reading profile files: bytes → validated [`Profile`], or an error that names the file, the line,
//! the field and what is wrong (with a suggestion for a misspelt key).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::layers::{self, EXTENDS, Layer, LayerError, Layered, MAX_DEPTH, Node};
use crate::model::locate::{self, Segment};
use crate::model::profile::Profile;
use crate::model::schema::SCHEMA_FILE;
use crate::value::names;

/// Profiles larger than this are refused before parsing: a real profile is a few KiB.
pub const MAX_PROFILE_BYTES: usize = 1024 * 1024;

/// One problem in a profile file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in when it is not the profile's own: a base the profile
    /// `extends`, a further `-f` file, or a `--set` argument.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path of the field, when known (`collector.replicas`).
    pub path: Option<String>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// The source line the problem is on, for context.
    pub excerpt: Option<String>,
}

/// A profile file that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The file as the user named it.
    pub file: String,
    /// Every problem found (parse errors stop at the first).
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", p.file.as_deref().unwrap_or(&self.file))?;
            if let Some(line) = p.line {
                write!(f, ":{line}")?;
                if let Some(column) = p.column {
                    write!(f, ":{column}")?;
                }
            }
            write!(f, ": ")?;
            if let Some(path) = &p.path {
                write!(f, "`{path}`: ")?;
            }
            write!(f, "{}", p.message)?;
            if let (Some(line), Some(excerpt)) = (p.line, &p.excerpt) {
                write!(f, "\n  {line:>4} | {excerpt}")?;
            }
        }
        Ok(())
    }
}

impl LoadError {
    fn one(file: &str, message: String) -> Self {
        Self {
            file: file.to_owned(),
            problems: vec![Problem { file: None, line: None, column: None, path: None, message, excerpt: None }],
        }
    }
}

/// The profile name a file gives: its stem, which must be a DNS-1123 label (it names a directory
/// and appears in object labels), and not `schema`, the folder the profile schema is written to.
///
/// # Errors
/// When the stem is not a valid name.
pub fn profile_name(path: &Path) -> Result<String, LoadError> {
    let file = path.display().to_string();
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    names::dns1123_label(stem)
        .map_err(|e| LoadError::one(&file, format!("the file name gives the profile name, and {e}")))?;
    let schema_folder = SCHEMA_FILE.split('/').next().unwrap_or_default();
    if stem == schema_folder {
        return Err(LoadError::one(
            &file,
            format!(
                "the file name gives the profile name and its output folder, and `{schema_folder}/` holds the profile schema; rename the file"
            ),
        ));
    }
    Ok(stem.to_owned())
}

/// Reads and validates a profile file, with every base it `extends` (see [`load_layered`]).
///
/// # Errors
/// A [`LoadError`] naming `path` (or the base at fault), saying what the path is when it is not a
/// readable file (a directory, a symbolic link to nothing).
pub fn load_file(path: &Path) -> Result<Profile, LoadError> {
    load_layered(&[path.to_owned()], &[]).map(|layered| layered.profile)
}

/// Reads `path`'s bytes, refusing what is not a regular file.
fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let file = path.display().to_string();
    match (path.symlink_metadata(), path.metadata()) {
        (Ok(link), Err(_)) if link.file_type().is_symlink() => {
            let target = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
            return Err(LoadError::one(
                &file,
                format!("is a symbolic link to `{target}`, which does not exist; fix the link or remove it"),
            ));
        }
        (_, Ok(meta)) if meta.is_dir() => {
            return Err(LoadError::one(
                &file,
                "is a directory, not a profile file; rename it or move it out of the profiles directory".into(),
            ));
        }
        // A pipe or device would block the read or never end.
        (_, Ok(meta)) if !meta.is_file() => {
            return Err(LoadError::one(
                &file,
                "is not a regular file (a pipe, socket or device); a profile is a YAML file".into(),
            ));
        }
        _ => {}
    }
    std::fs::read(path).map_err(|e| LoadError::one(&file, format!("cannot read the file: {e}")))
}

/// Reads profile files and merges them into one profile: each file with the chain of bases it
/// `extends` (deepest first), the files in the order given, then each `--set path=value` (the
/// rule is in [`crate::model::layers`]). One file that extends nothing loads exactly as
/// [`load_bytes`] loads it. Every error names the file and line the bad value came from: the
/// profile, a base, or a `--set` argument.
///
/// # Errors
/// A [`LoadError`] for a file that cannot be read, a base that cannot be found or that extends
/// itself (directly or through others), any problem [`load_str`] reports in the merged profile,
/// and a `--set` that names no field or an item past the end of a list.
pub fn load_layered(files: &[PathBuf], sets: &[String]) -> Result<Layered, LoadError> {
    let Some(last) = files.last() else {
        return Err(LoadError::one("profile", "no profile file was given".into()));
    };
    let name = profile_name(last)?;
    let mut layers: Vec<Layer> = Vec::new();
    let mut given = Vec::new();
    // The files merged so far, resolved.
    let mut merged: Vec<PathBuf> = Vec::new();
    for path in files {
        let mut chain: Vec<Layer> = Vec::new();
        let mut seen: Vec<(PathBuf, String)> = Vec::new();
        let mut next = Some((path.clone(), None::<(String, layers::At)>));
        while let Some((path, named_at)) = next.take() {
            let file = path.display().to_string();
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if let Some((_, named_at)) = &named_at {
                let from = chain.last().map(|l| l.name.clone()).unwrap_or_default();
                let at_error = |message: String| LoadError {
                    file: from.clone(),
                    problems: vec![problem_at(
                        chain.last().map_or("", |l| l.text.as_str()),
                        *named_at,
                        Some(EXTENDS.into()),
                        message,
                    )],
                };
                if let Some(first) = seen.iter().position(|(p, _)| *p == real) {
                    let cycle: Vec<&str> =
                        seen[first..].iter().map(|(_, n)| n.as_str()).chain([file.as_str()]).collect();
                    return Err(at_error(format!(
                        "makes a cycle: {}; a base cannot extend a profile that extends it",
                        cycle.join(" → ")
                    )));
                }
                if seen.len() >= MAX_DEPTH {
                    return Err(at_error(format!(
                        "makes a chain deeper than {MAX_DEPTH} profiles; flatten some bases"
                    )));
                }
                if !path.exists() {
                    return Err(at_error(format!(
                        "names `{file}`, which does not exist (a base's path is relative to the file that names it)"
                    )));
                }
            }
            seen.push((real, file.clone()));
            let bytes = read_file(&path)?;
            let text = decode(&file, &bytes)?.to_owned();
            let alone = files.len() == 1 && sets.is_empty() && chain.is_empty();
            if alone && !layers::names_a_base(text.strip_prefix('\u{feff}').unwrap_or(&text)) {
                // One file that extends nothing loads as it always has.
                let profile = load_bytes(&file, &bytes)?;
                let tree = Node::parse(0, text.strip_prefix('\u{feff}').unwrap_or(&text))
                    .unwrap_or_else(|_| Node::empty_map(layers::At { layer: 0, line: 1, column: 1 }));
                let layers = vec![Layer { name: file, text, tree, set_path: None }];
                return Ok(Layered { name, profile, layers, given: vec![0] });
            }
            let mut tree = match Node::parse(chain.len(), &text) {
                Ok(tree) => tree,
                Err(e) => {
                    precheck(&file, &text)?;
                    if let Some((at, message)) = syntax_error(&text) {
                        let message = format!("is not valid YAML: {message}");
                        return Err(LoadError { file, problems: vec![problem(&text, Some(at), None, message)] });
                    }
                    return Err(layer_error(&file, &text, e));
                }
            };
            let extends = tree.take_extends().map_err(|e| layer_error(&file, &text, e))?;
            chain.push(Layer { name: file, text, tree, set_path: None });
            next = extends.map(|(rel, at)| {
                let base = path.parent().unwrap_or(Path::new("")).join(&rel);
                (base, Some((rel, at)))
            });
        }
        // A base an earlier file already brought in is not merged again: it would undo that file's
        // overrides. The file itself, given explicitly, always is.
        let reals: Vec<PathBuf> = seen.into_iter().map(|(real, _)| real).collect();
        let mut chain: Vec<(Layer, PathBuf)> = chain.into_iter().zip(reals).rev().collect();
        let own = chain.pop();
        chain.retain(|(_, real)| !merged.contains(real));
        chain.extend(own);
        given.push(layers.len() + chain.len() - 1);
        for (layer, real) in chain {
            merged.push(real);
            layers.push(layer);
        }
    }
    for layer in &layers {
        precheck(&layer.name, &layer.text)?;
    }
    // Layer indices were per chain while reading; number them in merge order.
    for (i, layer) in layers.iter_mut().enumerate() {
        layer.tree = Node::parse(i, &layer.text).map_err(|e| layer_error(&layer.name, &layer.text, e))?;
        layer.tree.take_extends().map_err(|e| layer_error(&layer.name, &layer.text, e))?;
    }
    let mut merged = layers[0].tree.clone();
    for layer in &layers[1..] {
        merged.merge(layer.tree.clone());
    }
    for argument in sets {
        let index = layers.len();
        let shown = format!("--set {argument}");
        let (path, value) = layers::parse_set(index, argument).map_err(|e| layer_error(&shown, argument, e))?;
        merged.set(&path, value.clone()).map_err(|message| LoadError::one(&shown, message))?;
        layers.push(Layer { name: shown, text: argument.clone(), tree: value, set_path: Some(path) });
    }
    let (text, lines) = merged.write();
    let leaf = layers[*given.last().unwrap_or(&0)].name.clone();
    let profile = load_str(&leaf, &text).map_err(|mut error| {
        for p in &mut error.problems {
            let Some(line) = p.line.and_then(|l| lines.get(l.wrapping_sub(1))) else { continue };
            let at = line.at(p.column.unwrap_or(usize::MAX));
            let Some(layer) = layers.get(at.layer) else { continue };
            if layer.name != leaf {
                p.file = Some(layer.name.clone());
            }
            p.line = Some(at.line);
            p.column = Some(at.column);
            p.excerpt = layer.text.lines().nth(at.line - 1).map(|s| redact_userinfo(s.trim_end()));
            if p.message == SECOND_OPTION {
                p.message.push_str(" (a base may set the other: write `<option>: null` beside the new one to drop it)");
            }
        }
        error
    })?;
    Ok(Layered { name, profile, layers, given })
}

fn layer_error(file: &str, text: &str, e: LayerError) -> LoadError {
    let problem = match e.at {
        Some(at) => problem_at(text, at, e.path, e.message),
        None => Problem { file: None, line: None, column: None, path: e.path, message: e.message, excerpt: None },
    };
    LoadError { file: file.to_owned(), problems: vec![problem] }
}

fn problem_at(text: &str, at: layers::At, path: Option<String>, message: String) -> Problem {
    let mut p = problem(text, Some((at.line, at.column)), path, message);
    p.column = Some(at.column);
    p
}

/// Parses and validates profile bytes; `file` names them in errors.
///
/// # Errors
/// A [`LoadError`] for oversized, non-UTF-8, empty, malformed or invalid input.
pub fn load_bytes(file: &str, bytes: &[u8]) -> Result<Profile, LoadError> {
    load_str(file, decode(file, bytes)?)
}

/// The text of profile bytes: at most [`MAX_PROFILE_BYTES`], UTF-8.
fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, LoadError> {
    if bytes.len() > MAX_PROFILE_BYTES {
        return Err(LoadError::one(
            file,
            format!("is {} bytes; profiles are limited to {MAX_PROFILE_BYTES} bytes (1 MiB)", bytes.len()),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let valid = bytes.get(..offset).unwrap_or_default();
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        LoadError {
            file: file.to_owned(),
            problems: vec![Problem {
                file: None,
                line: Some(line),
                column: Some(column),
                path: None,
                message: format!("is not UTF-8 text (invalid byte at offset {offset}); save the profile as UTF-8"),
                excerpt: None,
            }],
        }
    })
}

/// Parses and validates profile text; `file` names it in errors.
///
/// # Errors
/// A [`LoadError`] for empty, malformed or invalid input.
pub fn load_str(file: &str, text: &str) -> Result<Profile, LoadError> {
    let text = precheck(file, text)?;
    let profile = parse(file, text)?;
    profile.validate().map_err(|errors| LoadError {
        file: file.to_owned(),
        problems: errors
            .into_iter()
            .map(|e| {
                let at = locate::locate(text, &locate::parse_path(&e.path));
                problem(text, at, Some(e.path), e.message)
            })
            .collect(),
    })?;
    // Sizes derived from `load` are checked where they are decided; a size that the components
    // would refuse is reported at the field that led to it.
    if let Err(crate::model::Error::Invalid { path, message }) = crate::model::plan::Plan::resolve(&profile) {
        let at = locate::locate(text, &locate::parse_path(&path));
        return Err(LoadError { file: file.to_owned(), problems: vec![problem(text, at, Some(path), message)] });
    }
    Ok(profile)
}

/// Refuses a text that is empty (comments, a byte-order mark) or has a tag tracestack does not
/// read; returns the text without its byte-order mark.
fn precheck<'a>(file: &str, text: &'a str) -> Result<&'a str, LoadError> {
    // A byte-order mark is not content (editors on Windows write one): a file of a BOM and
    // comments is as empty as one of comments alone, and the mark must not hide the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(LoadError::one(
            file,
            "is empty; a profile is a YAML mapping, e.g. `jaeger: {storage: {memory: {}}}` (see profiles/demo.yaml)"
                .into(),
        ));
    }
    if let Some((at, path, tag)) = tagged_node(text) {
        let at = tag_position(text, at, &tag);
        let message = format!(
            "has the YAML tag `{tag}`, which tracestack does not read: a tag (`!!python/…`, `!include`, any custom tag) would be dropped silently or run code in other tools; remove it and write the value itself"
        );
        return Err(LoadError { file: file.to_owned(), problems: vec![problem(text, Some(at), path, message)] });
    }
    Ok(text)
}

/// `line` with the user-info of every URL in it (`https://user:password@host`) replaced by `…`, so
/// that an error never prints a password to a terminal or a CI log.
fn redact_userinfo(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ' ', '"', '\'', ',', ']']).unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(user_end) => {
                out.push('…');
                rest = &tail[user_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn problem(text: &str, at: Option<(usize, usize)>, path: Option<String>, message: String) -> Problem {
    let (line, column) = at.map_or((None, None), |(l, c)| (Some(l), Some(c)));
    let excerpt = line.and_then(|l| text.lines().nth(l.wrapping_sub(1))).map(|s| redact_userinfo(s.trim_end()));
    Problem { file: None, line, column, path, message, excerpt }
}

fn parse(file: &str, text: &str) -> Result<Profile, LoadError> {
    let mut path = None;
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        let mut track = serde_path_to_error::Track::new();
        let out = serde::Deserialize::deserialize(serde_path_to_error::Deserializer::new(de, &mut track));
        if out.is_err() {
            path = Some(track.path());
        }
        out
    });
    result.map_err(|e| {
        let mut at = e.location().map(|l| (l.line() as usize, l.column() as usize));
        let mut path = path.map(|p| p.to_string()).filter(|p| p != ".");
        // The deserialiser reads lazily, so a syntax error can surface as a type error on an
        // earlier value (`replicas: 2` followed by a mis-indented line reads as `2 log_level`).
        // Report the syntax error itself; the field path only when it is that same error.
        if let Some((syntax_at, message)) = syntax_error(text) {
            if at != Some(syntax_at) {
                path = None;
            }
            let message = format!("is not valid YAML: {message}");
            return LoadError { file: file.to_owned(), problems: vec![problem(text, Some(syntax_at), path, message)] };
        }
        let mut message = explain(&e.without_snippet().to_string());
        // `?` stands for a key the path tracker did not see: the duplicate's, or one inside a merge.
        if let Some(parent) = path.as_deref().and_then(|p| p.strip_suffix('?')).map(|p| p.trim_end_matches('.')) {
            let duplicate = message.strip_prefix('`').and_then(|m| m.split_once("` is given twice")).map(|(k, _)| k);
            let parts: Vec<&str> = [parent].into_iter().chain(duplicate).filter(|s| !s.is_empty()).collect();
            path = Some(parts.join(".")).filter(|p| !p.is_empty());
        }
        if message == SECOND_OPTION {
            // The path names the first option; the problem is its parent holding a second.
            path = path.as_deref().and_then(|p| p.rsplit_once('.')).map(|(parent, _)| parent.to_owned());
        }
        if path.is_none() && message == MUST_BE_MAPPING {
            message = "must be a mapping of `key: value` lines, e.g. `namespace: observability`, not a list or a single value".into();
        }
        // A missing field is reported where its mapping ends; point at the mapping's key instead.
        // A location past the end of the text is no better.
        let missing = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`'));
        let past_end = at.is_some_and(|(line, _)| line > text.lines().count());
        if let Some(p) = &path
            && (missing.is_some() || past_end)
        {
            let mut segments = locate::parse_path(p);
            segments.extend(missing.map(|m| Segment::Key(m.to_owned())));
            at = locate::locate(text, &segments).or(at);
        }
        LoadError { file: file.to_owned(), problems: vec![problem(text, at, path, message)] }
    })
}

/// The first node in `text` that carries a tag, with its 1-based line and column, the dotted path
/// of its field when known, and the tag as written. The core schema's own tags for what a profile
/// holds (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq`) only restate the
/// type and are allowed; any other tag is not.
fn tagged_node(text: &str) -> Option<((usize, usize), Option<String>, String)> {
    use serde_saphyr::granit_parser::Event;
    const CORE: [&str; 7] = ["str", "int", "float", "bool", "null", "map", "seq"];
    // Where the parser is: a mapping (expecting a key, or the value of a key) or a sequence index.
    enum Level {
        Map(Option<String>),
        Seq(usize),
    }
    let mut levels: Vec<Level> = Vec::new();
    let path = |levels: &[Level]| {
        let mut out = String::new();
        for level in levels {
            match level {
                Level::Map(Some(key)) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                }
                Level::Map(None) => {}
                Level::Seq(i) => out.push_str(&format!("[{i}]")),
            }
        }
        Some(out).filter(|p| !p.is_empty())
    };
    for event in serde_saphyr::granit_parser::Parser::new_from_str(text) {
        let Ok((event, span)) = event else { return None };
        let (tag, opens, scalar) = match &event {
            Event::Scalar(value, _, _, tag) => (tag.as_deref(), None, Some(value.to_string())),
            Event::MappingStart(_, _, tag) => (tag.as_deref(), Some(Level::Map(None)), None),
            Event::SequenceStart(_, _, tag) => (tag.as_deref(), Some(Level::Seq(0)), None),
            Event::MappingEnd | Event::SequenceEnd => {
                levels.pop();
                (None, None, None)
            }
            _ => continue,
        };
        // A key scalar in a mapping expecting one: remember it, it names the value that follows.
        let is_key = matches!(levels.last(), Some(Level::Map(None))) && scalar.is_some();
        if let Some(tag) = tag {
            let core = tag.handle() == "tag:yaml.org,2002:" && CORE.contains(&tag.suffix());
            if !core {
                let written = if tag.handle() == "tag:yaml.org,2002:" {
                    format!("!!{}", tag.suffix())
                } else {
                    format!("{}{}", tag.handle(), tag.suffix())
                };
                return Some(((span.start.line(), span.start.col() + 1), path(&levels), written));
            }
        }
        if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
            // The collection closed was the value of a key or an item: advance its parent.
        } else if is_key {
            if let Some(Level::Map(key)) = levels.last_mut() {
                *key = scalar;
            }
            continue;
        }
        // A value was read (a scalar or a whole collection opened): the parent moves on.
        if let Some(open) = opens {
            levels.push(open);
            continue;
        }
        match levels.last_mut() {
            Some(Level::Map(key)) => *key = None,
            Some(Level::Seq(i)) => *i += 1,
            None => {}
        }
    }
    None
}

/// Where the tag `written` stands: the parser reports the node, which for a collection starts on
/// the line after its tag; the tag is the last occurrence of its text before the node.
fn tag_position(text: &str, node: (usize, usize), written: &str) -> (usize, usize) {
    let offset: usize = text.split_inclusive('\n').take(node.0.saturating_sub(1)).map(str::len).sum::<usize>()
        + node.1.saturating_sub(1);
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    match before.rfind(written) {
        Some(at) => {
            let line = before[..at].matches('\n').count() + 1;
            let column = before[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        }
        None => node,
    }
}

/// The first YAML syntax error in `text`, with its 1-based line and column.
fn syntax_error(text: &str) -> Option<((usize, usize), String)> {
    for event in serde_saphyr::granit_parser::Parser::new_from_str(text) {
        if let Err(e) = event {
            let mut message = e.info();
            if message.contains("mapping values are not allowed") {
                message.push_str(" (check the indentation of this line and the one above)");
            } else if message.contains("illegal placement of ':'") {
                message.push_str(" (is a `[` or `{` above left unclosed?)");
            }
            return Some(((e.marker().line(), e.marker().col() + 1), message));
        }
    }
    None
}

const SECOND_OPTION: &str = "must have exactly one key, the option chosen, but has a second one";
const MUST_BE_MAPPING: &str = "must be a mapping of `key: value` pairs (`{}` for all defaults)";

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
    }
}

/// Rewrites a deserialiser message: drops the location prefix (the error already carries it) and
/// adds a suggestion to "unknown field/variant" messages.
fn explain(raw: &str) -> String {
    let mut msg = raw.trim().trim_start_matches("error: ").to_owned();
    if let Some(rest) = msg.strip_prefix("line ")
        && let Some((_, after)) = rest.split_once(": ")
    {
        msg = after.to_owned();
    }
    // The location is reported separately; drop the deserialiser's own copy of it, including the
    // notes it adds for aliases (`(defined at line 4, column 31) (used at line 16, column 50)`).
    for note in [" (defined at line ", " (used at line "] {
        if let Some(at) = msg.find(note) {
            msg.truncate(at);
        }
    }
    if let Some(at) = msg.rfind(" at line ")
        && msg[at..].contains(", column ")
    {
        msg.truncate(at);
    }
    if let Some(limit) = msg.strip_prefix("budget breached: ") {
        return format!(
            "expands to more than tracestack reads ({limit}): anchors and aliases (`*name`, `<<:`) repeat what they point at, so nest them sparingly or write the values out"
        );
    }
    // Rewrite messages that speak of the deserialiser's API or internals.
    if let Some(rest) = msg.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set DuplicateKeyPolicy").next().unwrap_or(rest);
        return format!("`{key}` is given twice in the same mapping; keep one");
    }
    let plain = match msg.as_str() {
        "duplicate mapping key, set DuplicateKeyPolicy in Options if acceptable" => {
            "a key is given twice in the same mapping; keep one"
        }
        "expected mapping start" => MUST_BE_MAPPING,
        "expected sequence start" => "must be a list, e.g. `[a, b]` or one `- item` per line",
        "cannot deserialize null into string; use Option<String>" => "must have a value (got null)",
        "expected string key for externally tagged enum" => "must have exactly one key: the option chosen",
        "expected end of mapping after enum variant value" => SECOND_OPTION,
        _ => "",
    };
    if !plain.is_empty() {
        return plain.into();
    }
    if msg.starts_with("multiple YAML documents detected") {
        return "holds more than one YAML document (a second `---`); a profile is one document, so put each stack in its own file".into();
    }
    for (ty, range) in [("u32", "0 to 4294967295"), ("u64", "0 to 18446744073709551615"), ("u16", "0 to 65535")] {
        if msg == format!("invalid {ty}") {
            return format!("must be a whole number from {range}");
        }
    }
    if msg == "invalid floating point number" || msg == "invalid f64" {
        return "must be a number".into();
    }
    for what in ["unknown field `", "unknown variant `"] {
        let Some(start) = msg.find(what) else { continue };
        let after = &msg[start + what.len()..];
        let Some((word, tail)) = after.split_once('`') else { continue };
        let expected = tail
            .split_once("expected one of ")
            .or_else(|| tail.split_once("expected "))
            .map(|(_, list)| list)
            .unwrap_or_default();
        let candidates: Vec<&str> =
            expected.split(", ").map(|c| c.trim().trim_matches('`')).filter(|c| !c.is_empty()).collect();
        let best = names::suggest(word, candidates.iter().copied())
            .or_else(|| {
                // A truncated name (`elastic` for `elasticsearch`) is too far for an edit distance.
                let lower = word.to_ascii_lowercase();
                candidates.iter().copied().find(|c| lower.len() >= 3 && c.starts_with(lower.as_str()))
            })
            .or_else(|| {
                // A longer name ending in a candidate: the collector's `sendingQueue`/`sending_queue`
                // is the profile's `queue`.
                let squashed: String =
                    word.chars().filter(|c| !matches!(c, '-' | '_')).collect::<String>().to_ascii_lowercase();
                candidates.iter().copied().find(|c| c.len() >= 4 && squashed.ends_with(&c.replace('_', "")))
            });
        if let Some(best) = best {
            msg.push_str(&format!(" (did you mean `{best}`?)"));
        }
        break;
    }
    msg
}

/// The segments of a dotted path, re-exported for error locations.
#[must_use]
pub fn segments(path: &str) -> Vec<Segment> {
    locate::parse_path(path)
}
