//! `environment` and `env_file`, merged as Compose merges them, and the list-or-map form they
//! share with `build.args`.
//!
//! Order: the `env_file` files in their order (a later file overrides an earlier one), then
//! `environment`, which overrides them all. A value-less entry (`- API_KEY`, or `API_KEY:` with
//! no value) takes its value from the component's `environment` input, else the `.env` file,
//! else the process environment; a value that is set nowhere is an error that says where to set
//! it. A value taken from a secret stays a secret.

use super::dotenv;
use super::interpolate::Vars;
use super::node::{Diag, Node, Text, boolean, index_path, key_path, shown, string};
use pulumi_plugin::{PropertyMap, Value};
use std::collections::BTreeMap;

/// One `KEY=value` entry of a list or a mapping.
pub(crate) struct Entry {
    pub key: Text,
    /// `None` for a value-less entry.
    pub value: Option<Text>,
    /// The entry's own path (`environment[2]`, `environment.API_KEY`).
    pub path: String,
}

/// The entries of a list (`- KEY=value`, `- KEY`) or mapping (`KEY: value`, `KEY:`) node.
pub(crate) fn entries(node: &Node, path: &str, diag: &mut Diag) -> Vec<Entry> {
    let mut out = Vec::new();
    match node {
        Node::Null => {}
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = index_path(path, i);
                let Some(text) = item.scalar_text().filter(|_| !matches!(item, Node::Null)) else {
                    diag.wrong_type(&item_path, "a string KEY=value or KEY", item);
                    continue;
                };
                let (key, value) = match text.value.split_once('=') {
                    Some((k, v)) => (
                        text.clone().map(|_| k.to_string()),
                        Some(text.clone().map(|_| v.to_string())),
                    ),
                    None => (text.clone(), None),
                };
                out.push(Entry {
                    key,
                    value,
                    path: item_path,
                });
            }
        }
        Node::Map(map) => {
            for (key, value) in map {
                let entry_path = key_path(path, key);
                let value = match value {
                    Node::Null => None,
                    Node::Seq(_) | Node::Map(_) => {
                        diag.wrong_type(
                            &entry_path,
                            "a string, a number, a boolean or null",
                            value,
                        );
                        continue;
                    }
                    scalar => scalar.scalar_text(),
                };
                out.push(Entry {
                    key: Text::plain(key.clone()),
                    value,
                    path: entry_path,
                });
            }
        }
        other => diag.wrong_type(path, "a list of KEY=value strings or a mapping", other),
    }
    out
}

/// Whether `name` is a name the Service accepts for an environment variable.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn name_error(name: &Text, path: &str, diag: &mut Diag) {
    diag.error(
        path,
        format!(
            "has the variable name {}: environment variable names are letters, digits and '_', \
             not starting with a digit; rename it",
            shown(name)
        ),
    );
}

/// The Service's `environment` for a service: `None` when it has none; `Value::Unknown` when a
/// variable's name is not known yet (preview).
pub(crate) fn environment(
    service: &Node,
    service_path: &str,
    compose_path: &str,
    vars: &Vars,
    read_env_file: &dyn Fn(&str) -> Result<String, String>,
    diag: &mut Diag,
) -> Option<Value> {
    let mut merged: BTreeMap<String, Text> = BTreeMap::new();
    let mut unknown = false;

    if let Some(node) = service.get("env_file") {
        let path = key_path(service_path, "env_file");
        for (file, required, file_path) in env_files(node, &path, diag) {
            if file.unknown {
                unknown = true;
                continue;
            }
            let content = match read_env_file(&file.value) {
                Ok(content) => content,
                Err(_) if !required => continue,
                Err(reason) => {
                    diag.error(
                        &file_path,
                        format!(
                            "names the env file {}, which cannot be read ({reason}): create it \
                             (relative to the folder of {compose_path}), or mark it optional \
                             with `required: false`",
                            shown(&file)
                        ),
                    );
                    continue;
                }
            };
            let parsed = match dotenv::parse(&content) {
                Ok(parsed) => parsed,
                Err(reason) => {
                    diag.error(
                        &file_path,
                        format!(
                            "names the env file {}, which is not valid: {reason}",
                            shown(&file)
                        ),
                    );
                    continue;
                }
            };
            for (name, value) in parsed {
                let name_text = Text::plain(name.clone());
                if !valid_name(&name) {
                    name_error(&name_text, &file_path, diag);
                    continue;
                }
                match value {
                    Some(value) => {
                        merged.insert(name, Text::plain(value));
                    }
                    None => match vars.lookup(&name) {
                        Some(value) => {
                            merged.insert(name, value);
                        }
                        // Compose leaves such a variable out of the container.
                        None => diag.warn(
                            &file_path,
                            format!(
                                "lists {name} without a value in {}, and it is set nowhere else: \
                                 it is left out; set it in the component's `environment` input, \
                                 in .env or in the process environment",
                                shown(&file)
                            ),
                        ),
                    },
                }
            }
        }
    }

    if let Some(node) = service.get("environment") {
        let path = key_path(service_path, "environment");
        for entry in entries(node, &path, diag) {
            if entry.key.unknown {
                unknown = true;
                continue;
            }
            let name = entry.key.value.trim().to_string();
            if !valid_name(&name) {
                name_error(&entry.key.clone().map(|_| name.clone()), &entry.path, diag);
                continue;
            }
            let value = match entry.value {
                Some(value) => value,
                None => match vars.lookup(&name) {
                    Some(value) => value,
                    None => {
                        diag.error(
                            &entry.path,
                            format!(
                                "{name} has no value here and is set nowhere else: give it a \
                                 value in the component's `environment` input (as a secret if it \
                                 is one), in the .env file beside {compose_path} or in the \
                                 process environment, or write {name}=value here"
                            ),
                        );
                        continue;
                    }
                },
            };
            merged.insert(name, value);
        }
    }

    if unknown {
        return Some(Value::Unknown);
    }
    if merged.is_empty() {
        return None;
    }
    let map: PropertyMap = merged
        .into_iter()
        .map(|(k, v)| (k, v.into_value(Value::String)))
        .collect();
    Some(Value::Object(map))
}

/// The files of `env_file`: a string, or a list of strings and `{path, required, format}`
/// mappings; each with whether it must exist and its path in the Compose file.
fn env_files(node: &Node, path: &str, diag: &mut Diag) -> Vec<(Text, bool, String)> {
    let mut out = Vec::new();
    let items: Vec<(&Node, String)> = match node {
        Node::Null => return out,
        Node::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (n, index_path(path, i)))
            .collect(),
        other => vec![(other, path.to_string())],
    };
    for (item, item_path) in items {
        match item {
            Node::Map(entries) => {
                for (key, _) in entries {
                    if !matches!(key.as_str(), "path" | "required" | "format")
                        && !key.starts_with("x-")
                    {
                        diag.error(
                            key_path(&item_path, key),
                            "is not a key of an env file: use `path`, `required` or `format`",
                        );
                    }
                }
                let Some(file) = item
                    .get("path")
                    .and_then(|n| string(n, &key_path(&item_path, "path"), diag))
                else {
                    diag.error(
                        &item_path,
                        "needs a `path`: the env file to read, e.g. `path: .env.web`",
                    );
                    continue;
                };
                let required = item
                    .get("required")
                    .and_then(|n| boolean(n, &key_path(&item_path, "required"), diag))
                    .is_none_or(|b| b.value || b.unknown);
                if let Some(format) = item
                    .get("format")
                    .and_then(|n| string(n, &key_path(&item_path, "format"), diag))
                    && format.value != "dotenv"
                {
                    diag.warn(
                        key_path(&item_path, "format"),
                        format!(
                            "is {}, which is not read here: the file is read in the dotenv \
                             format",
                            shown(&format)
                        ),
                    );
                }
                out.push((file, required, item_path));
            }
            Node::Seq(_) => diag.wrong_type(&item_path, "a path or a mapping with `path`", item),
            scalar => {
                if let Some(file) = string(scalar, &item_path, diag) {
                    out.push((file, true, item_path));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::node::Tainted;

    fn text(s: &str) -> Node {
        Node::Str(Text::plain(s.to_string()))
    }

    #[test]
    fn list_and_map_entries() {
        let mut diag = Diag::default();
        let list = Node::Seq(vec![text("A=1"), text("B"), text("C=x=y"), text("D=")]);
        let got: Vec<(String, Option<String>, String)> = entries(&list, "e", &mut diag)
            .into_iter()
            .map(|e| (e.key.value, e.value.map(|v| v.value), e.path))
            .collect();
        assert_eq!(
            got,
            [
                ("A".into(), Some("1".into()), "e[0]".into()),
                ("B".into(), None, "e[1]".into()),
                ("C".into(), Some("x=y".into()), "e[2]".into()),
                ("D".into(), Some(String::new()), "e[3]".into()),
            ]
        );
        let secret = Node::Str(Tainted {
            value: "K=v".into(),
            secret: true,
            unknown: false,
        });
        let e = entries(&Node::Seq(vec![secret]), "e", &mut diag);
        assert!(e[0].value.as_ref().unwrap().secret);
        let map = Node::Map(vec![
            ("A".into(), Node::Null),
            ("B".into(), Node::Bool(true)),
            ("C".into(), Node::Seq(vec![])),
        ]);
        let e = entries(&map, "m", &mut diag);
        assert_eq!(e.len(), 2);
        assert!(e[0].value.is_none());
        assert_eq!(e[1].value.as_ref().unwrap().value, "true");
        assert_eq!(diag.errors[0].path, "m.C");
        assert!(valid_name("_A1") && !valid_name("1A") && !valid_name("A-B") && !valid_name(""));
    }
}
