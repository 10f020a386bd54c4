//! One `.dockerignore` pattern, compiled the way Docker (moby's `patternmatcher`) compiles it.
//!
//! Docker turns each pattern into one of four matchers, and the choice matters: `**/foo` is a
//! plain suffix test (so it also matches `foo` at the root), `foo/**` a plain prefix test (so it
//! matches everything under `foo` but not `foo` itself), a pattern without wildcards an exact
//! comparison, and everything else an anchored regular expression in which `*` and `?` never
//! cross a `/` and `**` crosses any number of them. We keep those quirks on purpose: BuildKit
//! applies the same `.dockerignore` again when CodeBuild builds the image, and a context that
//! leaves out a file Docker would have sent breaks builds that work locally.

use regex::Regex;

/// Regex metacharacters that mean nothing in a Go `filepath.Match` pattern, so they are quoted.
/// The others (`[`, `]`, `^`, `\`) pass through, as in Docker.
const QUOTED: &[char] = &['.', '+', '(', ')', '|', '{', '}', '$'];

#[derive(Clone, Debug)]
enum Kind {
    Exact,
    /// The pattern minus its trailing `**`.
    Prefix(String),
    /// The pattern minus its leading `**`.
    Suffix(String),
    Regex(Regex),
}

/// A compiled pattern: `text` is the cleaned pattern without its `!`.
#[derive(Clone, Debug)]
pub struct Pattern {
    text: String,
    exclusion: bool,
    kind: Kind,
}

impl Pattern {
    /// Compiles one pattern as Docker's `patternmatcher.New` does (the caller has already dropped
    /// comments and blank lines). The error says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let cleaned = clean(pattern.trim());
        let (exclusion, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err("\"!\" alone excludes nothing: write !<path>".into()),
            Some(rest) => (true, rest.to_string()),
            None => (false, cleaned),
        };
        check_syntax(&text)?;
        let kind = compile(&text)?;
        Ok(Pattern {
            text,
            exclusion,
            kind,
        })
    }

    /// `true` for a `!` pattern (an exception that re-includes what it matches).
    pub fn exclusion(&self) -> bool {
        self.exclusion
    }

    /// The cleaned pattern without its `!`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `path` (relative to the context, `/`-separated, no leading `./`) matches.
    pub fn matches(&self, path: &str) -> bool {
        match &self.kind {
            Kind::Exact => path == self.text,
            Kind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            // Docker: `**/foo` also matches `foo` itself.
            Kind::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            Kind::Regex(re) => re.is_match(path),
        }
    }
}

/// Go's `filepath.Clean` for `/`-separated paths: drops empty and `.` components and resolves
/// `..` lexically. Docker cleans every pattern with it, so `./a//b/` means `a/b`.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // `..` above the root stays at the root; above a relative start it is kept.
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The syntax errors Go's `filepath.Match` reports (Docker rejects such a `.dockerignore`):
/// a trailing `\`, and a `[...]` class that is unclosed, empty, or has a bare `-` or `]` where
/// a character is expected (`[a-]`).
fn check_syntax(text: &str) -> Result<(), String> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return Err("ends with an unescaped \\".into()),
            '[' => {
                chars.next_if_eq(&'^');
                let mut ranges = 0;
                loop {
                    if ranges > 0 && chars.next_if_eq(&']').is_some() {
                        break;
                    }
                    class_char(&mut chars)?;
                    if chars.next_if_eq(&'-').is_some() {
                        class_char(&mut chars)?;
                    }
                    ranges += 1;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// One character of a `[...]` class, possibly escaped (Go's `getEsc`).
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars>) -> Result<(), String> {
    let bad = || Err("has a malformed [...] character class".to_string());
    match chars.next() {
        None => Err("has a [ without its closing ]".into()),
        Some('-' | ']') => bad(),
        Some('\\') if chars.next().is_none() => bad(),
        // Go also requires something after the character: at least the closing `]`.
        Some(_) if chars.peek().is_none() => Err("has a [ without its closing ]".into()),
        Some(_) => Ok(()),
    }
}

/// Classifies the pattern and builds its regex, following moby's `Pattern.compile` step by step.
fn compile(text: &str) -> Result<Kind, String> {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut detected = Detected::Exact;
    let mut re = String::from("^");
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                // `**/` is the same as `**`.
                chars.next_if_eq(&'/');
                if chars.peek().is_none() {
                    // A trailing `**` matches everything below (as in .gitignore).
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        re.push_str(".*");
                        detected = Detected::Regex;
                    }
                } else {
                    // Any number of directories, including none.
                    re.push_str("(.*/)?");
                    detected = Detected::Regex;
                }
                if first {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                re.push_str("[^/]*");
                detected = Detected::Regex;
            }
            '?' => {
                re.push_str("[^/]");
                detected = Detected::Regex;
            }
            '\\' => match chars.next() {
                Some(next) => {
                    re.push('\\');
                    re.push(next);
                    detected = Detected::Regex;
                }
                None => re.push_str("\\\\"),
            },
            '[' | ']' => {
                re.push(c);
                detected = Detected::Regex;
            }
            c if QUOTED.contains(&c) => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
        first = false;
    }
    Ok(match detected {
        Detected::Exact => Kind::Exact,
        Detected::Prefix => Kind::Prefix(text[..text.len() - 2].to_string()),
        Detected::Suffix => Kind::Suffix(text[2..].to_string()),
        Detected::Regex => {
            re.push('$');
            Kind::Regex(Regex::new(&re).map_err(|e| format!("is not a valid pattern ({e})"))?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Pattern::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn clean_follows_go() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("a/", "a"),
            ("./a//b/", "a/b"),
            ("a/./b/../c", "a/c"),
            ("..", ".."),
            ("../../a", "../../a"),
            ("a/../..", ".."),
            ("/", "/"),
            ("/..", "/"),
            ("/a/../../b", "/b"),
            ("!foo/../bar", "bar"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn star_and_question_stay_in_one_component() {
        assert!(m("*/temp*", "somedir/temporary.txt"));
        assert!(m("*/temp*", "somedir/temp"));
        assert!(!m("*/temp*", "somedir/sub/temp"));
        assert!(!m("*/temp*", "temp"));
        assert!(m("*/*/temp*", "somedir/subdir/temporary.txt"));
        assert!(!m("*/*/temp*", "somedir/temporary.txt"));
        assert!(m("temp?", "tempa"));
        assert!(m("temp?", "tempé"));
        assert!(!m("temp?", "temp"));
        assert!(!m("temp?", "temp/"));
        assert!(!m("temp?", "tempab"));
        assert!(!m("*.md", "docs/a.md"));
    }

    #[test]
    fn double_star_crosses_directories() {
        assert!(m("**/*.go", "main.go"));
        assert!(m("**/*.go", "a/b/c.go"));
        assert!(!m("**/*.go", "a/b/c.gox"));
        assert!(m("a/**/b", "a/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(!m("a/**/b", "a/x/y/bc"));
        // Prefix kind: everything below, not the directory itself.
        assert!(m("foo/**", "foo/x/y"));
        assert!(!m("foo/**", "foo"));
        // Suffix kind: also the bare name at the root.
        assert!(m("**/foo", "foo"));
        assert!(m("**/foo", "a/b/foo"));
        assert!(!m("**/foo", "a/xfoo"));
        // Docker's quirk: `**foo` is a plain suffix test.
        assert!(m("**foo", "a/xfoo"));
        assert!(m("**", "anything/at/all"));
        assert!(m("a*/**", "ab/c"));
    }

    #[test]
    fn literals_and_classes() {
        assert!(m("a.b", "a.b"));
        assert!(!m("a.b", "axb"));
        assert!(m("f(1)+$", "f(1)+$"));
        assert!(m("[ab].txt", "a.txt"));
        assert!(!m("[ab].txt", "c.txt"));
        assert!(m("[^a]x", "bx"));
        assert!(m("[a-c]x", "bx"));
        assert!(m("[\\]]x", "]x"));
        assert!(!m("[^a]x", "ax"));
        assert!(m("\\*x", "*x"));
        assert!(!m("\\*x", "ax"));
        assert!(m("école/*.txt", "école/résumé.txt"));
    }

    #[test]
    fn leading_bang_and_cleaning() {
        // `Matcher::parse` cleans the path after the `!` (`! ./docs/../README.md` works there).
        let p = Pattern::new("!README.md").unwrap();
        assert!(p.exclusion());
        assert_eq!(p.text(), "README.md");
        assert!(Pattern::new("a//b/").unwrap().matches("a/b"));
    }

    #[test]
    fn syntax_errors_are_reported() {
        for bad in ["!", "[abc", "a[]", "x\\", "[a-]", "[]a]", "[-a]", "[a\\"] {
            assert!(Pattern::new(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
