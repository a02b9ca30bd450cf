//! End-to-end property: whatever the page size, cursor behaviour, timestamp unit, release
//! schedule and faults between pages, the lines the binary prints are the simulator's lines,
//! exactly, in order. (The paging logic itself is also checked against a model server with
//! hundreds of cases in `src/flows/logs.rs`; here each case runs the real binary.)

use crate::common::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn printed_lines_are_the_simulators_lines(
        page in 1usize..40,
        lines in 0usize..150,
        running_ms in 200u64..1500,
        cursor_on_last_page in any::<bool>(),
        millis in any::<bool>(),
        faults in proptest::collection::vec((0u32..6, 0u8..4), 0..4),
    ) {
        let config = SimConfig {
            build: BuildProfile {
                queued_ms: 50,
                initializing_ms: 100,
                running_ms,
                log_lines: Some((0..lines).map(|i| format!("{i:04} step output")).collect()),
                ..BuildProfile::default()
            },
            log_page_size: page,
            cursor_on_last_page,
            log_timestamps_ms: millis,
            ..SimConfig::default()
        };
        let sim = Simulator::start_background(config).unwrap();
        for (skip, kind) in faults {
            let action = match kind {
                0 => FaultAction::Drop,
                1 => FaultAction::Malformed,
                2 => FaultAction::Status { status: 503, code: 10002, message: "injected".into(), retry_after: None },
                _ => FaultAction::DropAfter,
            };
            sim.add_fault(Fault { skip, ..fault("GET", "/logs", 1, action) });
        }
        let run = Invocation::new(&sim).run();
        prop_assert_eq!(run.code, 0, "{}", run.stdout);
        let uuid = run.output("build_uuid").unwrap().to_owned();
        prop_assert_eq!(run.view().untrusted_lines(), sim.build_log(&uuid));
    }
}
