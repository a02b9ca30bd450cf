//! The webhook event payload is read for the pull request's head commit: any bytes, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = workers_ci::testing::pr_head_sha(bytes);
});
