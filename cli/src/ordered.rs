//! A JSON value that keeps object members in document order (duplicates
//! included), so that `import --merge` prints an existing configuration as
//! it was written, with only the imported bucket added.
//!
//! `serde_json::Value` sorts keys unless serde_json's `preserve_order`
//! feature is on, and that feature would be unified into the core's
//! serde_json for the whole workspace build; this small type keeps the
//! choice local to the tool.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
                Json::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("a number JSON cannot represent"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    members.push((k, v));
                }
                Ok(Json::Object(members))
            }
        }
        d.deserialize_any(JsonVisitor)
    }
}

impl Json {
    /// Pretty JSON as people write plugin configurations: objects one member
    /// a line (two-space indent), arrays of plain values on one line
    /// (`"AllowedMethod": ["GET", "PUT"]`), other arrays one item a line.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out.push('\n');
        out
    }

    fn write_pretty(&self, out: &mut String, depth: usize) {
        let indent = |out: &mut String, d: usize| out.extend(std::iter::repeat_n("  ", d));
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => out.push_str(&n.to_string()),
            Json::String(s) => out.push_str(&quoted(s)),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Array(items)
                if items
                    .iter()
                    .all(|i| !matches!(i, Json::Array(_) | Json::Object(_))) =>
            {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    item.write_pretty(out, depth);
                }
                out.push(']');
            }
            Json::Array(items) => {
                out.push_str("[\n");
                for (n, item) in items.iter().enumerate() {
                    indent(out, depth + 1);
                    item.write_pretty(out, depth + 1);
                    out.push_str(if n + 1 < items.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push(']');
            }
            Json::Object(members) if members.is_empty() => out.push_str("{}"),
            Json::Object(members) => {
                out.push_str("{\n");
                for (n, (k, v)) in members.iter().enumerate() {
                    indent(out, depth + 1);
                    out.push_str(&quoted(k));
                    out.push_str(": ");
                    v.write_pretty(out, depth + 1);
                    out.push_str(if n + 1 < members.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

/// A JSON string literal (serde_json's escaping; rendering a `Value` cannot fail).
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_member_order_and_duplicates() {
        let text = r#"{"z":1,"a":[true,null,-2,1.5,"s"],"m":{"y":{},"b":[]},"z":2}"#;
        let j: Json = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), text);
    }

    #[test]
    fn pretty_puts_plain_arrays_on_one_line_and_reads_back_the_same() {
        let text = r#"{"a":["x","y\"z",1],"b":[{"c":[]},{}],"d":null,"e":{"f":false}}"#;
        let j: Json = serde_json::from_str(text).unwrap();
        let pretty = j.to_pretty();
        assert_eq!(
            pretty,
            "{\n  \"a\": [\"x\", \"y\\\"z\", 1],\n  \"b\": [\n    {\n      \"c\": []\n    },\n    {}\n  ],\n  \"d\": null,\n  \"e\": {\n    \"f\": false\n  }\n}\n"
        );
        assert_eq!(serde_json::from_str::<Json>(&pretty).unwrap(), j);
    }
}
