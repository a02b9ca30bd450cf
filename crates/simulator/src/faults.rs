//! Fault injection: the knobs that let tests meet a bad day of the real API on purpose.

use serde::{Deserialize, Serialize};

/// Hits the matching requests `times` times, after letting `skip` of them through.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Any method when absent; compared without case.
    #[serde(default)]
    pub method: Option<String>,
    /// Requests whose path (from `/client/v4`, without the query) contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Requests whose path contains this are not matched (`/builds/builds/` without `/logs`).
    #[serde(default)]
    pub path_excludes: Option<String>,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default)]
    pub skip: u32,
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

/// What a matched request meets. In JSON, `{"kind": "<snake_case name>", ...fields}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// An error envelope with this status and code, and `Retry-After` when given.
    Status { status: u16, code: i64, message: String, retry_after: Option<u64> },
    /// As `Status`, with `Retry-After` an HTTP date `retry_in` seconds ahead instead of a number
    /// of seconds: RFC 9110 allows both, and a proxy or load balancer in between may send the date.
    StatusRetryDate { status: u16, code: i64, message: String, retry_in: u64 },
    /// Close the connection without answering, before handling: nothing happened.
    Drop,
    /// Handle the request (a create does create), then close without answering.
    DropAfter,
    /// Answer normally after a pause.
    Delay { ms: u64 },
    /// HTTP 200 with truncated JSON.
    Malformed,
    /// Answer normally, but with an enum value this client has never seen.
    UnknownEnum,
    /// HTTP 200 with `success: false` and this (5xx-class) code.
    SuccessFalse { code: i64 },
    /// Handle the request as if one character of its body had changed on the way (the first
    /// letter or digit after the first blank line: in a multipart upload, the first character
    /// of the first part's data), as a faulty proxy or disk would leave it. What the route
    /// then does is its own rule (the assets upload recomputes hashes and refuses).
    Corrupt,
}

/// `body` with one character changed, as [`FaultAction::Corrupt`] says: a letter or digit
/// becomes the next one (`z`, `Z`, `9` the previous), so base64 stays base64.
pub fn corrupt(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    let from = out.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |i| i + 4);
    if let Some(c) = out[from..].iter_mut().find(|c| c.is_ascii_alphanumeric()) {
        *c = match *c {
            b'z' | b'Z' | b'9' => *c - 1,
            other => other + 1,
        };
    }
    out
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path_contains.as_deref().is_none_or(|p| path.contains(p))
            && self.path_excludes.as_deref().is_none_or(|p| !path.contains(p))
    }
}

/// Picks the action for a request, spending the fault that supplies it.
pub fn take(faults: &mut Vec<Fault>, method: &str, path: &str) -> Option<FaultAction> {
    for i in 0..faults.len() {
        if !faults[i].matches(method, path) {
            continue;
        }
        if faults[i].skip > 0 {
            faults[i].skip -= 1;
            continue;
        }
        let action = faults[i].action.clone();
        faults[i].times = faults[i].times.saturating_sub(1);
        if faults[i].times == 0 {
            faults.remove(i);
        }
        return Some(action);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_then_times_then_spent() {
        let mut f = vec![Fault {
            method: Some("GET".into()),
            path_contains: Some("/logs".into()),
            path_excludes: Some("/other".into()),
            times: 2,
            skip: 1,
            action: FaultAction::Drop,
        }];
        assert_eq!(take(&mut f, "POST", "/x/logs"), None);
        assert_eq!(take(&mut f, "GET", "/other/logs"), None, "excluded");
        assert_eq!(take(&mut f, "GET", "/x/logs"), None, "skipped");
        assert_eq!(take(&mut f, "GET", "/x/logs"), Some(FaultAction::Drop));
        assert_eq!(take(&mut f, "GET", "/x/logs"), Some(FaultAction::Drop));
        assert_eq!(take(&mut f, "GET", "/x/logs"), None);
        assert!(f.is_empty());
    }

    #[test]
    fn corrupt_changes_one_character_of_the_first_part() {
        let body = b"--B\r\nContent-Type: text/plain\r\n\r\nYWJz\r\n--B--\r\n";
        let out = corrupt(body);
        assert_eq!(out, b"--B\r\nContent-Type: text/plain\r\n\r\nZWJz\r\n--B--\r\n");
        assert_eq!(corrupt(b"{\"z\":1}"), b"{\"y\":1}", "no blank line: from the start");
    }

    #[test]
    fn unknown_fault_keys_are_refused() {
        let e = serde_json::from_str::<Fault>(r#"{"path":"/x","action":{"kind":"drop"}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `path`"), "{e}");
    }

    #[test]
    fn json_form() {
        let f: Fault = serde_json::from_str(r#"{"method":"GET","path_contains":"/builds","times":3,"action":{"kind":"status","status":429,"code":10429,"message":"slow down","retry_after":2}}"#).unwrap();
        assert_eq!(f.times, 3);
        assert!(matches!(f.action, FaultAction::Status { status: 429, retry_after: Some(2), .. }));
        let f: Fault = serde_json::from_str(
            r#"{"action":{"kind":"status_retry_date","status":503,"code":0,"message":"m","retry_in":2}}"#,
        )
        .unwrap();
        assert!(matches!(f.action, FaultAction::StatusRetryDate { status: 503, retry_in: 2, .. }));
    }
}
