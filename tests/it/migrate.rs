//! `migrate`, and `migrate: true` on `version` and `deploy`: D1 migrations applied as wrangler
//! applies them, against the simulator's real `SQLite` databases, with real wrangler as the oracle
//! of the bookkeeping both must share.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::wrangler::{self, wrangler};
use crate::common::*;

const DB_UUID: &str = "5b0e4a53-5a1f-4c8e-9d38-7f0f1e2b6c11";

fn sim_with_db() -> Simulator {
    Simulator::start_background(SimConfig {
        build: fast_profile(),
        d1_databases: vec![D1Seed { name: "shop".into(), uuid: Some(DB_UUID.into()) }],
        ..SimConfig::default()
    })
    .expect("simulator starts")
}

/// A project: `wrangler.toml` binding the database, `main` built, and `migrations/` with
/// these files.
fn project(dir: &Path, files: &[(&str, &str)]) {
    std::fs::write(
        dir.join("wrangler.toml"),
        format!(
            "name = \"my-worker\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"shop\"\ndatabase_id = \"{DB_UUID}\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(dir.join("dist/index.js"), "export default { fetch() { return new Response('ok') } }\n").unwrap();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    for (name, sql) in files {
        std::fs::write(dir.join("migrations").join(name), sql).unwrap();
    }
}

const USERS: (&str, &str) = ("0001_users.sql", "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n");
const ORDERS_BROKEN: (&str, &str) =
    ("0002_orders.sql", "CREATE TABLE orders(id INTEGER PRIMARY KEY);\nINSERT INTO order_lines VALUES (1);\n");
const ORDERS: (&str, &str) = ("0002_orders.sql", "CREATE TABLE orders(id INTEGER PRIMARY KEY);\n");
const ITEMS: (&str, &str) = ("0003_items.sql", "CREATE TABLE items(id INTEGER PRIMARY KEY);\n");

fn migrate(sim: &Simulator, dir: &Path) -> Invocation {
    Invocation::new(sim).without("worker").without("branch").without("commit").input("command", "migrate").cwd(dir)
}

fn recorded(sim: &Simulator) -> Vec<String> {
    sim.d1_select("shop", "SELECT name FROM d1_migrations ORDER BY id")
        .unwrap_or_default()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

fn has_table(sim: &Simulator, t: &str) -> bool {
    !sim.d1_select("shop", &format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{t}'"))
        .unwrap_or_default()
        .is_empty()
}

fn queries(sim: &Simulator) -> Vec<String> {
    sim.requests()
        .iter()
        .filter(|r| r.path.ends_with("/query"))
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["sql"].as_str().unwrap().to_owned())
        .collect()
}

fn rows(run: &Run) -> Value {
    serde_json::from_str(run.output("migrations").expect("the migrations output")).unwrap()
}

#[test]
fn a_failing_migration_stops_the_run_and_the_rerun_applies_only_the_rest() {
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS, ORDERS_BROKEN, ITEMS]);
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(14);
    let all = run.everything();
    assert!(all.contains("migration `0002_orders.sql`"), "{all}");
    assert!(all.contains("no such table: order_lines"), "the API's error: {all}");
    assert!(all.contains("line 2: `INSERT INTO order_lines VALUES (1);`"), "the statement: {all}");
    assert!(all.contains("the files before it stay applied (0001_users.sql)"), "{all}");
    assert!(all.contains("the files after it were not sent (0003_items.sql)"), "{all}");
    assert_eq!(
        rows(&run),
        json!([
            { "database": "DB", "file": "0001_users.sql", "status": "applied" },
            { "database": "DB", "file": "0002_orders.sql", "status": "failed" },
            { "database": "DB", "file": "0003_items.sql", "status": "not_applied" },
        ])
    );
    assert_eq!(recorded(&sim), ["0001_users.sql"], "the first applied and recorded");
    assert!(has_table(&sim, "users"));
    assert!(!has_table(&sim, "orders"), "the failed file rolled back");
    assert!(!has_table(&sim, "items"), "nothing after it applied");
    let sent = queries(&sim);
    assert_eq!(sent.len(), 4, "the table, the applied set, one request per file up to the failure: {sent:#?}");
    assert!(sent[0].starts_with("CREATE TABLE IF NOT EXISTS \"d1_migrations\"("));
    assert_eq!(sent[2], format!("{}\nINSERT INTO \"d1_migrations\" (name)\nvalues ('0001_users.sql');", USERS.1));
    assert!(run.summary.contains("| DB | `0002_orders.sql` | failed |"), "{}", run.summary);

    // Fixed: only the rest runs.
    std::fs::write(dir.path().join("migrations").join(ORDERS.0), ORDERS.1).unwrap();
    let before = queries(&sim).len();
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(0);
    assert_eq!(
        rows(&run),
        json!([
            { "database": "DB", "file": "0002_orders.sql", "status": "applied" },
            { "database": "DB", "file": "0003_items.sql", "status": "applied" },
        ])
    );
    assert_eq!(recorded(&sim), ["0001_users.sql", "0002_orders.sql", "0003_items.sql"]);
    assert_eq!(queries(&sim).len() - before, 4, "the table, the applied set, and the two files");
    // And nothing more to do.
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(0);
    assert_eq!(rows(&run), json!([]));
    assert!(run.everything().contains("no migrations to apply"), "{}", run.everything());
}

/// A failed request D1 did not roll back (§G-32's other answer): the run still stops at it,
/// and says an earlier statement of the file may have taken effect.
#[test]
fn without_a_rollback_the_failure_says_the_file_may_be_partly_applied() {
    let sim = Simulator::start_background(SimConfig {
        d1_databases: vec![D1Seed { name: "shop".into(), uuid: Some(DB_UUID.into()) }],
        d1_partial_failure: true,
        ..SimConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS, ORDERS_BROKEN, ITEMS]);
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(14);
    assert!(has_table(&sim, "orders"), "the knob: the first statement stayed");
    assert_eq!(recorded(&sim), ["0001_users.sql"], "but the file is not recorded");
    assert!(run.everything().contains("should an earlier statement of the file have taken effect"), "{}", run.stderr);
}

#[test]
fn a_database_wrangler_migrated_is_continued_without_reapplying() {
    let w = wrangler();
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    let seed = ("0002_seed.sql", "INSERT INTO users(name) VALUES ('first');\n");
    project(dir.path(), &[USERS, seed]);
    let out = wrangler::run(&w, &sim, dir.path(), &["d1", "migrations", "apply", "DB", "--remote"]);
    assert!(
        out.status.success(),
        "wrangler: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(recorded(&sim), ["0001_users.sql", "0002_seed.sql"], "wrangler's bookkeeping");
    std::fs::write(dir.path().join("migrations").join(ITEMS.0), ITEMS.1).unwrap();
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(0);
    assert_eq!(rows(&run), json!([{ "database": "DB", "file": "0003_items.sql", "status": "applied" }]));
    assert_eq!(recorded(&sim), ["0001_users.sql", "0002_seed.sql", "0003_items.sql"]);
    assert_eq!(
        sim.d1_select("shop", "SELECT name FROM users").unwrap(),
        [json!({ "name": "first" })],
        "not re-applied"
    );
    // And wrangler reads workers-ci's row as applied.
    let out = wrangler::run(&w, &sim, dir.path(), &["d1", "migrations", "apply", "DB", "--remote"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("No migrations to apply"), "{text}");
}

#[test]
fn wrangler_d1_create_works_against_the_simulator() {
    let w = wrangler();
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wrangler.toml"), "name = \"my-worker\"\ncompatibility_date = \"2026-11-01\"\n")
        .unwrap();
    let out = wrangler::run(&w, &sim, dir.path(), &["d1", "create", "orders-db"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let uuid = sim.d1_uuid("orders-db").expect("the database exists");
    assert!(text.contains(&format!("database_id = \"{uuid}\"")), "wrangler shows the snippet with its uuid:\n{text}");
    let again = wrangler::run(&w, &sim, dir.path(), &["d1", "create", "orders-db"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("A database with that name already exists"));
}

#[test]
fn migrate_true_with_a_failing_migration_uploads_and_deploys_nothing() {
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS]);
    // A first version, deployed with its migration: the schema lands before the code.
    let ok = version_invocation(&sim, "my-worker")
        .without("compatibility_date")
        .cwd(dir.path())
        .input("migrate", "true")
        .input("deploy", "true")
        .run();
    ok.assert_code(0);
    assert_eq!(recorded(&sim), ["0001_users.sql"]);
    let order: Vec<String> = sim.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let migrated = order.iter().position(|r| r.ends_with("/query") && r.starts_with("POST")).unwrap();
    let uploaded = order.iter().position(|r| r.contains("/versions") && r.starts_with("POST")).unwrap();
    assert!(migrated < uploaded, "migrations before the upload: {order:#?}");
    let version = ok.output("version_id").unwrap().to_owned();

    std::fs::write(dir.path().join("migrations").join(ORDERS_BROKEN.0), ORDERS_BROKEN.1).unwrap();
    let writes = |sim: &Simulator| {
        sim.requests()
            .iter()
            .filter(|r| r.method != "GET" && !r.path.ends_with("/query"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect::<Vec<_>>()
    };
    let before = writes(&sim);
    let run = version_invocation(&sim, "my-worker")
        .without("compatibility_date")
        .cwd(dir.path())
        .input("migrate", "true")
        .input("deploy", "true")
        .run();
    run.assert_code(14);
    assert!(run.everything().contains("migration `0002_orders.sql`"), "{}", run.stderr);
    assert_eq!(writes(&sim), before, "no upload, no deployment, no Worker write");
    assert_eq!(sim.versions("my-worker").len(), 1);

    let run = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .input("command", "deploy")
        .input("versions", &version)
        .input("migrate", "true")
        .cwd(dir.path())
        .run();
    run.assert_code(14);
    assert_eq!(writes(&sim), before, "`deploy` deployed nothing");
    assert_eq!(rows(&run), json!([{ "database": "DB", "file": "0002_orders.sql", "status": "failed" }]));

    // `version` without `deploy`: refused before any request.
    let n = sim.requests().len();
    let run = version_invocation(&sim, "my-worker")
        .without("compatibility_date")
        .cwd(dir.path())
        .input("migrate", "true")
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("`migrate`") || run.stdout.contains("`migrate`"), "{}", run.everything());
    assert_eq!(sim.requests().len(), n);
}

#[test]
fn a_dry_run_lists_the_pending_files_and_writes_nothing() {
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS, ORDERS, ITEMS]);
    // A database that never saw a migration: no table, so everything is pending, and the dry
    // run does not make the table.
    let run = migrate(&sim, dir.path()).input("dry_run", "true").run();
    run.assert_code(0);
    assert_eq!(rows(&run).as_array().unwrap().len(), 3);
    assert!(!has_table(&sim, "d1_migrations"), "a dry run creates nothing");
    assert!(run.everything().contains("no table `d1_migrations` yet"), "{}", run.everything());

    migrate(&sim, dir.path()).input("database", "DB").run().assert_code(0);
    std::fs::write(dir.path().join("migrations/0004_more.sql"), "CREATE TABLE more(id INTEGER);\n").unwrap();
    let before = queries(&sim).len();
    let run = migrate(&sim, dir.path()).input("dry_run", "true").input("database", "shop").run();
    run.assert_code(0);
    assert_eq!(rows(&run), json!([{ "database": "DB", "file": "0004_more.sql", "status": "pending" }]));
    let sent = &queries(&sim)[before..];
    assert_eq!(sent.len(), 1, "one read: {sent:#?}");
    assert!(sent[0].starts_with("SELECT *"), "{sent:#?}");
    assert!(!has_table(&sim, "more"));
    assert!(run.summary.contains("D1 migrations (dry run)"), "{}", run.summary);
}

#[test]
fn bad_configuration_exits_2_naming_file_and_key_with_no_request() {
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS]);
    let cases: Vec<(Invocation, &str)> = vec![
        (migrate(&sim, dir.path()).input("database", "NOPE"), "`DB`"),
        (migrate(&sim, dir.path()).input("config", "missing.toml"), "missing.toml"),
    ];
    for (inv, expected) in cases {
        let run = inv.run();
        run.assert_code(2);
        assert!(run.everything().contains(expected), "{expected}: {}", run.everything());
    }
    // A migrations_dir that does not exist: named with its line.
    let toml = std::fs::read_to_string(dir.path().join("wrangler.toml")).unwrap();
    std::fs::write(dir.path().join("wrangler.toml"), format!("{toml}migrations_dir = \"db/migrations\"\n")).unwrap();
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(2);
    assert!(run.everything().contains("wrangler.toml:9: d1_databases[0].migrations_dir"), "{}", run.everything());
    // No migrations directory at all, left to the default.
    std::fs::write(dir.path().join("wrangler.toml"), &toml).unwrap();
    std::fs::remove_dir_all(dir.path().join("migrations")).unwrap();
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(2);
    assert!(
        run.everything().contains("no `d1_databases` entry of wrangler.toml has migrations"),
        "{}",
        run.everything()
    );
    let run = migrate(&sim, dir.path()).input("database", "DB").run();
    run.assert_code(2);
    assert!(
        run.everything().contains("wrangler.toml:5: d1_databases[0]: takes its migrations from `migrations`"),
        "{}",
        run.everything()
    );
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests().iter().map(|r| &r.path).collect::<Vec<_>>());
}

/// README's "migrate, then deploy" workflow, its workers-ci step run as written (the `run:` build
/// step is stood in for by the project's `dist/`): a clean run deploys after migrating, a broken
/// file stops it with the `migrations` output the next step prints.
#[test]
fn the_readme_workflow_migrates_then_deploys() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("### D1 migrations: migrate, then deploy").expect("the README section");
    let open = start + readme[start..].find("```yaml\n").unwrap() + "```yaml\n".len();
    let block = &readme[open..open + readme[open..].find("```").unwrap()];
    let steps = &yaml_rust2::YamlLoader::load_from_str(block).unwrap()[0];
    let ours: Vec<_> = steps
        .as_vec()
        .unwrap()
        .iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("workers-ci/workers-ci@")))
        .collect();
    assert_eq!(ours.len(), 1, "one workers-ci step:\n{block}");
    let sim = sim_with_db();
    let step = |dir: &Path| {
        let mut inv = Invocation::new(&sim).without("worker").without("branch").without("commit").cwd(dir);
        for (k, v) in ours[0]["with"].as_hash().unwrap() {
            let v = match v.as_str() {
                Some(s) => s.to_owned(),
                None => v.as_bool().map(|b| b.to_string()).unwrap(),
            };
            let v = v
                .replace("${{ secrets.CLOUDFLARE_API_TOKEN }}", TOKEN)
                .replace("${{ vars.CLOUDFLARE_ACCOUNT_ID }}", &sim.account_id());
            assert!(!v.contains("${{"), "an expression the test does not know: {v}");
            inv = inv.input(k.as_str().unwrap(), &v);
        }
        inv.input("api_url", &sim.base_url()).run()
    };
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS, ORDERS]);
    let run = step(dir.path());
    run.assert_code(0);
    assert_eq!(recorded(&sim), ["0001_users.sql", "0002_orders.sql"]);
    assert_eq!(sim.deployments("my-worker").len(), 1, "then deployed");
    std::fs::write(
        dir.path().join("migrations").join("0003_items.sql"),
        "CREATE TABLE items(id INTEGER PRIMARY KEY;\n",
    )
    .unwrap();
    let run = step(dir.path());
    run.assert_code(14);
    assert_eq!(rows(&run), json!([{ "database": "DB", "file": "0003_items.sql", "status": "failed" }]));
    assert_eq!(sim.deployments("my-worker").len(), 1, "nothing deployed");
}

/// A file D1 applied whose answer never arrived: the table is read, records it, and the file is
/// not sent again.
#[test]
fn a_lost_answer_is_reconciled_from_the_table_not_sent_twice() {
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS, ORDERS]);
    sim.add_fault(Fault {
        method: Some("POST".into()),
        path_contains: Some("/query".into()),
        path_excludes: None,
        times: 1,
        skip: 2,
        action: FaultAction::DropAfter,
    });
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(0);
    assert_eq!(recorded(&sim), ["0001_users.sql", "0002_orders.sql"]);
    let sent: Vec<String> = queries(&sim).into_iter().filter(|q| q.contains("CREATE TABLE users")).collect();
    assert_eq!(sent.len(), 1, "0001 sent once");
    assert!(run.everything().contains("the table records it as applied"), "{}", run.everything());
    assert_eq!(rows(&run)[0]["status"], "applied");
}

/// `environment` selects `env.<name>.d1_databases` (bindings are not inherited, §D.1), and
/// `migrations_pattern` takes drizzle's layout: each migration in a numbered folder, recorded
/// by its path under `migrations_dir`, in wrangler's order.
#[test]
fn an_environments_database_and_a_pattern_are_read_as_wrangler_reads_them() {
    const STAGING: &str = "7c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e";
    let sim = Simulator::start_background(SimConfig {
        d1_databases: vec![
            D1Seed { name: "shop".into(), uuid: Some(DB_UUID.into()) },
            D1Seed { name: "shop-staging".into(), uuid: Some(STAGING.into()) },
        ],
        ..SimConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wrangler.jsonc"),
        format!(
            r#"{{
  "name": "my-worker",
  "d1_databases": [{{ "binding": "DB", "database_id": "{DB_UUID}" }}],
  "env": {{
    "staging": {{
      "d1_databases": [{{
        "binding": "DB", "database_name": "shop-staging", "database_id": "{STAGING}",
        "migrations_dir": "drizzle", "migrations_pattern": "drizzle/*/migration.sql",
        "migrations_table": "__drizzle"
      }}]
    }}
  }}
}}"#
        ),
    )
    .unwrap();
    for (folder, sql) in [
        ("10_later", "CREATE TABLE later(id INTEGER);"),
        ("9_first", "CREATE TABLE first(id INTEGER);"),
        ("meta", "CREATE TABLE meta(id INTEGER);"),
    ] {
        std::fs::create_dir_all(dir.path().join("drizzle").join(folder)).unwrap();
        std::fs::write(dir.path().join("drizzle").join(folder).join("migration.sql"), sql).unwrap();
    }
    std::fs::write(dir.path().join("drizzle/stray.sql"), "DROP TABLE everything;").unwrap();
    let run = migrate(&sim, dir.path()).input("environment", "staging").run();
    run.assert_code(0);
    assert_eq!(
        rows(&run),
        json!([
            { "database": "DB", "file": "9_first/migration.sql", "status": "applied" },
            { "database": "DB", "file": "10_later/migration.sql", "status": "applied" },
            { "database": "DB", "file": "meta/migration.sql", "status": "applied" },
        ]),
        "numbered before unnumbered, numbers as numbers; files the pattern does not match left alone"
    );
    let names: Vec<Value> = sim.d1_select("shop-staging", "SELECT name FROM __drizzle ORDER BY id").unwrap();
    assert_eq!(names.len(), 3);
    assert!(sim.d1_select("shop", "SELECT name FROM d1_migrations").is_none(), "the top level's database untouched");
}

/// A `database_id` the account does not have (copied from another account, or a database deleted
/// since) is named with where it was written and how to fix it, not left as a bare 404.
#[test]
fn a_database_id_the_account_lacks_is_named_with_its_fix() {
    let sim = Simulator::start_background(SimConfig { build: fast_profile(), ..SimConfig::default() })
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS]);
    let run = migrate(&sim, dir.path()).run();
    run.assert_code(5);
    let err = run.everything();
    assert!(err.contains(&format!("the account has no D1 database {DB_UUID}")), "{err}");
    assert!(err.contains("`database_id` of d1_databases[0] in wrangler.toml"), "{err}");
    assert!(err.contains("`wrangler d1 create shop`"), "{err}");
    assert_eq!(sim.requests().len(), 1, "the first request answered 404; nothing else was sent");
}

/// `migrate` dry with no credentials (a fork's pull request): every check, and each file listed
/// as pending unless recorded, with the calls a real run sends; nothing sent, exit 0 (issue 21:
/// it used to stop at "`api_token` is required"). A broken migrations directory exits 2.
#[test]
fn a_dry_run_without_credentials_plans_every_file_and_sends_nothing() {
    let sim = sim_with_db();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &[USERS, ORDERS, ITEMS]);
    let offline = || migrate(&sim, dir.path()).input("dry_run", "true").without("api_token").without("account_id");
    let run = offline().run();
    run.assert_code(0);
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    assert_eq!(run.output("dry_run"), Some("true"));
    assert_eq!(
        rows(&run),
        json!([
            { "database": "DB", "file": "0001_users.sql", "status": "pending_unless_recorded" },
            { "database": "DB", "file": "0002_orders.sql", "status": "pending_unless_recorded" },
            { "database": "DB", "file": "0003_items.sql", "status": "pending_unless_recorded" },
        ])
    );
    let plan: Value = serde_json::from_str(run.output("plan").expect("a plan")).unwrap();
    let plan: Vec<String> = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} — {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["what"].as_str().unwrap()
            )
        })
        .collect();
    let q = format!("POST /accounts/{{account_id}}/d1/database/{DB_UUID}/query");
    assert_eq!(
        plan,
        [
            format!("{q} — D1 DB (shop): create `d1_migrations` if absent"),
            format!("{q} — D1 DB (shop): read the applied migrations from `d1_migrations`"),
            format!(
                "{q} — D1 DB (shop): apply `0001_users.sql` with its row in `d1_migrations`, unless already recorded there (a failure stops the run)"
            ),
            format!(
                "{q} — D1 DB (shop): apply `0002_orders.sql` with its row in `d1_migrations`, unless already recorded there (a failure stops the run)"
            ),
            format!(
                "{q} — D1 DB (shop): apply `0003_items.sql` with its row in `d1_migrations`, unless already recorded there (a failure stops the run)"
            ),
        ]
    );
    assert!(run.stdout.contains("each pending unless already recorded in `d1_migrations`"), "{}", run.stdout);
    assert!(run.summary.contains("D1 migrations (dry run, no credentials)"), "{}", run.summary);

    // A migrations directory that is not there: exit 2, named, nothing sent.
    let toml = std::fs::read_to_string(dir.path().join("wrangler.toml")).unwrap();
    std::fs::write(dir.path().join("wrangler.toml"), format!("{toml}migrations_dir = \"db/migrations\"\n")).unwrap();
    let broken = offline().run();
    broken.assert_code(2);
    assert!(broken.everything().contains("wrangler.toml:9: d1_databases[0].migrations_dir"), "{}", broken.everything());
    assert!(sim.requests().is_empty());
}
