//! Unpredictable identifiers from the operating system's random source.
//!
//! The stop-commands token and the outputs-file delimiter must not be guessable by whoever
//! writes a build log or an API message, so they come from the OS, not from a seeded PRNG.

/// `bytes` random bytes as lowercase hex (`2 * bytes` characters).
pub(crate) fn hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    let mut out = String::with_capacity(bytes * 2);
    for b in buf {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

fn fill(buf: &mut [u8]) {
    // The OS source failing is not something a CI step can recover from, and continuing with
    // predictable tokens would silently weaken the log-injection defence.
    getrandom::fill(buf).expect("the operating system's random source is unavailable");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_has_requested_length_and_varies() {
        let a = hex(16);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, hex(16));
    }
}
