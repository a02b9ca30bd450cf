//! Choosing the trigger a branch builds with, as Cloudflare's branch filters would.

use crate::cloudflare::builds::Trigger;

/// Branch-filter glob: `*` matches any run of characters (slashes included), `?` one.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

pub(crate) fn matches_branch(t: &Trigger, branch: &str) -> bool {
    t.branch_includes.iter().any(|p| glob_match(p, branch)) && !t.branch_excludes.iter().any(|p| glob_match(p, branch))
}

#[derive(Debug)]
pub(crate) enum Choice<'a> {
    One(&'a Trigger),
    None,
    Ambiguous(Vec<&'a Trigger>),
}

/// The live trigger whose filters take `branch`. When several do, one that names the branch
/// literally wins (production `main` over a catch-all); otherwise the choice is the user's.
pub(crate) fn choose<'a>(triggers: &'a [Trigger], branch: &str) -> Choice<'a> {
    let live: Vec<&Trigger> = triggers.iter().filter(|t| t.deleted_on.is_none() && matches_branch(t, branch)).collect();
    match live.as_slice() {
        [] => Choice::None,
        [one] => Choice::One(one),
        many => {
            let literal: Vec<&Trigger> =
                many.iter().copied().filter(|t| t.branch_includes.iter().any(|p| p == branch)).collect();
            match literal.as_slice() {
                [one] => Choice::One(one),
                _ => Choice::Ambiguous(live),
            }
        }
    }
}

#[derive(Debug)]
pub(crate) enum Found<'a> {
    One(&'a Trigger),
    None,
    /// Several live triggers have the name (oldest first): picking one would be a guess.
    Duplicates(Vec<&'a Trigger>),
}

/// `trigger` input: a uuid, or a name (case-insensitive, as `setup` matches names).
pub(crate) fn find<'a>(triggers: &'a [Trigger], wanted: &str) -> Found<'a> {
    let live = || triggers.iter().filter(|t| t.deleted_on.is_none());
    if let Some(t) = live().find(|t| t.trigger_uuid.as_str().eq_ignore_ascii_case(wanted)) {
        return Found::One(t);
    }
    let mut named = same_name(triggers, wanted);
    match named.len() {
        0 => Found::None,
        1 => Found::One(named.remove(0)),
        _ => Found::Duplicates(named),
    }
}

/// The live triggers named `name` (case-insensitively), oldest first.
pub(crate) fn same_name<'a>(triggers: &'a [Trigger], name: &str) -> Vec<&'a Trigger> {
    let mut named: Vec<&Trigger> =
        triggers.iter().filter(|t| t.deleted_on.is_none() && t.name().eq_ignore_ascii_case(name)).collect();
    named.sort_by(|a, b| age(a).cmp(&age(b)));
    named
}

/// The order two triggers of one name are kept in: the one created first, then the smaller
/// uuid, so that every run that reads the same list picks the same one (a trigger without a
/// readable `created_on` counts as the newest).
fn age(t: &Trigger) -> (jiff::Timestamp, &str) {
    let created = t.created_on.as_deref().and_then(|c| c.parse::<jiff::Timestamp>().ok());
    (created.unwrap_or(jiff::Timestamp::MAX), t.trigger_uuid.as_str())
}

/// Groups of two or more among `triggers` that share a name (case-insensitively), each oldest
/// first.
pub(crate) fn duplicates<'a>(triggers: &[&'a Trigger]) -> Vec<Vec<&'a Trigger>> {
    let mut groups: Vec<Vec<&Trigger>> = Vec::new();
    for t in triggers {
        match groups.iter_mut().find(|g| g[0].name().eq_ignore_ascii_case(t.name())) {
            Some(g) => g.push(t),
            None => groups.push(vec![t]),
        }
    }
    groups.retain(|g| g.len() > 1);
    for g in &mut groups {
        g.sort_by(|a, b| age(a).cmp(&age(b)));
    }
    groups
}

/// One line per trigger with its filters, for error messages.
pub(crate) fn describe(triggers: &[Trigger]) -> String {
    if triggers.is_empty() {
        return "  (this Worker has no triggers: connect a repository under Settings → Builds)".into();
    }
    triggers
        .iter()
        .filter(|t| t.deleted_on.is_none())
        .map(|t| {
            format!(
                "  - {} ({}): branches {:?}, excluding {:?}",
                t.name(),
                t.trigger_uuid,
                t.branch_includes,
                t.branch_excludes
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, inc: &[&str], exc: &[&str]) -> Trigger {
        Trigger {
            trigger_uuid: serde_json::from_value(format!("uuid-{name}").into()).unwrap(),
            trigger_name: Some(name.into()),
            branch_includes: inc.iter().map(std::string::ToString::to_string).collect(),
            branch_excludes: exc.iter().map(std::string::ToString::to_string).collect(),
            ..Trigger::default()
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "feature/x"));
        assert!(glob_match("release/*", "release/1.2"));
        assert!(!glob_match("release/*", "main"));
        assert!(glob_match("v?.*", "v1.2"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("main", "main"));
        assert!(!glob_match("main", "main2"));
    }

    #[test]
    fn production_and_preview_like_the_docs() {
        let ts = [t("prod", &["main"], &[]), t("preview", &["*"], &["main"])];
        assert!(matches!(choose(&ts, "main"), Choice::One(x) if x.name() == "prod"));
        assert!(matches!(choose(&ts, "feature/login"), Choice::One(x) if x.name() == "preview"));
    }

    #[test]
    fn overlap_prefers_literal_else_ambiguous() {
        let ts = [t("prod", &["main"], &[]), t("all", &["*"], &[])];
        assert!(matches!(choose(&ts, "main"), Choice::One(x) if x.name() == "prod"));
        assert!(matches!(choose(&ts, "dev"), Choice::One(x) if x.name() == "all"));
        let ts = [t("a", &["*"], &[]), t("b", &["*"], &[])];
        assert!(matches!(choose(&ts, "dev"), Choice::Ambiguous(v) if v.len() == 2));
        let mut deleted = t("gone", &["*"], &[]);
        deleted.deleted_on = Some("2026-01-01T00:00:00Z".into());
        assert!(matches!(choose(&[deleted], "dev"), Choice::None));
    }

    #[test]
    fn find_by_uuid_or_name() {
        let ts = [t("Prod", &["main"], &[])];
        assert!(matches!(find(&ts, "uuid-Prod"), Found::One(_)));
        assert!(matches!(find(&ts, "prod"), Found::One(_)));
        assert!(matches!(find(&ts, "other"), Found::None));
    }

    #[test]
    fn a_name_two_triggers_share_is_never_a_choice_and_the_oldest_comes_first() {
        let mut newer = t("prod", &["main"], &[]);
        newer.trigger_uuid = serde_json::from_value("uuid-a".into()).unwrap();
        newer.created_on = Some("2026-01-02T00:00:00.000001Z".into());
        let mut older = t("Prod", &["main"], &[]);
        older.created_on = Some("2026-01-02T00:00:00Z".into());
        let ts = [newer, older];
        match find(&ts, "PROD") {
            Found::Duplicates(d) => {
                assert_eq!(d.iter().map(|t| t.trigger_uuid.as_str()).collect::<Vec<_>>(), ["uuid-Prod", "uuid-a"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(find(&ts, "uuid-a"), Found::One(_)), "a uuid still names one");
        let refs: Vec<&Trigger> = ts.iter().collect();
        assert_eq!(duplicates(&refs).len(), 1);
    }
}
