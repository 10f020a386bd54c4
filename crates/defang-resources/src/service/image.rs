//! Container image references, checked against the Docker reference grammar
//! (github.com/distribution/reference):
//!
//! ```text
//! reference := name [ ":" tag ] [ "@" digest ]
//! name      := [ domain "/" ] path-component { "/" path-component }
//! domain    := host [ ":" port ]          (a first component with '.' or ':', or "localhost")
//! path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest    := "sha256:" 64 lowercase hex digits   (or "sha512:" 128)
//! ```
//!
//! One deliberate difference: Docker also takes a first component with uppercase letters as a
//! registry host (`MyOrg/app`), which is almost always a mistyped Docker Hub repository; here it
//! is a path component, and rejected as not lowercase.

/// The longest repository name (domain and path) Docker accepts.
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A parsed image reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry host (and port), when given.
    pub domain: Option<&'a str>,
    /// The repository path, e.g. `library/nginx`.
    pub path: &'a str,
    pub tag: Option<&'a str>,
    /// e.g. `sha256:…`.
    pub digest: Option<&'a str>,
}

const EXAMPLES: &str = "for example \"nginx:1.27\", \"ghcr.io/org/app:v1\" or \
     \"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:<64 hex digits>\"";

/// Parses `reference`; the error says what is wrong and how to fix it.
pub fn parse_image(reference: &str) -> Result<ImageRef<'_>, String> {
    if reference.trim().is_empty() {
        return Err(format!("must be an image reference, {EXAMPLES}"));
    }
    if reference
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "must not contain spaces or control characters; got {}",
            crate::names::quoted(reference)
        ));
    }
    let (name_and_tag, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(check_digest(digest)?)),
        None => (reference, None),
    };
    // A ':' after the last '/' starts the tag; one before it belongs to the registry's port.
    let last_slash = name_and_tag.rfind('/');
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(colon) if last_slash.is_none_or(|slash| colon > slash) => (
            &name_and_tag[..colon],
            Some(check_tag(&name_and_tag[colon + 1..])?),
        ),
        _ => (name_and_tag, None),
    };
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "the repository name has {} characters; Docker allows at most {MAX_NAME_LEN}",
            name.len()
        ));
    }
    let (domain, path) = split_domain(name);
    if let Some(domain) = domain {
        check_domain(domain)?;
    }
    check_path(path)?;
    Ok(ImageRef {
        domain,
        path,
        tag,
        digest,
    })
}

fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn check_digest(digest: &str) -> Result<&str, String> {
    let fix = "use \"@sha256:\" followed by the 64 lowercase hex digits of the image digest";
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!("has a digest without an algorithm: {fix}"));
    };
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        other => {
            return Err(format!(
                "has a digest with the unsupported algorithm {other:?}: {fix}"
            ));
        }
    };
    if hex.len() != expected_len {
        return Err(format!(
            "has a {algorithm} digest of {} characters; it must have {expected_len} hex digits",
            hex.len()
        ));
    }
    if !hex
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return Err(format!(
            "has a digest that is not lowercase hex (0-9, a-f): {fix}"
        ));
    }
    Ok(digest)
}

fn check_tag(tag: &str) -> Result<&str, String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let valid = tag.len() <= MAX_TAG_LEN
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if valid {
        Ok(tag)
    } else {
        Err(format!(
            "has an invalid tag {}: a tag is 1–128 letters, digits, '_', '.' and '-', not \
             starting with '.' or '-' (omit \":\" to use \"latest\")",
            crate::names::quoted(tag)
        ))
    }
}

fn check_domain(domain: &str) -> Result<(), String> {
    let (host, port) = match domain.rsplit_once(':') {
        // An IPv6 address has colons inside its brackets.
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (domain, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let host_ok = if let Some(ipv6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !ipv6.is_empty() && ipv6.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
    } else {
        host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
    };
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!(
            "has an invalid registry {}: it must be a host name or address with an optional \
             port, like \"ghcr.io\" or \"localhost:5000\"",
            crate::names::quoted(domain)
        ))
    }
}

fn check_path(path: &str) -> Result<(), String> {
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "has uppercase letters in the repository {}: repositories are lowercase — try {:?}",
            crate::names::quoted(path),
            path.to_ascii_lowercase()
        ));
    }
    for component in path.split('/') {
        if !is_path_component(component) {
            return Err(format!(
                "has an invalid repository path {}: each '/'-separated part must be lowercase \
                 letters and digits, separated by single '.' or '_', '__', or '-'s; {EXAMPLES}",
                crate::names::quoted(path)
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*`
fn is_path_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut chars = component.chars().peekable();
    loop {
        // One or more alphanumerics.
        let mut run = 0;
        while chars.next_if(|c| alnum(*c)).is_some() {
            run += 1;
        }
        if run == 0 {
            return false;
        }
        // The end, or a separator followed by another run.
        let mut separator = String::new();
        while let Some(c) = chars.next_if(|c| !alnum(*c)) {
            separator.push(c);
        }
        match separator.as_str() {
            "" => return chars.peek().is_none(),
            "." | "_" | "__" => {}
            dashes if dashes.chars().all(|c| c == '-') => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn accepts_valid_references() {
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        let digest_ref = format!("nginx@{SHA}");
        let both = format!("ghcr.io/org/app:v1.2@{SHA}");
        let sha512_ref = format!("app@{sha512}");
        let ok = [
            "nginx",
            "nginx:1.27",
            "nginx:latest",
            "library/nginx:1.27-alpine",
            "docker.io/library/nginx",
            "ghcr.io/org/my_app:v1",
            "public.ecr.aws/nginx/nginx:stable",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:abc123",
            "localhost:5000/app",
            "localhost/app:Tag_1",
            "registry.example.com:8443/team/app__x:1",
            "my-registry.local/a.b/c--d",
            "[::1]:5000/app",
            "localhost:5000",
            &digest_ref,
            &both,
            &sha512_ref,
        ];
        for reference in ok {
            assert!(
                parse_image(reference).is_ok(),
                "{reference}: {:?}",
                parse_image(reference)
            );
        }
    }

    #[test]
    fn splits_into_parts() {
        let r = parse_image("localhost:5000/team/app:v1").unwrap();
        assert_eq!(
            r,
            ImageRef {
                domain: Some("localhost:5000"),
                path: "team/app",
                tag: Some("v1"),
                digest: None
            }
        );
        assert!(r.digest.is_none(), "a tag is not pinned");
        let both = format!("nginx:1@{SHA}");
        let r = parse_image(&both).unwrap();
        assert_eq!(
            (r.domain, r.path, r.tag, r.digest),
            (None, "nginx", Some("1"), Some(SHA))
        );
        assert!(r.digest.is_some(), "a digest pins the image");
        // A Docker Hub organisation is not a registry.
        assert_eq!(parse_image("org/app").unwrap().domain, None);
    }

    #[test]
    fn rejects_with_the_fix() {
        let cases: &[(&str, &str)] = &[
            ("", "must be an image reference"),
            ("  ", "must be an image reference"),
            ("nginx latest", "must not contain spaces"),
            ("MyOrg/App:1", "try \"myorg/app\""),
            ("Nginx", "uppercase"),
            ("nginx:", "invalid tag"),
            ("nginx:-x", "invalid tag"),
            ("nginx:a/b", "invalid"),
            ("nginx@sha256:abc", "must have 64 hex digits"),
            (
                "nginx@md5:0123456789abcdef0123456789abcdef",
                "unsupported algorithm",
            ),
            ("nginx@0123", "without an algorithm"),
            ("a//b", "invalid repository path"),
            ("app/", "invalid repository path"),
            ("/app", "invalid repository path"),
            ("a..b", "invalid repository path"),
            ("a___b", "invalid repository path"),
            ("-a", "invalid repository path"),
            ("a-", "invalid repository path"),
            ("a.-b", "invalid repository path"),
            ("ghcr.io:port/app", "invalid registry"),
            ("-bad.io/app", "invalid registry"),
            ("nginx@sha256:x@y", "must have 64 hex digits"),
        ];
        for (reference, expected) in cases {
            let err = parse_image(reference).unwrap_err();
            assert!(err.contains(expected), "{reference:?}: {err}");
        }
        let upper = format!("nginx@{}", SHA.to_uppercase().replace("SHA256", "sha256"));
        assert!(parse_image(&upper).unwrap_err().contains("lowercase hex"));
        let long_tag = format!("nginx:{}", "a".repeat(129));
        assert!(parse_image(&long_tag).is_err());
        let long_name = format!("{}/app", "a".repeat(260));
        assert!(parse_image(&long_name).unwrap_err().contains("at most 255"));
    }
}
