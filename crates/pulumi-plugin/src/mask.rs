//! "No secret in any text we emit": the secret values a request knows of, and their removal
//! from every message that leaves the provider (errors, partial-failure reasons, Check
//! failures, log and status lines).
//!
//! The server builds one [`Mask`] per request from the secret-marked values of everything the
//! engine sent with it (new and old inputs, old outputs, configuration) and applies it to the
//! error it returns and, through the [`Context`](crate::Context)'s log, to every message. So
//! resource code cannot leak a secret by quoting a value (a build log that echoes a build arg,
//! an AWS error that repeats a parameter value) even when it forgets to be careful.
//!
//! ## What is masked
//!
//! Every string inside a secret, at any depth: one secret `environment` entry, or each value of
//! a whole secret map or list. Numbers inside secrets are masked in their usual text form
//! (`1234`, `0.5`); booleans and nulls are not (`true` is in too many messages to be hidden,
//! and a secret with two possible values is not kept secret by masking anyway). Map keys are
//! names, not values, and are left alone: messages name properties (`environment.API_KEY`).
//! Besides the value itself, the mask covers the form Rust's `{:?}` gives it (quotes and
//! backslashes escaped, newlines as `\n`) and, for a multi-line value such as a PEM key, each
//! of its lines on its own (a log shows one line at a time).
//!
//! ## The length rule
//!
//! Values are compared with their surrounding white space trimmed, and counted in characters:
//!
//! - **4 characters or more**: every occurrence is replaced, wherever it is, even inside a word.
//!   A 4-digit PIN is masked.
//! - **2 or 3 characters**: replaced only where they stand as a whole token (not next to a
//!   letter, digit or `_`): a secret `42` is masked in `port 42` but `exit status 142` and
//!   `x420` are left as they are. Replacing every occurrence of a two-letter value would mangle
//!   most messages (`to`, `ab`) and would then tell the reader the value by where the holes are.
//! - **0 or 1 character**: never. Masking `a` or `1` would destroy every message and protect
//!   nothing: a one-character secret is guessed in a few tries.
//!
//! Each masked span becomes [`MASKED`]. Spans are found in the original text for every value
//! at once and overlapping spans are merged, so the longest match always wins and one
//! secret's mask is never re-masked by another (a secret `secr` cannot turn `[secret]` into
//! `[[secret]et]`).

use crate::value::{PropertyMap, Value};
use std::sync::{Arc, OnceLock};

/// What a masked secret is replaced with.
pub const MASKED: &str = "[secret]";

/// Values of at least this many characters are masked everywhere they occur.
pub const MASK_ANYWHERE_CHARS: usize = 4;
/// Values of at least this many characters (and fewer than [`MASK_ANYWHERE_CHARS`]) are
/// masked where they stand as a whole token; shorter ones are never masked.
pub const MASK_TOKEN_CHARS: usize = 2;

/// The secret values of one request, ready to be removed from text. Cheap to clone.
///
/// Most requests never mask anything (no error, no message): the patterns (each value's forms,
/// longest first) are made at the first [`Mask::apply`], not when the mask is.
#[derive(Clone, Default)]
pub struct Mask {
    inner: Arc<Secrets>,
}

#[derive(Default)]
struct Secrets {
    /// The secret values as found.
    values: Vec<String>,
    /// Longest first, without duplicates: made from `values` when first needed.
    patterns: OnceLock<Vec<String>>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values themselves.
        write!(f, "Mask({} values)", self.inner.values.len())
    }
}

impl Mask {
    /// A mask of the secret values found in `maps` (inputs, old inputs, old outputs...).
    pub fn from_properties<'a>(maps: impl IntoIterator<Item = &'a PropertyMap>) -> Mask {
        let mut found = Vec::new();
        for map in maps {
            for value in map.values() {
                collect(value, false, &mut found);
            }
        }
        Mask::of(found)
    }

    /// A mask of these secret values.
    pub fn from_values<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Mask {
        Mask::of(values.into_iter().map(|v| v.as_ref().to_string()).collect())
    }

    fn of(values: Vec<String>) -> Mask {
        Mask {
            inner: Arc::new(Secrets {
                values,
                patterns: OnceLock::new(),
            }),
        }
    }

    /// What is looked for in text: every value's forms, longest first.
    fn patterns(&self) -> &[String] {
        self.inner.patterns.get_or_init(|| {
            let mut patterns = Vec::new();
            for value in &self.inner.values {
                add_forms(value, &mut patterns);
            }
            patterns.retain(|p| p.chars().count() >= MASK_TOKEN_CHARS);
            patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            patterns.dedup();
            patterns
        })
    }

    /// This mask and `other`'s values together.
    pub fn union(&self, other: &Mask) -> Mask {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        Mask::of(
            self.inner
                .values
                .iter()
                .chain(other.inner.values.iter())
                .cloned()
                .collect(),
        )
    }

    /// Whether there is no secret value to mask ([`Mask::apply`] then returns the text as it
    /// is; so it does for values too short to be masked).
    pub fn is_empty(&self) -> bool {
        self.inner.values.is_empty()
    }

    /// `text` with every secret value replaced by [`MASKED`].
    pub fn apply(&self, text: &str) -> String {
        if self.is_empty() || text.is_empty() {
            return text.to_string();
        }
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for pattern in self.patterns() {
            let whole_token_only = pattern.chars().count() < MASK_ANYWHERE_CHARS;
            // Every occurrence, overlapping ones included (`aaaa` in `aaaaa`).
            let mut from = 0;
            while let Some(found) = text[from..].find(pattern.as_str()) {
                let start = from + found;
                let end = start + pattern.len();
                if !whole_token_only || is_whole_token(text, start, end) {
                    spans.push((start, end));
                }
                // Next char boundary after `start`.
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut current: Option<(usize, usize)> = None;
        for (start, end) in spans {
            match &mut current {
                Some((_, cur_end)) if start <= *cur_end => *cur_end = (*cur_end).max(end),
                _ => {
                    if let Some((s, e)) = current.take() {
                        out.push_str(&text[copied..s]);
                        out.push_str(MASKED);
                        copied = e;
                    }
                    current = Some((start, end));
                }
            }
        }
        if let Some((s, e)) = current {
            out.push_str(&text[copied..s]);
            out.push_str(MASKED);
            copied = e;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// Every text of `err` masked: its message, partial-failure reasons, missing-config
    /// descriptions. Partial state keeps its values (outputs are marked secret, not masked).
    pub fn error(&self, err: crate::Error) -> crate::Error {
        use crate::Error;
        if self.is_empty() {
            return err;
        }
        match err {
            Error::InvalidArgument(m) => Error::InvalidArgument(self.apply(&m)),
            Error::Failed(m) => Error::Failed(self.apply(&m)),
            Error::Interrupted(m) => Error::Interrupted(self.apply(&m)),
            Error::Internal(m) => Error::Internal(self.apply(&m)),
            Error::MissingConfig(keys) => {
                Error::MissingConfig(keys.into_iter().map(|(k, d)| (k, self.apply(&d))).collect())
            }
            Error::ResourceInitFailed(mut state) => {
                state.reasons = state.reasons.iter().map(|r| self.apply(r)).collect();
                Error::ResourceInitFailed(state)
            }
        }
    }
}

/// The value, trimmed; its `{:?}` form; and each line of a multi-line value.
fn add_forms(value: &str, out: &mut Vec<String>) {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return;
    }
    out.push(trimmed.to_string());
    let debug = format!("{trimmed:?}");
    let debug = &debug[1..debug.len() - 1];
    if debug != trimmed {
        out.push(debug.to_string());
    }
    if trimmed.contains('\n') {
        for line in trimmed.lines() {
            let line = line.trim();
            if !line.is_empty() {
                out.push(line.to_string());
            }
        }
    }
}

/// Collects the text of every secret scalar inside `value` (`inside` once under a secret).
fn collect(value: &Value, inside: bool, out: &mut Vec<String>) {
    match value {
        Value::Secret(inner) => collect(inner, true, out),
        Value::Output(o) => {
            if let Some(v) = &o.value {
                collect(v, inside || o.secret, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, inside, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, inside, out)),
        Value::String(s) if inside => out.push(s.clone()),
        Value::Number(n) if inside => out.push(number_text(*n)),
        _ => {}
    }
}

/// `1234` for integers (as JSON and most messages show them), else Rust's shortest form.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_whole_token(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, PartialState};

    fn map(pairs: &[(&str, Value)]) -> PropertyMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn finds_nested_secrets_only() {
        let inputs = map(&[
            ("image", Value::from("nginx")),
            (
                "environment",
                Value::Object(map(&[
                    ("PLAIN", Value::from("visible-value")),
                    ("TOKEN", Value::from("tok-12345").into_secret()),
                ])),
            ),
            (
                "build",
                Value::Object(map(&[(
                    "args",
                    Value::Object(map(&[
                        ("A", Value::from("arg-secret")),
                        ("PIN", Value::Number(4711.0)),
                    ]))
                    .into_secret(),
                )])),
            ),
        ]);
        let mask = Mask::from_properties([&inputs]);
        let masked = mask.apply("nginx visible-value tok-12345 arg-secret 4711 A PIN TOKEN");
        assert_eq!(
            masked,
            "nginx visible-value [secret] [secret] [secret] A PIN TOKEN"
        );
    }

    #[test]
    fn length_rule() {
        let mask = Mask::from_values(["a", "42", "1234"]);
        // One character: never.
        assert_eq!(mask.apply("a cat ate a bat"), "a cat ate a bat");
        // Two or three: whole tokens only.
        assert_eq!(
            mask.apply("port 42, exit 142, x42y"),
            "port [secret], exit 142, x42y"
        );
        // Four or more: everywhere, a PIN included.
        assert_eq!(
            mask.apply("pin=1234 and x12345"),
            "pin=[secret] and x[secret]5"
        );
    }

    #[test]
    fn longest_first_and_overlaps_merge() {
        let mask = Mask::from_values(["secr", "topsecret", "cret-2"]);
        assert_eq!(mask.apply("a topsecret-2 b"), "a [secret] b");
        // One pass over the original text: a mask is never masked again.
        assert_eq!(mask.apply("topsecret"), "[secret]");
        assert_eq!(mask.apply("secr topsecret"), "[secret] [secret]");
        let same = Mask::from_values(["aaaa"]);
        assert_eq!(same.apply("xaaaaay"), "x[secret]y");
    }

    #[test]
    fn escaped_and_multi_line_forms() {
        let key = "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----";
        let mask = Mask::from_values([key, "say \"hi\" now"]);
        assert_eq!(mask.apply(&format!("key {key:?}")), "key \"[secret]\"");
        assert_eq!(mask.apply("log: MIIEvQIBADANBg"), "log: [secret]");
        assert_eq!(
            mask.apply(&format!("{:?}", "say \"hi\" now")),
            "\"[secret]\""
        );
    }

    #[test]
    fn trims_and_ignores_blank_values() {
        let mask = Mask::from_values(["   ", "  hunter2  "]);
        assert_eq!(mask.apply("    indented hunter2"), "    indented [secret]");
    }

    #[test]
    fn non_ascii_text_is_safe() {
        let mask = Mask::from_values(["ééé", "日本語です"]);
        assert_eq!(mask.apply("a ééé b 日本語です!"), "a [secret] b [secret]!");
        assert_eq!(mask.apply("éééé"), "éééé");
    }

    #[test]
    fn masks_every_error_text() {
        let mask = Mask::from_values(["hunter22"]);
        let masked = |e: Error| mask.error(e).to_string();
        assert_eq!(masked(Error::Failed("x hunter22".into())), "x [secret]");
        assert_eq!(masked(Error::Internal("hunter22".into())), "[secret]");
        assert_eq!(
            masked(Error::InvalidArgument("hunter22".into())),
            "[secret]"
        );
        assert_eq!(masked(Error::Interrupted("hunter22".into())), "[secret]");
        let Error::MissingConfig(keys) = mask.error(Error::MissingConfig(vec![(
            "k".into(),
            "was hunter22".into(),
        )])) else {
            panic!()
        };
        assert_eq!(keys[0].1, "was [secret]");
        let partial = Error::ResourceInitFailed(Box::new(PartialState {
            id: "id".into(),
            outputs: map(&[("v", Value::from("hunter22").into_secret())]),
            inputs: None,
            reasons: vec!["log: hunter22".into(), "ok".into()],
        }));
        let Error::ResourceInitFailed(state) = mask.error(partial) else {
            panic!()
        };
        assert_eq!(state.reasons, vec!["log: [secret]", "ok"]);
        assert_eq!(
            state.outputs["v"].as_str(),
            Some("hunter22"),
            "values untouched"
        );
    }

    #[test]
    fn debug_never_shows_values() {
        let mask = Mask::from_values(["hunter22"]);
        assert!(!format!("{mask:?}").contains("hunter22"));
    }
}
