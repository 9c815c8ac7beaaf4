//! A serde serializer that writes serde_json's pretty layout (two spaces per level, `"key": value`,
//! empty containers as `[]` and `{}`), for a value that sits `depth` levels deep.
//!
//! serde_json checks every byte of every string against its escape table, one at a time; the
//! report's strings (statements, messages, rollback SQL) are most of a JSON report's bytes, so that
//! loop was a tenth of the CLI's instructions. This one skips eight bytes at a time when none of them
//! needs escaping, and escapes as serde_json does. `json::tests` compares the two on whole reports.

use serde::ser::{self, Serialize};
use std::io::Write;

/// An error while serializing: the writer's, or a map key that is not a string or a number.
#[derive(Debug, thiserror::Error)]
pub(super) enum Error {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Custom(String),
}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            Error::Custom(m) => std::io::Error::other(m),
        }
    }
}

type Result<T = ()> = std::result::Result<T, Error>;

/// Writes into a buffer of its own and hands it to the writer in pieces of about this size: a
/// write through `dyn Write` and `BufWriter` per quote, key and indentation cost more than the
/// bytes themselves.
const PIECE: usize = 32 << 10;

pub(super) struct Serializer<'w, W: ?Sized> {
    w: &'w mut W,
    out: Vec<u8>,
    depth: usize,
}

impl<'w, W: ?Sized + Write> Serializer<'w, W> {
    pub(super) fn new(w: &'w mut W, depth: usize) -> Self {
        Serializer {
            w,
            out: Vec::with_capacity(4096),
            depth,
        }
    }

    /// Writes what is still buffered.
    pub(super) fn finish(mut self) -> Result {
        self.w.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    fn flush_piece(&mut self) -> Result {
        if self.out.len() >= PIECE {
            self.w.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result {
        if s.len() >= PIECE {
            // A long string (a rollback script) goes straight through, not through the buffer.
            self.w.write_all(&self.out)?;
            self.out.clear();
            let mut piece = Vec::with_capacity(PIECE + 8);
            let mut start = 0;
            piece.push(b'"');
            while start < s.len() {
                let mut end = (start + PIECE).min(s.len());
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                escape_into(&mut piece, &s[start..end]);
                self.w.write_all(&piece)?;
                piece.clear();
                start = end;
            }
            self.w.write_all(b"\"")?;
            return Ok(());
        }
        write_str(&mut self.out, s);
        Ok(())
    }

    fn open(&mut self, bracket: u8) -> Compound<'_, 'w, W> {
        self.out.push(bracket);
        self.depth += 1;
        Compound {
            ser: self,
            first: true,
        }
    }

    /// `{"variant": ` … of an externally tagged variant; [`Self::close_variant`] ends it.
    fn open_variant(&mut self, variant: &str) -> Result {
        self.out.push(b'{');
        self.depth += 1;
        member(&mut self.out, true, self.depth);
        self.string(variant)?;
        self.out.extend_from_slice(b": ");
        Ok(())
    }

    fn close_variant(&mut self) -> Result {
        self.depth -= 1;
        close(&mut self.out, true, self.depth, b'}');
        Ok(())
    }

    fn integer(&mut self, v: impl itoa::Integer) -> Result {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        Ok(())
    }
}

/// An array or object being written.
pub(super) struct Compound<'s, 'w, W: ?Sized> {
    ser: &'s mut Serializer<'w, W>,
    first: bool,
}

impl<'s, 'w, W: ?Sized + Write> Compound<'s, 'w, W> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.ser.flush_piece()?;
        member(&mut self.ser.out, self.first, self.ser.depth);
        self.first = false;
        value.serialize(&mut *self.ser)
    }

    /// A member's key: a map's, escaped like any string.
    fn key(&mut self, key: &str) -> Result {
        self.ser.flush_piece()?;
        member(&mut self.ser.out, self.first, self.ser.depth);
        self.first = false;
        self.ser.string(key)?;
        self.ser.out.extend_from_slice(b": ");
        Ok(())
    }

    /// A struct field's name: a Rust identifier or a serde rename in this crate, which never needs
    /// an escape (checked in debug builds), so it is copied as it is.
    fn field_name(&mut self, key: &'static str) -> Result {
        debug_assert!(!key.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'));
        self.ser.flush_piece()?;
        let out = &mut self.ser.out;
        member(out, self.first, self.ser.depth);
        self.first = false;
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\": ");
        Ok(())
    }

    /// Ends the container; the serializer goes on with what holds it.
    fn close(self, bracket: u8) -> Result<&'s mut Serializer<'w, W>> {
        self.ser.depth -= 1;
        close(&mut self.ser.out, !self.first, self.ser.depth, bracket);
        Ok(self.ser)
    }
}

/// Before a member at `depth` (serde_json's pretty layout: each on its own line).
pub(super) fn member(out: &mut Vec<u8>, first: bool, depth: usize) {
    if !first {
        out.push(b',');
    }
    out.push(b'\n');
    out.resize(out.len() + depth * 2, b' ');
}

/// The end of a container whose members are one level deeper than `depth`: on a line of its own,
/// unless the container is empty.
pub(super) fn close(out: &mut Vec<u8>, has_members: bool, depth: usize, bracket: u8) {
    if has_members {
        out.push(b'\n');
        out.resize(out.len() + depth * 2, b' ');
    }
    out.push(bracket);
}

impl<'s, 'w, W: ?Sized + Write> ser::Serializer for &'s mut Serializer<'w, W> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'w, W>;
    type SerializeTuple = Compound<'s, 'w, W>;
    type SerializeTupleStruct = Compound<'s, 'w, W>;
    type SerializeTupleVariant = Compound<'s, 'w, W>;
    type SerializeMap = Compound<'s, 'w, W>;
    type SerializeStruct = Compound<'s, 'w, W>;
    type SerializeStructVariant = Compound<'s, 'w, W>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
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
    fn serialize_i128(self, v: i128) -> Result {
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
    fn serialize_u128(self, v: u128) -> Result {
        self.integer(v)
    }
    fn serialize_f32(self, v: f32) -> Result {
        // serde_json's own formatting (shortest round trip, `null` when not finite).
        serde_json::to_writer(&mut self.out, &v).map_err(|e| Error::Io(e.into()))
    }
    fn serialize_f64(self, v: f64) -> Result {
        serde_json::to_writer(&mut self.out, &v).map_err(|e| Error::Io(e.into()))
    }
    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.open_variant(variant)?;
        value.serialize(&mut *self)?;
        self.close_variant()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Ok(self.open(b'['))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.open_variant(variant)?;
        Ok(self.open(b'['))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(self.open(b'{'))
    }
    fn serialize_struct(self, _: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Ok(self.open(b'{'))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.open_variant(variant)?;
        Ok(self.open(b'{'))
    }
}

impl<W: ?Sized + Write> ser::SerializeSeq for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b']').map(|_| ())
    }
}

impl<W: ?Sized + Write> ser::SerializeTuple for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b']').map(|_| ())
    }
}

impl<W: ?Sized + Write> ser::SerializeTupleStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b']').map(|_| ())
    }
}

impl<W: ?Sized + Write> ser::SerializeTupleVariant for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b']')?.close_variant()
    }
}

impl<W: ?Sized + Write> ser::SerializeMap for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        let key = key.serialize(KeySerializer)?;
        self.key(&key)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result {
        self.close(b'}').map(|_| ())
    }
}

impl<W: ?Sized + Write> ser::SerializeStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        self.field_name(key)?;
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result {
        self.close(b'}').map(|_| ())
    }
}

impl<W: ?Sized + Write> ser::SerializeStructVariant for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        self.field_name(key)?;
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result {
        self.close(b'}')?.close_variant()
    }
}

/// A map key as text: strings as they are, numbers and `char`s written out, as serde_json does.
struct KeySerializer;

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_bool(self, v: bool) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_f32(self, _: f32) -> Result<String> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<String> {
        Err(key_error())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String> {
        Err(key_error())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<String> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String> {
        Err(key_error())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_error())
    }
}

fn key_error() -> Error {
    Error::Custom("a JSON object key must be a string or a number".to_string())
}

/// `s` as a JSON string, escaped as serde_json escapes it: `"`, `\` and the control characters
/// below U+0020 (`\b \t \n \f \r` by name, the others as `\u00XX`); nothing else.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// The escaped content of `s`, without quotes.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    loop {
        // Eight bytes at a time up to the first that needs an escape, then byte by byte.
        let blocks = bytes[i..].chunks_exact(8);
        let skipped = blocks
            .take_while(|block| {
                let mut word = [0u8; 8];
                word.copy_from_slice(block);
                !needs_escape(u64::from_le_bytes(word))
            })
            .count();
        i += skipped * 8;
        let Some(at) = bytes[i..]
            .iter()
            .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        else {
            break;
        };
        i += at;
        let b = bytes[i];
        out.extend_from_slice(&bytes[run..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
        }
        i += 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether any of the eight bytes of `x` is `"`, `\` or below 0x20. A byte that is none of them
/// never makes this true; a true answer is checked byte by byte.
fn needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte is zero in `v` exactly when the high bit of that byte of `(v - ONES) & !v` is set
    // (the lowest such byte, at least; any is enough here). Below 0x20: subtracting 0x20 borrows
    // into the high bit of a byte below it whose high bit was clear.
    let quote = x ^ (ONES * u64::from(b'"'));
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let found = (quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (x.wrapping_sub(ONES * 0x20) & !x);
    found & HIGH != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn ours<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        let mut ser = Serializer::new(&mut out, 0);
        v.serialize(&mut ser).expect("serializes");
        ser.finish().expect("writes");
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every ASCII character (the control ones escaped by name or as `\u00XX`), non-ASCII text,
    /// and escapes at every place of an eight-byte block: serde_json's bytes.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut texts: Vec<String> = (0u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        texts.push("plain text of some length, without anything to escape".to_string());
        texts.push("é—\u{2028}\u{1f600}\u{7f}".to_string());
        // Longer than a piece: written straight through, cut between characters.
        texts.push("aé\"\n\u{1f600}".repeat(PIECE / 3));
        for at in 0..20 {
            for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "é"] {
                let mut s = "abcdefghijklmnopqrstuvwxyz".to_string();
                s.insert_str(at, special);
                texts.push(s);
            }
        }
        for t in &texts {
            assert_eq!(
                ours(t),
                serde_json::to_string(t).expect("serializes"),
                "{t:?}"
            );
        }
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<u64>, b: Vec<f64> },
    }

    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Tagged {
        Plain,
        Fields { x: bool },
        Inner(Inner),
    }

    #[derive(Serialize)]
    struct Inner {
        name: &'static str,
        empty: Vec<u8>,
        nothing: (),
    }

    #[derive(Serialize)]
    struct All {
        shapes: Vec<Shape>,
        tagged: Vec<Tagged>,
        by_number: BTreeMap<u32, char>,
        by_name: BTreeMap<String, Vec<Vec<i64>>>,
        floats: [f64; 4],
        big: (u128, i128),
        bytes: serde_bytes_like::Bytes,
        empty_map: BTreeMap<String, u8>,
    }

    /// `serialize_bytes` without a dependency: a slice written as bytes.
    mod serde_bytes_like {
        pub struct Bytes(pub &'static [u8]);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
    }

    /// Every shape serde hands a serializer, nested: serde_json's pretty bytes.
    #[test]
    fn every_shape_is_laid_out_as_serde_json_pretty() {
        let all = All {
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(-3, "t".to_string()),
                Shape::Struct { a: None, b: vec![] },
                Shape::Struct {
                    a: Some(u64::MAX),
                    b: vec![0.1, -2.5e-300],
                },
            ],
            tagged: vec![
                Tagged::Plain,
                Tagged::Fields { x: true },
                Tagged::Inner(Inner {
                    name: "n",
                    empty: vec![],
                    nothing: (),
                }),
            ],
            by_number: [(1, 'a'), (20, '"')].into_iter().collect(),
            by_name: [("k".to_string(), vec![vec![], vec![1, -1]])]
                .into_iter()
                .collect(),
            floats: [1.0, 1e20, f64::NAN, f64::INFINITY],
            big: (u128::MAX, i128::MIN),
            bytes: serde_bytes_like::Bytes(b"\x00\xff"),
            empty_map: BTreeMap::new(),
        };
        assert_eq!(
            ours(&all),
            serde_json::to_string_pretty(&all).expect("serializes")
        );
    }

    #[test]
    fn keys_that_json_cannot_hold_are_errors() {
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        let mut out = Vec::new();
        assert!(map.serialize(&mut Serializer::new(&mut out, 0)).is_err());
    }
}
