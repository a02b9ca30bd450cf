//! Whatever a build log says, once made inert no line of it can issue a workflow command, and
//! nothing but invisible characters was added.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workers_ci::testing::{inert, looks_like_command, physical_lines};

fuzz_target!(|text: &str| {
    let safe = inert(text);
    for line in physical_lines(&safe) {
        assert!(!looks_like_command(line), "{line:?}");
    }
    let original: Vec<&str> = physical_lines(text).collect();
    let restored = safe.replace('\u{200B}', "");
    let restored: Vec<&str> = physical_lines(&restored).collect();
    if !text.contains('\u{200B}') && (text.contains("::") || text.contains("##[")) {
        assert_eq!(original, restored);
    }
});
