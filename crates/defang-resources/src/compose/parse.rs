//! YAML text to the interpolated [`Node`] tree.
//!
//! The YAML is read with `serde_norway` into an untyped tree (merge keys `<<: *anchor` applied),
//! and every string value is interpolated before anything is typed, as the Compose
//! specification says: `"${PORT}:80"` is a port only once `PORT` is substituted. Keys are not
//! interpolated (the specification interpolates values only), nor is anything under an `x-*`
//! key: extensions are ignored, so their variables must not cause warnings or errors.
//!
//! The Compose override tags are read as Compose reads a single file: `!reset` removes the value
//! (it is "not set") and `!override` keeps it.

use super::interpolate::{Vars, interpolate};
use super::node::{Diag, Node, Number, Text, index_path, key_path};
use serde_norway::Value as Yaml;

/// Parses and interpolates `text`. `None` when it is not YAML (the error is in `diag`).
pub(crate) fn parse(text: &str, vars: &Vars, diag: &mut Diag) -> Option<Node> {
    let mut yaml: Yaml = match serde_norway::from_str(text) {
        Ok(yaml) => yaml,
        Err(e) => {
            diag.error(
                "",
                format!("is not valid YAML: {e}; fix the syntax at that place"),
            );
            return None;
        }
    };
    if let Err(e) = yaml.apply_merge() {
        diag.error(
            "",
            format!("has a `<<` merge key that cannot be applied: {e}; merge mappings only"),
        );
        return None;
    }
    let lookup = |name: &str| vars.lookup(name);
    Some(convert(yaml, "", false, &lookup, diag))
}

fn convert(
    yaml: Yaml,
    path: &str,
    in_extension: bool,
    lookup: &dyn Fn(&str) -> Option<Text>,
    diag: &mut Diag,
) -> Node {
    match yaml {
        Yaml::Null => Node::Null,
        Yaml::Bool(b) => Node::Bool(b),
        Yaml::Number(n) => Node::Number(Number {
            text: n.to_string(),
            value: n.as_f64().unwrap_or(f64::NAN),
        }),
        Yaml::String(s) if in_extension => Node::Str(Text::plain(s)),
        Yaml::String(s) => match interpolate(&s, lookup) {
            Ok(out) => {
                for name in out.unset {
                    diag.warn(
                        path,
                        format!(
                            "the variable {name} is not set, so an empty string is used: set it \
                             in the component's `environment` input, in the .env file beside the \
                             Compose file or in the process environment, or give a default with \
                             ${{{name}:-default}}"
                        ),
                    );
                }
                Node::Str(out.text)
            }
            Err(message) => {
                diag.error(path, message);
                // Marked unknown so that no reader reports it a second time.
                Node::Str(Text {
                    value: String::new(),
                    secret: false,
                    unknown: true,
                })
            }
        },
        Yaml::Sequence(items) => Node::Seq(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| convert(item, &index_path(path, i), in_extension, lookup, diag))
                .collect(),
        ),
        Yaml::Mapping(mapping) => {
            let mut entries = Vec::with_capacity(mapping.len());
            for (key, value) in mapping {
                let key = match key {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => {
                        diag.error(
                            path,
                            format!(
                                "has a key that is {}: keys must be strings",
                                yaml_kind(&other)
                            ),
                        );
                        continue;
                    }
                };
                let child = key_path(path, &key);
                let extension = in_extension || key.starts_with("x-");
                let value = convert(value, &child, extension, lookup, diag);
                entries.push((key, value));
            }
            Node::Map(entries)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            match tag.as_str() {
                "!reset" => Node::Null,
                "!override" => convert(tagged.value, path, in_extension, lookup, diag),
                _ => {
                    diag.error(
                        path,
                        format!(
                            "has the YAML tag {tag}, which Compose does not define: remove it \
                             (only !reset and !override are read)"
                        ),
                    );
                    Node::Null
                }
            }
        }
    }
}

fn yaml_kind(yaml: &Yaml) -> &'static str {
    match yaml {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "tagged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulumi_plugin::PropertyMap;
    use std::collections::BTreeMap;

    fn parsed(text: &str) -> (Option<Node>, Diag) {
        let component = PropertyMap::new();
        let process = BTreeMap::from([("TAG".to_string(), "1.27".to_string())]);
        let vars = Vars {
            component: &component,
            dot_env: BTreeMap::new(),
            process: &process,
        };
        let mut diag = Diag::default();
        let node = parse(text, &vars, &mut diag);
        (node, diag)
    }

    fn s(v: &str) -> Node {
        Node::Str(Text::plain(v.to_string()))
    }

    #[test]
    fn interpolates_values_not_keys_nor_extensions() {
        let (node, diag) = parsed(
            "a: nginx:${TAG}\n${TAG}: x\nx-ext:\n  b: ${NOPE:?never}\nlist: [$TAG, 1, true, ~]\n",
        );
        assert!(diag.errors.is_empty(), "{:?}", diag.errors);
        let node = node.unwrap();
        assert_eq!(node.get("a"), Some(&s("nginx:1.27")));
        assert_eq!(node.get("${TAG}"), Some(&s("x")));
        assert_eq!(
            node.get("x-ext").and_then(|n| n.get("b")),
            Some(&s("${NOPE:?never}"))
        );
        let Some(Node::Seq(list)) = node.get("list") else {
            panic!()
        };
        assert_eq!(list[0], s("1.27"));
        assert_eq!(list[1].scalar_text().unwrap().value, "1");
        assert_eq!(list[2], Node::Bool(true));
        assert_eq!(list[3], Node::Null);
    }

    #[test]
    fn merge_keys_and_override_tags() {
        let (node, diag) = parsed(
            "x-base: &base\n  image: a\n  ports: [80]\nweb:\n  <<: *base\n  image: b\n  \
             ports: !reset []\n  tty: !override true\n",
        );
        assert!(diag.errors.is_empty(), "{:?}", diag.errors);
        let web = node.unwrap().get("web").cloned().unwrap();
        assert_eq!(web.get("image"), Some(&s("b")));
        assert_eq!(web.get("ports"), Some(&Node::Null));
        assert_eq!(web.get("tty"), Some(&Node::Bool(true)));
    }

    #[test]
    fn errors_and_warnings_name_the_path() {
        let (_, diag) =
            parsed("s:\n  web:\n    image: ${X:?needed}\n    cmd: [\"$Y\"]\n    ? [a]\n    : 1\n");
        assert_eq!(diag.errors[0].path, "s.web.image");
        assert!(diag.errors[0].message.contains(": needed;"));
        assert_eq!(diag.warnings[0].path, "s.web.cmd[0]");
        assert!(
            diag.warnings[0]
                .message
                .starts_with("the variable Y is not set")
        );
        assert_eq!(
            diag.errors[1].message,
            "has a key that is a list: keys must be strings"
        );

        let (node, diag) = parsed("a: [\n");
        assert!(node.is_none());
        assert!(
            diag.errors[0].message.starts_with("is not valid YAML"),
            "{:?}",
            diag.errors
        );
        let (_, diag) = parsed("a: !custom x\n");
        assert!(
            diag.errors[0]
                .message
                .starts_with("has the YAML tag !custom")
        );
        let (_, diag) = parsed("a: 1\na: 2\n");
        assert!(
            diag.errors[0].message.contains("duplicate"),
            "{:?}",
            diag.errors
        );
    }
}
