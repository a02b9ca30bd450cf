//! Everything the CI system sees: the log (workflow commands, groups, masks, inert untrusted
//! text), step outputs, the job summary, and the GitHub context a step runs in. Knows nothing
//! of Cloudflare.

pub(crate) mod commands;
pub(crate) mod comment;
pub(crate) mod console;
pub(crate) mod outputs;
pub(crate) mod runner;
pub(crate) mod summary;

/// `1 module`, `3 modules`: every count a person reads.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn plurals() {
        assert_eq!(super::plural(1, "module", "modules"), "1 module");
        assert_eq!(super::plural(0, "module", "modules"), "0 modules");
        assert_eq!(super::plural(2, "line", "lines"), "2 lines");
    }
}
