//! A plan of changes, one row per thing changed (or not), shared by the commands that read,
//! compare and then write: `setup` (Workers Builds) and the deploy of a wrangler
//! configuration's triggers and settings. The rows are the `plan` output, the log's table and
//! the job summary's.

use serde::Serialize;

use super::Ctx;

/// What the plan does to one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    Create,
    Update,
    Delete,
    /// A secret written because its value is at hand: it cannot be compared with Cloudflare's.
    Set,
    Unchanged,
    /// Exists in Cloudflare, not in the file, and `prune` is off.
    LeftAlone,
    /// A listed secret Cloudflare does not have, whose value is not in the environment.
    Missing,
    /// A second trigger of a name the file has (two `setup` runs at once can leave one), and
    /// `prune` is off: never chosen by `build`, deleted only with `prune`.
    Duplicate,
    /// Held by another Worker (or a DNS record), and given to this one because `takeover`
    /// says so.
    TakeOver,
    /// Held by another Worker (or a DNS record), and `takeover` is off: nothing is written.
    Conflict,
}

impl Action {
    /// A write this run makes (or would make).
    pub(crate) fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete | Action::Set | Action::TakeOver)
    }

    /// Cloudflare differs from the file: what `check` reports. A secret `set` is not drift (its
    /// value cannot be compared); a missing one is.
    pub(crate) fn drifts(self) -> bool {
        matches!(
            self,
            Action::Create
                | Action::Update
                | Action::Delete
                | Action::Missing
                | Action::Duplicate
                | Action::TakeOver
                | Action::Conflict
        )
    }

    pub(crate) fn text(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Set => "set",
            Action::Unchanged => "unchanged",
            Action::LeftAlone => "left alone",
            Action::Missing => "missing",
            Action::Duplicate => "duplicate",
            Action::TakeOver => "take over",
            Action::Conflict => "conflict",
        }
    }
}

/// One line of the plan. `from`/`to` never hold a secret value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Change {
    /// `connection`, `trigger`, `variable` or `secret` (`setup`); `route`, `custom_domain`,
    /// `cron`, `queue_consumer` or `setting` (a deploy's triggers and settings).
    pub resource: &'static str,
    /// The repository (`owner/name`), the trigger's name, the route's pattern, the hostname,
    /// the cron expression, the queue or the setting.
    pub name: String,
    /// The variable's name, for variables and secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub action: Action,
    /// The field an update changes (one line per field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl Change {
    pub(crate) fn new(resource: &'static str, name: &str, action: Action) -> Change {
        Change { resource, name: name.to_owned(), key: None, action, field: None, from: None, to: None }
    }

    pub(crate) fn key(mut self, k: &str) -> Change {
        self.key = Some(k.to_owned());
        self
    }

    pub(crate) fn field(mut self, f: &str, from: Option<String>, to: Option<String>) -> Change {
        self.field = Some(f.to_owned());
        self.from = from;
        self.to = to;
        self
    }

    pub(crate) fn detail(&self) -> String {
        let arrow = match (&self.from, &self.to) {
            (Some(f), Some(t)) => format!("{f} → {t}"),
            (None, Some(t)) => t.clone(),
            (Some(f), None) => f.clone(),
            (None, None) => String::new(),
        };
        match &self.field {
            Some(field) => format!("{field}: {arrow}"),
            None => arrow,
        }
    }
}

/// The plan in the log (an aligned table) and in the job summary (a Markdown table).
pub(crate) fn show(ctx: &Ctx, plan: &[Change]) {
    let rows: Vec<[String; 4]> = plan
        .iter()
        .map(|c| {
            let name = match &c.key {
                Some(k) => format!("{} {k}", c.name),
                None => c.name.clone(),
            };
            [c.resource.to_owned(), name, c.action.text().to_owned(), c.detail()]
        })
        .collect();
    let head = ["RESOURCE".to_owned(), "NAME".to_owned(), "ACTION".to_owned(), "DETAIL".to_owned()];
    let width = |i: usize| rows.iter().chain([&head]).map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut text = Vec::new();
    for r in std::iter::once(&head).chain(&rows) {
        text.push(format!("{:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]).trim_end().to_owned());
    }
    ctx.console.info("Plan:");
    for line in &text {
        ctx.console.info(line);
    }
    let mut md = String::from("| resource | name | action | detail |\n| --- | --- | --- | --- |\n");
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md_cell(&r[0]),
            md_cell(&r[1]),
            md_cell(&r[2]),
            md_cell(&r[3])
        ));
    }
    ctx.summary(|s| s.text("Plan", &md));
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
