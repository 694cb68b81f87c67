//! Finds where a key path (`collector.resources.limits.memory`, `apps[2].name`) sits in a YAML document, so errors about values can point at a line and column.

use std::collections::{HashMap, HashSet};

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span};

/// One step of a path into a YAML document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A zero-based sequence index.
    Index(usize),
}

/// Finds the 1-based `(line, column)` of the value at `path` in the first document of `src`.
///
/// Columns count characters, not bytes. The empty path is the document's root node. Keys match
/// by their scalar text (so `"quoted"` and `plain` keys both match `Key("...")`), the first of
/// duplicate keys wins, aliases are followed, and keys merged in with `<<: *anchor` are found
/// where the anchor defines them.
///
/// When the value is missing (`key:` with nothing after it), the key's location is returned.
/// When a segment of the path does not exist (a missing key, an index past the end, or a step
/// into a scalar), the location of the deepest node that does is returned instead: the key of
/// the last mapping entry found, or the sequence item itself when the last step found was an
/// index. This lets an error about a missing field point at its parent, e.g. `limits` for a
/// missing `collector.resources.limits.memory`.
///
/// Returns `None` when `src` is not well-formed YAML, has no document, or not even the first
/// segment of the path exists.
#[must_use]
pub fn locate(src: &str, path: &[Segment]) -> Option<(usize, usize)> {
    let tree = Tree::parse(src)?;
    let mut node = tree.root?;
    // Where to point if the path runs out: the key (or item) that led to `node`, if any.
    let mut fallback: Option<usize> = None;
    for segment in path {
        let container = tree.resolve(node)?;
        let step = match (segment, &tree.nodes.get(container)?.kind) {
            (Segment::Key(key), Kind::Map(_)) => tree.lookup(container, key),
            (Segment::Index(i), Kind::Seq(items)) => items.get(*i).map(|&item| (item, item)),
            _ => None,
        };
        let Some((anchor, next)) = step else {
            return fallback.and_then(|n| tree.position(n));
        };
        fallback = Some(anchor);
        node = next;
    }
    let target = tree.nodes.get(node)?;
    if target.empty
        && let Some(key) = fallback
    {
        return tree.position(key);
    }
    tree.position(node)
}

/// Turns a dotted path such as `collector.resources.limits.memory`, `apps[2].name` or
/// `a.b[0]` into segments.
///
/// Brackets holding a number give [`Segment::Index`]; anything else in brackets, or any text
/// between dots, gives [`Segment::Key`]. Keys containing dots or brackets can be quoted:
/// `annotations["example.com/x"]` or `annotations."example.com/x"`. Empty segments (`a..b`, a
/// leading `.`) are skipped, so `.` and the empty string are the empty path; an unclosed `[` or
/// quote is read as part of the key.
#[must_use]
pub fn parse_path(dotted: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut rest = dotted;
    while let Some(c) = rest.chars().next() {
        let after = rest.get(c.len_utf8()..).unwrap_or("");
        match c {
            '.' => {
                flush(&mut current, &mut segments);
                rest = after;
            }
            '[' => {
                if let Some((segment, remaining)) = bracket(after) {
                    flush(&mut current, &mut segments);
                    segments.push(segment);
                    rest = remaining;
                } else {
                    current.push_str(rest);
                    rest = "";
                }
            }
            '"' | '\'' if current.is_empty() => {
                if let Some((key, remaining)) = quoted(after, c) {
                    segments.push(Segment::Key(key.to_owned()));
                    rest = remaining;
                } else {
                    current.push_str(rest);
                    rest = "";
                }
            }
            _ => {
                current.push(c);
                rest = after;
            }
        }
    }
    flush(&mut current, &mut segments);
    segments
}

/// Pushes `current` as a key, if it is not empty, and clears it.
fn flush(current: &mut String, segments: &mut Vec<Segment>) {
    if !current.is_empty() {
        segments.push(Segment::Key(std::mem::take(current)));
    }
}

/// Reads the inside of `[...]` (after the `[`); returns the segment and the text after `]`.
fn bracket(s: &str) -> Option<(Segment, &str)> {
    if let Some(quote) = s.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        let (key, after) = quoted(s.get(1..)?, quote)?;
        let after = after.strip_prefix(']')?;
        return Some((Segment::Key(key.to_owned()), after));
    }
    let (inside, after) = s.split_once(']')?;
    let segment = match inside.parse::<usize>() {
        Ok(i) if inside.bytes().all(|b| b.is_ascii_digit()) => Segment::Index(i),
        _ => Segment::Key(inside.to_owned()),
    };
    Some((segment, after))
}

/// Reads up to the closing `quote`; returns the quoted text and the text after the quote.
fn quoted(s: &str, quote: char) -> Option<(&str, &str)> {
    let end = s.find(quote)?;
    Some((s.get(..end)?, s.get(end.checked_add(quote.len_utf8())?..)?))
}

/// A parsed YAML node with its source position.
struct Node {
    /// 1-based line of the node's first character.
    line: usize,
    /// 0-based column (in characters) of the node's first character.
    col: usize,
    /// Whether the node is an implicit empty scalar (a missing value).
    empty: bool,
    /// What the node is.
    kind: Kind,
}

/// The shape of a [`Node`]; children are indices into [`Tree::nodes`].
enum Kind {
    /// A scalar with its text and whether it was written plain (unquoted).
    Scalar { text: String, plain: bool },
    /// A sequence of items.
    Seq(Vec<usize>),
    /// A mapping of `(key, value)` entries in source order.
    Map(Vec<(usize, usize)>),
    /// An alias to the anchor with this id.
    Alias(usize),
}

/// The first document of a YAML stream as a tree of nodes.
struct Tree {
    /// All nodes, in the order they start.
    nodes: Vec<Node>,
    /// The document's root node, if there is a document.
    root: Option<usize>,
    /// Anchor id to anchored node.
    anchors: HashMap<usize, usize>,
}

/// A collection being built, with a mapping key waiting for its value.
struct Frame {
    /// The collection node.
    node: usize,
    /// A mapping key read but not yet paired with a value.
    key: Option<usize>,
}

impl Tree {
    /// Parses `src`, keeping the first document; `None` on any syntax error.
    fn parse(src: &str) -> Option<Tree> {
        let mut tree = Tree { nodes: Vec::new(), root: None, anchors: HashMap::new() };
        let mut stack: Vec<Frame> = Vec::new();
        // Set once the first document has ended.
        let mut done = false;
        for event in Parser::new_from_str(src) {
            let (event, span) = event.ok()?;
            if done {
                continue; // keep reading only to report syntax errors
            }
            match event {
                Event::Scalar(text, style, anchor, _) => {
                    let empty = style == ScalarStyle::Plain && is_empty_span(&span);
                    let plain = style == ScalarStyle::Plain;
                    let kind = Kind::Scalar { text: text.into_owned(), plain };
                    let node = tree.push(&span, empty, kind, anchor);
                    tree.attach(&mut stack, node)?;
                }
                Event::Alias(id) => {
                    let node = tree.push(&span, false, Kind::Alias(id), 0);
                    tree.attach(&mut stack, node)?;
                }
                Event::SequenceStart(_, anchor, _) => {
                    let node = tree.push(&span, false, Kind::Seq(Vec::new()), anchor);
                    stack.push(Frame { node, key: None });
                }
                Event::MappingStart(_, anchor, _) => {
                    let node = tree.push(&span, false, Kind::Map(Vec::new()), anchor);
                    stack.push(Frame { node, key: None });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let frame = stack.pop()?;
                    tree.attach(&mut stack, frame.node)?;
                }
                Event::DocumentEnd => done = true,
                _ => {}
            }
        }
        Some(tree)
    }

    /// Adds a node and records its anchor; returns its index.
    fn push(&mut self, span: &Span, empty: bool, kind: Kind, anchor: usize) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node { line: span.start.line(), col: span.start.col(), empty, kind });
        if anchor != 0 {
            self.anchors.insert(anchor, index);
        }
        index
    }

    /// Hangs a finished node on the collection being built, or makes it the root.
    fn attach(&mut self, stack: &mut [Frame], node: usize) -> Option<()> {
        let Some(frame) = stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return Some(());
        };
        match &mut self.nodes.get_mut(frame.node)?.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => match frame.key.take() {
                Some(key) => entries.push((key, node)),
                None => frame.key = Some(node),
            },
            Kind::Scalar { .. } | Kind::Alias(_) => return None,
        }
        Some(())
    }

    /// Follows aliases to the node they stand for.
    fn resolve(&self, node: usize) -> Option<usize> {
        let mut current = node;
        for _ in 0..=self.anchors.len() {
            match self.nodes.get(current)?.kind {
                Kind::Alias(id) => current = *self.anchors.get(&id)?,
                _ => return Some(current),
            }
        }
        None
    }

    /// The scalar text of a key node (through aliases), with whether it was plain.
    fn key_text(&self, node: usize) -> Option<(&str, bool)> {
        match &self.nodes.get(self.resolve(node)?)?.kind {
            Kind::Scalar { text, plain } => Some((text.as_str(), *plain)),
            _ => None,
        }
    }

    /// Finds `key` in the mapping `map`, then in mappings merged into it with `<<`; returns the
    /// key node and the value node.
    fn lookup(&self, map: usize, key: &str) -> Option<(usize, usize)> {
        self.lookup_in(map, key, &mut HashSet::new())
    }

    /// [`Tree::lookup`], skipping mappings already searched (merges can repeat or loop).
    fn lookup_in(&self, map: usize, key: &str, seen: &mut HashSet<usize>) -> Option<(usize, usize)> {
        if !seen.insert(map) {
            return None;
        }
        let Kind::Map(entries) = &self.nodes.get(map)?.kind else {
            return None;
        };
        if let Some(&found) = entries.iter().find(|(k, _)| self.key_text(*k).is_some_and(|(text, _)| text == key)) {
            return Some(found);
        }
        for (k, value) in entries {
            if self.key_text(*k) != Some(("<<", true)) {
                continue;
            }
            let Some(source) = self.resolve(*value) else {
                continue;
            };
            let sources = match &self.nodes.get(source)?.kind {
                Kind::Seq(items) => items.clone(),
                _ => vec![source],
            };
            for item in sources {
                if let Some(found) = self.resolve(item).and_then(|m| self.lookup_in(m, key, seen)) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// The 1-based `(line, column)` of a node.
    fn position(&self, node: usize) -> Option<(usize, usize)> {
        let node = self.nodes.get(node)?;
        Some((node.line, node.col.checked_add(1)?))
    }
}

/// Whether a span covers no characters (an implicit empty scalar).
fn is_empty_span(span: &Span) -> bool {
    span.start.index() == span.end.index()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shorthand for a key segment.
    fn k(s: &str) -> Segment {
        Segment::Key(s.to_owned())
    }

    /// Locates a dotted path.
    fn at(src: &str, path: &str) -> Option<(usize, usize)> {
        locate(src, &parse_path(path))
    }

    const NESTED: &str = "\
collector:
  image: otel/collector:0.1
  resources:
    limits:
      memory: 512Mi
      cpu: 1
    requests: {}
jaeger:
  enabled: true
";

    #[test]
    fn finds_values_in_nested_maps() {
        assert_eq!(at(NESTED, "collector.resources.limits.memory"), Some((5, 15)));
        assert_eq!(at(NESTED, "collector.resources.limits.cpu"), Some((6, 12)));
        assert_eq!(at(NESTED, "collector.image"), Some((2, 10)));
        assert_eq!(at(NESTED, "jaeger.enabled"), Some((9, 12)));
        // A mapping value starts at its first key.
        assert_eq!(at(NESTED, "collector.resources"), Some((4, 5)));
        assert_eq!(at(NESTED, "collector.resources.requests"), Some((7, 15)));
        // The empty path is the root.
        assert_eq!(at(NESTED, ""), Some((1, 1)));
    }

    #[test]
    fn missing_keys_point_at_the_deepest_parent_key() {
        // `requests.memory` is missing: point at `requests`.
        assert_eq!(at(NESTED, "collector.resources.requests.memory"), Some((7, 5)));
        // Several segments missing: still the deepest existing key.
        assert_eq!(at(NESTED, "collector.resources.limits.x.y.z"), Some((4, 5)));
        // Stepping into a scalar is the same as missing.
        assert_eq!(at(NESTED, "jaeger.enabled.value"), Some((9, 3)));
        // An index into a mapping finds nothing below `jaeger`.
        assert_eq!(at(NESTED, "jaeger[0]"), Some((8, 1)));
        // Nothing of the path exists.
        assert_eq!(at(NESTED, "nothing.here"), None);
        assert_eq!(at(NESTED, "[0]"), None);
    }

    #[test]
    fn empty_values_point_at_their_key() {
        let src = "a:\n  b:\n  c: 1\n";
        assert_eq!(at(src, "a.b"), Some((2, 3)));
        assert_eq!(at(src, "a.b.x"), Some((2, 3)));
        assert_eq!(at(src, "a.c"), Some((3, 6)));
    }

    #[test]
    fn finds_items_in_sequences_of_maps() {
        let src = "\
apps:
  - name: one
    port: 80
  - name: two
  -   name: three
      port: 8080
";
        assert_eq!(at(src, "apps[0].name"), Some((2, 11)));
        assert_eq!(at(src, "apps[0].port"), Some((3, 11)));
        assert_eq!(at(src, "apps[1].name"), Some((4, 11)));
        assert_eq!(at(src, "apps[2].port"), Some((6, 13)));
        assert_eq!(at(src, "apps[2]"), Some((5, 7)));
        // Missing key in an item points at the item; missing item at the sequence's key.
        assert_eq!(at(src, "apps[1].port"), Some((4, 5)));
        assert_eq!(at(src, "apps[3].name"), Some((1, 1)));
        assert_eq!(at(src, "apps.name"), Some((1, 1)));
        let top = "- a\n- b: [x, {y: 2}]\n";
        assert_eq!(at(top, "[1].b[1].y"), Some((2, 14)));
        assert_eq!(at(top, "[0]"), Some((1, 3)));
    }

    #[test]
    fn finds_values_in_flow_style() {
        let src = "{a: 1, b: {c: [10, 20]}}";
        assert_eq!(at(src, "a"), Some((1, 5)));
        assert_eq!(at(src, "b.c[1]"), Some((1, 20)));
        assert_eq!(at(src, "b.c"), Some((1, 15)));
        assert_eq!(at(src, "b.d"), Some((1, 8)));
        let inline = "limits: {memory: 1Gi, cpu: 2}\n";
        assert_eq!(at(inline, "limits.cpu"), Some((1, 28)));
    }

    #[test]
    fn matches_quoted_keys() {
        let src = "\"quoted key\": 1\n'single': 2\nannotations:\n  \"example.com/x.y\": v\n";
        assert_eq!(at(src, "\"quoted key\""), Some((1, 15)));
        assert_eq!(locate(src, &[k("quoted key")]), Some((1, 15)));
        assert_eq!(at(src, "single"), Some((2, 11)));
        assert_eq!(at(src, "annotations[\"example.com/x.y\"]"), Some((4, 22)));
        assert_eq!(at(src, "annotations.'example.com/x.y'"), Some((4, 22)));
    }

    #[test]
    fn follows_aliases_and_merge_keys() {
        let src = "\
base: &base
  memory: 1Gi
  cpu: 1
svc:
  <<: *base
  cpu: 2
copy: *base
";
        assert_eq!(at(src, "svc.cpu"), Some((6, 8)));
        assert_eq!(at(src, "svc.memory"), Some((2, 11)));
        assert_eq!(at(src, "copy"), Some((7, 7)));
        assert_eq!(at(src, "copy.cpu"), Some((3, 8)));
        assert_eq!(at(src, "svc.missing"), Some((4, 1)));
        let list = "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n";
        assert_eq!(at(list, "c.y"), Some((2, 11)));
        // A mapping merging itself must not loop.
        let cyclic = "a: &a\n  <<: *a\n";
        assert_eq!(at(cyclic, "a.x"), Some((1, 1)));
        // Repeated merges (a "billion laughs" shape) are searched once each.
        let mut bomb = String::from("l0: &l0 {x: 1}\n");
        for i in 1..40 {
            let prev = format!("*l{}", i - 1);
            bomb.push_str(&format!("l{i}: &l{i}\n  <<: [{prev}, {prev}, {prev}, {prev}]\n"));
        }
        assert_eq!(at(&bomb, "l39.missing"), Some((78, 1)));
        assert_eq!(at(&bomb, "l39.x"), Some((1, 13)));
    }

    #[test]
    fn malformed_yaml_gives_none() {
        assert_eq!(at("a: [1, 2\nb: 3\n", "b"), None);
        assert_eq!(at("a: 1\n b: 2\n", "a"), None);
        assert_eq!(at("a: *nowhere\n", "a"), None);
        assert_eq!(at("a: 'unterminated\n", "a"), None);
        assert_eq!(at("key: {unclosed: 1", "key"), None);
        assert_eq!(at("a: b: c\n", "a"), None);
        assert_eq!(at("a: 1\n---\n: : :\n  - [\n", "a"), None);
    }

    #[test]
    fn empty_documents_give_none() {
        assert_eq!(at("", ""), None);
        assert_eq!(at("", "a"), None);
        assert_eq!(at("# only a comment\n", "a"), None);
        assert_eq!(at("---\n", "a"), None);
        assert_eq!(at("---\n", ""), Some((1, 4)));
    }

    #[test]
    fn uses_the_first_document() {
        let src = "a: 1\n---\nb: 2\n";
        assert_eq!(at(src, "a"), Some((1, 4)));
        assert_eq!(at(src, "b"), None);
    }

    #[test]
    fn columns_count_characters() {
        let src = "ключ: значение\nä: {ö: 1}\n";
        assert_eq!(at(src, "ключ"), Some((1, 7)));
        assert_eq!(at(src, "ä.ö"), Some((2, 8)));
    }

    #[test]
    fn duplicate_keys_use_the_first() {
        assert_eq!(at("a: 1\na: 2\n", "a"), Some((1, 4)));
    }

    #[test]
    fn parses_dotted_paths() {
        use Segment::Index;
        assert_eq!(
            parse_path("collector.resources.limits.memory"),
            vec![k("collector"), k("resources"), k("limits"), k("memory")]
        );
        assert_eq!(parse_path("apps[2].name"), vec![k("apps"), Index(2), k("name")]);
        assert_eq!(parse_path("a.b[0]"), vec![k("a"), k("b"), Index(0)]);
        assert_eq!(parse_path("a[0][1]"), vec![k("a"), Index(0), Index(1)]);
        assert_eq!(parse_path("[3]"), vec![Index(3)]);
        assert_eq!(parse_path(""), vec![]);
        assert_eq!(parse_path("."), vec![]);
        assert_eq!(parse_path(".a..b."), vec![k("a"), k("b")]);
        assert_eq!(parse_path("a[x]"), vec![k("a"), k("x")]);
        assert_eq!(parse_path("a[-1]"), vec![k("a"), k("-1")]);
        assert_eq!(parse_path("a[+1]"), vec![k("a"), k("+1")]);
        assert_eq!(parse_path("a[99999999999999999999999]"), vec![k("a"), k("99999999999999999999999")]);
        assert_eq!(parse_path("m[\"example.com/x\"].y"), vec![k("m"), k("example.com/x"), k("y")]);
        assert_eq!(parse_path("m.'a.b'[0]"), vec![k("m"), k("a.b"), Index(0)]);
        assert_eq!(parse_path("a[0"), vec![k("a[0")]);
        assert_eq!(parse_path("a[\"x]"), vec![k("a[\"x]")]);
        assert_eq!(parse_path("a.\"b"), vec![k("a"), k("\"b")]);
        assert_eq!(parse_path("a.b\"c\""), vec![k("a"), k("b\"c\"")]);
        assert_eq!(parse_path("ä.ö[1]"), vec![k("ä"), k("ö"), Index(1)]);
    }
}
