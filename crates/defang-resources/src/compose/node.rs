//! The Compose document after interpolation: a YAML tree whose strings remember whether a secret
//! or a not-yet-known value went into them, and the typed readers the mapping uses on it.
//!
//! Every reader takes the Compose key path of the node it reads and reports what is wrong there
//! into [`Diag`], so that one pass over the file collects every error at once. Readers never
//! quote a secret or unknown value in a message (see [`shown`]).

use super::{ComposeError, ComposeWarning};
use pulumi_plugin::Value;

/// A value and whether a secret or an unknown (preview) value went into it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tainted<T> {
    pub value: T,
    /// Derived from a secret: the Pulumi value must be a secret.
    pub secret: bool,
    /// Derived from a value not known yet (preview): `value` is meaningless.
    pub unknown: bool,
}

/// A string scalar after interpolation.
pub(crate) type Text = Tainted<String>;

impl<T> Tainted<T> {
    pub fn plain(value: T) -> Self {
        Tainted {
            value,
            secret: false,
            unknown: false,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Tainted<U> {
        Tainted {
            value: f(self.value),
            secret: self.secret,
            unknown: self.unknown,
        }
    }

    /// The Pulumi value: `Unknown` when unknown, wrapped as a secret when secret.
    pub fn into_value(self, f: impl FnOnce(T) -> Value) -> Value {
        wrap(self.secret, self.unknown, || f(self.value))
    }
}

/// `make()` as a Pulumi value, unless it is unknown; secret when `secret`.
pub(crate) fn wrap(secret: bool, unknown: bool, make: impl FnOnce() -> Value) -> Value {
    let value = if unknown { Value::Unknown } else { make() };
    if secret { value.into_secret() } else { value }
}

/// A YAML number: its text as written (for string contexts such as environment values) and its
/// value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Number {
    pub text: String,
    pub value: f64,
}

/// A node of the interpolated document. Mappings keep the file's order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(Number),
    Str(Text),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// What kind of node this is, for messages ("got a list").
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The entries of a mapping.
    pub fn entries(&self) -> Option<&[(String, Node)]> {
        match self {
            Node::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key` in a mapping; `None` for other nodes.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A scalar as text, as Compose converts scalars where it expects strings (`A: 1` is "1").
    pub fn scalar_text(&self) -> Option<Text> {
        match self {
            Node::Str(text) => Some(text.clone()),
            Node::Number(n) => Some(Text::plain(n.text.clone())),
            Node::Bool(b) => Some(Text::plain(b.to_string())),
            _ => None,
        }
    }
}

/// `path.key`, or `key` at the top.
pub(crate) fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `path[index]`.
pub(crate) fn index_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// A value for a message: quoted (and shortened) when it may be shown, never when it is secret.
pub(crate) fn shown(text: &Text) -> String {
    if text.secret {
        "a secret value (not shown)".to_string()
    } else if text.unknown {
        "a value not known yet".to_string()
    } else {
        crate::names::quoted(&text.value)
    }
}

/// What one load found wrong (errors) or worth saying (warnings), in the order found.
#[derive(Debug, Default)]
pub(crate) struct Diag {
    pub errors: Vec<ComposeError>,
    pub warnings: Vec<ComposeWarning>,
}

impl Diag {
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ComposeError {
            path: path.into(),
            message: message.into(),
        });
    }

    pub fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let warning = ComposeWarning {
            path: path.into(),
            message: message.into(),
        };
        // The same variable may be unset in many places of one value; say it once per path.
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Reports `node` as not of the `expected` kind.
    pub fn wrong_type(&mut self, path: &str, expected: &str, node: &Node) {
        self.error(path, format!("must be {expected}; got {}", node.kind()));
    }
}

/// A string (or a scalar, converted as Compose does). Null means "not set": `None` without an
/// error.
pub(crate) fn string(node: &Node, path: &str, diag: &mut Diag) -> Option<Text> {
    match node {
        Node::Null => None,
        Node::Seq(_) | Node::Map(_) => {
            diag.wrong_type(path, "a string", node);
            None
        }
        scalar => scalar.scalar_text(),
    }
}

/// A number, from a YAML number or a numeric string (an interpolated `"${REPLICAS:-2}"`).
pub(crate) fn number(node: &Node, path: &str, diag: &mut Diag) -> Option<Tainted<f64>> {
    match node {
        Node::Null => None,
        Node::Number(n) => Some(Tainted::plain(n.value)),
        Node::Str(text) if text.unknown => Some(text.clone().map(|_| 0.0)),
        Node::Str(text) => match text.value.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => Some(text.clone().map(|_| value)),
            _ => {
                diag.error(path, format!("must be a number; got {}", shown(text)));
                None
            }
        },
        other => {
            diag.wrong_type(path, "a number", other);
            None
        }
    }
}

/// A whole number from 0 to `u32::MAX`.
pub(crate) fn count(node: &Node, path: &str, diag: &mut Diag) -> Option<Tainted<u32>> {
    let n = number(node, path, diag)?;
    if n.unknown {
        return Some(n.map(|_| 0));
    }
    if n.value.fract() != 0.0 || n.value < 0.0 || n.value > f64::from(u32::MAX) {
        let value = if n.secret {
            "a secret value".to_string()
        } else {
            n.value.to_string()
        };
        diag.error(
            path,
            format!("must be a whole number, 0 or more; got {value}"),
        );
        return None;
    }
    Some(n.map(|v| v as u32))
}

/// A boolean, from a YAML boolean or the strings `true` / `false` (after interpolation).
pub(crate) fn boolean(node: &Node, path: &str, diag: &mut Diag) -> Option<Tainted<bool>> {
    match node {
        Node::Null => None,
        Node::Bool(b) => Some(Tainted::plain(*b)),
        Node::Str(text) if text.unknown => Some(text.clone().map(|_| false)),
        Node::Str(text) => match text.value.trim().to_ascii_lowercase().as_str() {
            "true" => Some(text.clone().map(|_| true)),
            "false" => Some(text.clone().map(|_| false)),
            _ => {
                diag.error(path, format!("must be true or false; got {}", shown(text)));
                None
            }
        },
        other => {
            diag.wrong_type(path, "true or false", other);
            None
        }
    }
}

/// A list of strings (scalars are converted as in [`string`]).
pub(crate) fn string_list(node: &Node, path: &str, diag: &mut Diag) -> Option<Vec<Text>> {
    match node {
        Node::Null => None,
        Node::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Node::Seq(_) | Node::Map(_) | Node::Null => {
                        diag.wrong_type(&index_path(path, i), "a string", item)
                    }
                    scalar => out.extend(scalar.scalar_text()),
                }
            }
            Some(out)
        }
        other => {
            diag.wrong_type(path, "a list of strings", other);
            None
        }
    }
}

/// The entries of a mapping node; reports anything else (null is "not set").
pub(crate) fn mapping<'n>(
    node: &'n Node,
    path: &str,
    diag: &mut Diag,
) -> Option<&'n [(String, Node)]> {
    match node {
        Node::Null => None,
        Node::Map(entries) => Some(entries),
        other => {
            diag.wrong_type(path, "a mapping", other);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Node {
        Node::Str(Text::plain(s.to_string()))
    }

    #[test]
    fn numbers_come_from_numeric_strings_too() {
        let mut diag = Diag::default();
        assert_eq!(number(&text(" 2.5 "), "p", &mut diag).unwrap().value, 2.5);
        assert_eq!(count(&text("3"), "p", &mut diag).unwrap().value, 3);
        assert!(diag.errors.is_empty());
        assert!(count(&text("-1"), "p", &mut diag).is_none());
        assert!(number(&text("NaN"), "q", &mut diag).is_none());
        assert_eq!(
            diag.errors[0].message,
            "must be a whole number, 0 or more; got -1"
        );
        assert_eq!(diag.errors[1].message, "must be a number; got \"NaN\"");
    }

    #[test]
    fn secrets_are_never_shown() {
        let mut diag = Diag::default();
        let secret = Node::Str(Tainted {
            value: "hunter2".to_string(),
            secret: true,
            unknown: false,
        });
        assert!(number(&secret, "p", &mut diag).is_none());
        assert!(boolean(&secret, "p", &mut diag).is_none());
        for e in &diag.errors {
            assert!(!e.message.contains("hunter2"), "{}", e.message);
            assert!(e.message.contains("a secret value"), "{}", e.message);
        }
    }

    #[test]
    fn tainted_values_become_secret_or_unknown() {
        let t = Tainted {
            value: "x".to_string(),
            secret: true,
            unknown: false,
        };
        assert_eq!(t.into_value(Value::from), Value::from("x").into_secret());
        let u = Tainted {
            value: "x".to_string(),
            secret: false,
            unknown: true,
        };
        assert_eq!(u.into_value(Value::from), Value::Unknown);
    }
}
