//! Limits Cloudflare enforces loudly, refused before any request (issue 20, point 7), and the
//! simulator as strict as Cloudflare at each.

use crate::common::*;
use serde_json::json;

#[test]
fn a_sixty_character_name_with_previews_is_refused_before_any_request() {
    let sim = sim();
    let name = format!("w{}", "x".repeat(59));
    assert_eq!(name.len(), 60);
    let run =
        with_module(version_invocation(&sim, &name).input("create_worker", "true").input("preview_urls", "true")).run();
    run.assert_code(2);
    assert!(sim.requests().is_empty(), "no request at all");
    let text = run.everything();
    assert!(text.contains("54 characters") && text.contains("preview_urls"), "{text}");
    // Cloudflare's own refusal, which the simulator gives too.
    let (status, body) = call(
        &sim,
        "POST",
        "/workers/workers",
        Some(&json!({ "name": name, "subdomain": { "enabled": true, "previews_enabled": true } })),
    );
    assert_eq!((status, body["errors"][0]["code"].as_i64()), (400, Some(100_315)), "{body}");
    // Without preview URLs the name is fine.
    let run =
        with_module(version_invocation(&sim, &name).input("create_worker", "true").input("preview_urls", "false"))
            .run();
    run.assert_code(0);
}

#[test]
fn a_compatibility_date_in_the_future_is_refused_before_any_request() {
    let sim = sim();
    let today = jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date();
    let future = today.saturating_add(jiff::Span::new().days(40)).to_string();
    let run = with_module(version_invocation(&sim, "dated").input("create_worker", "true"))
        .input("compatibility_date", &future)
        .run();
    run.assert_code(2);
    assert!(sim.requests().is_empty(), "no request at all");
    assert!(run.everything().contains("in the future"), "{}", run.everything());
    // The simulator refuses it as the runtime does.
    let (_, created) = call(&sim, "POST", "/workers/workers", Some(&json!({ "name": "dated" })));
    let id = created["result"]["id"].as_str().unwrap().to_owned();
    let body = json!({
        "main_module": "index.js",
        "modules": [{ "name": "index.js", "content_type": "application/javascript+module",
                      "content_base64": "ZXhwb3J0IGRlZmF1bHQge30=" }],
        "compatibility_date": future,
    });
    let (status, answer) = call(&sim, "POST", &format!("/workers/workers/{id}/versions"), Some(&body));
    assert_eq!(status, 400, "{answer}");
}
