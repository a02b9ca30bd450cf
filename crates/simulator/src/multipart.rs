//! Just enough `multipart/form-data` (RFC 7578) to read what wrangler sends to the classic
//! upload endpoints: named parts with an optional `Content-Type`.

use memchr::memmem;

/// One part of a `multipart/form-data` body.
pub struct Part {
    pub name: String,
    /// The `filename` of its `Content-Disposition`: a module's name in a preview deployment's
    /// `files` parts (docs/cloudflare-api.md §B.3).
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// Splits a `multipart/form-data` body. The boundary is read from the body's first line (the
/// body must start with the delimiter; RFC 2046 allows a preamble, which no client sends here).
/// `None` for anything malformed: the caller answers 400 either way.
pub fn parse(body: &[u8]) -> Option<Vec<Part>> {
    let first_end = memmem::find(body, b"\r\n")?;
    let boundary = body[..first_end].strip_prefix(b"--")?;
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let delimiter = [b"\r\n--".as_slice(), boundary].concat();
    let finder = memmem::Finder::new(&delimiter);
    let mut parts = Vec::new();
    let mut pos = first_end + 2;
    loop {
        let head_end = pos + memmem::find(&body[pos..], b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let data_start = head_end + 4;
        let data_end = data_start + finder.find(&body[data_start..])?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let (k, v) = line.split_once(':')?;
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => {
                    name = param(v, "name");
                    filename = param(v, "filename");
                }
                "content-type" => content_type = Some(v.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(Part { name: name?, filename, content_type, data: body[data_start..data_end].to_vec() });
        let after = data_end + delimiter.len();
        match body.get(after..after + 2) {
            Some(b"--") => return Some(parts),
            Some(b"\r\n") => pos = after + 2,
            _ => return None,
        }
    }
}

/// A quoted (or bare) parameter of a header value, e.g. `name` in `form-data; name="x"`.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"main_module\":\"index.js\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nexport default {}\r\n--XyZ--\r\n";
        let parts = parse(body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].name, "index.js");
        assert_eq!(parts[1].content_type.as_deref(), Some("application/javascript+module"));
        assert_eq!(parts[1].data, b"export default {}");
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(parse(b"no multipart here").is_none());
        assert!(parse(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated").is_none());
        assert!(parse(b"--XyZ\r\nContent-Type: text/plain\r\n\r\nno name\r\n--XyZ--").is_none());
    }

    #[test]
    fn a_delimiter_look_alike_inside_data_is_data() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--c y\r\n--b--";
        assert_eq!(parse(body).unwrap()[0].data, b"x\r\n--c y");
    }
}
