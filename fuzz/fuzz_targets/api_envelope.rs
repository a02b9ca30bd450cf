//! Any bytes with any status must decode to a value or an error, never a panic, and an error
//! must classify consistently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workers_ci::testing::{Build, Trigger};
use workers_ci::testing::decode_response;
use workers_ci::testing::Script;

fuzz_target!(|input: (u16, &[u8])| {
    let (status, body) = input;
    let status = 100 + status % 500;
    for r in [
        decode_response::<Build>(status, body).map(|_| ()),
        decode_response::<Option<Vec<Trigger>>>(status, body).map(|_| ()),
        decode_response::<Vec<Script>>(status, body).map(|_| ()),
    ] {
        if let Err(e) = r {
            let _ = e.to_string();
            // A create that got a 2xx it cannot read may have happened; a 4xx did not.
            if (400..500).contains(&status) && status != 408 {
                assert!(!e.may_have_applied(), "{status}: {e}");
            }
        }
    }
});
