//! YAML output with the settings every generated file shares.
//!
//! serde-saphyr decides how every scalar is written (plain, quoted, literal block), so the output
//! reads back identically under YAML 1.1 (what kubectl uses). Its serializer examines each map key
//! and each string character by character, which made up a third of rendering a stack; so
//! [`to_string`] lays out the block structure itself and writes without asking only the strings
//! that are plain beyond doubt (ASCII letters, digits and `-_./`, starting with a letter, not a
//! YAML 1.1 boolean or null) — serde-saphyr would write those unchanged. Every other scalar is
//! written by serde-saphyr; anything the layout does not cover (a non-string key, an enum with
//! fields) sends the whole value to serde-saphyr. Tests (`tests/yaml_writer.rs`) hold the two
//! writers byte-identical over every rendered document and over random documents.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::BuildHasherDefault;

use serde::Serialize;
use serde::ser::{self, Impossible};

use crate::format::Error;
use crate::value::hash::Fnv1a;

/// Serialises `value` as block-style YAML that reads back identically under YAML 1.1 (what kubectl
/// uses): strings such as `on`, `n`, `1:30` or `2024-01-01` are quoted; long strings stay on one
/// line (never folded); multi-line strings become `|` literal blocks. The bytes are those of
/// [`with_serde_saphyr`].
///
/// # Errors
/// When `value` cannot be serialised (a map with non-string keys, say).
pub fn to_string<T: Serialize>(value: &T) -> std::result::Result<String, Error> {
    to_string_after("", value)
}

/// [`to_string`] after `header` (a comment, say): the document is written straight after it,
/// into one string.
///
/// # Errors
/// When `value` cannot be serialised.
pub fn to_string_after<T: Serialize>(header: &str, value: &T) -> std::result::Result<String, Error> {
    let mut out = String::with_capacity(header.len() + 2048);
    out.push_str(header);
    if value.serialize(Emitter { out: &mut out, at: At::Top }).is_err() {
        out.truncate(header.len());
        out.push_str(&with_serde_saphyr(value)?);
    }
    Ok(out)
}

/// Serialises `value` with serde-saphyr alone: the reference [`to_string`] is held to.
///
/// # Errors
/// When `value` cannot be serialised.
pub fn with_serde_saphyr<T: Serialize>(value: &T) -> std::result::Result<String, Error> {
    serde_saphyr::to_string_with_options(value, options())
        .map_err(|e| Error::Serialize { what: std::any::type_name::<T>().into(), message: e.to_string() })
}

fn options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        folded_wrap_chars: usize::MAX,
        min_fold_chars: usize::MAX,
    }
}

/// Whether serde-saphyr writes `s` as a plain scalar in block context, decided without doubt: ASCII
/// letters, digits and `-_./` (and `:` inside a value), starting with a letter, so it can be no
/// number, date, indicator or comment; and none of the words YAML 1.1 or 1.2 reads as a boolean,
/// null or special float. Anything else is left to serde-saphyr.
fn is_plain(s: &str, key: bool) -> bool {
    const WORDS: [&str; 11] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf"];
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else { return false };
    // Every map key and string passes through here, so the byte classes are one table lookup.
    let allowed = if key { PLAIN_ANYWHERE } else { PLAIN_ANYWHERE | PLAIN_IN_VALUE };
    first.is_ascii_alphabetic()
        && *last != b':'
        && bytes.iter().all(|&b| PLAIN_BYTES[usize::from(b)] & allowed != 0)
        && (bytes.len() > 5 || !WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)))
}

/// In [`PLAIN_BYTES`]: allowed in a plain key or value (ASCII letters, digits, `-_./`).
const PLAIN_ANYWHERE: u8 = 1;
/// In [`PLAIN_BYTES`]: allowed in a plain value only (`:`).
const PLAIN_IN_VALUE: u8 = 2;

/// The [`is_plain`] class of every byte.
const PLAIN_BYTES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/') {
            PLAIN_ANYWHERE
        } else if c == b':' {
            PLAIN_IN_VALUE
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Something this writer leaves to serde-saphyr; never seen by callers.
#[derive(Debug)]
struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("left to serde-saphyr")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

/// Where a node is written, and what precedes it on its line.
#[derive(Clone, Copy)]
enum At {
    /// The document itself.
    Top,
    /// The value of a key written at this indent; `key:` is on the line.
    Value(usize),
    /// An item of a sequence whose `-` is at this indent; the `-` is on the line.
    Item(usize),
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// Writes `text` line by line, each non-empty line indented by `n`; empty lines stay empty, as
/// serde-saphyr writes them in a block scalar.
fn indent_lines(out: &mut String, text: &str, n: usize) {
    for line in text.split_inclusive('\n') {
        if line != "\n" {
            indent(out, n);
        }
        out.push_str(line);
    }
}

fn scalar(out: &mut String, at: At, text: &str) {
    if !matches!(at, At::Top) {
        out.push(' ');
    }
    out.push_str(text);
    out.push('\n');
}

/// A single-line scalar as serde-saphyr writes it on its own.
fn by_serde_saphyr<T: Serialize>(value: &T) -> Result<String> {
    let mut text = serde_saphyr::to_string_with_options(value, options()).map_err(|_| Unsupported)?;
    if text.pop() != Some('\n') || text.contains('\n') {
        return Err(Unsupported);
    }
    Ok(text)
}

thread_local! {
    /// Single-line strings as serde-saphyr writes them, since the same few (versions, quantities,
    /// durations, flags) recur in every object and asking serde-saphyr costs far more than a lookup.
    static QUOTED: RefCell<HashMap<String, String, BuildHasherDefault<Fnv1a>>> = RefCell::default();
}

/// Bounds [`QUOTED`] in a process that renders many different stacks.
const QUOTED_MAX: usize = 4096;

/// A single-line string that is not plain beyond doubt, as serde-saphyr writes it.
fn quoted(out: &mut String, at: At, v: &str) -> Result {
    QUOTED.with_borrow_mut(|quoted| {
        if quoted.len() > QUOTED_MAX {
            quoted.clear();
        }
        let text = match quoted.get(v) {
            Some(text) => text,
            None => quoted.entry(v.to_owned()).or_insert(by_serde_saphyr(&v)?),
        };
        scalar(out, at, text);
        Ok(())
    })
}

/// A multi-line string: serde-saphyr writes it alone (a `|` literal block with its content indented
/// by two, or a double-quoted line), and the block's lines move under the node that holds it.
fn block(out: &mut String, at: At, v: &str) -> Result {
    let shift = match at {
        At::Top => 0,
        At::Value(n) | At::Item(n) => n,
    };
    // The common case written directly, as serde-saphyr writes it: printable ASCII lines ending in
    // one newline, the first line starting with neither a space nor a newline, is a `|` block
    // (clip chomping, no indentation indicator) with empty lines left empty.
    let bytes = v.as_bytes();
    if bytes.iter().all(|&b| b == b'\n' || (b' '..=b'~').contains(&b))
        && !matches!(bytes.first(), Some(b' ' | b'\n'))
        && v.ends_with('\n')
        && !v.ends_with("\n\n")
    {
        scalar(out, at, "|");
        indent_lines(out, v, shift + 2);
        return Ok(());
    }
    let text = serde_saphyr::to_string_with_options(&v, options()).map_err(|_| Unsupported)?;
    let Some((header, content)) = text.split_once('\n') else { return Err(Unsupported) };
    if !header.starts_with('|') {
        if !content.is_empty() {
            return Err(Unsupported);
        }
        scalar(out, at, header);
        return Ok(());
    }
    scalar(out, at, header);
    indent_lines(out, content, shift);
    Ok(())
}

struct Emitter<'o> {
    out: &'o mut String,
    at: At,
}

impl Emitter<'_> {
    fn integer(self, v: impl std::fmt::Display) -> Result {
        if !matches!(self.at, At::Top) {
            self.out.push(' ');
        }
        let _ = writeln!(self.out, "{v}");
        Ok(())
    }
}

impl<'o> ser::Serializer for Emitter<'o> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Seq<'o>;
    type SerializeTuple = Seq<'o>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Map<'o>;
    type SerializeStruct = Map<'o>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result {
        scalar(self.out, self.at, if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.integer(v)
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.integer(v)
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.integer(v)
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.integer(v)
    }
    fn serialize_f32(self, v: f32) -> Result {
        scalar(self.out, self.at, &by_serde_saphyr(&v)?);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        scalar(self.out, self.at, &by_serde_saphyr(&v)?);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        if is_plain(v, false) {
            scalar(self.out, self.at, v);
            Ok(())
        } else if v.contains('\n') {
            block(self.out, self.at, v)
        } else {
            quoted(self.out, self.at, v)
        }
    }
    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result {
        scalar(self.out, self.at, "null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result {
        // serde-saphyr gives meaning to some newtype names (`__yaml_lit_str` and friends).
        if name.starts_with("__") {
            return Err(Unsupported);
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        use ser::SerializeMap;
        let mut map = self.serialize_map(Some(1))?;
        map.serialize_entry(variant, value)?;
        map.end()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'o>> {
        // Items of a sequence under a key sit at the key's indent; a sequence inside a sequence
        // starts on its parent's `-` line.
        let items = match self.at {
            At::Top => 0,
            At::Value(key) => key,
            At::Item(dash) => dash + 2,
        };
        Ok(Seq { out: self.out, at: self.at, indent: items, count: 0 })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'o>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'o>> {
        let entries = match self.at {
            At::Top => 0,
            At::Value(key) => key + 2,
            At::Item(dash) => dash + 2,
        };
        Ok(Map { out: self.out, at: self.at, indent: entries, count: 0 })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Map<'o>> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

/// Starts the next entry or item of a collection at `indent`: the first one shares the `-` line of
/// a collection inside a sequence, or starts a new line after `key:`.
fn next_line(out: &mut String, at: At, first: bool, indent_to: usize) {
    match (first, at) {
        (true, At::Item(_)) => out.push(' '),
        (true, At::Value(_)) => {
            out.push('\n');
            indent(out, indent_to);
        }
        _ => indent(out, indent_to),
    }
}

/// A block sequence: `- item` lines at `indent`.
struct Seq<'o> {
    out: &'o mut String,
    at: At,
    indent: usize,
    count: usize,
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        next_line(self.out, self.at, self.count == 0, self.indent);
        self.out.push('-');
        self.count += 1;
        value.serialize(Emitter { out: self.out, at: At::Item(self.indent) })
    }
    fn end(self) -> Result {
        if self.count == 0 {
            scalar(self.out, self.at, "[]");
        }
        Ok(())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result {
        ser::SerializeSeq::end(self)
    }
}

/// A block mapping: `key:` lines at `indent`.
struct Map<'o> {
    out: &'o mut String,
    at: At,
    indent: usize,
    count: usize,
}

impl Map<'_> {
    fn key(&mut self, key: &str) -> Result {
        if !is_plain(key, true) {
            return Err(Unsupported);
        }
        next_line(self.out, self.at, self.count == 0, self.indent);
        self.out.push_str(key);
        self.out.push(':');
        self.count += 1;
        Ok(())
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        key.serialize(Key(self))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(Emitter { out: self.out, at: At::Value(self.indent) })
    }
    fn end(self) -> Result {
        if self.count == 0 {
            scalar(self.out, self.at, "{}");
        }
        Ok(())
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key)?;
        ser::SerializeMap::serialize_value(self, value)
    }
    fn end(self) -> Result {
        ser::SerializeMap::end(self)
    }
}

/// Writes a map key: a string (checked by [`Map::key`]); any other key goes to serde-saphyr.
struct Key<'m, 'o>(&'m mut Map<'o>);

impl ser::Serializer for Key<'_, '_> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Impossible<(), Unsupported>;
    type SerializeTuple = Impossible<(), Unsupported>;
    type SerializeTupleStruct = Impossible<(), Unsupported>;
    type SerializeTupleVariant = Impossible<(), Unsupported>;
    type SerializeMap = Impossible<(), Unsupported>;
    type SerializeStruct = Impossible<(), Unsupported>;
    type SerializeStructVariant = Impossible<(), Unsupported>;

    fn serialize_str(self, v: &str) -> Result {
        self.0.key(v)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result {
        if name.starts_with("__") { Err(Unsupported) } else { value.serialize(self) }
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result {
        Err(Unsupported)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(Unsupported)
    }
    refuse! {
        Unsupported;
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_unit_variant(&'static str, u32, &'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}
