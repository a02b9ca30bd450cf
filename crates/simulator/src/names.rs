//! The Worker name rule, kept here rather than borrowed from the client so the simulator
//! refuses what Cloudflare refuses even when the client's own check is wrong.

/// Longest name (docs/cloudflare-api.md §4.1: over 63 → 100132; the simulator answers 10016).
const MAX_LEN: usize = 63;

/// `script_name` pattern `^[a-z0-9_][a-z0-9-_]*$` (docs/cloudflare-api.md §2), at most 63 bytes.
/// One rule for the beta create and the classic upload: both name the same Workers.
pub fn valid_worker_name(n: &str) -> bool {
    let first_ok = n.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    first_ok
        && n.len() <= MAX_LEN
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_pattern() {
        for ok in ["my-worker", "_x", "0", "a_b-c", &"a".repeat(63)] {
            assert!(valid_worker_name(ok), "{ok}");
        }
        for bad in ["", "-lead", "Bad_Name", "a.b", "a b", "ünï", &"a".repeat(64)] {
            assert!(!valid_worker_name(bad), "{bad}");
        }
    }
}
