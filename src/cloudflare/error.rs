//! The API error type: what went wrong, in terms that decide whether to retry, whether a
//! create may have happened, and which exit code the process gets.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// One entry of an envelope's `errors` (both envelope flavours; every field optional because
/// the Builds schema makes them so).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ApiMessage {
    pub code: Option<i64>,
    pub message: Option<String>,
    /// Kept as sent: its shape differs by error, and an unexpected one must not make the whole
    /// answer unreadable. [`ApiMessage::details`] reads the one shape workers-ci shows.
    pub meta: Option<serde_json::Value>,
}

impl ApiMessage {
    /// An exports reconciliation failure's per-class lines (`meta.details`, 100402,
    /// docs/cloudflare-api.md §H.10): `class: scenario: message (suggestion)`, as far as given.
    pub fn details(&self) -> Vec<String> {
        let Some(items) = self.meta.as_ref().and_then(|m| m.get("details")).and_then(serde_json::Value::as_array)
        else {
            return Vec::new();
        };
        items
            .iter()
            .map(|d| {
                let field = |k: &str| d.get(k).and_then(serde_json::Value::as_str);
                let mut line = [field("class"), field("scenario"), field("message")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                if let Some(s) = field("suggestion") {
                    line.push_str(&format!(" ({s})"));
                }
                line
            })
            .filter(|l| !l.is_empty())
            .collect()
    }
}

impl fmt::Display for ApiMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(c), Some(m)) => write!(f, "[{c}] {m}"),
            (Some(c), None) => write!(f, "[{c}]"),
            (None, Some(m)) => f.write_str(m),
            (None, None) => f.write_str("(no message)"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be made: the request was certainly not received.
    Connect,
    Timeout,
    /// The connection broke after the request went out (reset, closed, truncated body).
    Broken,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{method} {endpoint}: {}", transport_text(*kind, detail))]
    Transport { method: String, endpoint: String, kind: TransportKind, detail: String },

    #[error("{method} {endpoint}: HTTP {status}{}", list_errors(errors))]
    Api { method: String, endpoint: String, status: u16, errors: Vec<ApiMessage>, retry_after: Option<Duration> },

    #[error("{method} {endpoint}: HTTP {status} with an unreadable body ({detail})")]
    Malformed { method: String, endpoint: String, status: u16, detail: String },

    #[error(
        "{method} {endpoint}: rate limited by Cloudflare, which asked to wait {}s (Retry-After) \
         but only {}s remain before the timeout; raise `timeout` or run fewer concurrent jobs \
         (the limit is 1200 requests per 5 minutes per user, shared by every job)",
        retry_after.as_secs(), remaining.as_secs()
    )]
    RetryAfterTooLong { method: String, endpoint: String, retry_after: Duration, remaining: Duration },
}

fn transport_text(kind: TransportKind, detail: &str) -> String {
    match kind {
        TransportKind::Connect => format!("could not connect to the Cloudflare API ({detail})"),
        TransportKind::Timeout => format!("the request timed out ({detail})"),
        TransportKind::Broken => format!("the connection broke before a complete answer ({detail})"),
    }
}

fn list_errors(errors: &[ApiMessage]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let joined: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!(": {}", joined.join("; "))
}

/// Cloudflare's "unexpected internal error" code, sometimes sent with HTTP 200 and
/// `success: false`; as transient as a 500.
const INTERNAL_ERROR_CODES: [i64; 1] = [10002];

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Api { status, .. } | ApiError::Malformed { status, .. } => Some(*status),
            ApiError::RetryAfterTooLong { .. } => Some(429),
            ApiError::Transport { .. } => None,
        }
    }

    pub fn codes(&self) -> Vec<i64> {
        match self {
            ApiError::Api { errors, .. } => errors.iter().filter_map(|e| e.code).collect(),
            _ => Vec::new(),
        }
    }

    pub fn has_code(&self, code: i64) -> bool {
        self.codes().contains(&code)
    }

    /// Any error message contains `needle` (case-insensitive).
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        matches!(self, ApiError::Api { errors, .. }
            if errors.iter().any(|e| e.message.as_deref().is_some_and(|m| m.to_lowercase().contains(&needle))))
    }

    /// Worth sending the same idempotent request again.
    pub fn is_retryable(&self) -> bool {
        match self {
            ApiError::Transport { .. } | ApiError::Malformed { .. } => true,
            ApiError::Api { status, errors, .. } => {
                crate::retry::transient_status(*status)
                    || errors.iter().any(|e| e.code.is_some_and(|c| INTERNAL_ERROR_CODES.contains(&c)))
            }
            ApiError::RetryAfterTooLong { .. } => false,
        }
    }

    /// For a request that creates something: might it have been created although we got an
    /// error? Then the caller must look before it sends the request again.
    pub fn may_have_applied(&self) -> bool {
        match self {
            ApiError::Transport { kind, .. } => *kind != TransportKind::Connect,
            ApiError::Malformed { .. } => true,
            ApiError::Api { status, .. } => *status >= 500 || *status == 408 || (200..300).contains(status),
            ApiError::RetryAfterTooLong { .. } => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(401 | 403)) || self.has_code(10000) || self.has_code(9106)
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `meta` is read leniently: any shape parses, and only `details` entries become lines.
    #[test]
    fn error_meta_of_any_shape_parses_and_only_details_are_shown() {
        let parse = |v: serde_json::Value| serde_json::from_value::<ApiMessage>(v).unwrap();
        let odd = parse(serde_json::json!({ "code": 1, "message": "m", "meta": { "details": "text" } }));
        assert!(odd.details().is_empty());
        assert!(parse(serde_json::json!({ "code": 1, "meta": [1, 2] })).details().is_empty());
        let full = parse(serde_json::json!({ "code": 100_402, "meta": { "details": [
            { "class": "Room", "scenario": "storage_type_mismatch", "message": "m", "suggestion": "s" },
            { "class": "Lobby" }, {}
        ] } }));
        assert_eq!(full.details(), ["Room: storage_type_mismatch: m (s)", "Lobby"]);
    }

    fn api(status: u16, code: Option<i64>) -> ApiError {
        ApiError::Api {
            method: "GET".into(),
            endpoint: "/x".into(),
            status,
            errors: vec![ApiMessage { code, message: Some("m".into()), meta: None }],
            retry_after: None,
        }
    }

    #[test]
    fn retry_classification() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(api(s, None).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 409] {
            assert!(!api(s, None).is_retryable(), "{s}");
        }
        assert!(api(200, Some(10002)).is_retryable());
        assert!(!api(400, Some(10021)).is_retryable());
    }

    #[test]
    fn ambiguity_of_creates() {
        assert!(api(502, None).may_have_applied());
        assert!(!api(429, None).may_have_applied());
        assert!(!api(400, None).may_have_applied());
        let t =
            |kind| ApiError::Transport { method: "POST".into(), endpoint: "/x".into(), kind, detail: String::new() };
        assert!(!t(TransportKind::Connect).may_have_applied());
        assert!(t(TransportKind::Timeout).may_have_applied());
        assert!(t(TransportKind::Broken).may_have_applied());
    }

    #[test]
    fn display_lists_codes_and_messages() {
        assert_eq!(api(404, Some(12000)).to_string(), "GET /x: HTTP 404: [12000] m");
    }
}
