//! Log pages from the API: parsing, timestamps and the cursor bookkeeping never panic, and a
//! page never yields more lines than it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workers_ci::testing::LogPage;
use workers_ci::testing::decode_response;
use workers_ci::testing::LogCursor;

fuzz_target!(|pages: Vec<&[u8]>| {
    let mut cursor = LogCursor::default();
    for body in pages {
        if let Ok(page) = decode_response::<Option<LogPage>>(200, body) {
            let page = page.result.unwrap_or_default();
            let n = page.lines().len();
            assert!(cursor.take(&page).len() <= n);
        }
    }
});
