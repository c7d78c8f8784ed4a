//! A field that can be absent, explicitly `null`, or set.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field where `null` means something different from leaving it out.
///
/// A method's `pagination: null` disables the integration's pagination, while
/// leaving `pagination` out inherits it. Use with
/// `#[serde(default, skip_serializing_if = "Nullable::is_absent")]` so configs
/// round-trip exactly.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Nullable<T> {
    /// Not written: inherit.
    #[default]
    Absent,
    /// Written as `null`: disable / remove.
    Null,
    /// Written with a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// Whether the field was left out.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// The value, if one was written.
    pub fn as_value(&self) -> Option<&T> {
        match self {
            Self::Value(v) => Some(v),
            _ => None,
        }
    }

    /// This field layered over an inherited one: absent inherits, `null`
    /// disables, a value replaces.
    pub fn or_inherit<'a>(&'a self, inherited: Option<&'a T>) -> Option<&'a T> {
        match self {
            Self::Absent => inherited,
            Self::Null => None,
            Self::Value(v) => Some(v),
        }
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(v) => v.serialize(serializer),
            Self::Absent | Self::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(v) => Self::Value(v),
            None => Self::Null,
        })
    }
}

impl<T: JsonSchema> JsonSchema for Nullable<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Nullable_{}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Option<T>>::json_schema(generator)
    }
}
