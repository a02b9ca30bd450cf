//! The one reader of the user's configuration files: a tree that remembers the line of every
//! key and value, for TOML and JSON alike. The wrangler configuration ([`super::wrangler`]) and
//! the Workers Builds configuration ([`super::builds_config`]) are both read through it, and
//! each checks the tree with its own rules.
//!
//! Read by hand rather than by serde: a serde message quotes the offending value, and a value in
//! these files may be a pasted secret. Every message built from this tree names the file, the
//! line and the key path, never the value.

use std::fmt::Write as _;

/// A value with the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub line: usize,
    pub value: Val,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A TOML date or time, or a non-finite float: never valid in either file (JSON has
    /// neither), only its kind is kept.
    Other(&'static str),
    Arr(Vec<Node>),
    /// Entries in file order, each with its key's line.
    Table(Vec<(String, usize, Node)>),
}

impl Val {
    /// What the value is, for messages that must not quote it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Int(_) | Val::Float(_) => "a number",
            Val::Str(_) => "a string",
            Val::Other(k) => k,
            Val::Arr(_) => "an array",
            Val::Table(_) => "an object",
        }
    }
}

impl Node {
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Val::Table(t) => t.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        if let Val::Str(s) = &self.value { Some(s) } else { None }
    }

    /// The value as JSON: object keys sorted (`serde_json`'s map), so a JSONC file and the
    /// equivalent TOML file give the same bytes whatever order their keys are written in.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Val::Null | Val::Other(_) => J::Null,
            Val::Bool(b) => J::Bool(*b),
            Val::Int(i) => J::from(*i),
            Val::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Val::Str(s) => J::String(s.clone()),
            Val::Arr(a) => J::Array(a.iter().map(Node::to_json).collect()),
            Val::Table(t) => J::Object(t.iter().map(|(k, _, n)| (k.clone(), n.to_json())).collect()),
        }
    }
}

/// A syntax error: the line and a description of the syntax (never the text of the line).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub problem: String,
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// Which JSON a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Json {
    /// Plain JSON (RFC 8259): no comments, no trailing commas. The Workers Builds configuration,
    /// which has always been read as such.
    Strict,
    /// JSON with comments and trailing commas, as wrangler reads `wrangler.json(c)` (its parser,
    /// `jsonc-parser` with `allowTrailingComma`).
    Jsonc,
}

/// JSON in the given dialect, and nothing more lenient (no single quotes, bare words, hex
/// numbers or missing commas), so a file wrangler refuses is refused here too. A key that
/// appears twice in one object is refused (JSON leaves it undefined; TOML refuses it).
pub(crate) fn parse_json(text: &str, json: Json) -> Result<Node, SyntaxError> {
    use jsonc_parser::{CollectOptions, ParseOptions, ast};
    let jsonc = json == Json::Jsonc;
    let options = ParseOptions {
        allow_comments: jsonc,
        allow_trailing_commas: jsonc,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options)
        .map_err(|e| SyntaxError { line: e.line_display(), problem: format!("not valid JSON: {}", e.kind()) })?;
    let Some(root) = parsed.value else {
        return Err(SyntaxError { line: 1, problem: "is empty; it must hold one JSON object".into() });
    };
    fn conv(text: &str, v: &ast::Value<'_>) -> Result<Node, SyntaxError> {
        let start = match v {
            ast::Value::StringLit(s) => s.range.start,
            ast::Value::NumberLit(n) => n.range.start,
            ast::Value::BooleanLit(b) => b.range.start,
            ast::Value::Object(o) => o.range.start,
            ast::Value::Array(a) => a.range.start,
            ast::Value::NullKeyword(n) => n.range.start,
        };
        let line = line_of(text, start);
        let value = match v {
            ast::Value::StringLit(s) => Val::Str(s.value.to_string()),
            ast::Value::NumberLit(n) => match n.value.parse::<i64>() {
                Ok(i) => Val::Int(i),
                Err(_) => Val::Float(
                    n.value
                        .parse()
                        .map_err(|_| SyntaxError { line, problem: "not valid JSON: a number out of range".into() })?,
                ),
            },
            ast::Value::BooleanLit(b) => Val::Bool(b.value),
            ast::Value::NullKeyword(_) => Val::Null,
            ast::Value::Array(a) => Val::Arr(a.elements.iter().map(|x| conv(text, x)).collect::<Result<_, _>>()?),
            ast::Value::Object(o) => {
                let mut entries: Vec<(String, usize, Node)> = Vec::with_capacity(o.properties.len());
                for p in &o.properties {
                    let key = p.name.as_str().to_owned();
                    let key_line = line_of(text, p.range.start);
                    if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == key) {
                        return Err(SyntaxError {
                            line: key_line,
                            problem: format!("the key `{key}` appears twice (first on line {first}); keep one"),
                        });
                    }
                    entries.push((key, key_line, conv(text, &p.value)?));
                }
                Val::Table(entries)
            }
        };
        Ok(Node { line, value })
    }
    conv(text, &root)
}

/// TOML, through `toml`'s spanned tables.
pub(crate) fn parse_toml(text: &str) -> Result<Node, SyntaxError> {
    use toml::de::DeValue;
    let doc = toml::de::DeTable::parse(text).map_err(|e| {
        // The parser's message describes the syntax ("expected `=`"), never a value, but its
        // Display would also quote the line: only the message and the line number are kept.
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        SyntaxError { line, problem: format!("not valid TOML: {}", e.message().trim()) }
    })?;
    fn conv(text: &str, v: &toml::Spanned<DeValue<'_>>) -> Node {
        let line = line_of(text, v.span().start);
        let value = match v.get_ref() {
            DeValue::String(s) => Val::Str(s.to_string()),
            DeValue::Boolean(b) => Val::Bool(*b),
            DeValue::Integer(i) => {
                i64::from_str_radix(i.as_str(), i.radix()).map_or(Val::Other("a number out of range"), Val::Int)
            }
            DeValue::Float(f) => match f.as_str().parse::<f64>() {
                Ok(x) if x.is_finite() => Val::Float(x),
                _ => Val::Other("a non-finite number"),
            },
            DeValue::Datetime(_) => Val::Other("a date"),
            DeValue::Array(a) => Val::Arr(a.iter().map(|x| conv(text, x)).collect()),
            DeValue::Table(t) => {
                let mut entries: Vec<(String, usize, Node)> = t
                    .iter()
                    .map(|(k, x)| (k.get_ref().to_string(), line_of(text, k.span().start), conv(text, x)))
                    .collect();
                // File order, as for JSONC, whatever order the parser's map keeps.
                entries.sort_by_key(|(_, l, _)| *l);
                Val::Table(entries)
            }
        };
        Node { line, value }
    }
    let span = doc.span();
    let table = doc.into_inner();
    Ok(conv(text, &toml::Spanned::new(span, DeValue::Table(table))))
}

/// `a.b[2].c` style paths for messages.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    let mut s = path.to_owned();
    let _ = write!(s, "[{i}]");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_jsonc(text: &str) -> Result<Node, SyntaxError> {
        parse_json(text, Json::Jsonc)
    }

    #[test]
    fn both_formats_give_the_same_tree_shape_and_lines() {
        let j = parse_jsonc(
            "{\n  // a comment\n  \"name\": \"w\",\n  \"vars\": { \"N\": 5, \"F\": 0.5, \"O\": {\"b\": 1, \"a\": [true, null]} },\n}\n",
        )
        .unwrap();
        let t = parse_toml("name = \"w\"\n\n[vars]\nN = 5\nF = 0.5\nO = { b = 1, a = [true] }\n").unwrap();
        assert_eq!(j.get("name").unwrap().line, 3);
        assert_eq!(t.get("name").unwrap().line, 1);
        assert_eq!(
            j.get("vars").unwrap().get("F").unwrap().to_json(),
            t.get("vars").unwrap().get("F").unwrap().to_json()
        );
        assert_eq!(
            serde_json::to_string(&j.get("vars").unwrap().get("O").unwrap().to_json()).unwrap(),
            r#"{"a":[true,null],"b":1}"#
        );
        assert_eq!(t.get("vars").unwrap().get("N").unwrap().line, 4);
    }

    #[test]
    fn syntax_errors_name_the_line_not_the_text() {
        let e = parse_jsonc("{\n  \"a\": 1,\n  \"b\": 'secret-value'\n}").unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        assert!(!e.problem.contains("secret-value"));
        let e = parse_jsonc("{\n \"a\": 1\n \"b\": 2\n}").unwrap_err();
        assert!(e.problem.contains("comma"), "missing commas are refused, as wrangler does: {e:?}");
        let e = parse_jsonc("{\"a\": 1,\n\"a\": 2}").unwrap_err();
        assert_eq!((e.line, e.problem.contains("twice")), (2, true));
        let e = parse_toml("name = \"w\"\nmain = \n").unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        assert!(parse_jsonc("").is_err());
    }

    #[test]
    fn strict_json_refuses_comments_and_trailing_commas_on_their_line() {
        let text = "{\n  \"a\": [1, true],\n  \"b\": {\"c\": \"d\"}\n}";
        assert_eq!(parse_json(text, Json::Strict).unwrap(), parse_jsonc(text).unwrap());
        let b = parse_json(text, Json::Strict).unwrap();
        let b = b.get("b").unwrap();
        assert_eq!((b.line, b.get("c").unwrap().line), (3, 3));
        let e = parse_json("{\n  \"a\": 1,\n  // note\n  \"b\": 2\n}", Json::Strict).unwrap_err();
        assert_eq!((e.line, e.problem.as_str()), (3, "not valid JSON: Comments are not allowed"));
        let e = parse_json("{\n  \"a\": [1, 2,],\n  \"b\": 2\n}", Json::Strict).unwrap_err();
        assert_eq!((e.line, e.problem.as_str()), (2, "not valid JSON: Trailing commas are not allowed"));
        let e = parse_json("{\"a\": 1,\n\"a\": 2}", Json::Strict).unwrap_err();
        assert_eq!((e.line, e.problem.contains("twice")), (2, true));
    }
}
