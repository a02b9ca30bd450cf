//! Which of the configuration's Durable Object migrations a new version sends, against the tag
//! the Worker has applied, as wrangler computes it (docs/cloudflare-api.md §C.2, `durable.ts`).

use crate::cloudflare::workers::Migrations;
use crate::inputs::wrangler::Migration;

/// What to send: `None` when every step is applied. The second value is a warning for an
/// applied tag the file does not know.
pub(crate) fn pending(config: &[Migration], applied: Option<&str>) -> (Option<Migrations>, Option<String>) {
    let Some(last) = config.last() else { return (None, None) };
    let all = || config.iter().map(|m| m.step.clone()).collect::<Vec<_>>();
    match applied {
        None => (Some(Migrations { old_tag: None, new_tag: last.tag.clone(), steps: all() }), None),
        Some(tag) if tag == last.tag => (None, None),
        Some(tag) => match config.iter().position(|m| m.tag == tag) {
            Some(i) => {
                let steps = config[i + 1..].iter().map(|m| m.step.clone()).collect();
                (Some(Migrations { old_tag: Some(tag.to_owned()), new_tag: last.tag.clone(), steps }), None)
            }
            // wrangler sends every step with the old tag and warns: Cloudflare then decides.
            None => (
                Some(Migrations { old_tag: Some(tag.to_owned()), new_tag: last.tag.clone(), steps: all() }),
                Some(format!(
                    "the Worker's applied migration tag `{tag}` is not in the configuration's `migrations`; all {} steps are sent, and Cloudflare may refuse them",
                    config.len()
                )),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Vec<Migration> {
        vec![
            Migration { tag: "v1".into(), step: json!({ "new_sqlite_classes": ["A"] }) },
            Migration { tag: "v2".into(), step: json!({ "new_sqlite_classes": ["B"] }) },
            Migration { tag: "v3".into(), step: json!({ "deleted_classes": ["A"] }) },
        ]
    }

    #[test]
    fn only_the_steps_after_the_applied_tag() {
        let (m, w) = pending(&config(), None);
        let m = m.unwrap();
        assert_eq!((m.old_tag, m.new_tag.as_str(), m.steps.len(), w), (None, "v3", 3, None));
        let m = pending(&config(), Some("v1")).0.unwrap();
        assert_eq!((m.old_tag.as_deref(), m.steps.len()), (Some("v1"), 2));
        assert_eq!(m.steps[0], json!({ "new_sqlite_classes": ["B"] }));
        assert!(pending(&config(), Some("v3")).0.is_none());
        let (m, w) = pending(&config(), Some("elsewhere"));
        assert_eq!(m.unwrap().steps.len(), 3);
        assert!(w.unwrap().contains("`elsewhere`"));
        assert_eq!(pending(&[], Some("v1")), (None, None));
    }
}
