//! Detailed diffs between old and new inputs, at the level of leaf property paths, the way the
//! engine displays them (`environment.FOO`, `ports[1].target`).

use crate::value::{PropertyMap, PropertyPath, Value};
use std::collections::BTreeMap;

/// What happened at one property path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffKind {
    /// Absent (or `null`) before, present now.
    Add,
    /// Present before, absent (or `null`) now.
    Delete,
    /// Present in both, with different values (or a new value not known yet).
    Update,
}

/// The change at one property path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyDiff {
    /// Added, deleted or updated.
    pub kind: DiffKind,
    /// The change forces the resource to be replaced.
    pub replace: bool,
}

/// The outcome of a diff, ready to be turned into a `DiffResponse`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    /// Changed leaf paths (rendered) and what happened there.
    pub detailed: BTreeMap<String, PropertyDiff>,
    /// A replacement deletes the old resource before creating the new one (when the two
    /// cannot exist at once, e.g. under the same fixed name); ignored when nothing replaces.
    pub delete_before_replace: bool,
}

impl Diff {
    /// Whether anything changed: without changes the engine does nothing to the resource.
    pub fn has_changes(&self) -> bool {
        !self.detailed.is_empty()
    }

    /// Top-level properties whose change forces replacement.
    pub fn replaces(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .detailed
            .iter()
            .filter(|(_, d)| d.replace)
            .map(|(path, _)| top_level(path))
            .collect();
        keys.dedup();
        keys
    }

    /// Changed top-level properties.
    pub fn changed_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.detailed.keys().map(|p| top_level(p)).collect();
        keys.dedup();
        keys
    }

    /// Records a change that is not visible in the inputs (for example drift in a computed
    /// property that the provider must correct).
    pub fn add(&mut self, path: &PropertyPath, kind: DiffKind, replace: bool) {
        self.detailed
            .insert(path.to_string(), PropertyDiff { kind, replace });
    }
}

fn top_level(path: &str) -> String {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    if end == 0 {
        // A quoted top-level key: `["a.b"]...`
        let close = path.find("\"]").map(|i| i + 2).unwrap_or(path.len());
        return serde_json::from_str::<Vec<String>>(&path[..close])
            .ok()
            .and_then(|v| v.into_iter().next())
            .unwrap_or_else(|| path.to_string());
    }
    path[..end].to_string()
}

/// Diffs `olds` against `news`; a change under any key in `replace_keys` forces replacement.
/// Secret wrappers are ignored (a value is compared by content), `null` equals absent, and an
/// unknown new value counts as a change.
///
/// # Example
///
/// ```rust
/// use pulumi_plugin::{DiffKind, PropertyMap, Value, diff_properties};
///
/// let old = PropertyMap::from([
///     ("name".into(), Value::from("web")),
///     ("replicas".into(), Value::from(2i64)),
/// ]);
/// let mut new = old.clone();
/// new.insert("replicas".into(), Value::from(3i64));
/// let scaled = diff_properties(&old, &new, &["name"]);
/// assert_eq!(scaled.changed_keys(), ["replicas"]);
/// assert!(scaled.replaces().is_empty(), "updated in place");
///
/// new.insert("name".into(), Value::from("www"));
/// let renamed = diff_properties(&old, &new, &["name"]);
/// assert_eq!(renamed.replaces(), ["name"]);
/// assert_eq!(renamed.detailed["name"].kind, DiffKind::Update);
///
/// // Making a value secret changes nothing.
/// let hidden = PropertyMap::from([
///     ("name".into(), Value::from("web").into_secret()),
///     ("replicas".into(), Value::from(2i64)),
/// ]);
/// assert!(!diff_properties(&old, &hidden, &["name"]).has_changes());
/// ```
pub fn diff_properties(olds: &PropertyMap, news: &PropertyMap, replace_keys: &[&str]) -> Diff {
    let mut diff = Diff::default();
    let keys: std::collections::BTreeSet<&String> = olds.keys().chain(news.keys()).collect();
    for key in keys {
        let path = PropertyPath::root().key(key);
        let replace = replace_keys.contains(&key.as_str());
        diff_value(olds.get(key), news.get(key), &path, replace, &mut diff);
    }
    diff
}

fn present(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Secret(inner)) => present(Some(inner)),
        Some(v) => Some(v),
    }
}

fn diff_value(
    old: Option<&Value>,
    new: Option<&Value>,
    path: &PropertyPath,
    replace: bool,
    diff: &mut Diff,
) {
    match (present(old), present(new)) {
        (None, None) => {}
        (None, Some(_)) => diff.add(path, DiffKind::Add, replace),
        (Some(_), None) => diff.add(path, DiffKind::Delete, replace),
        (Some(_), Some(n)) if n.is_unknown() => diff.add(path, DiffKind::Update, replace),
        (Some(Value::Object(o)), Some(Value::Object(n))) => {
            let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                diff_value(o.get(k), n.get(k), &path.key(k), replace, diff);
            }
        }
        (Some(Value::Array(o)), Some(Value::Array(n))) => {
            for i in 0..o.len().max(n.len()) {
                diff_value(o.get(i), n.get(i), &path.index(i), replace, diff);
            }
        }
        (Some(o), Some(n)) => {
            if o.unwrap_secrets() != n.unwrap_secrets() {
                diff.add(path, DiffKind::Update, replace);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: Vec<(&str, Value)>) -> PropertyMap {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn no_change_is_no_diff() {
        let a = map(vec![
            ("image", Value::from("nginx")),
            (
                "env",
                Value::Object(map(vec![("A", Value::from("1").into_secret())])),
            ),
            ("replicas", Value::Null),
        ]);
        let mut b = a.clone();
        b.remove("replicas");
        // Secretness alone is not a change.
        b.insert(
            "env".into(),
            Value::Object(map(vec![("A", Value::from("1"))])),
        );
        assert!(!diff_properties(&a, &b, &["name"]).has_changes());
    }

    #[test]
    fn leaf_paths_and_replacement() {
        let old = map(vec![
            ("name", Value::from("web")),
            (
                "ports",
                Value::Array(vec![Value::Object(map(vec![(
                    "target",
                    Value::Number(80.0),
                )]))]),
            ),
            ("env", Value::Object(map(vec![("A", Value::from("1"))]))),
        ]);
        let new = map(vec![
            ("name", Value::from("www")),
            (
                "ports",
                Value::Array(vec![
                    Value::Object(map(vec![("target", Value::Number(8080.0))])),
                    Value::Object(map(vec![("target", Value::Number(443.0))])),
                ]),
            ),
            ("env", Value::Object(map(vec![("B", Value::from("2"))]))),
        ]);
        let d = diff_properties(&old, &new, &["name"]);
        let kinds: Vec<(&str, DiffKind, bool)> = d
            .detailed
            .iter()
            .map(|(k, v)| (k.as_str(), v.kind, v.replace))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("env.A", DiffKind::Delete, false),
                ("env.B", DiffKind::Add, false),
                ("name", DiffKind::Update, true),
                ("ports[0].target", DiffKind::Update, false),
                ("ports[1]", DiffKind::Add, false),
            ]
        );
        assert_eq!(d.replaces(), vec!["name"]);
        assert_eq!(d.changed_keys(), vec!["env", "name", "ports"]);
    }

    #[test]
    fn unknown_is_a_change() {
        let old = map(vec![("image", Value::from("nginx"))]);
        let new = map(vec![("image", Value::Unknown)]);
        assert_eq!(
            diff_properties(&old, &new, &[]).detailed["image"].kind,
            DiffKind::Update
        );
    }

    #[test]
    fn quoted_top_level_keys() {
        assert_eq!(top_level("[\"a.b\"].c"), "a.b");
        assert_eq!(top_level("env.X"), "env");
    }
}
