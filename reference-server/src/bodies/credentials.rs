//! The JSON bodies of the credential routes (create, rotate, PATCH), and how their numbers and
//! `null`s read. No Rocket here: the fuzz crate compiles this file by path.
//!
//! - **Whole numbers** (`validity_days`, `grace_hours`): any JSON number without a fractional
//!   part, so `90` and `90.0` are the same (as JSON Schema's `integer` says); a fraction (`1.5`),
//!   a string or a boolean answers 422 `invalid_request`. Out-of-range whole numbers reach the
//!   lifecycle rules, which answer with the field's own code (`invalid_validity_days`,
//!   `invalid_grace_hours`).
//! - **PATCH fields**: absent leaves the field as it is; `null` clears it (no name, any scope,
//!   any address); a value replaces it.
//! - Unknown fields answer 422 `invalid_request`, so a typo is never silently ignored.

use core::fmt;

use idunox_keys::{KeyChanges, NewKey};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// `POST /v1/partner/credentials`; an empty body reads as `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "optional_whole")]
    validity_days: Option<i64>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    allowed_ips: Option<Vec<String>>,
}

impl CreateRequest {
    /// The key asked for.
    pub fn into_new_key(self) -> NewKey {
        NewKey {
            name: self.name,
            validity_days: self.validity_days,
            scopes: self.scopes,
            allowed_ips: self.allowed_ips,
        }
    }
}

/// `POST /v1/partner/credentials/<id>/rotate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// The overlap, one of `rotation_grace_hours`.
    #[serde(deserialize_with = "whole")]
    pub grace_hours: i64,
    /// The successor's validity (default `default_validity_days`).
    #[serde(default, deserialize_with = "optional_whole")]
    pub validity_days: Option<i64>,
}

/// `PATCH /v1/partner/credentials/<id>` (and the admin API's): each field absent, `null` or a
/// value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    scopes: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    allowed_ips: Option<Option<Vec<String>>>,
}

impl PatchRequest {
    /// The changes asked for.
    pub fn into_changes(self) -> KeyChanges {
        KeyChanges {
            name: self.name,
            scopes: self.scopes,
            allowed_ips: self.allowed_ips,
        }
    }
}

/// A field that is present: `null` is `Some(None)` (absent stays `None` through
/// `#[serde(default)]`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON number without a fractional part, as an `i64` (saturating: out of range is still out
/// of any range the rules allow).
struct WholeNumber;

impl Visitor<'_> for WholeNumber {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        Ok(i64::try_from(v).unwrap_or(i64::MAX))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.is_finite() && v.fract() == 0.0 {
            // `as` saturates: 1e300 reads as i64::MAX, outside every allowed range.
            #[allow(clippy::cast_possible_truncation)]
            Ok(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}

/// A required whole number.
fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(WholeNumber)
}

/// An optional whole number (`null` or absent: none).
fn optional_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            whole(d).map(Some)
        }
    }
    d.deserialize_option(Optional)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(json: &str) -> Result<CreateRequest, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        for (json, days) in [
            (r#"{"validity_days": 150}"#, Some(150)),
            (r#"{"validity_days": 150.0}"#, Some(150)),
            (r#"{"validity_days": 1.5e2}"#, Some(150)),
            (r#"{"validity_days": -0.0}"#, Some(0)),
            (r#"{"validity_days": 1e300}"#, Some(i64::MAX)),
            (r#"{"validity_days": 18446744073709551615}"#, Some(i64::MAX)),
            (r#"{"validity_days": null}"#, None),
            ("{}", None),
        ] {
            assert_eq!(create(json).unwrap().validity_days, days, "{json}");
        }
        for json in [
            r#"{"validity_days": 1.5}"#,
            r#"{"validity_days": "90"}"#,
            r#"{"validity_days": true}"#,
            r#"{"validity_days": [90]}"#,
        ] {
            assert!(create(json).is_err(), "{json}");
        }
        let r: RotateRequest = serde_json::from_str(r#"{"grace_hours": 24.0}"#).unwrap();
        assert_eq!((r.grace_hours, r.validity_days), (24, None));
        assert!(serde_json::from_str::<RotateRequest>(r#"{"grace_hours": 24.5}"#).is_err());
        assert!(serde_json::from_str::<RotateRequest>(r#"{"grace_hours": null}"#).is_err());
        assert!(serde_json::from_str::<RotateRequest>("{}").is_err());
    }

    #[test]
    fn patch_fields_are_absent_null_or_a_value() {
        let p: PatchRequest =
            serde_json::from_str(r#"{"name": null, "scopes": ["orders:read"]}"#).unwrap();
        let c = p.into_changes();
        assert_eq!(c.name, Some(None));
        assert_eq!(c.scopes, Some(Some(vec!["orders:read".to_owned()])));
        assert_eq!(c.allowed_ips, None);
        assert!(serde_json::from_str::<PatchRequest>(r#"{"nmae": "x"}"#).is_err());
        assert!(serde_json::from_str::<PatchRequest>(r#"{"scopes": "orders:read"}"#).is_err());
    }
}
