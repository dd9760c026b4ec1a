//! Kubernetes quantities (`500m`, `256Mi`) as written in berth.yaml, with the checks the API
//! server would make, so mistakes surface at build time with a position instead of at apply time.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, de};
use std::borrow::Cow;
use std::fmt;

/// A quantity as written plus its numeric value in base units (cores or bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub text: String,
    pub value: f64,
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const SUFFIXES: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1048576.0),
    ("Gi", 1073741824.0),
    ("Ti", 1099511627776.0),
    ("Pi", 1125899906842624.0),
    ("Ei", 1152921504606846976.0),
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

impl Quantity {
    /// Parses a Kubernetes quantity (decimal number, optional binary or decimal SI suffix).
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let t = text.trim();
        let (number, factor) = SUFFIXES
            .iter()
            .find_map(|(s, f)| t.strip_suffix(s).map(|n| (n, *f)))
            .unwrap_or((t, 1.0));
        let valid_number = !number.is_empty()
            && number.chars().filter(|c| *c == '.').count() <= 1
            && number.chars().all(|c| c.is_ascii_digit() || c == '.')
            && number != ".";
        if !valid_number {
            return Err(format!(
                "`{text}` is not a Kubernetes quantity (expected a number with an optional suffix such as `500m`, `2`, `256Mi`, `1Gi`)"
            ));
        }
        let value = number.parse::<f64>().map_err(|e| e.to_string())? * factor;
        Ok(Quantity {
            text: t.to_owned(),
            value,
        })
    }
}

/// `request/limit` (or one value for both), e.g. `100m/500m` or `256Mi/512Mi`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePair {
    pub request: Quantity,
    pub limit: Quantity,
}

impl ResourcePair {
    pub fn parse(text: &str) -> Result<ResourcePair, String> {
        let (req, lim) = match text.split_once('/') {
            Some((r, l)) => (r, l),
            None => (text, text),
        };
        let request = Quantity::parse(req)?;
        let limit = Quantity::parse(lim)?;
        if limit.value < request.value {
            return Err(format!(
                "the limit `{}` is below the request `{}` (write `request/limit`, e.g. `{}/{}`)",
                limit.text, request.text, limit.text, request.text
            ));
        }
        if request.value <= 0.0 {
            return Err(format!(
                "the request `{}` must be more than zero",
                request.text
            ));
        }
        Ok(ResourcePair { request, limit })
    }
}

impl<'de> Deserialize<'de> for ResourcePair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_scalar(d, ResourcePair::parse)
    }
}

impl JsonSchema for ResourcePair {
    fn schema_name() -> Cow<'static, str> {
        "ResourcePair".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`request/limit` quantities such as `100m/500m` or `256Mi/512Mi`, or one quantity for both",
            "type": ["string", "number"],
            "pattern": "^[0-9.]+(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?(/[0-9.]+(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)?$"
        })
    }
}

/// A utilisation target, `70%` (1–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub u8);

impl Percent {
    pub fn parse(text: &str) -> Result<Percent, String> {
        let number = text.trim().trim_end_matches('%');
        let n: i64 = number.parse().map_err(|_| {
            format!("`{text}` is not a percentage (expected a whole number such as `70%`)")
        })?;
        if !(1..=100).contains(&n) {
            return Err(format!("{n}% is out of range (expected 1% to 100%)"));
        }
        Ok(Percent(n as u8))
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parse_scalar(d, Percent::parse)
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "a utilisation target from 1% to 100%, e.g. `70%`",
            "type": ["string", "integer"],
            "pattern": "^(100|[1-9][0-9]?)%$",
            "minimum": 1,
            "maximum": 100
        })
    }
}

/// Parses a scalar (string or number, numbers as written) inside the deserializer, so a
/// parse error is reported at the value's own position.
pub(crate) fn parse_scalar<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct V<T>(fn(&str) -> Result<T, String>);
    impl<T> de::Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
    }
    d.deserialize_str(V(parse))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_to_base_units() {
        assert_eq!(Quantity::parse("500m").unwrap().value, 0.5);
        assert_eq!(Quantity::parse("2").unwrap().value, 2.0);
        assert_eq!(Quantity::parse("256Mi").unwrap().value, 268435456.0);
        assert_eq!(Quantity::parse("1.5Gi").unwrap().value, 1610612736.0);
        for bad in ["", "abc", "10MB", "-1", "1..2", "5 m", "m"] {
            assert!(Quantity::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn pairs_need_limit_at_least_request() {
        let p = ResourcePair::parse("100m/500m").unwrap();
        assert_eq!((p.request.value, p.limit.value), (0.1, 0.5));
        let single = ResourcePair::parse("1Gi").unwrap();
        assert_eq!(single.request, single.limit);
        let err = ResourcePair::parse("512Mi/256Mi").unwrap_err();
        assert!(err.contains("below the request"), "{err}");
        assert!(ResourcePair::parse("0/1").is_err());
    }

    #[test]
    fn percentages_are_bounded() {
        assert_eq!(Percent::parse("70%").unwrap(), Percent(70));
        assert_eq!(Percent::parse("100").unwrap(), Percent(100));
        assert!(Percent::parse("0%").unwrap_err().contains("out of range"));
        assert!(Percent::parse("150%").unwrap_err().contains("out of range"));
        assert!(Percent::parse("seventy").is_err());
    }
}
