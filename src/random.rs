//! Unpredictable identifiers from the operating system's random source.
//!
//! The stop-commands token and the outputs-file delimiter must not be guessable by whoever
//! writes a build log or an API message, so they come from the OS, not from a seeded PRNG.

/// `bytes` random bytes as lowercase hex (`2 * bytes` characters).
pub fn hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    let mut out = String::with_capacity(bytes * 2);
    for b in buf {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// A random (version 4) UUID in its canonical hyphenated form.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
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

    #[test]
    fn uuid_is_canonical_v4() {
        let u = uuid_v4();
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }
}
