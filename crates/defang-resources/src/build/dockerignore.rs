//! `.dockerignore` with Docker's semantics (BuildKit's, which is what `docker build` and our
//! CodeBuild builds use), not `.gitignore`'s:
//!
//! - patterns match paths relative to the context root; `foo` means `./foo` only, never `a/foo`
//!   (write `**/foo` for that); a leading `/` is dropped, a trailing `/` means nothing;
//! - a pattern that matches a directory excludes everything under it;
//! - `!pattern` re-includes, and the last matching rule wins;
//! - lines starting with `#` are comments; `.` and `..` in patterns are cleaned away.
//!
//! The matcher keeps BuildKit's per-pattern "a parent directory matched" results
//! ([`MatchInfo`]) while walking, because that is what decides the corner cases (a rule that
//! matched a parent directory keeps matching everything inside it).

use super::pattern::Pattern;

/// A `.dockerignore` line that Docker would reject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// 1-based line number in the file.
    pub line: usize,
    pub pattern: String,
    pub reason: String,
}

/// The rules of one `.dockerignore`, in file order.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    patterns: Vec<Pattern>,
    /// Some rule is a `!` exception.
    exclusions: bool,
    /// No exception uses wildcards (ignoring a trailing `/*` or `/**`), so an excluded directory
    /// only needs walking when an exception names a path under it (BuildKit's shortcut).
    prefix_only_exceptions: bool,
}

/// Per-pattern results for a directory, handed to its children (BuildKit's `MatchInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

impl Matcher {
    /// Parses a `.dockerignore` file as Docker's `ignorefile.ReadAll` does, then compiles it.
    pub fn parse(text: &str) -> Result<Matcher, PatternError> {
        let mut patterns = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = if index == 0 {
                raw.strip_prefix('\u{feff}').unwrap_or(raw)
            } else {
                raw
            };
            // Only a `#` in the very first column starts a comment (Docker checks before
            // trimming).
            if line.starts_with('#') {
                continue;
            }
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let (bang, rest) = match trimmed.strip_prefix('!') {
                Some(rest) => ("!", rest.trim()),
                None => ("", trimmed),
            };
            let mut rest = if rest.is_empty() {
                String::new()
            } else {
                super::pattern::clean(rest)
            };
            if rest.len() > 1 && rest.starts_with('/') {
                rest.remove(0);
            }
            let pattern = format!("{bang}{rest}");
            let compiled = Pattern::new(&pattern).map_err(|reason| PatternError {
                line: index + 1,
                pattern: trimmed.to_string(),
                reason,
            })?;
            patterns.push(compiled);
        }
        Ok(Matcher::from_patterns(patterns))
    }

    /// Compiles already-normalised patterns (as Docker's `patternmatcher.New`).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Matcher, String> {
        let compiled = patterns
            .iter()
            .filter(|p| !p.as_ref().trim().is_empty())
            .map(|p| Pattern::new(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Matcher::from_patterns(compiled))
    }

    fn from_patterns(patterns: Vec<Pattern>) -> Matcher {
        const WILDCARDS: &[char] = &['*', '[', ']', '?', '^', '\\'];
        let exclusions = patterns.iter().any(Pattern::exclusion);
        let prefix_only_exceptions = patterns
            .iter()
            .filter(|p| p.exclusion())
            .all(|p| !without_trailing_glob(p.text()).contains(WILDCARDS));
        Matcher {
            patterns,
            exclusions,
            prefix_only_exceptions,
        }
    }

    /// No rules at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` is excluded, given its parent directory's [`MatchInfo`] (empty for entries
    /// at the root). Returns the info to hand to `path`'s children if it is a directory.
    /// BuildKit's `MatchesUsingParentResults`.
    pub fn matches(&self, path: &str, parent: &MatchInfo) -> (bool, MatchInfo) {
        let inherited = &parent.parent_matched;
        let mut excluded = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = inherited.get(i).copied().unwrap_or(false);
            if !hit {
                // A rule that cannot change the verdict is not evaluated, and then does not
                // count as matched for the children either (this is BuildKit's behaviour).
                if pattern.exclusion() != excluded {
                    continue;
                }
                hit = pattern.matches(path)
                    || (inherited.is_empty() && ancestors(path).any(|a| pattern.matches(a)));
            }
            info[i] = hit;
            if hit {
                excluded = !pattern.exclusion();
            }
        }
        (
            excluded,
            MatchInfo {
                parent_matched: info,
            },
        )
    }

    /// Whether `path` is excluded, evaluating its ancestors first exactly as a walk does.
    pub fn is_excluded(&self, path: &str) -> bool {
        let mut info = MatchInfo::default();
        let mut excluded = false;
        for prefix in prefixes(path) {
            (excluded, info) = self.matches(prefix, &info);
        }
        excluded
    }

    /// Whether an excluded directory must still be walked because an exception may re-include
    /// something inside it. With wildcard exceptions every excluded directory is walked (as
    /// BuildKit does); otherwise only those that lead to a path an exception names.
    pub fn may_include_under(&self, dir: &str) -> bool {
        if !self.exclusions {
            return false;
        }
        if !self.prefix_only_exceptions {
            return true;
        }
        self.patterns
            .iter()
            .filter(|p| p.exclusion())
            .any(|p| is_under(without_trailing_glob(p.text()), dir))
    }
}

/// `inner` is `dir` itself or below it.
pub(crate) fn is_under(inner: &str, dir: &str) -> bool {
    inner
        .strip_prefix(dir)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `a/b/c` → `a`, `a/b` (the directories above the path).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// `a/b/c` → `a`, `a/b`, `a/b/c`.
fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    ancestors(path).chain(std::iter::once(path))
}

fn without_trailing_glob(text: &str) -> &str {
    let text = text.strip_suffix("/**").unwrap_or(text);
    text.strip_suffix("/*").unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(file: &str) -> Matcher {
        Matcher::parse(file).unwrap()
    }

    fn excluded(file: &str, path: &str) -> bool {
        ignore(file).is_excluded(path)
    }

    #[test]
    fn docs_examples() {
        // The examples of Docker's .dockerignore documentation.
        let file = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
        assert!(excluded(file, "somedir/temporary.txt"));
        assert!(excluded(file, "somedir/temp"));
        assert!(excluded(file, "somedir/subdir/temporary.txt"));
        assert!(excluded(file, "tempa"));
        assert!(excluded(file, "tempb"));
        assert!(!excluded(file, "temporary.txt"));
        assert!(!excluded(file, "a/b/c/temporary.txt"));
        assert!(!excluded(file, "temp"));
        assert!(!excluded(file, "# comment"));
    }

    #[test]
    fn no_implicit_match_anywhere() {
        // Unlike .gitignore, a pattern without a slash only matches at the root.
        assert!(excluded("foo", "foo"));
        assert!(excluded("foo", "foo/bar/baz"));
        assert!(!excluded("foo", "a/foo"));
        assert!(!excluded("*.log", "logs/x.log"));
        assert!(excluded("**/foo", "a/b/foo"));
        assert!(excluded("**/*.go", "cmd/main.go"));
        assert!(excluded("**/*.go", "main.go"));
    }

    #[test]
    fn exceptions_and_last_rule_wins() {
        let file = "*.md\n!README.md\n";
        assert!(excluded(file, "CHANGES.md"));
        assert!(!excluded(file, "README.md"));
        assert!(!excluded(file, "docs/x.md"));
        // Order matters: a later rule excludes again.
        let file = "*.md\n!README*.md\nREADME-secret.md\n";
        assert!(!excluded(file, "README.md"));
        assert!(excluded(file, "README-secret.md"));
        // An exception before the rule it would override does nothing.
        assert!(excluded("!README.md\n*.md\n", "README.md"));
    }

    #[test]
    fn directory_rules_cover_their_contents() {
        let file = "node_modules\n!node_modules/keep/**\n";
        let m = ignore(file);
        assert!(m.is_excluded("node_modules"));
        assert!(m.is_excluded("node_modules/lib/index.js"));
        assert!(!m.is_excluded("node_modules/keep/a.js"));
        assert!(m.may_include_under("node_modules"));
        assert!(m.may_include_under("node_modules/keep"));
        assert!(!m.may_include_under("node_modules/lib"));
        // Without exceptions nothing excluded needs walking.
        assert!(!ignore("node_modules").may_include_under("node_modules"));
        // Wildcard exceptions could match anywhere: walk every excluded directory.
        assert!(ignore("docs\n!**/*.md").may_include_under("docs"));
        assert!(!ignore("docs\n!**/*.md").is_excluded("docs/a.md"));
    }

    #[test]
    fn leading_and_trailing_slashes_and_dots() {
        assert!(excluded("/foo", "foo"));
        assert!(excluded("foo/", "foo/x"));
        assert!(excluded("./foo/../bar", "bar"));
        assert!(!excluded("*.md\n! ./docs/../README.md", "README.md"));
        assert!(excluded("! /inverted\n/inverted", "inverted"));
        assert!(!excluded("/inverted\n! /inverted", "inverted"));
        assert!(!excluded("../outside", "outside"));
    }

    #[test]
    fn comments_blank_lines_bom_and_crlf() {
        let m = ignore("\u{feff}# c\r\n\r\n  \r\n a.txt \r\n#b.txt\r\n");
        assert!(m.is_excluded("a.txt"));
        assert!(!m.is_excluded("b.txt"));
        assert!(!m.is_excluded("#b.txt"));
        // A `#` after leading spaces is not a comment (Docker checks the first column).
        assert!(ignore("  #x").is_excluded("#x"));
        assert!(ignore("").is_empty());
    }

    #[test]
    fn parent_results_decide_corner_cases() {
        // BuildKit does not evaluate `!x` for `x` (nothing to undo yet), so it does not count as
        // matching `x` for the children, and `x/y` stays excluded.
        let m = ignore("x/y\n!x\n");
        assert!(!m.is_excluded("x"));
        assert!(m.is_excluded("x/y"));
        // A rule that matched a directory keeps matching inside it.
        let m = ignore("a\n!a/b\n");
        assert!(!m.is_excluded("a/b/c"));
        assert!(m.is_excluded("a/c"));
    }

    #[test]
    fn bad_lines_name_their_line() {
        let err = Matcher::parse("ok\n\n[abc\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.pattern, "[abc");
        assert!(Matcher::parse("!").is_err());
        assert!(Matcher::parse("! ").is_err());
    }
}
