//! [`QueryParams`]: a request's query string, each parameter at most once.
//!
//! Rocket's own query parameters take the first of repeated values silently; an API that
//! filters and pages must not guess which `status=` or `cursor=` the client meant. A parameter
//! given twice answers 422 `invalid_request`, naming it; parameters a route does not read are
//! ignored. Names and values are percent-decoded (`+` reads as a space).

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::error::ApiError;

/// The longest query parameter name read; longer ones are never a parameter of ours.
const MAX_NAME: usize = 64;

/// A query string, each parameter at most once (see the [module docs](self)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryParams<'r> {
    fields: Vec<(&'r str, &'r str)>,
}

/// 422 `invalid_request` about one query parameter.
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(Status::UnprocessableEntity, "invalid_request", message)
}

impl<'r> QueryParams<'r> {
    /// Read `fields` (name, value), refusing a name given twice.
    ///
    /// # Errors
    /// 422 `invalid_request` naming the repeated parameter.
    pub fn new(fields: impl IntoIterator<Item = (&'r str, &'r str)>) -> Result<Self, ApiError> {
        let mut out: Vec<(&'r str, &'r str)> = Vec::new();
        for (name, value) in fields {
            if out.iter().any(|(n, _)| *n == name) {
                let shown: String = name.chars().take(MAX_NAME).collect();
                return Err(invalid(format!(
                    "The query parameter {shown:?} is given more than once."
                )));
            }
            out.push((name, value));
        }
        Ok(Self { fields: out })
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&'r str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for QueryParams<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        let fields = req
            .query_fields()
            .map(|f| (f.name.source().as_str(), f.value));
        match Self::new(fields) {
            Ok(q) => Outcome::Success(q),
            Err(e) => Outcome::Error((e.stash(req), ())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_parameter_once() {
        let q = QueryParams::new([("limit", "5"), ("q", "")]).unwrap();
        assert_eq!(q.get("limit"), Some("5"));
        assert_eq!(q.get("q"), Some(""));
        assert_eq!(q.get("cursor"), None);
        let e = QueryParams::new([("limit", "5"), ("q", "x"), ("limit", "6")]).unwrap_err();
        assert_eq!((e.status.code, e.code), (422, "invalid_request"));
        assert!(e.message.contains("\"limit\""), "{}", e.message);
    }
}
