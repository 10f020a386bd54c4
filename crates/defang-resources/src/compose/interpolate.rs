//! Variable interpolation as the Compose specification defines it, and where variables come
//! from.
//!
//! Supported: `$VAR`, `${VAR}`, `${VAR:-default}` / `${VAR-default}`, `${VAR:?message}` /
//! `${VAR?message}`, `${VAR:+alt}` / `${VAR+alt}`, `$$` for a literal `$`, and nesting in the
//! operand (`${A:-${B:-x}}`). A `$` not followed by a name or `{` is kept as it is, as Compose
//! does. Other shell forms (`${VAR/a/b}`, `${#VAR}`) are an error, as in Compose.
//!
//! Values come from the component's `environment` input first, then the `.env` file beside the
//! Compose file, then the process environment. A value taken from a secret makes the result
//! secret; a value not known yet (preview) makes it unknown, and then no `:?` check is made
//! (whether it is empty is not known).

use super::node::{Tainted, Text};
use pulumi_plugin::{PropertyMap, Value};
use std::collections::BTreeMap;

/// Deeper nesting than this is an error rather than a risk to the stack.
const MAX_DEPTH: usize = 32;

/// The variables that interpolation and value-less entries read, by precedence.
pub(crate) struct Vars<'a> {
    pub component: &'a PropertyMap,
    pub dot_env: BTreeMap<String, String>,
    pub process: &'a BTreeMap<String, String>,
}

impl Vars<'_> {
    /// The value of `name`, or `None` when it is set nowhere.
    pub fn lookup(&self, name: &str) -> Option<Text> {
        if let Some(value) = self.component.get(name) {
            // A null entry in the component's input counts as not given there.
            if let Some(text) = component_text(value) {
                return Some(text);
            }
        }
        if let Some(value) = self.dot_env.get(name) {
            return Some(Text::plain(value.clone()));
        }
        self.process.get(name).map(|v| Text::plain(v.clone()))
    }
}

/// A component `environment` value as text. `None` for null; arrays and objects have no text
/// form and are reported by the caller (see [`component_value_problem`]).
pub(crate) fn component_text(value: &Value) -> Option<Text> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(Text::plain(s.clone())),
        Value::Bool(b) => Some(Text::plain(b.to_string())),
        Value::Number(n) => Some(Text::plain(number_text(*n))),
        Value::Secret(inner) => component_text(inner).map(|mut t| {
            t.secret = true;
            t
        }),
        Value::Unknown => Some(Tainted {
            value: String::new(),
            secret: false,
            unknown: true,
        }),
        Value::Output(output) => {
            let mut text = match &output.value {
                Some(inner) => component_text(inner)?,
                None => Tainted {
                    value: String::new(),
                    secret: false,
                    unknown: true,
                },
            };
            text.secret |= output.secret;
            Some(text)
        }
        Value::Array(_)
        | Value::Object(_)
        | Value::ResourceRef(_)
        | Value::Asset(_)
        | Value::Archive(_) => None,
    }
}

/// Why a component `environment` value cannot be used, if it cannot.
pub(crate) fn component_value_problem(value: &Value) -> Option<&'static str> {
    match value {
        Value::Secret(inner) => component_value_problem(inner),
        Value::Output(output) => output.value.as_deref().and_then(component_value_problem),
        Value::Array(_) | Value::Object(_) | Value::ResourceRef(_) => {
            Some("must be a string, a number or a boolean")
        }
        Value::Asset(_) | Value::Archive(_) => Some("must be a string, not an asset or archive"),
        _ => None,
    }
}

/// A Pulumi number as an environment string: `8080`, not `8080.0`.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// What interpolating one string gave.
#[derive(Debug, PartialEq)]
pub(crate) struct Interpolated {
    pub text: Text,
    /// Variables referenced without a default that are set nowhere: each became an empty
    /// string, and Compose warns about them.
    pub unset: Vec<String>,
}

/// Interpolates `input`. The error is a sentence ready for a [`super::ComposeError`].
pub(crate) fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<Text>,
) -> Result<Interpolated, String> {
    // Fast path: most strings have no `$` at all.
    if !input.contains('$') {
        return Ok(Interpolated {
            text: Text::plain(input.to_string()),
            unset: Vec::new(),
        });
    }
    let mut eval = Eval {
        lookup,
        unset: Vec::new(),
        secret: false,
        unknown: false,
    };
    let value = eval.eval(input, 0)?;
    Ok(Interpolated {
        text: Tainted {
            value: if eval.unknown { String::new() } else { value },
            secret: eval.secret,
            unknown: eval.unknown,
        },
        unset: eval.unset,
    })
}

struct Eval<'a> {
    lookup: &'a dyn Fn(&str) -> Option<Text>,
    unset: Vec<String>,
    secret: bool,
    unknown: bool,
}

/// The length of the variable name at the start of `s` (`[_a-zA-Z][_a-zA-Z0-9]*`), 0 if none.
fn name_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
        _ => return 0,
    }
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count()
}

/// The index of the `}` that closes a `${` whose content starts at `start`.
fn closing_brace(s: &str, start: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = start;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with("$$") {
            i += 2;
        } else if rest.starts_with("${") {
            depth += 1;
            i += 2;
        } else if rest.starts_with('}') {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
            i += 1;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

impl Eval<'_> {
    fn eval(&mut self, s: &str, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "nests interpolations more than {MAX_DEPTH} deep: simplify the expression"
            ));
        }
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            let rest = &s[i..];
            let Some(c) = rest.chars().next() else { break };
            if c != '$' {
                out.push(c);
                i += c.len_utf8();
            } else if rest.starts_with("$$") {
                out.push('$');
                i += 2;
            } else if rest.starts_with("${") {
                let Some(end) = closing_brace(s, i + 2) else {
                    return Err(format!(
                        "has an unterminated \"${{\" in {}: close it with \"}}\", or write \"$$\" \
                         for a literal \"$\"",
                        crate::names::quoted(s)
                    ));
                };
                let value = self.braced(&s[i + 2..end], depth)?;
                out.push_str(&value);
                i = end + 1;
            } else {
                let len = name_len(&rest[1..]);
                if len == 0 {
                    // Not a variable: Compose keeps the `$`.
                    out.push('$');
                    i += 1;
                } else {
                    let name = &rest[1..1 + len];
                    let value = self.direct(name);
                    out.push_str(&value);
                    i += 1 + len;
                }
            }
        }
        Ok(out)
    }

    /// The variable's value, recording its taint; `None` when unset.
    fn get(&mut self, name: &str) -> Option<Text> {
        let value = (self.lookup)(name)?;
        self.secret |= value.secret;
        self.unknown |= value.unknown;
        Some(value)
    }

    fn direct(&mut self, name: &str) -> String {
        match self.get(name) {
            Some(value) => value.value,
            None => {
                if !self.unset.iter().any(|n| n == name) {
                    self.unset.push(name.to_string());
                }
                String::new()
            }
        }
    }

    fn braced(&mut self, inner: &str, depth: usize) -> Result<String, String> {
        let len = name_len(inner);
        let invalid = || {
            format!(
                "has an invalid interpolation {}: use ${{VAR}}, ${{VAR:-default}}, \
                 ${{VAR-default}}, ${{VAR:?message}}, ${{VAR?message}}, ${{VAR:+alt}} or \
                 ${{VAR+alt}}, or \"$$\" for a literal \"$\"",
                crate::names::quoted(&format!("${{{inner}}}"))
            )
        };
        if len == 0 {
            return Err(invalid());
        }
        let (name, rest) = inner.split_at(len);
        if rest.is_empty() {
            return Ok(self.direct(name));
        }
        let (op, word) = [":-", ":?", ":+", "-", "?", "+"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|word| (*op, word)))
            .ok_or_else(invalid)?;
        let value = self.get(name);
        if value.as_ref().is_some_and(|v| v.unknown) {
            // Whether it is set or empty is not known: so is the result; no `:?` check.
            return Ok(String::new());
        }
        let set = value.is_some();
        let non_empty = value.as_ref().is_some_and(|v| !v.value.is_empty());
        let value = value.map(|v| v.value).unwrap_or_default();
        match op {
            ":-" if non_empty => Ok(value),
            "-" if set => Ok(value),
            ":-" | "-" => self.eval(word, depth + 1),
            ":+" if non_empty => self.eval(word, depth + 1),
            "+" if set => self.eval(word, depth + 1),
            ":+" | "+" => Ok(String::new()),
            ":?" if non_empty => Ok(value),
            "?" if set => Ok(value),
            _ => {
                let secret_before = self.secret;
                let message = self.eval(word, depth + 1)?;
                let condition = if op == ":?" {
                    "set and not empty"
                } else {
                    "set"
                };
                let mut text = format!("requires the variable {name} to be {condition}");
                // A message that interpolates a secret is not repeated.
                if !message.is_empty() && self.secret == secret_before {
                    text.push_str(&format!(": {message}"));
                }
                text.push_str(&format!(
                    "; set {name} in the component's `environment` input, in the .env file \
                     beside the Compose file, or in the process environment"
                ));
                Err(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<Text> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| Text::plain(v.to_string()))
        }
    }

    fn run(input: &str, pairs: &[(&str, &str)]) -> Result<String, String> {
        let lookup = vars(pairs);
        interpolate(input, &lookup).map(|i| i.text.value)
    }

    #[test]
    fn substitutes_both_forms() {
        let env = [("A", "1"), ("B_2", "two")];
        assert_eq!(run("$A-${B_2}!", &env).unwrap(), "1-two!");
        assert_eq!(run("x$A.y", &env).unwrap(), "x1.y");
        assert_eq!(run("no dollar", &env).unwrap(), "no dollar");
        assert_eq!(run("ünï ${A} ç", &env).unwrap(), "ünï 1 ç");
    }

    #[test]
    fn every_operator() {
        let env = [("SET", "v"), ("EMPTY", "")];
        let cases = [
            ("${SET:-d}", "v"),
            ("${EMPTY:-d}", "d"),
            ("${UNSET:-d}", "d"),
            ("${SET-d}", "v"),
            ("${EMPTY-d}", ""),
            ("${UNSET-d}", "d"),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${UNSET:+alt}", ""),
            ("${SET+alt}", "alt"),
            ("${EMPTY+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("${SET:?boom}", "v"),
            ("${SET?boom}", "v"),
            ("${EMPTY?boom}", ""),
            ("${UNSET:-}", ""),
            ("${UNSET:-a b:c}", "a b:c"),
        ];
        for (input, expected) in cases {
            assert_eq!(run(input, &env).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn required_values_fail_with_the_message() {
        let env = [("EMPTY", "")];
        let err = run("${EMPTY:?set the database URL}", &env).unwrap_err();
        assert!(
            err.starts_with(
                "requires the variable EMPTY to be set and not empty: set the database URL; set \
                 EMPTY in the component's `environment` input"
            ),
            "{err}"
        );
        let err = run("${UNSET?}", &env).unwrap_err();
        assert!(
            err.starts_with("requires the variable UNSET to be set; set UNSET"),
            "{err}"
        );
    }

    #[test]
    fn dollars_and_nesting() {
        let env = [("B", "b"), ("C", "c")];
        assert_eq!(run("$$A and $${B}", &env).unwrap(), "$A and ${B}");
        assert_eq!(run("${A:-${B}}", &env).unwrap(), "b");
        assert_eq!(run("${A:-${X:-${C}}}", &env).unwrap(), "c");
        assert_eq!(run("${A:-$B-x}", &env).unwrap(), "b-x");
        assert_eq!(run("${A:-$$}", &env).unwrap(), "$");
        assert_eq!(run("${B:+[${C}]}", &env).unwrap(), "[c]");
        // Not a variable: kept as it is.
        assert_eq!(
            run("cost: 5$ or $1 or $-", &env).unwrap(),
            "cost: 5$ or $1 or $-"
        );
        // An unused default is not evaluated: its `:?` does not fire.
        assert_eq!(run("${B:-${X:?never}}", &env).unwrap(), "b");
    }

    #[test]
    fn bad_syntax_is_an_error() {
        for bad in ["${", "${A", "${}", "${A/x/y}", "${#A}", "${1A}", "${A:x}"] {
            assert!(run(bad, &[]).is_err(), "{bad}");
        }
        let err = run("${A/x/y}", &[]).unwrap_err();
        assert!(
            err.starts_with("has an invalid interpolation \"${A/x/y}\""),
            "{err}"
        );
        let deep = format!("{}x{}", "${A:-".repeat(100), "}".repeat(100));
        assert!(run(&deep, &[]).unwrap_err().contains("more than 32 deep"));
    }

    #[test]
    fn unset_variables_become_empty_and_are_reported() {
        let lookup = vars(&[]);
        let out = interpolate("a${X}b$Y${X}${Z-}", &lookup).unwrap();
        assert_eq!(out.text.value, "ab");
        assert_eq!(out.unset, ["X", "Y"]);
    }

    #[test]
    fn secrets_and_unknowns_propagate() {
        let lookup = |name: &str| match name {
            "S" => Some(Tainted {
                value: "hunter2".to_string(),
                secret: true,
                unknown: false,
            }),
            "U" => Some(Tainted {
                value: String::new(),
                secret: false,
                unknown: true,
            }),
            _ => None,
        };
        let s = interpolate("postgres://u:${S}@db", &lookup).unwrap().text;
        assert_eq!(
            (s.value.as_str(), s.secret, s.unknown),
            ("postgres://u:hunter2@db", true, false)
        );
        let u = interpolate("x${U}", &lookup).unwrap().text;
        assert!(u.unknown && !u.secret);
        // Unknown: no required check, since whether it is empty is not known.
        assert!(interpolate("${U:?x}", &lookup).unwrap().text.unknown);
        // `:+` reveals whether a secret is set: the result is secret too.
        assert!(interpolate("${S:+yes}", &lookup).unwrap().text.secret);
        // A required message that interpolates a secret is not repeated.
        let err = interpolate("${X:?bad $S}", &lookup).unwrap_err();
        assert!(!err.contains("hunter2") && !err.contains("bad"), "{err}");
    }

    #[test]
    fn component_values_precede_dot_env_and_process() {
        let component: PropertyMap = [
            ("A".to_string(), Value::from("component")),
            ("N".to_string(), Value::Null),
            ("NUM".to_string(), Value::from(8080.0)),
            ("S".to_string(), Value::from("s").into_secret()),
            ("U".to_string(), Value::Unknown),
        ]
        .into();
        let process: BTreeMap<String, String> = [
            ("A", "process"),
            ("B", "process"),
            ("C", "process"),
            ("N", "process"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let vars = Vars {
            component: &component,
            dot_env: [("A", "dotenv"), ("B", "dotenv")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            process: &process,
        };
        let get = |n: &str| vars.lookup(n).map(|t| t.value);
        assert_eq!(get("A").as_deref(), Some("component"));
        assert_eq!(get("B").as_deref(), Some("dotenv"));
        assert_eq!(get("C").as_deref(), Some("process"));
        assert_eq!(get("N").as_deref(), Some("process"));
        assert_eq!(get("NUM").as_deref(), Some("8080"));
        assert_eq!(get("MISSING"), None);
        assert!(vars.lookup("S").unwrap().secret);
        assert!(vars.lookup("U").unwrap().unknown);
    }
}
