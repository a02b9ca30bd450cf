//! D1 migrations, applied as wrangler applies them (docs/cloudflare-api.md §J.3-§J.5): the
//! bookkeeping table made if absent, the applied set read, then each pending file sent with its
//! bookkeeping row as one request, stopping at the first that fails. A file the table records is
//! never sent again, whoever recorded it (wrangler or workers-ci).

use serde::Serialize;

use super::create::create_once;
use super::dry_run::{call, report_as};
use super::{Area, Ctx, api_failure};
use crate::cloudflare::ApiError;
use crate::commands::Output;
use crate::error::{Error, Result};
use crate::inputs::d1::{Database, File, Migrations};
use crate::inputs::{Key, hint};

/// One row of the `migrations` output.
#[derive(Debug, Clone, Serialize)]
struct Row {
    database: String,
    file: String,
    status: &'static str,
}

/// Applies (or, dry, lists) the pending migrations of every database, in order; writes the
/// `migrations` output and the summary table whatever happens.
pub(crate) async fn migrate(ctx: &Ctx, m: &Migrations) -> Result<()> {
    let mut rows = Vec::new();
    let mut result = Ok(());
    for db in &m.databases {
        if let Err(e) = database(ctx, db, m.dry_run, &mut rows).await {
            result = Err(e);
            break;
        }
    }
    ctx.output(Output::Migrations, &serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()));
    let table: Vec<Vec<String>> =
        rows.iter().map(|r| vec![r.database.clone(), format!("`{}`", r.file), r.status.replace('_', " ")]).collect();
    let heading = if m.dry_run { "D1 migrations (dry run)" } else { "D1 migrations" };
    ctx.summary(|s| {
        if table.is_empty() {
            s.row(heading, "none pending");
        } else {
            s.table(heading, &["Database", "File", "Status"], &table);
        }
    });
    result
}

/// `migrate` dry, without credentials: every check has passed (the configuration, each
/// database, its directory, its files read in order); the applied set is the database's to
/// tell, so each file is listed as pending unless its table records it, with the calls a real
/// run sends (§J.3-§J.5). Nothing is sent.
pub(crate) fn plan_without_credentials(ctx: &Ctx, m: &Migrations, account: &str) {
    let mut rows = Vec::new();
    let mut plan = Vec::new();
    for db in &m.databases {
        let label = db.label();
        ctx.console.info(&format!(
            "D1 {label}: {} in {}, each pending unless already recorded in `{}` (no credentials: the applied set is not read):",
            crate::ci::plural(db.files.len(), "migration file", "migration files"),
            db.dir.display(),
            db.table
        ));
        let query = format!("d1/database/{}/query", db.id.as_str());
        plan.push(call("POST", account, &query, format!("D1 {label}: create `{}` if absent", db.table)));
        plan.push(call(
            "POST",
            account,
            &query,
            format!("D1 {label}: read the applied migrations from `{}`", db.table),
        ));
        for f in &db.files {
            ctx.console.info(&format!("  {}", f.name));
            rows.push(Row { database: db.binding.clone(), file: f.name.clone(), status: "pending_unless_recorded" });
            plan.push(call(
                "POST",
                account,
                &query,
                format!(
                    "D1 {label}: apply `{}` with its row in `{}`, unless already recorded there (a failure stops the run)",
                    f.name, db.table
                ),
            ));
        }
    }
    ctx.output(Output::Migrations, &serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into()));
    let table: Vec<Vec<String>> =
        rows.iter().map(|r| vec![r.database.clone(), format!("`{}`", r.file), r.status.replace('_', " ")]).collect();
    ctx.summary(|s| s.table("D1 migrations (dry run, no credentials)", &["Database", "File", "Status"], &table));
    let names: Vec<String> = m.databases.iter().map(Database::label).collect();
    report_as(ctx, "D1", &format!("D1 {}", names.join(", ")), &plan);
}

async fn database(ctx: &Ctx, db: &Database, dry_run: bool, rows: &mut Vec<Row>) -> Result<()> {
    let label = db.label();
    let applied = if dry_run { applied_if_any(ctx, db).await? } else { create_and_read(ctx, db).await? };
    let pending: Vec<&File> = db.files.iter().filter(|f| !applied.contains(&f.name)).collect();
    let known = db.files.len() - pending.len();
    if pending.is_empty() {
        ctx.console.info(&format!(
            "D1 {label}: no migrations to apply ({} in {}, all recorded in `{}`)",
            crate::ci::plural(db.files.len(), "file", "files"),
            db.dir.display(),
            db.table
        ));
        return Ok(());
    }
    let row = |f: &File, status| Row { database: db.binding.clone(), file: f.name.clone(), status };
    if dry_run {
        ctx.console.info(&format!(
            "D1 {label}: {} would be applied ({known} already recorded in `{}`; dry run, nothing sent but reads):",
            crate::ci::plural(pending.len(), "migration", "migrations"),
            db.table
        ));
        for f in &pending {
            ctx.console.info(&format!("  {}", f.name));
            rows.push(row(f, "pending"));
        }
        return Ok(());
    }
    ctx.console.info(&format!(
        "D1 {label}: applying {} ({known} already recorded in `{}`)",
        crate::ci::plural(pending.len(), "migration", "migrations"),
        db.table
    ));
    for (i, f) in pending.iter().enumerate() {
        match apply(ctx, db, f).await {
            Ok(()) => {
                ctx.console.info(&format!("  {} applied", f.name));
                rows.push(row(f, "applied"));
            }
            Err(e) => {
                rows.push(row(f, "failed"));
                rows.extend(pending[i + 1..].iter().map(|f| row(f, "not_applied")));
                return Err(e);
            }
        }
    }
    Ok(())
}

/// The table made as wrangler makes it (idempotent: retried like a read), then read.
async fn create_and_read(ctx: &Ctx, db: &Database) -> Result<Vec<String>> {
    ctx.client.d1_query_idempotent(&db.id, &db.create_table_sql()).await.map_err(|e| {
        let doing = format!("create the migrations table `{}` of D1 {}", db.table, db.label());
        // The first request names the database: a 7404 here is a `database_id` this account does
        // not have (a copied id, another account's, a database deleted since), not a table.
        if matches!(e, ApiError::Api { status: 404, .. }) && e.has_code(7404) {
            let fix = format!(
                "the account has no D1 database {}: check `database_id` of {} (the uuid `wrangler d1 list` \
                 shows) and {}, or create the database first (`wrangler d1 create {}`)",
                db.id,
                db.written,
                hint::input(Key::AccountId),
                db.name.as_deref().unwrap_or("<name>")
            );
            return Error::api(doing, e, Some(fix));
        }
        api_failure(e, &doing, Area::D1)
    })?;
    read(ctx, db).await.map_err(|e| api_failure(e, &reading(db), Area::D1))
}

fn reading(db: &Database) -> String {
    format!("read the applied migrations from `{}` of D1 {}", db.table, db.label())
}

/// A dry run writes nothing, so it does not make the table: a database without it has
/// nothing applied.
async fn applied_if_any(ctx: &Ctx, db: &Database) -> Result<Vec<String>> {
    match read(ctx, db).await {
        Ok(names) => Ok(names),
        Err(e) if e.has_code(7500) && e.mentions("no such table") => {
            ctx.console.info(&format!(
                "D1 {}: no table `{}` yet (the first real run creates it): nothing applied",
                db.label(),
                db.table
            ));
            Ok(Vec::new())
        }
        Err(e) => Err(api_failure(e, &reading(db), Area::D1)),
    }
}

async fn read(ctx: &Ctx, db: &Database) -> Result<Vec<String>, ApiError> {
    let answer = ctx.client.d1_query_idempotent(&db.id, &db.applied_sql()).await?;
    Ok(answer
        .first()
        .map(|r| r.results.iter().filter_map(|row| row["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default())
}

/// What a file's request came to.
enum Sent {
    /// D1's answer: one result per statement.
    Answer(Vec<crate::cloudflare::d1::StatementResult>),
    /// D1 refused the SQL (7500): a definite answer, the file was not applied.
    Refused(ApiError),
    /// The answer was lost, but the table records the file.
    Recorded,
}

/// One file and its bookkeeping row, sent once ([`create_once`]): an answer lost on the way
/// may hide a success, so the table is read before the file is sent again, and a file it
/// records counts as applied.
async fn apply(ctx: &Ctx, db: &Database, f: &File) -> Result<()> {
    let failed = |detail: String| {
        let statement = statement_of(&f.sql, &detail);
        Error::MigrationFailed(failure(db, f, &detail, statement.as_deref()))
    };
    let sql = db.apply_sql(f);
    let sent = create_once(
        ctx,
        &format!("apply migration `{}` to D1 {}", f.name, db.label()),
        Area::D1,
        || async {
            match ctx.client.d1_query_once(&db.id, &sql).await {
                Ok(results) => Ok(Sent::Answer(results)),
                Err(e) if e.has_code(7500) && e.status().is_some_and(|s| (400..500).contains(&s)) => {
                    Ok(Sent::Refused(e))
                }
                Err(e) => Err(e),
            }
        },
        || async { Ok(read(ctx, db).await?.contains(&f.name).then_some(Sent::Recorded)) },
    )
    .await?;
    match sent {
        // §J.4: wrangler marks such a file failed yet goes on; here it stops the run.
        Sent::Answer(results) if results.iter().any(|r| !r.success) => {
            Err(failed("D1 answered a statement with `success: false`".to_owned()))
        }
        Sent::Answer(_) => Ok(()),
        Sent::Recorded => {
            ctx.console.info(&format!("  {}: the answer was lost, but the table records it as applied", f.name));
            Ok(())
        }
        Sent::Refused(e) => {
            let text: Vec<String> = match &e {
                ApiError::Api { errors, .. } => errors.iter().filter_map(|m| m.message.clone()).collect(),
                _ => Vec::new(),
            };
            Err(failed(format!("D1 answered: {}", text.join("; "))))
        }
    }
}

fn failure(db: &Database, f: &File, detail: &str, statement: Option<&str>) -> String {
    let done: Vec<&str> = db.files.iter().take_while(|x| x.name != f.name).map(|x| x.name.as_str()).collect();
    let after: Vec<&str> = db.files.iter().skip_while(|x| x.name != f.name).skip(1).map(|x| x.name.as_str()).collect();
    let mut text = format!(
        "D1 {} ({}): migration `{}` ({}) failed. {detail}.",
        db.label(),
        db.written,
        f.name,
        db.dir.join(&f.name).display()
    );
    if let Some(s) = statement {
        text.push_str(&format!(" The error points at {s}."));
    }
    text.push_str(&format!(
        " It is not recorded in `{}`{}; {}. {}",
        db.table,
        if done.is_empty() { String::new() } else { format!(", the files before it stay applied ({})", done.join(", ")) },
        if after.is_empty() {
            "no file comes after it".to_owned()
        } else {
            format!("the files after it were not sent ({})", after.join(", "))
        },
        "D1 rolls a failed request back as a whole; should an earlier statement of the file have taken effect all the same, undo it first. Fix the file and run again: recorded files are never sent again."
    ));
    text
}

/// The statement D1's error points at: D1 names no statement (§J.7), so the `SQLite` text's
/// object (`near "x"`, `no such table: t`, `table t already exists`, ...) is looked for in
/// the file, and the first line holding it is quoted with its number. `None` when the error
/// names nothing that one line of the file holds.
fn statement_of(sql: &str, detail: &str) -> Option<String> {
    let token = token(detail)?;
    let lower = token.to_lowercase();
    sql.lines().enumerate().find(|(_, l)| has_word(&l.to_lowercase(), &lower)).map(|(n, l)| {
        let l = l.trim();
        let shown: String = l.chars().take(120).collect();
        let more = if shown.len() < l.len() { "…" } else { "" };
        format!("line {}: `{shown}{more}`", n + 1)
    })
}

/// `word` in `line` on its own: `creat` is not in `create table`.
fn has_word(line: &str, word: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices(word)
        .any(|(i, _)| !ident(line[..i].chars().next_back()) && !ident(line[i + word.len()..].chars().next()))
}

fn token(detail: &str) -> Option<String> {
    if let Some(rest) = detail.split_once("near \"").map(|(_, r)| r) {
        return rest.split_once('"').map(|(t, _)| t.to_owned()).filter(|t| !t.is_empty());
    }
    const AFTER: [&str; 5] =
        ["no such table: ", "no such column: ", "duplicate column name: ", "constraint failed: ", "no such index: "];
    for prefix in AFTER {
        if let Some((_, rest)) = detail.split_once(prefix) {
            let t: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
            // `t.col` of a constraint: the table is what a statement names.
            let t = t.split('.').next().unwrap_or_default().to_owned();
            return Some(t).filter(|t| !t.is_empty());
        }
    }
    let (before, _) = detail.split_once(" already exists")?;
    for kind in ["table ", "index ", "view ", "trigger "] {
        if let Some((_, name)) = before.rsplit_once(kind) {
            return Some(name.trim_matches(['"', '`', '\'']).to_owned()).filter(|t| !t.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_is_found_from_sqlites_words() {
        let sql = "CREATE TABLE a(x);\nINSERT INTO missing VALUES (1);\nCREAT TABLE b(y);\n";
        assert_eq!(
            statement_of(sql, "D1 answered: no such table: missing: SQLITE_ERROR").as_deref(),
            Some("line 2: `INSERT INTO missing VALUES (1);`")
        );
        assert_eq!(
            statement_of(sql, "near \"CREAT\": syntax error at offset 0: SQLITE_ERROR").as_deref(),
            Some("line 3: `CREAT TABLE b(y);`")
        );
        assert_eq!(
            statement_of(sql, "table a already exists: SQLITE_ERROR").as_deref(),
            Some("line 1: `CREATE TABLE a(x);`")
        );
        assert_eq!(statement_of(sql, "incomplete input: SQLITE_ERROR"), None);
    }
}
