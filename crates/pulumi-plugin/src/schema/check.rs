//! Checks the shape of a property map against the JSON schema of the Rust type it will be
//! decoded into (derived with schemars): unknown properties at every level (with the closest
//! known name), missing required properties, wrong types, numbers out of range and values
//! outside an enum. Unlike decoding, which stops at the first error, this reports every problem
//! at once, each at its property path.
//!
//! Conventions of the Pulumi value model:
//! - unknown values (preview) are never wrong;
//! - `null` in an object counts as absent;
//! - secrets are checked like their plaintext, but their values are never quoted in a reason.

use crate::error::quoted;
use crate::provider::CheckFailure;
use crate::value::{PropertyMap, PropertyPath, Value};
use schemars::JsonSchema;
use serde_json::Value as Json;

/// A problem at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeFailure {
    /// The property at fault (a missing required one included).
    pub path: PropertyPath,
    /// What is wrong and how to fix it, never quoting a secret.
    pub reason: String,
}

impl From<ShapeFailure> for CheckFailure {
    fn from(f: ShapeFailure) -> Self {
        CheckFailure::new(f.path.to_string(), f.reason)
    }
}

/// The JSON schema of a type, ready to check property maps against: compiled once into a tree
/// of [`Node`]s (references resolved, types, bounds, properties and enums read out), so that a
/// check walks the tree without looking keys up in the schema's JSON.
#[derive(Clone, Debug)]
pub struct Shape {
    nodes: Vec<Node>,
    root: NodeId,
}

type NodeId = usize;

/// What one schema allows.
#[derive(Clone, Debug)]
enum Node {
    /// Anything (no type given, or a reference that does not resolve).
    Any,
    /// `anyOf`/`oneOf`: `Option<T>` (T or null), an enum of documented constants, or a union.
    Alternatives {
        nullable: bool,
        /// When every non-null branch is a `const` or an `enum`: their values, together.
        constants: Option<Vec<Json>>,
        others: Vec<NodeId>,
    },
    /// `enum` or `const`.
    Constants(Vec<Json>),
    /// One or more JSON types, with what each needs.
    Typed(Box<Typed>),
}

#[derive(Clone, Debug)]
struct Typed {
    types: Vec<&'static str>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    items: Option<NodeId>,
    object: ObjectShape,
}

#[derive(Clone, Debug, Default)]
struct ObjectShape {
    /// In the schema's order (the order "known properties" are listed in).
    properties: Vec<(String, NodeId)>,
    /// Property name → index in `properties`.
    by_name: std::collections::BTreeMap<String, usize>,
    additional: Additional,
    /// Required names, with their descriptions.
    required: Vec<(String, Option<String>)>,
}

#[derive(Clone, Debug, Default)]
enum Additional {
    #[default]
    Allowed,
    Denied,
    Schema(NodeId),
}

const JSON_TYPES: [&str; 7] = [
    "null", "boolean", "number", "integer", "string", "array", "object",
];

/// Compiles schemas into nodes, each referenced schema once (so recursive types terminate).
struct Compiler<'s> {
    root: &'s Json,
    nodes: Vec<Node>,
    compiled: std::collections::HashMap<*const Json, NodeId>,
}

impl<'s> Compiler<'s> {
    /// Follows `$ref`s into `$defs`; `None` when a reference does not resolve.
    fn resolve(&self, schema: &'s Json) -> Option<&'s Json> {
        let mut schema = schema;
        // Bounded, in case of a reference cycle.
        for _ in 0..16 {
            let Some(reference) = schema.get("$ref").and_then(Json::as_str) else {
                return Some(schema);
            };
            let pointer = reference.strip_prefix('#').unwrap_or(reference);
            schema = self.root.pointer(pointer)?;
        }
        Some(schema)
    }

    fn compile(&mut self, schema: &'s Json) -> NodeId {
        let Some(schema) = self.resolve(schema) else {
            self.nodes.push(Node::Any);
            return self.nodes.len() - 1;
        };
        let key = schema as *const Json;
        if let Some(id) = self.compiled.get(&key) {
            return *id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::Any);
        self.compiled.insert(key, id);
        let node = self.node(schema);
        self.nodes[id] = node;
        id
    }

    fn node(&mut self, schema: &'s Json) -> Node {
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array)
        {
            let resolved: Vec<Option<&'s Json>> =
                branches.iter().map(|b| self.resolve(b)).collect();
            let is_null = |b: &Option<&Json>| b.is_some_and(|b| types_of(b) == ["null"]);
            let nullable = resolved.iter().any(is_null);
            let others: Vec<Option<&'s Json>> =
                resolved.into_iter().filter(|b| !is_null(b)).collect();
            // Enums come as `oneOf` branches with a `const` (documented variants) or an `enum`.
            let constants: Option<Vec<Json>> = others
                .iter()
                .map(|b| {
                    let b = (*b)?;
                    match (b.get("const"), b.get("enum").and_then(Json::as_array)) {
                        (Some(constant), _) => Some(vec![constant.clone()]),
                        (None, Some(values)) => Some(values.clone()),
                        (None, None) => None,
                    }
                })
                .collect::<Option<Vec<Vec<Json>>>>()
                .map(|lists| lists.into_iter().flatten().collect())
                .filter(|c: &Vec<Json>| !c.is_empty());
            let others = others
                .into_iter()
                .map(|b| match b {
                    Some(b) => self.compile(b),
                    None => {
                        self.nodes.push(Node::Any);
                        self.nodes.len() - 1
                    }
                })
                .collect();
            return Node::Alternatives {
                nullable,
                constants,
                others,
            };
        }
        if let Some(allowed) = schema.get("enum").and_then(Json::as_array) {
            return Node::Constants(allowed.clone());
        }
        if let Some(constant) = schema.get("const") {
            return Node::Constants(vec![constant.clone()]);
        }
        let types: Vec<&'static str> = types_of(schema)
            .into_iter()
            .filter_map(|t| JSON_TYPES.iter().find(|known| **known == t).copied())
            .collect();
        if types.is_empty() {
            return Node::Any;
        }
        let (format_min, format_max) = format_bounds(schema.get("format").and_then(Json::as_str));
        let items = schema.get("items").map(|items| self.compile(items));
        let object = self.object(schema);
        Node::Typed(Box::new(Typed {
            types,
            minimum: schema.get("minimum").and_then(Json::as_f64).or(format_min),
            maximum: schema.get("maximum").and_then(Json::as_f64).or(format_max),
            items,
            object,
        }))
    }

    fn object(&mut self, schema: &'s Json) -> ObjectShape {
        let mut shape = ObjectShape::default();
        let properties = schema.get("properties").and_then(Json::as_object);
        for (name, property) in properties.into_iter().flatten() {
            let id = self.compile(property);
            shape.by_name.insert(name.clone(), shape.properties.len());
            shape.properties.push((name.clone(), id));
        }
        shape.additional = match schema.get("additionalProperties") {
            Some(Json::Bool(false)) => Additional::Denied,
            Some(value_schema @ Json::Object(_)) => Additional::Schema(self.compile(value_schema)),
            _ => Additional::Allowed,
        };
        let required = schema.get("required").and_then(Json::as_array);
        shape.required = required
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(|name| {
                let description = properties
                    .and_then(|p| p.get(name))
                    .and_then(|p| p.get("description"))
                    .and_then(Json::as_str)
                    .map(str::to_string);
                (name.to_string(), description)
            })
            .collect();
        shape
    }
}

impl Shape {
    /// The shape of `T`'s JSON schema. Deriving it costs a schema generation: make it once
    /// per type, not per check.
    pub fn of<T: JsonSchema>() -> Shape {
        let root = schemars::schema_for!(T).to_value();
        let mut compiler = Compiler {
            root: &root,
            nodes: Vec::new(),
            compiled: std::collections::HashMap::new(),
        };
        let root_id = compiler.compile(&root);
        Shape {
            nodes: compiler.nodes,
            root: root_id,
        }
    }

    /// Every shape problem of `props`.
    pub fn check(&self, props: &PropertyMap) -> Vec<ShapeFailure> {
        let mut walker = Walker {
            nodes: &self.nodes,
            failures: Vec::new(),
        };
        walker.object(self.root, props, &At::Root, false);
        walker.failures
    }
}

/// Shorthand for `Shape::of::<T>().check(props)`.
pub fn check_shape<T: JsonSchema>(props: &PropertyMap) -> Vec<ShapeFailure> {
    Shape::of::<T>().check(props)
}

/// Where the walker is, as borrowed pieces: a [`PropertyPath`] is built only for a failure,
/// not for every value checked (each would copy its parent's segments).
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    fn path(&self) -> PropertyPath {
        match self {
            At::Root => PropertyPath::root(),
            At::Key(parent, key) => parent.path().key(key),
            At::Index(parent, index) => parent.path().index(*index),
        }
    }
}

struct Walker<'s> {
    nodes: &'s [Node],
    failures: Vec<ShapeFailure>,
}

impl<'s> Walker<'s> {
    fn fail(&mut self, at: &At<'_>, reason: String) {
        self.failures.push(ShapeFailure {
            path: at.path(),
            reason,
        });
    }

    fn value(&mut self, node: NodeId, value: &Value, at: &At<'_>, secret: bool) {
        match value {
            Value::Unknown => return,
            Value::Secret(inner) => return self.value(node, inner, at, true),
            Value::Output(output) => {
                if let Some(inner) = &output.value {
                    self.value(node, inner, at, secret || output.secret);
                }
                return;
            }
            _ => {}
        }
        let typed = match &self.nodes[node] {
            Node::Any => return,
            Node::Alternatives {
                nullable,
                constants,
                others,
            } => {
                return self.alternatives(
                    *nullable,
                    constants.as_deref(),
                    others,
                    value,
                    at,
                    secret,
                );
            }
            Node::Constants(allowed) => return self.one_of_values(allowed, value, at, secret),
            Node::Typed(typed) => typed,
        };
        let types = &typed.types;
        let matches = match value {
            Value::Null => types.contains(&"null"),
            Value::Bool(_) => types.contains(&"boolean"),
            Value::Number(n) => {
                types.contains(&"number") || (types.contains(&"integer") && n.fract() == 0.0)
            }
            Value::String(_) | Value::ResourceRef(_) => types.contains(&"string"),
            Value::Array(_) => types.contains(&"array"),
            Value::Object(_) => types.contains(&"object"),
            Value::Asset(_) | Value::Archive(_) => false,
            Value::Unknown | Value::Secret(_) | Value::Output(_) => true,
        };
        if !matches {
            let reason = format!("expected {}, got {}", expected(types), shown(value, secret));
            return self.fail(at, reason);
        }
        match value {
            Value::Number(n) => self.bounds(typed.minimum, typed.maximum, *n, at, secret),
            Value::Array(items) => {
                if let Some(item_node) = typed.items {
                    for (i, item) in items.iter().enumerate() {
                        self.value(item_node, item, &At::Index(at, i), secret);
                    }
                }
            }
            Value::Object(map) => self.object(node, map, at, secret),
            _ => {}
        }
    }

    fn object(&mut self, node: NodeId, map: &PropertyMap, at: &At<'_>, secret: bool) {
        let Node::Typed(typed) = &self.nodes[node] else {
            return;
        };
        let shape = &typed.object;
        for (key, value) in map {
            if matches!(value, Value::Null) {
                continue;
            }
            let at = At::Key(at, key);
            if let Some(index) = shape.by_name.get(key) {
                self.value(shape.properties[*index].1, value, &at, secret);
            } else {
                match shape.additional {
                    Additional::Denied => {
                        let known: Vec<&str> =
                            shape.properties.iter().map(|(k, _)| k.as_str()).collect();
                        self.fail(&at, unknown_property(key, &known));
                    }
                    Additional::Schema(value_node) => self.value(value_node, value, &at, secret),
                    Additional::Allowed => {}
                }
            }
        }
        for (name, description) in &shape.required {
            if matches!(map.get(name), None | Some(Value::Null)) {
                let reason = match description {
                    Some(d) => format!("is required: {}", sentence_case_lower(d)),
                    None => "is required".to_string(),
                };
                self.fail(&At::Key(at, name), reason);
            }
        }
    }

    fn alternatives(
        &mut self,
        nullable: bool,
        constants: Option<&[Json]>,
        others: &[NodeId],
        value: &Value,
        at: &At<'_>,
        secret: bool,
    ) {
        if matches!(value, Value::Null) && nullable {
            return;
        }
        match (constants, others) {
            (Some(constants), _) => self.one_of_values(constants, value, at, secret),
            (_, [only]) => self.value(*only, value, at, secret),
            _ => {
                // A union: fine if any branch fits; otherwise report the first branch's problems.
                let mut first = None;
                for branch in others {
                    let mut trial = Walker {
                        nodes: self.nodes,
                        failures: Vec::new(),
                    };
                    trial.value(*branch, value, at, secret);
                    if trial.failures.is_empty() {
                        return;
                    }
                    first.get_or_insert(trial.failures);
                }
                self.failures.extend(first.unwrap_or_default());
            }
        }
    }

    fn one_of_values(&mut self, allowed: &[Json], value: &Value, at: &At<'_>, secret: bool) {
        // A plain string, the common case, without building its JSON.
        let fits = match value {
            Value::String(s) => allowed.iter().any(|a| a.as_str() == Some(s.as_str())),
            _ => allowed.contains(&crate::value::to_json(value)),
        };
        if fits {
            return;
        }
        let names: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
        let mut reason = format!(
            "must be one of {}; got {}",
            names.join(", "),
            shown(value, secret)
        );
        if !secret && let Some(text) = value.as_str() {
            let candidates: Vec<&str> = allowed.iter().filter_map(|v| v.as_str()).collect();
            if let Some(suggestion) = did_you_mean(text, &candidates) {
                reason.push_str(&format!(" — did you mean {suggestion:?}?"));
            }
        }
        self.fail(at, reason);
    }

    fn bounds(&mut self, min: Option<f64>, max: Option<f64>, n: f64, at: &At<'_>, secret: bool) {
        let below = min.is_some_and(|m| n < m);
        let above = max.is_some_and(|m| n > m);
        if !(below || above) {
            return;
        }
        let got = shown(&Value::Number(n), secret);
        let reason = match (min, max) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}; got {got}"),
            (Some(min), None) => format!("must be at least {min}; got {got}"),
            (None, Some(max)) => format!("must be at most {max}; got {got}"),
            (None, None) => return,
        };
        self.fail(at, reason);
    }
}

/// The JSON types a schema allows (`"type": "string"` or `"type": ["string", "null"]`).
fn types_of(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The range of schemars' integer formats, so that out-of-range numbers fail here and not at
/// decoding.
fn format_bounds(format: Option<&str>) -> (Option<f64>, Option<f64>) {
    match format {
        Some("uint8") => (Some(0.0), Some(f64::from(u8::MAX))),
        Some("uint16") => (Some(0.0), Some(f64::from(u16::MAX))),
        Some("uint32") => (Some(0.0), Some(f64::from(u32::MAX))),
        Some("uint64") | Some("uint") => (Some(0.0), None),
        Some("int8") => (Some(f64::from(i8::MIN)), Some(f64::from(i8::MAX))),
        Some("int16") => (Some(f64::from(i16::MIN)), Some(f64::from(i16::MAX))),
        Some("int32") => (Some(f64::from(i32::MIN)), Some(f64::from(i32::MAX))),
        _ => (None, None),
    }
}

fn expected(types: &[&str]) -> String {
    let names: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "string" => "a string",
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "true or false",
            "array" => "a list",
            "object" => "an object",
            other => other,
        })
        .collect();
    names.join(" or ")
}

/// A value as a reason may show it: scalars quoted unless secret, containers by kind.
fn shown(value: &Value, secret: bool) -> String {
    if secret {
        return "a secret value (not shown)".to_string();
    }
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
        Value::Asset(_) => "an asset".to_string(),
        Value::Archive(_) => "an archive".to_string(),
        Value::ResourceRef(_) => "a resource reference".to_string(),
        Value::Secret(_) => "a secret value (not shown)".to_string(),
        Value::Unknown | Value::Output(_) => "an unknown value".to_string(),
    }
}

fn unknown_property(key: &str, known: &[&str]) -> String {
    match did_you_mean(key, known) {
        Some(suggestion) => format!("unknown property `{key}` — did you mean `{suggestion}`?"),
        None => {
            let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown property `{key}`; the known properties here are {}",
                list.join(", ")
            )
        }
    }
}

/// A schema description as the tail of "is required: …".
fn sentence_case_lower(description: &str) -> String {
    let one_line = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = one_line.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => one_line,
    }
}

/// The candidate `input` was most likely meant to be: same letters ignoring case and `_`/`-`
/// (`health_check` → `healthCheck`), one containing the other (`replica` → `replicas`,
/// `amd64` → `linux/amd64`), a small edit away (`enviroment` → `environment`), or a small edit
/// away from the start of a longer name (`tmeout` → `timeoutSeconds`).
pub(crate) fn did_you_mean<'c>(input: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let normalize = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = normalize(input);
    if wanted.is_empty() {
        return None;
    }
    let normalized: Vec<(String, &'c str)> =
        candidates.iter().map(|c| (normalize(c), *c)).collect();
    if let Some((_, c)) = normalized.iter().find(|(n, _)| *n == wanted) {
        return Some(c);
    }
    if wanted.len() >= 3 {
        let containing = normalized
            .iter()
            .filter(|(n, _)| n.contains(&wanted) || wanted.contains(n.as_str()))
            .min_by_key(|(n, _)| n.len().abs_diff(wanted.len()));
        if let Some((_, c)) = containing {
            return Some(c);
        }
    }
    let limit = (wanted.chars().count() / 3).clamp(1, 3);
    let closest = |distance: &dyn Fn(&str) -> usize| {
        normalized
            .iter()
            .map(|(n, c)| (distance(n), *c))
            .filter(|(d, _)| *d <= limit)
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c)
    };
    // A misspelled word, or a misspelled start of a longer name (`tmeout` → `timeoutSeconds`).
    closest(&|n| edit_distance(&wanted, n)).or_else(|| {
        closest(&|n| {
            let prefix: String = n.chars().take(wanted.chars().count()).collect();
            edit_distance(&wanted, &prefix)
        })
    })
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of neighbours (`regoin` → `region` is 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// A small resource.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        /// The thing's name.
        name: String,
        #[serde(default)]
        replicas: Option<u32>,
        #[serde(default)]
        ports: Vec<Port>,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        #[serde(default)]
        kind: Option<Kind>,
        #[serde(default)]
        size: Option<f64>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Port {
        #[schemars(range(min = 1, max = 65535))]
        target: u16,
        #[serde(default)]
        app_protocol: Option<String>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Kind {
        /// Documented, so schemars emits `oneOf` constants.
        #[serde(rename = "linux/amd64")]
        Amd64,
        /// Documented too.
        #[serde(rename = "linux/arm64")]
        Arm64,
    }

    /// Only one variant documented: schemars mixes a `const` branch and an `enum` branch.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Mixed {
        /// Documented.
        Tcp,
        Udp,
    }

    fn obj(pairs: Vec<(&str, Value)>) -> PropertyMap {
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    fn failures(props: PropertyMap) -> Vec<(String, String)> {
        check_shape::<Thing>(&props)
            .into_iter()
            .map(|f| (f.path.to_string(), f.reason))
            .collect()
    }

    #[test]
    fn a_good_map_has_no_failures() {
        let props = obj(vec![
            ("name", Value::from("web")),
            ("replicas", Value::Number(2.0)),
            (
                "ports",
                Value::Array(vec![Value::Object(obj(vec![
                    ("target", Value::Number(80.0)),
                    ("appProtocol", Value::Null),
                ]))]),
            ),
            ("labels", Value::Object(obj(vec![("a", Value::from("b"))]))),
            ("kind", Value::from("linux/arm64")),
            ("size", Value::Number(0.5)),
        ]);
        assert_eq!(failures(props), vec![]);
    }

    #[test]
    fn reports_every_problem_at_its_path() {
        let props = obj(vec![
            ("replica", Value::Number(2.0)),
            (
                "ports",
                Value::Array(vec![
                    Value::Object(obj(vec![("target", Value::from("eighty"))])),
                    Value::Object(obj(vec![
                        ("target", Value::Number(0.0)),
                        ("app_protocol", Value::from("http")),
                    ])),
                    Value::Object(obj(vec![("target", Value::Number(1.5))])),
                    Value::Object(obj(vec![])),
                ]),
            ),
            (
                "labels",
                Value::Object(obj(vec![("1BAD", Value::Bool(true))])),
            ),
            ("kind", Value::from("amd64")),
            ("size", Value::from("big")),
        ]);
        let got = failures(props);
        let expected: Vec<(&str, &str)> = vec![
            (
                "kind",
                "must be one of \"linux/amd64\", \"linux/arm64\"; got \"amd64\" — did you mean \"linux/amd64\"?",
            ),
            ("labels[\"1BAD\"]", "expected a string, got true"),
            ("ports[0].target", "expected a whole number, got \"eighty\""),
            (
                "ports[1].app_protocol",
                "unknown property `app_protocol` — did you mean `appProtocol`?",
            ),
            ("ports[1].target", "must be between 1 and 65535; got 0"),
            ("ports[2].target", "expected a whole number, got 1.5"),
            ("ports[3].target", "is required"),
            (
                "replica",
                "unknown property `replica` — did you mean `replicas`?",
            ),
            ("size", "expected a number, got \"big\""),
            ("name", "is required: the thing's name."),
        ];
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(p, r)| (p.to_string(), r.to_string()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn enums_of_mixed_forms() {
        let shape = Shape::of::<BTreeMap<String, Mixed>>();
        let ok = obj(vec![("a", Value::from("tcp")), ("b", Value::from("udp"))]);
        assert_eq!(shape.check(&ok), vec![]);
        let bad = shape.check(&obj(vec![("a", Value::from("TCP"))]));
        assert_eq!(bad.len(), 1);
        assert!(bad[0].reason.contains("\"tcp\"") && bad[0].reason.contains("\"udp\""));
        assert!(
            bad[0].reason.ends_with("did you mean \"tcp\"?"),
            "{}",
            bad[0].reason
        );
    }

    #[test]
    fn integer_formats_bound_values() {
        let props = obj(vec![
            ("name", Value::from("x")),
            ("replicas", Value::Number(-1.0)),
            (
                "ports",
                Value::Array(vec![Value::Object(obj(vec![(
                    "target",
                    Value::Number(70000.0),
                )]))]),
            ),
        ]);
        let got = failures(props);
        assert_eq!(
            got[0],
            (
                "ports[0].target".into(),
                "must be between 1 and 65535; got 70000".into()
            )
        );
        assert_eq!(
            got[1],
            (
                "replicas".into(),
                "must be between 0 and 4294967295; got -1".into()
            )
        );
    }

    #[test]
    fn unknowns_are_never_wrong_and_null_is_absent() {
        let props = obj(vec![
            ("name", Value::Unknown),
            ("replicas", Value::Unknown),
            ("ports", Value::Array(vec![Value::Unknown])),
            ("labels", Value::Null),
            ("kind", Value::Null),
        ]);
        assert_eq!(failures(props), vec![]);
        // A required property that is null is missing.
        let got = failures(obj(vec![("name", Value::Null)]));
        assert_eq!(got[0].0, "name");
    }

    #[test]
    fn secrets_are_checked_but_never_shown() {
        let props = obj(vec![
            ("name", Value::from("x")),
            (
                "labels",
                Value::Object(obj(vec![("token", Value::Number(12345.0).into_secret())])),
            ),
            ("kind", Value::from("linux/amd65").into_secret()),
        ]);
        let got = failures(props);
        assert_eq!(got.len(), 2);
        for (_, reason) in &got {
            assert!(
                !reason.contains("12345") && !reason.contains("amd65"),
                "{reason}"
            );
            assert!(reason.contains("a secret value (not shown)"), "{reason}");
        }
    }

    #[test]
    fn unknown_properties_without_a_close_match_list_the_known_ones() {
        // In the order of the type's fields, as the schema and the SDKs show them.
        let got = failures(obj(vec![
            ("name", Value::from("x")),
            ("zzz", Value::Bool(true)),
        ]));
        assert_eq!(
            got[0].1,
            "unknown property `zzz`; the known properties here are `name`, `replicas`, `ports`, `labels`, `kind`, `size`"
        );
    }

    #[test]
    fn suggestions() {
        let known = [
            "replicas",
            "environment",
            "healthCheck",
            "image",
            "ports",
            "cpus",
            "memory",
        ];
        assert_eq!(did_you_mean("replica", &known), Some("replicas"));
        assert_eq!(did_you_mean("enviroment", &known), Some("environment"));
        assert_eq!(did_you_mean("health_check", &known), Some("healthCheck"));
        assert_eq!(did_you_mean("Image", &known), Some("image"));
        assert_eq!(did_you_mean("cpu", &known), Some("cpus"));
        assert_eq!(did_you_mean("mem", &known), Some("memory"));
        assert_eq!(did_you_mean("imgae", &known), Some("image"));
        let health = ["test", "intervalSeconds", "timeoutSeconds", "retries"];
        assert_eq!(did_you_mean("tmeout", &health), Some("timeoutSeconds"));
        assert_eq!(did_you_mean("interval", &health), Some("intervalSeconds"));
        assert_eq!(did_you_mean("volumes", &known), None);
        assert_eq!(did_you_mean("", &known), None);
        assert_eq!(edit_distance("regoin", "region"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn wrong_container_types() {
        let got = failures(obj(vec![
            ("name", Value::Array(vec![])),
            ("ports", Value::Object(PropertyMap::new())),
            ("labels", Value::from("a=b")),
        ]));
        assert_eq!(
            got,
            vec![
                (
                    "labels".to_string(),
                    "expected an object, got \"a=b\"".to_string()
                ),
                (
                    "name".to_string(),
                    "expected a string, got a list".to_string()
                ),
                (
                    "ports".to_string(),
                    "expected a list, got an object".to_string()
                ),
            ]
        );
    }

    /// A recursive type (through `$defs`): compiled once, checked at every depth.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Tree {
        label: String,
        #[serde(default)]
        children: Vec<Tree>,
    }

    #[test]
    fn recursive_types_are_checked_at_every_depth() {
        let leaf = |label: Value| Value::Object(obj(vec![("label", label)]));
        let props = obj(vec![
            ("label", Value::from("root")),
            (
                "children",
                Value::Array(vec![Value::Object(obj(vec![
                    ("label", Value::from("a")),
                    ("children", Value::Array(vec![leaf(Value::Number(1.0))])),
                ]))]),
            ),
        ]);
        let found: Vec<(String, String)> = Shape::of::<Tree>()
            .check(&props)
            .into_iter()
            .map(|f| (f.path.to_string(), f.reason))
            .collect();
        assert_eq!(
            found,
            [(
                "children[0].children[0].label".to_string(),
                "expected a string, got 1".to_string()
            )]
        );
    }
}
