//! Answers to API requests, one module per API area, tried in order. Each returns `None` for
//! a request that is not its own, so adding an area cannot change another area's answers.

mod builds;
mod scripts;
mod workers;
mod wrangler;

use std::collections::HashMap;
use std::time::Instant;

use crate::envelope::{self, Reply};
use crate::state::State;

/// A request as the routes see it: relative to `/accounts/{id}`, query decoded.
pub struct Request<'a> {
    pub method: &'a str,
    pub segs: Vec<&'a str>,
    pub query: HashMap<String, String>,
    pub body: &'a [u8],
    /// One clock reading per request, so a build cannot change phase halfway through an answer.
    pub now: Instant,
}

impl Request<'_> {
    /// A query parameter parsed as a number; absent or unparsable both give `None`, as the
    /// simulator then uses the documented default.
    fn number(&self, key: &str) -> Option<usize> {
        self.query.get(key).and_then(|p| p.parse().ok())
    }

    fn query_is(&self, key: &str, value: &str) -> bool {
        self.query.get(key).is_some_and(|v| v == value)
    }
}

/// Answers an API request. `path` is relative to `/accounts/{id}`; `query` is the raw query.
pub fn handle(state: &mut State, method: &str, path: &str, query: &str, body: &[u8]) -> Reply {
    // Later duplicates win, as the simulator always did; `+` and `%XX` are decoded.
    let query = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let req = Request { method, segs: path.trim_matches('/').split('/').collect(), query, body, now: Instant::now() };
    wrangler::route(state, &req)
        .or_else(|| builds::route(state, &req))
        .or_else(|| workers::route(state, &req))
        .or_else(|| scripts::route(state, &req))
        .unwrap_or_else(envelope::no_route)
}
