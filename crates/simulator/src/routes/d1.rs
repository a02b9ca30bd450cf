//! D1: databases (create, list, get) and SQL through `/query` and `/raw`
//! (docs/cloudflare-api.md §J.4, §J.7, §J.8), each database a real `SQLite` database so that
//! migrations really run, fail and roll back.
//!
//! A database is kept as `SQLite`'s serialized image (bytes), opened in memory for each request
//! and written back after it: the state stays a plain value that snapshots copy.

use rusqlite::types::ValueRef;
use rusqlite::{Batch, Connection, fallible_iterator::FallibleIterator};
use serde_json::{Map, Value, json};

use super::Request;
use crate::envelope::{self, Reply};
use crate::state::State;
use crate::{random, time};

/// One D1 database of the account.
#[derive(Clone, Debug)]
pub struct D1Database {
    pub uuid: String,
    pub name: String,
    pub created_at: String,
    pub jurisdiction: Option<String>,
    /// `SQLite`'s serialized image; empty for a database nothing was written to.
    pub image: Vec<u8>,
}

impl D1Database {
    pub fn new(name: &str, uuid: Option<&str>) -> D1Database {
        D1Database {
            uuid: uuid.map_or_else(random::uuid_v4, str::to_owned),
            name: name.to_owned(),
            created_at: time::rfc3339(std::time::SystemTime::now()),
            jurisdiction: None,
            image: Vec::new(),
        }
    }

    /// `d1_database-response` (§J.8).
    fn summary(&self) -> Value {
        json!({
            "uuid": self.uuid, "name": self.name, "created_at": self.created_at,
            "version": "production", "jurisdiction": self.jurisdiction,
        })
    }

    /// `d1_database-details-response` (§J.8).
    fn details(&self) -> Value {
        let tables = self.tables();
        let mut v = self.summary();
        v["num_tables"] = json!(tables);
        v["file_size"] = json!(self.image.len());
        v["read_replication"] = json!({ "mode": "disabled" });
        v
    }

    fn tables(&self) -> i64 {
        let Ok(conn) = open(&self.image) else { return 0 };
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0)
    }

    /// The rows of a query, for tests: `None` when the SQL fails.
    pub fn select(&self, sql: &str) -> Option<Vec<Value>> {
        let conn = open(&self.image).ok()?;
        let mut stmt = conn.prepare(sql).ok()?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| (*s).to_owned()).collect();
        let rows = stmt.query_map([], |r| Ok(row_object(r, &names))).ok()?;
        rows.collect::<Result<Vec<_>, _>>().ok()
    }
}

/// The most SQL one statement may hold: 100 KB (§J.7), enforced by `SQLite` itself, which then
/// answers "statement too long" as D1 does.
const SQL_LENGTH_LIMIT: i32 = 100_000;

fn open(image: &[u8]) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    if !image.is_empty() {
        conn.deserialize_read_exact(rusqlite::MAIN_DB, image, image.len(), false)?;
    }
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_SQL_LENGTH, SQL_LENGTH_LIMIT)?;
    Ok(conn)
}

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("POST", ["d1", "database"]) => create(state, req.body),
        ("GET", ["d1", "database"]) => list(state, req),
        ("GET", ["d1", "database", id]) => match find(state, id) {
            Some(i) => envelope::reply(fields(state.d1[i].details(), req.query.get("fields"))),
            None => not_found(),
        },
        ("POST", ["d1", "database", id, kind @ ("query" | "raw")]) => {
            // §J.4: the query endpoints take the database's uuid only.
            let Some(i) = state.d1.iter().position(|d| d.uuid == *id) else { return Some(not_found()) };
            let raw = *kind == "raw";
            let atomic = !state.config.d1_partial_failure;
            query(&mut state.d1[i], req.body, raw, atomic)
        }
        _ => return None,
    };
    Some(reply)
}

/// The database by uuid or name (§J.1: wrangler looks a database up by name on this path).
fn find(state: &State, id: &str) -> Option<usize> {
    state.d1.iter().position(|d| d.uuid == id).or_else(|| state.d1.iter().position(|d| d.name == id))
}

/// §J.8: 404 with 7404.
fn not_found() -> Reply {
    envelope::fail(404, 7404, "Not Found")
}

/// INFERRED (docs/api-assumptions.md): a body D1 cannot use is 400 with 7400.
fn malformed(message: &str) -> Reply {
    envelope::fail(400, 7400, message)
}

/// §J.8: the name's pattern, and 7502 for a name the account already has.
fn create(state: &mut State, body: &[u8]) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(body) else { return malformed("The request body is not JSON") };
    let Some(name) = body["name"].as_str() else { return malformed("name is required") };
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return malformed("name must match ^[a-zA-Z0-9][a-zA-Z0-9_-]*$");
    }
    if state.d1.iter().any(|d| d.name == name) {
        // Status INFERRED (docs/api-assumptions.md); the code is wrangler's (§J.8).
        return envelope::fail(400, 7502, "A database with that name already exists");
    }
    let mut db = D1Database::new(name, None);
    db.jurisdiction = body["jurisdiction"].as_str().map(str::to_owned);
    let answer = db.summary();
    state.d1.push(db);
    envelope::reply(answer)
}

/// §J.8: `name` filters (a substring, INFERRED), `per_page` 10..=10000 (default 1000).
fn list(state: &State, req: &Request) -> Reply {
    let per_page = req.number("per_page").unwrap_or(1000);
    if !(10..=10_000).contains(&per_page) {
        return malformed("per_page must be between 10 and 10000");
    }
    let page = req.number("page").unwrap_or(1).max(1);
    let matching: Vec<&D1Database> =
        state.d1.iter().filter(|d| req.query.get("name").is_none_or(|n| d.name.contains(n.as_str()))).collect();
    let items: Vec<Value> = matching.iter().skip((page - 1) * per_page).take(per_page).map(|d| d.summary()).collect();
    let info = json!({ "page": page, "per_page": per_page, "count": items.len(), "total_count": matching.len() });
    (200, envelope::ok_page(items, info))
}

/// `fields=uuid,name`: only those keys (§J.1).
fn fields(mut v: Value, wanted: Option<&String>) -> Value {
    if let (Some(wanted), Some(obj)) = (wanted, v.as_object_mut()) {
        let keep: Vec<&str> = wanted.split(',').map(str::trim).collect();
        obj.retain(|k, _| keep.contains(&k.as_str()));
    }
    v
}

/// `{sql, params?}` or `{batch: [{sql, params?}]}` (§J.4): every statement of every query
/// runs in order, one result element each. A failing statement fails the request with 7500
/// and `SQLite`'s message (§J.7); with `atomic`, nothing of the request stays applied (wrangler's
/// "this migration will be rolled back", §J.5), otherwise what ran before it stays (§G-32).
fn query(db: &mut D1Database, body: &[u8], raw: bool, atomic: bool) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(body) else { return malformed("The request body is not JSON") };
    let queries: Vec<&Value> = match (&body["sql"], &body["batch"]) {
        (Value::String(_), Value::Null) => vec![&body],
        (Value::Null, Value::Array(b)) if !b.is_empty() && b.iter().all(|q| q["sql"].is_string()) => b.iter().collect(),
        _ => return malformed("A request needs `sql` (a string) or `batch` (an array of {sql, params})"),
    };
    let mut conn = match open(&db.image) {
        Ok(c) => c,
        Err(e) => return sql_error(&e),
    };
    if atomic && let Err(e) = conn.execute_batch("BEGIN") {
        return sql_error(&e);
    }
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    for q in queries {
        let sql = q["sql"].as_str().unwrap_or_default();
        let params: Vec<Value> = q["params"].as_array().cloned().unwrap_or_default();
        match run(&conn, sql, &params, raw, started) {
            Ok(mut results) => out.append(&mut results),
            Err(e) => {
                if atomic {
                    let _ = conn.execute_batch("ROLLBACK");
                } else {
                    save(db, &mut conn);
                }
                return sql_error(&e);
            }
        }
    }
    if atomic && let Err(e) = conn.execute_batch("COMMIT") {
        return sql_error(&e);
    }
    save(db, &mut conn);
    let size = db.image.len();
    for r in &mut out {
        r["meta"]["size_after"] = json!(size);
    }
    envelope::reply(Value::Array(out))
}

fn save(db: &mut D1Database, conn: &mut Connection) {
    if let Ok(data) = conn.serialize(rusqlite::MAIN_DB) {
        db.image = data.to_vec();
    }
}

/// Each statement of `sql`, in order.
fn run(
    conn: &Connection,
    sql: &str,
    params: &[Value],
    raw: bool,
    started: std::time::Instant,
) -> rusqlite::Result<Vec<Value>> {
    let mut batch = Batch::new(conn, sql);
    let mut out = Vec::new();
    while let Some(mut stmt) = batch.next()? {
        for (i, p) in params.iter().enumerate().take(stmt.parameter_count()) {
            let v = match p {
                Value::String(s) => rusqlite::types::Value::Text(s.clone()),
                Value::Null => rusqlite::types::Value::Null,
                Value::Number(n) if n.is_i64() => rusqlite::types::Value::Integer(n.as_i64().unwrap_or_default()),
                Value::Number(n) => rusqlite::types::Value::Real(n.as_f64().unwrap_or_default()),
                other => rusqlite::types::Value::Text(other.to_string()),
            };
            stmt.raw_bind_parameter(i + 1, v)?;
        }
        let names: Vec<String> = stmt.column_names().iter().map(|s| (*s).to_owned()).collect();
        let before = conn.total_changes();
        let mut rows_out = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            rows_out.push(row_object(row, &names));
        }
        drop(rows);
        let changes = conn.total_changes() - before;
        let results = if raw {
            let arrays: Vec<Value> =
                rows_out.iter().map(|r| Value::Array(names.iter().map(|n| r[n].clone()).collect())).collect();
            json!({ "columns": names, "rows": arrays })
        } else {
            Value::Array(rows_out.clone())
        };
        out.push(json!({
            "results": results,
            "success": true,
            "meta": {
                "changed_db": changes > 0,
                "changes": changes,
                "duration": started.elapsed().as_secs_f64() * 1000.0,
                "last_row_id": conn.last_insert_rowid(),
                "rows_read": rows_out.len(),
                "rows_written": changes,
                "served_by_colo": "SJC",
                "served_by_primary": true,
                "served_by_region": "WNAM",
                "size_after": 0,
                "timings": { "sql_duration_ms": started.elapsed().as_secs_f64() * 1000.0 },
            },
        }));
    }
    Ok(out)
}

fn row_object(row: &rusqlite::Row<'_>, names: &[String]) -> Value {
    let mut obj = Map::new();
    for (i, n) in names.iter().enumerate() {
        let v = match row.get_ref(i) {
            Ok(ValueRef::Integer(x)) => json!(x),
            Ok(ValueRef::Real(x)) => json!(x),
            Ok(ValueRef::Text(t)) => json!(String::from_utf8_lossy(t)),
            // INFERRED: a BLOB as an array of byte values.
            Ok(ValueRef::Blob(b)) => json!(b),
            Ok(ValueRef::Null) | Err(_) => Value::Null,
        };
        obj.insert(n.clone(), v);
    }
    Value::Object(obj)
}

/// §J.7: SQL errors are 7500 with `SQLite`'s text and its result code's name, e.g.
/// `incomplete input: SQLITE_ERROR`. The status is INFERRED (§G-33, docs/api-assumptions.md).
fn sql_error(e: &rusqlite::Error) -> Reply {
    let (text, code) = match e {
        rusqlite::Error::SqliteFailure(f, msg) => (msg.clone().unwrap_or_else(|| f.to_string()), code_name(f.code)),
        rusqlite::Error::SqlInputError { error, msg, .. } => (msg.clone(), code_name(error.code)),
        other => (other.to_string(), "SQLITE_ERROR"),
    };
    envelope::fail(400, 7500, &format!("{text}: {code}"))
}

fn code_name(code: rusqlite::ErrorCode) -> &'static str {
    use rusqlite::ErrorCode as C;
    match code {
        C::ConstraintViolation => "SQLITE_CONSTRAINT",
        C::TooBig => "SQLITE_TOOBIG",
        C::TypeMismatch => "SQLITE_MISMATCH",
        C::ParameterOutOfRange => "SQLITE_RANGE",
        C::ReadOnly => "SQLITE_READONLY",
        C::DatabaseBusy => "SQLITE_BUSY",
        _ => "SQLITE_ERROR",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::config::SimConfig;
    use crate::routes::handle;
    use crate::state::State;

    fn call(st: &mut State, method: &str, path: &str, body: &Value) -> (u16, Value) {
        handle(st, method, path, "", body.to_string().as_bytes())
    }

    #[test]
    fn a_database_is_created_once_listed_and_found_by_name() {
        let mut st = State::new(SimConfig::default());
        let r = call(&mut st, "POST", "/d1/database", &json!({ "name": "shop" }));
        assert_eq!(r.0, 200, "{}", r.1);
        let uuid = r.1["result"]["uuid"].as_str().unwrap().to_owned();
        let again = call(&mut st, "POST", "/d1/database", &json!({ "name": "shop" }));
        assert_eq!(again.1["errors"][0]["code"], 7502);
        assert_eq!(call(&mut st, "POST", "/d1/database", &json!({ "name": "-x" })).0, 400);
        let r = handle(&mut st, "GET", "/d1/database/shop", "fields=uuid,name", b"");
        assert_eq!(r.1["result"], json!({ "uuid": uuid, "name": "shop" }));
        let r = call(&mut st, "GET", "/d1/database", &Value::Null);
        assert_eq!(r.1["result"][0]["uuid"], uuid.as_str());
        assert_eq!(r.1["result_info"]["total_count"], 1);
        assert_eq!(call(&mut st, "GET", "/d1/database/nope", &Value::Null).1["errors"][0]["code"], 7404);
    }

    #[test]
    fn a_query_answers_one_element_per_statement_and_a_failure_rolls_back() {
        let mut st = State::new(SimConfig::default());
        let r = call(&mut st, "POST", "/d1/database", &json!({ "name": "db" }));
        let q = format!("/d1/database/{}/query", r.1["result"]["uuid"].as_str().unwrap());
        let r = call(
            &mut st,
            "POST",
            &q,
            &json!({ "sql": "CREATE TABLE t(a);\nINSERT INTO t VALUES (1);\nSELECT a FROM t;" }),
        );
        assert_eq!(r.0, 200, "{}", r.1);
        let res = r.1["result"].as_array().unwrap();
        assert_eq!(res.len(), 3);
        assert_eq!(res[2]["results"], json!([{ "a": 1 }]));
        assert_eq!(res[1]["meta"]["changes"], 1);
        let r = call(&mut st, "POST", &q, &json!({ "sql": "INSERT INTO t VALUES (2); INSERT INTO nope VALUES (1);" }));
        assert_eq!(r.0, 400);
        assert_eq!(r.1["errors"][0]["code"], 7500);
        assert_eq!(r.1["errors"][0]["message"], "no such table: nope: SQLITE_ERROR");
        assert_eq!(st.d1[0].select("SELECT a FROM t").unwrap(), vec![json!({ "a": 1 })], "rolled back");
        // §G-32's other answer: what ran before the failure stays.
        st.config.d1_partial_failure = true;
        call(&mut st, "POST", &q, &json!({ "sql": "INSERT INTO t VALUES (2); INSERT INTO nope VALUES (1);" }));
        assert_eq!(st.d1[0].select("SELECT a FROM t").unwrap().len(), 2);
        let r = call(&mut st, "POST", &q, &json!({ "sql": "CREATE TABLE" }));
        assert_eq!(r.1["errors"][0]["message"], "incomplete input: SQLITE_ERROR");
        let raw = q.replace("/query", "/raw");
        let r = call(&mut st, "POST", &raw, &json!({ "sql": "SELECT a FROM t ORDER BY a" }));
        assert_eq!(r.1["result"][0]["results"], json!({ "columns": ["a"], "rows": [[1], [2]] }));
    }
}
