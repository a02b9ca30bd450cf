//! The identifiers Cloudflare's APIs use, one type each.
//!
//! A Worker has a *name*, a classic script *tag* (what Workers Builds calls
//! `external_script_id`) and a beta-API *id*; builds, triggers, versions and deployments have
//! UUIDs. All are strings on the wire and easy to mix up in a path, so each gets its own type
//! and the compiler refuses a tag where a name is expected.
//!
//! `parse` validates what a user typed, where the format is documented. Deserialising does
//! **not** validate: an id Cloudflare hands us is only ever sent back to Cloudflare, and
//! rejecting a response because an id changed shape would turn an API change into a failed run.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string is not an id of the expected kind; names the kind, never echoes the value
/// (it may be a mis-pasted secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}: {expected}")]
pub struct IdError {
    pub kind: &'static str,
    pub expected: &'static str,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        // One definition for every id type: those the tests and fuzz targets reach (through the
        // wire types in `crate::testing`) must be `pub`, so the others are too.
        #[allow(unreachable_pub)]
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        #[allow(unreachable_pub)]
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// `#[serde(default)]` structs fill a missing id with the empty string; callers that
            /// need one check this rather than sending an empty path segment.
            #[allow(dead_code)] // not every id type is read from a `serde(default)` struct
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// The immutable 32-hex id of a Worker script (`tag` in `/workers/scripts`), which Workers
    /// Builds keys everything by and calls `external_script_id`.
    ScriptTag
);
id_type!(
    /// A Worker's id in the beta Workers API (`/workers/workers`). Its format is not documented
    /// (nor whether it equals the script tag), so there is no `parse`: it only comes from the API.
    WorkerId
);
id_type!(
    /// A Worker's name: what the classic `/workers/scripts/{script_name}` paths take, and what
    /// `/workers/scripts` calls `id`.
    WorkerName
);
id_type!(
    /// A Workers Builds build.
    BuildUuid
);
id_type!(
    /// A Workers Builds trigger (one per branch filter set of a connected repository).
    TriggerUuid
);
id_type!(
    /// A repository connection (`repo_connection_uuid`): which repository a trigger builds.
    RepoConnectionUuid
);
id_type!(
    /// A build token (`build_token_uuid`): the credentials a trigger's builds deploy with.
    BuildTokenUuid
);
id_type!(
    /// An immutable Version of a Worker.
    VersionId
);
id_type!(
    /// A deployment (a traffic split over one or two Versions). Only read from the API.
    DeploymentId
);
id_type!(
    /// A Worker Preview's immutable 32-hex id (docs/cloudflare-api.md §B.2). Only read from the
    /// API: a Preview is found by its name, and its id used from then on.
    PreviewId
);
id_type!(
    /// A Preview deployment's UUID (docs/cloudflare-api.md §B.5). Not a [`DeploymentId`]: it names
    /// a snapshot of one Preview, not a traffic split of the Worker.
    PreviewDeploymentId
);

id_type!(
    /// A D1 database's UUID (`database_id` in the wrangler configuration), the only form its
    /// `/query` path takes (docs/cloudflare-api.md §J.4).
    D1DatabaseId
);

/// `8-4-4-4-12` hexadecimal digits; any version and variant, either case.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

const UUID: &str = "a UUID like 0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10";

/// Cloudflare returns UUIDs in lower case and compares them as strings, so a pasted upper-case
/// one is lowered rather than refused.
fn parse_uuid(s: &str, kind: &'static str) -> Result<String, IdError> {
    if is_uuid(s) { Ok(s.to_ascii_lowercase()) } else { Err(IdError { kind, expected: UUID }) }
}

impl ScriptTag {
    pub fn is_valid(s: &str) -> bool {
        s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// Lower-cased, as `/workers/scripts` lists tags.
    pub fn parse(s: &str) -> Result<ScriptTag, IdError> {
        if Self::is_valid(s) {
            Ok(ScriptTag(s.to_ascii_lowercase()))
        } else {
            Err(IdError { kind: "script tag", expected: "32 hexadecimal characters" })
        }
    }
}

impl WorkerName {
    /// Cloudflare's rule `^[a-z0-9_][a-z0-9-_]*$`, at most 63 characters (error 100132).
    pub fn is_valid(s: &str) -> bool {
        s.len() <= 63
            && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }

    pub fn parse(s: &str) -> Result<WorkerName, IdError> {
        if Self::is_valid(s) {
            Ok(WorkerName(s.to_owned()))
        } else {
            Err(IdError {
                kind: "Worker name",
                expected: "lowercase letters, digits, `-` and `_`, not starting with `-`, at most 63 characters",
            })
        }
    }
}

impl BuildUuid {
    pub fn parse(s: &str) -> Result<BuildUuid, IdError> {
        parse_uuid(s, "build UUID").map(BuildUuid)
    }
}

impl TriggerUuid {
    pub fn parse(s: &str) -> Result<TriggerUuid, IdError> {
        parse_uuid(s, "trigger UUID").map(TriggerUuid)
    }
}

impl D1DatabaseId {
    pub(crate) fn parse(s: &str) -> Result<D1DatabaseId, IdError> {
        parse_uuid(s, "D1 database id").map(D1DatabaseId)
    }
}

impl VersionId {
    pub(crate) fn parse(s: &str) -> Result<VersionId, IdError> {
        parse_uuid(s, "version id").map(VersionId)
    }
}

/// What `/workers/workers/{worker_id}` accepts: the API resolves an id or a name in the same
/// slot, so the caller says which one it holds and the client sends either.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WorkerRef<'a> {
    Id(&'a WorkerId),
    Name(&'a WorkerName),
}

impl WorkerRef<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            WorkerRef::Id(id) => id.as_str(),
            WorkerRef::Name(name) => name.as_str(),
        }
    }
}

impl<'a> From<&'a WorkerId> for WorkerRef<'a> {
    fn from(id: &'a WorkerId) -> Self {
        WorkerRef::Id(id)
    }
}

impl<'a> From<&'a WorkerName> for WorkerRef<'a> {
    fn from(name: &'a WorkerName) -> Self {
        WorkerRef::Name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: &str = "0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10";

    #[test]
    fn script_tags() {
        let t = ScriptTag::parse("0123456789ABCDEF0123456789abcdef").unwrap();
        assert_eq!(t.as_str(), "0123456789abcdef0123456789abcdef");
        for bad in ["", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg", "my-worker"] {
            assert!(ScriptTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uuids() {
        assert_eq!(BuildUuid::parse(U).unwrap(), U);
        assert_eq!(VersionId::parse(&U.to_uppercase()).unwrap().as_str(), U);
        assert!(TriggerUuid::parse(U).is_ok());
        for bad in ["0f8b3f2e6f1c4a599d652f2c1c7f3a10", "0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a1g", "latest", ""] {
            assert!(BuildUuid::parse(bad).is_err(), "{bad}");
            assert!(VersionId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(BuildUuid::parse("x").unwrap_err().to_string(), format!("not a valid build UUID: {UUID}"));
    }

    #[test]
    fn worker_names() {
        for good in ["my-worker", "_x", "0", "a_b-c", &"a".repeat(63)] {
            assert!(WorkerName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", "My-Worker", "a/b", "a b", "a.b", &"a".repeat(64)] {
            assert!(WorkerName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_is_transparent_and_does_not_validate() {
        let v: VersionId = serde_json::from_str(&format!("\"{U}\"")).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{U}\""));
        // An id from the API is taken as given, whatever its shape.
        let b: BuildUuid = serde_json::from_str("\"b-1\"").unwrap();
        assert_eq!(b.to_string(), "b-1");
        let t: Option<ScriptTag> = serde_json::from_str("null").unwrap();
        assert!(t.is_none());
    }

    #[test]
    fn worker_ref_sends_either_form() {
        let name = WorkerName::parse("my-worker").unwrap();
        let id: WorkerId = serde_json::from_str("\"w1\"").unwrap();
        assert_eq!(WorkerRef::from(&name).as_str(), "my-worker");
        assert_eq!(WorkerRef::from(&id).as_str(), "w1");
    }
}
