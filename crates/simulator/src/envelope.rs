//! The one Cloudflare envelope (`{success, errors, messages, result}`) and the errors the
//! simulator answers with. Builds and Workers share the shape (docs/cloudflare-api.md §1); they
//! differ only in codes, which is why the constructors are named by meaning, not by API.

use serde_json::{Value, json};

/// An answer: status and JSON body.
pub type Reply = (u16, Value);

pub fn ok(result: Value) -> Value {
    let mut envelope = json!({ "success": true, "errors": [], "messages": [] });
    envelope["result"] = result;
    envelope
}

/// A collection answer with its `result_info`.
pub fn ok_page(items: Vec<Value>, result_info: Value) -> Value {
    let mut env = ok(Value::Array(items));
    env["result_info"] = result_info;
    env
}

pub fn error(code: i64, message: &str) -> Value {
    json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null })
}

/// 200 with `result`.
pub fn reply(result: Value) -> Reply {
    (200, ok(result))
}

pub fn fail(status: u16, code: i64, message: &str) -> Reply {
    (status, error(code, message))
}

/// Workers API validation failure (10021, "script/request failed validation").
pub fn bad_request(message: &str) -> Reply {
    fail(400, 10021, message)
}

/// Builds API: anything missing is 404 with 12000.
pub fn builds_not_found() -> Reply {
    fail(404, 12000, "Not found")
}

/// Builds API: a body or parameter it cannot use.
pub fn builds_invalid(message: &str) -> Reply {
    fail(400, 12002, message)
}

/// Workers API: 404 with 10007; the message says what is missing.
pub fn not_found(message: &str) -> Reply {
    fail(404, 10007, message)
}

/// No endpoint at this method and path.
pub fn no_route() -> Reply {
    fail(404, 7003, "No route for the URI")
}
