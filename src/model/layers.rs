//! Profile layering: a profile that `extends:` a base, several files merged in order (`-f a -f b`),
//! and `--set path=value`, merged into one document that loads like a single profile, with the
//! file and line every value came from.
//!
//! The rule, applied layer over layer (a base first, the file extending it next, then each further
//! file, then each `--set`):
//!
//! - **maps merge by key**: a key the later layer writes replaces or merges into the earlier one's,
//!   every other key is inherited;
//! - **lists replace**: a later list is the whole list (`apps: []` removes every inherited app);
//! - **scalars replace**;
//! - **`null` removes** an inherited entry, so the field takes its default again (`load: null`,
//!   `jaeger: {storage: {elasticsearch: null, memory: {}}}` to switch storage).
//!
//! This module is pure: it parses texts into trees that remember where each node was written,
//! merges them and writes the merged document. [`crate::model::load`] reads the files and loads the
//! merged document into a [`Profile`].

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};

use crate::model::locate::{self, Segment};
use crate::model::profile::Profile;

/// The top-level key naming a profile's base, a path relative to the profile's own file.
pub const EXTENDS: &str = "extends";

/// The most nodes a layer may expand to through aliases (`*name`): a real profile has a few
/// hundred.
pub const MAX_NODES: usize = 100_000;

/// The deepest `extends` chain followed.
pub const MAX_DEPTH: usize = 16;

/// Where a node was written: the layer (an index into the layers merged) and its 1-based line
/// and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    /// Index of the layer.
    pub layer: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Whether `text` is a mapping with a top-level `extends` key, read from the parser's events
/// without building anything (aliases are not expanded): `false` for text that does not parse.
#[must_use]
pub fn names_a_base(text: &str) -> bool {
    let mut depth = 0usize;
    let mut is_key = true;
    for event in Parser::new_from_str(text) {
        let Ok((event, _)) = event else { return false };
        match event {
            Event::MappingStart(..) if depth == 0 => depth = 1,
            Event::SequenceStart(..) | Event::Scalar(..) | Event::Alias(_) if depth == 0 => return false,
            Event::Scalar(value, ..) if depth == 1 => {
                if is_key && value == EXTENDS {
                    return true;
                }
                is_key = !is_key;
            }
            Event::Alias(_) if depth == 1 => is_key = !is_key,
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if depth == 1 {
                    is_key = !is_key;
                }
                depth += 1;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    false
}

/// A YAML node that remembers where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub at: At,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A scalar: its text, whether it was written plain (unquoted: its type is resolved from the
    /// text), and a core-schema tag (`int` for `!!int`) when it had one.
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it was written.
#[derive(Clone, Debug, PartialEq)]
struct Key {
    text: String,
    at: At,
}

/// A problem in one layer's text, before the merged document is loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerError {
    /// Where, when known.
    pub at: Option<At>,
    /// Dotted path of the field, when known.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Node {
    fn scalar(at: At, text: &str, plain: bool) -> Self {
        Self { at, kind: Kind::Scalar { text: text.to_owned(), plain, tag: None } }
    }

    /// Whether the node is YAML's null (`~`, `null`, or nothing) without a tag.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true, tag: None } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The text of a scalar node.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// An empty mapping at `at`.
    #[must_use]
    pub fn empty_map(at: At) -> Self {
        Self { at, kind: Kind::Map(Vec::new()) }
    }

    /// Parses the first document of `text` as layer `layer`.
    ///
    /// # Errors
    /// A syntax error, a second document, a key given twice, a key that is not a scalar, or more
    /// than [`MAX_NODES`] nodes after aliases are expanded.
    pub fn parse(layer: usize, text: &str) -> Result<Self, LayerError> {
        Builder::new(layer).run(text)
    }

    /// Removes the top-level `extends` key and returns its value, with where it was written.
    ///
    /// # Errors
    /// When `extends` is not a file name (a list, a mapping, or null).
    pub fn take_extends(&mut self) -> Result<Option<(String, At)>, LayerError> {
        let Kind::Map(entries) = &mut self.kind else { return Ok(None) };
        let Some(i) = entries.iter().position(|(k, _)| k.text == EXTENDS) else { return Ok(None) };
        let (_, value) = entries.remove(i);
        match &value.kind {
            Kind::Scalar { text, .. } if !value.is_null() && !text.trim().is_empty() => {
                Ok(Some((text.clone(), value.at)))
            }
            _ => Err(LayerError {
                at: Some(value.at),
                path: Some(EXTENDS.into()),
                message: "must name the base profile file, relative to this one, e.g. `extends: bases/production.yaml`"
                    .into(),
            }),
        }
    }

    /// Merges `over` onto `self` by the layering rule (maps by key, lists and scalars replaced,
    /// `null` removes).
    pub fn merge(&mut self, over: Node) {
        match (&mut self.kind, over.kind) {
            (Kind::Map(base), Kind::Map(entries)) => {
                for (key, value) in entries {
                    let found = base.iter().position(|(k, _)| k.text == key.text);
                    match (found, value.is_null()) {
                        (Some(i), true) => {
                            base.remove(i);
                        }
                        (Some(i), false) => base[i].1.merge(value),
                        (None, true) => {}
                        (None, false) => base.push((key, value)),
                    }
                }
            }
            (_, kind) => *self = Node { at: over.at, kind },
        }
    }

    /// Sets the value at `path` to `value` (`null` removes it), creating mappings on the way.
    ///
    /// # Errors
    /// When the path steps into a scalar, indexes a mapping, names a key in a list, or an item past
    /// the end of a list.
    pub fn set(&mut self, path: &[Segment], value: Node) -> Result<(), String> {
        let Some((last, parents)) = path.split_last() else {
            *self = value;
            return Ok(());
        };
        let mut node = self;
        let mut walked = String::new();
        for segment in parents {
            node = node.child_mut(segment, &walked, value.at)?;
            push_segment(&mut walked, segment);
        }
        match (last, &mut node.kind) {
            (Segment::Key(key), Kind::Map(entries)) => {
                let found = entries.iter().position(|(k, _)| &k.text == key);
                match (found, value.is_null()) {
                    (Some(i), true) => {
                        entries.remove(i);
                    }
                    (Some(i), false) => entries[i].1 = value,
                    (None, true) => {}
                    (None, false) => entries.push((Key { text: key.clone(), at: value.at }, value)),
                }
                Ok(())
            }
            (Segment::Index(i), Kind::Seq(items)) => {
                let len = items.len();
                let item = items.get_mut(*i).ok_or_else(|| past_end(&walked, *i, len))?;
                *item = value;
                Ok(())
            }
            (Segment::Index(i), Kind::Map(entries)) if entries.is_empty() => Err(unset_list(&walked, *i)),
            (segment, _) => Err(wrong_step(&walked, segment)),
        }
    }

    fn child_mut(&mut self, segment: &Segment, walked: &str, at: At) -> Result<&mut Node, String> {
        if self.is_null() {
            *self = Node::empty_map(at);
        }
        match (segment, &mut self.kind) {
            (Segment::Key(key), Kind::Map(entries)) => {
                let i = match entries.iter().position(|(k, _)| &k.text == key) {
                    Some(i) => i,
                    None => {
                        entries.push((Key { text: key.clone(), at }, Node::empty_map(at)));
                        entries.len() - 1
                    }
                };
                Ok(&mut entries[i].1)
            }
            (Segment::Index(i), Kind::Seq(items)) => {
                let len = items.len();
                items.get_mut(*i).ok_or_else(|| past_end(walked, *i, len))
            }
            (Segment::Index(i), Kind::Map(entries)) if entries.is_empty() => Err(unset_list(walked, *i)),
            (segment, _) => Err(wrong_step(walked, segment)),
        }
    }

    /// The node at `path`, if the whole path exists.
    #[must_use]
    pub fn get(&self, path: &[Segment]) -> Option<&Node> {
        let mut node = self;
        for segment in path {
            node = match (segment, &node.kind) {
                (Segment::Key(key), Kind::Map(entries)) => &entries.iter().find(|(k, _)| &k.text == key)?.1,
                (Segment::Index(i), Kind::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The document as block YAML, and for each of its lines where that line's content was
    /// written.
    #[must_use]
    pub fn write(&self) -> (String, Vec<Line>) {
        let mut out = Writer::default();
        match &self.kind {
            Kind::Map(entries) if !entries.is_empty() => out.map(entries, 0),
            Kind::Seq(items) if !items.is_empty() => out.seq(items, 0),
            _ => out.line(self.at, self.at, 1, &inline(self)),
        }
        (out.text, out.lines)
    }
}

fn push_segment(walked: &mut String, segment: &Segment) {
    match segment {
        Segment::Key(key) => {
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(key);
        }
        Segment::Index(i) => {
            let _ = write!(walked, "[{i}]");
        }
    }
}

fn past_end(walked: &str, i: usize, len: usize) -> String {
    format!("`{walked}` has {len} item(s), so `{walked}[{i}]` is past its end; set the whole list instead")
}

fn unset_list(walked: &str, i: usize) -> String {
    format!("`{walked}` is not set, so it has no item [{i}]; set the whole list, e.g. `{walked}=[…]`")
}

fn wrong_step(walked: &str, segment: &Segment) -> String {
    let what = if walked.is_empty() { "the profile".to_owned() } else { format!("`{walked}`") };
    match segment {
        Segment::Key(key) => format!("{what} is not a mapping, so it has no field `{key}`"),
        Segment::Index(i) => format!("{what} is not a list, so it has no item [{i}]"),
    }
}

/// A scalar or an empty collection as it stands after `key: `.
fn inline(node: &Node) -> String {
    match &node.kind {
        Kind::Scalar { text, plain, tag } => {
            let tag = tag.as_ref().map(|t| format!("!!{t} ")).unwrap_or_default();
            if *plain && !text.contains(['\n', '\r']) {
                format!("{tag}{text}")
            } else {
                format!("{tag}{}", quote(text))
            }
        }
        Kind::Seq(_) => "[]".into(),
        Kind::Map(_) => "{}".into(),
    }
}

/// A double-quoted YAML scalar: JSON's string syntax is a subset of YAML's double-quoted style.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A mapping key: plain when it is letters, digits, `_`, `-`, `.`, `/` starting with a letter or
/// digit; quoted otherwise.
fn key_text(key: &str) -> String {
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    if plain { key.to_owned() } else { quote(key) }
}

/// Where one line of a merged document came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    /// Where its key (or list item) was written.
    pub key: At,
    /// Where its value was written.
    pub value: At,
    /// The 1-based column of the merged line its value starts at: a position before it is the key's.
    pub value_column: usize,
}

impl Line {
    /// Where the merged line's `column` was written.
    #[must_use]
    pub fn at(&self, column: usize) -> At {
        if column >= self.value_column { self.value } else { self.key }
    }
}

#[derive(Default)]
struct Writer {
    text: String,
    lines: Vec<Line>,
}

impl Writer {
    fn line(&mut self, key: At, value: At, value_column: usize, content: &str) {
        self.text.push_str(content);
        self.text.push('\n');
        self.lines.push(Line { key, value, value_column });
    }

    fn map(&mut self, entries: &[(Key, Node)], indent: usize) {
        let pad = " ".repeat(indent);
        for (key, value) in entries {
            let k = key_text(&key.text);
            match &value.kind {
                Kind::Map(inner) if !inner.is_empty() => {
                    self.line(key.at, key.at, usize::MAX, &format!("{pad}{k}:"));
                    self.map(inner, indent + 2);
                }
                Kind::Seq(items) if !items.is_empty() => {
                    self.line(key.at, key.at, usize::MAX, &format!("{pad}{k}:"));
                    self.seq(items, indent + 2);
                }
                _ => {
                    let column = indent + k.chars().count() + 3;
                    self.line(key.at, value.at, column, &format!("{pad}{k}: {}", inline(value)));
                }
            }
        }
    }

    fn seq(&mut self, items: &[Node], indent: usize) {
        let pad = " ".repeat(indent);
        for item in items {
            match &item.kind {
                Kind::Map(inner) if !inner.is_empty() => {
                    self.line(item.at, item.at, 1, &format!("{pad}-"));
                    self.map(inner, indent + 2);
                }
                Kind::Seq(inner) if !inner.is_empty() => {
                    self.line(item.at, item.at, 1, &format!("{pad}-"));
                    self.seq(inner, indent + 2);
                }
                _ => self.line(item.at, item.at, 1, &format!("{pad}- {}", inline(item))),
            }
        }
    }
}

/// A collection being built.
struct Frame {
    node: Node,
    anchor: usize,
    /// A mapping key read, waiting for its value.
    key: Option<Key>,
}

struct Builder {
    layer: usize,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl Builder {
    fn new(layer: usize) -> Self {
        Self { layer, anchors: HashMap::new(), nodes: 0 }
    }

    fn error(&self, line: usize, column: usize, message: impl Into<String>) -> LayerError {
        LayerError { at: Some(At { layer: self.layer, line, column }), path: None, message: message.into() }
    }

    fn run(mut self, text: &str) -> Result<Node, LayerError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        let mut documents = 0;
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(|e| {
                self.error(e.marker().line(), e.marker().col() + 1, format!("is not valid YAML: {}", e.info()))
            })?;
            let at = At { layer: self.layer, line: span.start.line(), column: span.start.col() + 1 };
            let (node, anchor) = match event {
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(self.error(
                            at.line,
                            at.column,
                            "holds more than one YAML document (a second `---`); a profile is one document",
                        ));
                    }
                    continue;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let tag = match tag.as_deref() {
                        Some(t) if t.handle() == "tag:yaml.org,2002:" => Some(t.suffix().to_owned()),
                        Some(t) => {
                            return Err(self.error(
                                at.line,
                                at.column,
                                format!(
                                    "has the YAML tag `{}{}`, which tracestack does not read",
                                    t.handle(),
                                    t.suffix()
                                ),
                            ));
                        }
                        None => None,
                    };
                    let plain = style == ScalarStyle::Plain;
                    (Node { at, kind: Kind::Scalar { text: value.into_owned(), plain, tag } }, anchor)
                }
                Event::Alias(id) => {
                    let target = self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| self.error(at.line, at.column, "refers to an anchor that is not defined"))?;
                    self.nodes += count(&target);
                    if self.nodes > MAX_NODES {
                        return Err(self.error(
                            at.line,
                            at.column,
                            format!("expands to more than tracestack reads ({MAX_NODES} nodes): anchors and aliases repeat what they point at, so nest them sparingly or write the values out"),
                        ));
                    }
                    (target, 0)
                }
                Event::SequenceStart(_, anchor, _) => {
                    stack.push(Frame { node: Node { at, kind: Kind::Seq(Vec::new()) }, anchor, key: None });
                    continue;
                }
                Event::MappingStart(_, anchor, _) => {
                    stack.push(Frame { node: Node { at, kind: Kind::Map(Vec::new()) }, anchor, key: None });
                    continue;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(mut frame) = stack.pop() else { continue };
                    if let Kind::Map(entries) = &mut frame.node.kind {
                        resolve_merge_keys(entries);
                    }
                    (frame.node, frame.anchor)
                }
                _ => continue,
            };
            self.nodes += 1;
            if anchor != 0 {
                self.anchors.insert(anchor, node.clone());
            }
            let Some(frame) = stack.last_mut() else {
                if root.is_none() {
                    root = Some(node);
                }
                continue;
            };
            match &mut frame.node.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => match frame.key.take() {
                    Some(key) => {
                        if key.text != "<<" && entries.iter().any(|(k, _)| k.text == key.text) {
                            return Err(LayerError {
                                at: Some(key.at),
                                path: None,
                                message: format!("`{}` is given twice in the same mapping; keep one", key.text),
                            });
                        }
                        entries.push((key, node));
                    }
                    None => match &node.kind {
                        Kind::Scalar { text, .. } => frame.key = Some(Key { text: text.clone(), at: node.at }),
                        _ => {
                            return Err(self.error(
                                node.at.line,
                                node.at.column,
                                "a key must be a plain name, not a list or mapping",
                            ));
                        }
                    },
                },
                Kind::Scalar { .. } => {}
            }
        }
        Ok(root.unwrap_or_else(|| Node::empty_map(At { layer: self.layer, line: 1, column: 1 })))
    }
}

fn count(node: &Node) -> usize {
    1 + match &node.kind {
        Kind::Scalar { .. } => 0,
        Kind::Seq(items) => items.iter().map(count).sum(),
        Kind::Map(entries) => entries.iter().map(|(_, v)| 1 + count(v)).sum(),
    }
}

/// YAML merge keys (`<<: *base`, `<<: [*a, *b]`): the merged mappings' entries are added where the
/// mapping does not set the key itself; an earlier mapping in the list wins over a later one.
fn resolve_merge_keys(entries: &mut Vec<(Key, Node)>) {
    let mut merged = Vec::new();
    entries.retain(|(key, value)| {
        let is_merge = key.text == "<<" && matches!(value.kind, Kind::Map(_) | Kind::Seq(_));
        if is_merge {
            merged.push(value.clone());
        }
        !is_merge
    });
    for value in merged {
        let sources = match value.kind {
            Kind::Seq(items) => items,
            kind => vec![Node { at: value.at, kind }],
        };
        for source in sources {
            if let Kind::Map(inner) = source.kind {
                for (key, value) in inner {
                    if !entries.iter().any(|(k, _)| k.text == key.text) {
                        entries.push((key, value));
                    }
                }
            }
        }
    }
}

/// A `--set path=value` argument as a node at `path`; the value is read as YAML (`3`, `true`,
/// `[]`, `{release: prometheus}`), nothing after `=` is null (which removes the field).
///
/// # Errors
/// When there is no `=`, the path is empty, or the value is not YAML.
pub fn parse_set(layer: usize, argument: &str) -> Result<(Vec<Segment>, Node), LayerError> {
    let bad = |message: String| LayerError { at: Some(At { layer, line: 1, column: 1 }), path: None, message };
    let Some((path, value)) = argument.split_once('=') else {
        return Err(bad("must be `path=value`, e.g. `collector.replicas=3`".into()));
    };
    let segments = locate::parse_path(path.trim());
    if segments.is_empty() {
        return Err(bad("names no field before `=`; write e.g. `collector.replicas=3`".into()));
    }
    let column = path.chars().count() + 2;
    let mut node = if value.trim().is_empty() {
        Node::scalar(At { layer, line: 1, column }, "", true)
    } else {
        Node::parse(layer, value).map_err(|e| bad(e.message))?
    };
    relocate(&mut node, At { layer, line: 1, column });
    Ok((segments, node))
}

/// Places every node of a `--set` value at the value's start: its own lines are not the
/// argument's.
fn relocate(node: &mut Node, at: At) {
    node.at = at;
    match &mut node.kind {
        Kind::Scalar { .. } => {}
        Kind::Seq(items) => items.iter_mut().for_each(|n| relocate(n, at)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            k.at = at;
            relocate(v, at);
        }),
    }
}

/// One layer of a layered profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// How messages name it: the file as given (`profiles/bases/production.yaml`) or the `--set`
    /// argument (`--set collector.replicas=3`).
    pub name: String,
    /// Its text (for `--set`, the argument).
    pub text: String,
    /// What it sets (for `--set`, the value at its path), without `extends`.
    pub tree: Node,
    /// For `--set`, the path it sets.
    pub set_path: Option<Vec<Segment>>,
}

/// A profile loaded from one or more layers, with where every value came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Layered {
    /// The profile's name: the stem of the last file given.
    pub name: String,
    /// The validated profile.
    pub profile: Profile,
    /// The layers in the order they were merged: the deepest base first, `--set` values last.
    pub layers: Vec<Layer>,
    /// How many of the layers are files named on the command line or in a profiles directory
    /// (not a base reached only through `extends`), by index.
    pub given: Vec<usize>,
}

/// Where a field's value came from, as `--explain` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The field as asked.
    pub field: String,
    /// The effective value, as YAML.
    pub value: String,
    /// Each layer that sets the field (or a map or list it is part of), latest first: the first
    /// is the one in effect. Empty when the value is the default. Each is the layer's name, line
    /// and column; a `--set` has line 0.
    pub set_by: Vec<(String, usize, usize)>,
    /// For a size left unset, what the plan decides (from `load`, else the built-in default).
    pub planned: Option<String>,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self.value.trim_end();
        if value.contains('\n') {
            writeln!(f, "{}:", self.field)?;
            for line in value.lines() {
                writeln!(f, "  {line}")?;
            }
        } else {
            writeln!(f, "{}: {value}", self.field)?;
        }
        if let Some(planned) = &self.planned {
            writeln!(f, "  planned: {planned}")?;
        }
        match self.set_by.split_first() {
            None => write!(f, "  the default: no layer sets it"),
            Some((first, rest)) => {
                write!(f, "  set by {}", Where(first))?;
                for earlier in rest {
                    write!(f, "\n  overrides {}", Where(earlier))?;
                }
                Ok(())
            }
        }
    }
}

/// A layer's name with the line and column, or a `--set` argument (line 0) alone.
struct Where<'a>(&'a (String, usize, usize));

impl std::fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, line, column) = self.0;
        if *line == 0 { f.write_str(name) } else { write!(f, "{name}:{line}:{column}") }
    }
}

impl Layered {
    /// Each base reached through `extends` (not given itself), with the file that extends it.
    pub fn bases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.layers.iter().enumerate().filter(|(i, l)| l.set_path.is_none() && !self.given.contains(i)).map(
            |(i, base)| {
                let by = self.layers.get(i + 1).map_or("", |l| l.name.as_str());
                (base.name.as_str(), by)
            },
        )
    }

    /// The effective value of `field` (a dotted path such as `collector.replicas` or
    /// `apps[0].name`) and every layer that sets it.
    ///
    /// # Errors
    /// When the profile has no such field.
    pub fn explain(&self, field: &str) -> Result<Explanation, String> {
        let path = locate::parse_path(field);
        let value = serde_json::to_value(&self.profile).map_err(|e| e.to_string())?;
        let mut current = &value;
        for segment in &path {
            current = match segment {
                Segment::Key(key) => current.get(key.as_str()),
                Segment::Index(i) => current.get(*i),
            }
            .ok_or_else(|| {
                format!(
                    "the profile has no field `{field}` (a dotted path, e.g. `collector.replicas` or `apps[0].name`)"
                )
            })?;
        }
        let value = crate::format::yaml::to_string(current).map_err(|e| e.to_string())?;
        let mut set_by = Vec::new();
        for layer in self.layers.iter().rev() {
            let found = match &layer.set_path {
                None => layer.tree.get(&path),
                Some(set) => {
                    // A `--set` of the field, of a map or list holding it, or of a field inside it.
                    let shared = set.len().min(path.len());
                    if set[..shared] == path[..shared] {
                        (set.len() <= path.len())
                            .then(|| layer.tree.get(&path[set.len()..]))
                            .flatten()
                            .or(Some(&layer.tree))
                    } else {
                        None
                    }
                }
            };
            if let Some(node) = found {
                let (line, column) = if layer.set_path.is_some() { (0, 0) } else { (node.at.line, node.at.column) };
                set_by.push((layer.name.clone(), line, column));
            }
        }
        let planned = current.is_null().then(|| planned(&self.profile, &path)).flatten();
        Ok(Explanation { field: field.to_owned(), value, set_by, planned })
    }
}

/// What the plan decides for an unset size at `path`, in words.
fn planned(profile: &Profile, path: &[Segment]) -> Option<String> {
    let plan = crate::model::plan::Plan::resolve(profile).ok()?;
    let keys: Vec<&str> = path.iter().map(|s| if let Segment::Key(k) = s { k.as_str() } else { "" }).collect();
    let (workload, rest) = match keys.as_slice() {
        ["collector", rest @ ..] => (&plan.gateway, rest),
        ["jaeger", "all_in_one", rest @ ..] => (&plan.all_in_one, rest),
        ["jaeger", "collector", rest @ ..] => (&plan.jaeger_collector, rest),
        ["jaeger", "query", rest @ ..] => (&plan.jaeger_query, rest),
        _ => return None,
    };
    let source = if profile.load.is_some() { "derived from `load`" } else { "the built-in default" };
    let text = match rest {
        ["replicas"] | ["autoscaling", "min_replicas" | "max_replicas"] => {
            if workload.max_replicas > workload.min_replicas {
                format!("{}–{} pods, autoscaled", workload.min_replicas, workload.max_replicas)
            } else {
                format!("{} pod(s)", workload.min_replicas)
            }
        }
        ["resources"] => format!(
            "requests {} CPU / {} memory, limits {} CPU / {} memory",
            workload.resources.requests.cpu,
            workload.resources.requests.memory,
            workload.resources.limits.cpu,
            workload.resources.limits.memory
        ),
        ["queue", "queue_size"] | ["queue_size"] => format!("{} spans", workload.queue_spans),
        ["batch", "send_batch_size"] => workload.batch_size.to_string(),
        ["batch", "send_batch_max_size"] => workload.batch_max.to_string(),
        _ => return None,
    };
    Some(format!("{text} ({source})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(layer: usize, text: &str) -> Node {
        Node::parse(layer, text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn merged(texts: &[&str]) -> String {
        let mut base = parse(0, texts[0]);
        for (i, text) in texts.iter().enumerate().skip(1) {
            base.merge(parse(i, text));
        }
        base.write().0
    }

    #[test]
    fn maps_merge_by_key_lists_replace_and_null_removes() {
        let base = "a: 1\nm:\n  x: 1\n  y: [1, 2]\nl: [a, b]\ngone: {k: v}\n";
        let over = "m:\n  y: [3]\n  z: 'q'\nl: []\ngone: null\n";
        assert_eq!(merged(&[base, over]), "a: 1\nm:\n  x: 1\n  y:\n    - 3\n  z: \"q\"\nl: []\n");
    }

    #[test]
    fn lines_map_back_to_the_layer_that_wrote_them() {
        let mut base = parse(0, "a: 1\nm:\n  x: 1\n");
        base.merge(parse(1, "\n\nm:\n  x: 2\n"));
        let (text, lines) = base.write();
        assert_eq!(text, "a: 1\nm:\n  x: 2\n");
        assert_eq!(lines.iter().map(|l| (l.value.layer, l.value.line)).collect::<Vec<_>>(), [(0, 1), (0, 2), (1, 4)]);
        // `  x: 2`: the key at column 3 was written by the base, the value at 6 by the override.
        assert_eq!((lines[2].at(3).layer, lines[2].at(6).layer), (0, 1));
    }

    #[test]
    fn quoting_survives_the_rewrite() {
        let text = "a: 'on'\nb: \"0755\"\nc: !!str 12\nd: |\n  two\n  lines\n\"odd key\": x\n";
        assert_eq!(
            parse(0, text).write().0,
            "a: \"on\"\nb: \"0755\"\nc: !!str 12\nd: \"two\\nlines\\n\"\n\"odd key\": x\n"
        );
    }

    #[test]
    fn anchors_merge_keys_and_their_limits() {
        let text = "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n";
        assert_eq!(parse(0, text).write().0, "base:\n  x: 1\n  y: 2\nc:\n  y: 3\n  x: 1\n");
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 { "a".to_owned() } else { format!("l{}", i - 1) };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let error = Node::parse(0, &bomb).expect_err("an alias bomb is refused");
        assert!(error.message.contains("expands to more than"), "{}", error.message);
        assert!(Node::parse(0, "a: 1\na: 2\n").expect_err("duplicate").message.contains("given twice"));
        assert!(Node::parse(0, "a: 1\n---\nb: 2\n").expect_err("two documents").message.contains("more than one"));
    }

    #[test]
    fn set_creates_maps_replaces_items_and_refuses_what_is_not_there() {
        let mut tree = parse(0, "apps:\n  - name: a\n  - name: b\n");
        let (path, value) = parse_set(1, "apps[1].name=c").expect("parses");
        tree.set(&path, value).expect("item 1 exists");
        let (path, value) = parse_set(2, "monitoring.labels={release: prom}").expect("parses");
        tree.set(&path, value).expect("maps are created");
        assert_eq!(
            tree.write().0,
            "apps:\n  -\n    name: a\n  -\n    name: c\nmonitoring:\n  labels:\n    release: prom\n"
        );
        let (path, value) = parse_set(3, "apps[2].name=d").expect("parses");
        assert_eq!(
            tree.set(&path, value).expect_err("past the end"),
            "`apps` has 2 item(s), so `apps[2]` is past its end; set the whole list instead"
        );
        let (path, value) = parse_set(3, "apps.name=d").expect("parses");
        assert_eq!(tree.set(&path, value).expect_err("a list"), "`apps` is not a mapping, so it has no field `name`");
        assert!(parse_set(3, "collector.replicas").is_err());
        assert!(parse_set(3, "=3").is_err());
    }

    #[test]
    fn a_base_is_named_by_a_top_level_key_only() {
        assert!(names_a_base("a: 1\nextends: b.yaml\n"));
        assert!(names_a_base("{a: [extends], extends: b.yaml}"));
        assert!(!names_a_base("a:\n  extends: b.yaml\n"));
        assert!(!names_a_base("a: extends\n"));
        assert!(!names_a_base("[extends]"));
        assert!(!names_a_base("a: [1\n"));
    }

    #[test]
    fn extends_must_be_a_file_name() {
        let mut tree = parse(0, "extends: bases/prod.yaml\nnamespace: x\n");
        assert_eq!(
            tree.take_extends().expect("a name").map(|(n, at)| (n, at.line)),
            Some(("bases/prod.yaml".into(), 1))
        );
        assert_eq!(tree.write().0, "namespace: x\n");
        let mut bad = parse(0, "extends: [a.yaml]\n");
        assert!(bad.take_extends().is_err());
    }
}
