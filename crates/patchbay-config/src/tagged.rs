//! `{"<tag>": "<name>", "<content>": {...}}` unions (`format`/`config`, `type`/`config`).
//!
//! serde's adjacently tagged enums cannot leave the content out when a variant's
//! config is optional and still round-trip, so [`tagged_union!`] writes the
//! Serialize, Deserialize and JsonSchema impls for such enums: the schema is a
//! `oneOf` whose branches pin the tag with `const`, which validation uses to
//! report a wrong tag as a bad enum value and to check the content against the
//! right branch.

/// Implements Serialize, Deserialize and JsonSchema for a tagged union.
///
/// Each variant is `Variant = "tag-value" => required(Type)` (content must be
/// present) or `optional(Type)` (the variant holds `Option<Type>` and the content
/// may be left out).
macro_rules! tagged_union {
    ($enum:ident { tag: $tag:literal, content: $content:literal, $( $variant:ident = $name:literal => $kind:ident($ty:ty) ),+ $(,)? }) => {
        impl serde::Serialize for $enum {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                match self {
                    $( $enum::$variant(config) => {
                        map.serialize_entry($tag, $name)?;
                        $crate::tagged::tagged_union!(@ser $kind, map, $content, config);
                    } )+
                }
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
                let tag = match map.remove($tag) {
                    Some(serde_json::Value::String(s)) => s,
                    Some(_) => return Err(D::Error::custom(concat!("`", $tag, "` must be a string"))),
                    None => return Err(D::Error::missing_field($tag)),
                };
                let content = map.remove($content);
                if let Some(key) = map.keys().next() {
                    return Err(D::Error::unknown_field(key, &[$tag, $content]));
                }
                match tag.as_str() {
                    $( $name => Ok($enum::$variant($crate::tagged::tagged_union!(@de $kind, $ty, content, D))), )+
                    other => Err(D::Error::unknown_variant(other, &[$($name),+])),
                }
            }
        }

        impl schemars::JsonSchema for $enum {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($enum).into()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let branches = vec![$(
                    {
                        let content_schema = generator.subschema_for::<$ty>();
                        let required = $crate::tagged::tagged_union!(@required $kind, $tag, $content);
                        let mut properties = serde_json::Map::new();
                        properties.insert($tag.to_owned(), serde_json::json!({ "const": $name }));
                        properties.insert($content.to_owned(), content_schema.to_value());
                        serde_json::json!({
                            "type": "object",
                            "properties": properties,
                            "required": required,
                            "additionalProperties": false
                        })
                    }
                ),+];
                schemars::json_schema!({ "oneOf": branches, "x-patchbay-tag": $tag })
            }
        }
    };
    (@ser required, $map:ident, $content:literal, $config:ident) => { $map.serialize_entry($content, $config)?; };
    (@ser optional, $map:ident, $content:literal, $config:ident) => {
        if let Some(config) = $config { $map.serialize_entry($content, config)?; }
    };
    (@de required, $ty:ty, $content:ident, $D:ident) => {
        match $content {
            Some(value) => serde_json::from_value::<$ty>(value).map_err($D::Error::custom)?,
            None => return Err($D::Error::missing_field("config")),
        }
    };
    (@de optional, $ty:ty, $content:ident, $D:ident) => {
        match $content {
            Some(serde_json::Value::Null) | None => None,
            Some(value) => Some(serde_json::from_value::<$ty>(value).map_err($D::Error::custom)?),
        }
    };
    (@required required, $tag:literal, $content:literal) => { vec![$tag, $content] };
    (@required optional, $tag:literal, $content:literal) => { vec![$tag] };
}

pub(crate) use tagged_union;
