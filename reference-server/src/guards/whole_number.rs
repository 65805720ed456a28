//! Whole numbers in JSON bodies as JSON Schema reads them: `"type": "integer"` accepts any number
//! with a zero fractional part, so `150` and `150.0` are the same value. serde's `i64` refuses
//! `150.0`; these `deserialize_with` helpers take both and refuse `150.5`, `1e300` and anything
//! outside `i64`.
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Rotate {
//!     #[serde(deserialize_with = "reference_server::guards::whole_number::required")]
//!     grace_hours: i64,
//!     #[serde(default, deserialize_with = "reference_server::guards::whole_number::optional")]
//!     validity_days: Option<i64>,
//! }
//! let r: Rotate = serde_json::from_str(r#"{"grace_hours": 24.0, "validity_days": null}"#).unwrap();
//! assert_eq!((r.grace_hours, r.validity_days), (24, None));
//! assert!(serde_json::from_str::<Rotate>(r#"{"grace_hours": 24.5}"#).is_err());
//! ```

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // 2^63 as f64 is exactly representable; every whole f64 in [-2^63, 2^63) fits an i64.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && (-LIMIT..LIMIT).contains(&v) {
            #[allow(clippy::cast_possible_truncation)]
            Ok(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}

/// A whole number (`7` or `7.0`).
///
/// # Errors
/// Anything else: a fraction, a non-number, a value outside `i64`.
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(Whole)
}

struct MaybeWhole;

impl<'de> Visitor<'de> for MaybeWhole {
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
        required(d).map(Some)
    }
}

/// A whole number or `null` (use with `#[serde(default)]` for a field that may be left out).
///
/// # Errors
/// As [`required`], `null` aside.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(MaybeWhole)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Both {
        #[serde(deserialize_with = "super::required")]
        a: i64,
        #[serde(default, deserialize_with = "super::optional")]
        b: Option<i64>,
    }

    fn read(s: &str) -> Result<(i64, Option<i64>), serde_json::Error> {
        serde_json::from_str::<Both>(s).map(|v| (v.a, v.b))
    }

    #[test]
    fn whole_numbers_however_written() {
        assert_eq!(read(r#"{"a": 150}"#).unwrap(), (150, None));
        assert_eq!(read(r#"{"a": 150.0, "b": 2.0}"#).unwrap(), (150, Some(2)));
        assert_eq!(read(r#"{"a": -3, "b": null}"#).unwrap(), (-3, None));
        assert_eq!(read(r#"{"a": 1e2}"#).unwrap(), (100, None));
        assert_eq!(read(r#"{"a": -0.0}"#).unwrap(), (0, None));
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            r#"{"a": 150.5}"#,
            r#"{"a": "150"}"#,
            r#"{"a": null}"#,
            r#"{"a": true}"#,
            r#"{"a": 1e300}"#,
            r#"{"a": 9223372036854775808}"#,
            r#"{"a": 9223372036854775808.0}"#,
            r#"{"a": 1, "b": 0.5}"#,
            r#"{"a": 1, "b": "2"}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
