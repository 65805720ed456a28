//! A blocking HTTP client's view of the JSON API, for end-to-end tests: any status is an answer
//! (4xx and 5xx included), only a transport failure is not.

use serde_json::Value;

/// One answer: status, `Retry-After` if any, and the body as JSON (`Null` when it is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// The body, parsed.
    pub body: Value,
}

impl Answer {
    /// `error.code` of an error envelope, or `""`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Whether the body is `{"error":{"code":<code>,"message":<non-empty>}}` and nothing else.
    pub fn is_envelope(&self, code: &str) -> bool {
        let only_error = self.body.as_object().is_some_and(|o| o.len() == 1);
        let err = &self.body["error"];
        only_error
            && err.as_object().is_some_and(|o| o.len() == 2)
            && err["code"] == code
            && err["message"].as_str().is_some_and(|m| !m.is_empty())
    }
}

/// Send `req` (with `body` as JSON if given); `None` on a transport error (connection refused,
/// timeout).
pub fn try_send(req: ureq::Request, body: Option<Value>) -> Option<Answer> {
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let res = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(_)) => return None,
    };
    let status = res.status();
    let retry_after = res.header("retry-after").map(str::to_owned);
    let text = res.into_string().unwrap_or_default();
    Some(Answer {
        status,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    })
}

/// [`try_send`], for a server that must answer.
///
/// # Panics
/// On a transport error.
pub fn send(req: ureq::Request, body: Option<Value>) -> Answer {
    try_send(req, body).expect("transport error")
}
