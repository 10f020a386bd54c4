//! The package schema (`schema.json` at the repository root) is generated from the Rust types
//! (`defang_resources::schema`, written by `make schema`). These tests hold the committed file to
//! the generator, and check what the generator made on its own terms: it parses, every reference
//! resolves, everything is described, and each resource's inputs agree with the Rust type that
//! Check decodes them into (names, required-ness, types, nested types and enum values), compared
//! here independently of the generator's code.
//!
//! To cover another resource, add one line: `assert_schema_matches::<Inputs>("defang:index:X")`.

use defang_resources::project::ProjectInputs;
use defang_resources::service::inputs::ServiceInputs;
use defang_resources::service::status::ServiceStatus;
use schemars::JsonSchema;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

const SCHEMA: &str = include_str!("../../../schema.json");

fn schema() -> Json {
    serde_json::from_str(SCHEMA).expect("schema.json is not valid JSON")
}

/// Panics, listing every difference, unless the inputs of resource `token` in schema.json match
/// the JSON schema that schemars derives for `T`.
fn assert_schema_matches<T: JsonSchema>(token: &str) {
    let differences = schema_differences::<T>(&schema(), token);
    assert!(
        differences.is_empty(),
        "schema.json and the Rust type disagree on the inputs of {token}:\n  {}",
        differences.join("\n  ")
    );
}

/// Every difference between the inputs of `token` in `package` and the Rust type `T`.
fn schema_differences<T: JsonSchema>(package: &Json, token: &str) -> Vec<String> {
    let Some(resource) = package["resources"].get(token) else {
        return vec![format!("schema.json has no resource {token}")];
    };
    let declared = Shape::Object {
        name: String::new(),
        properties: pulumi_properties(package, &resource["inputProperties"]),
        required: string_set(&resource["requiredInputs"]),
    };
    let rust = schemars::schema_for!(T).to_value();
    let derived = rust_shape(&rust, &rust);
    let mut differences = Vec::new();
    compare("inputProperties", &declared, &derived, &mut differences);
    differences
}

/// A type, in the terms both schema languages share.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    /// `string`, `integer`, `number` or `boolean`.
    Primitive(String),
    Array(Box<Shape>),
    /// A map from names to values.
    Map(Box<Shape>),
    /// `name` is the type's name (the last part of a Pulumi token, a Rust type name); empty for
    /// a resource's inputs.
    Object {
        name: String,
        properties: BTreeMap<String, Shape>,
        required: BTreeSet<String>,
    },
    Enum {
        name: String,
        values: BTreeSet<String>,
    },
    /// Anything the comparison does not understand: never equal to anything.
    Unsupported(String),
}

fn string_set(list: &Json) -> BTreeSet<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect()
}

fn pulumi_properties(package: &Json, properties: &Json) -> BTreeMap<String, Shape> {
    properties
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, spec)| (name.clone(), pulumi_shape(package, spec)))
        .collect()
}

/// A Pulumi typeSpec as a shape; `#/types/` references are followed.
fn pulumi_shape(package: &Json, spec: &Json) -> Shape {
    if let Some(reference) = spec["$ref"].as_str() {
        let Some(token) = reference.strip_prefix("#/types/") else {
            return Shape::Unsupported(reference.to_string());
        };
        let name = token.rsplit(':').next().unwrap_or(token).to_string();
        let Some(definition) = package["types"].get(token) else {
            return Shape::Unsupported(format!("missing type {token}"));
        };
        if let Some(values) = definition["enum"].as_array() {
            return Shape::Enum {
                name,
                values: values.iter().map(|v| v["value"].to_string()).collect(),
            };
        }
        return Shape::Object {
            name,
            properties: pulumi_properties(package, &definition["properties"]),
            required: string_set(&definition["required"]),
        };
    }
    match spec["type"].as_str() {
        Some("array") => Shape::Array(Box::new(pulumi_shape(package, &spec["items"]))),
        Some("object") => Shape::Map(Box::new(pulumi_shape(
            package,
            &spec["additionalProperties"],
        ))),
        Some(primitive @ ("string" | "integer" | "number" | "boolean")) => {
            Shape::Primitive(primitive.to_string())
        }
        _ => Shape::Unsupported(spec.to_string()),
    }
}

/// A schemars schema as a shape: `$ref`s into `$defs` are followed (naming the type), `null`
/// alternatives (from `Option`) dropped, and enums recognised in their `enum` and
/// `oneOf`-of-`const` forms.
fn rust_shape(root: &Json, schema: &Json) -> Shape {
    let mut name = String::new();
    let mut schema = schema;
    while let Some(reference) = schema["$ref"].as_str() {
        name = reference.rsplit('/').next().unwrap_or_default().to_string();
        match root.pointer(reference.trim_start_matches('#')) {
            Some(target) => schema = target,
            None => return Shape::Unsupported(reference.to_string()),
        }
    }
    if let Some(branches) = schema["anyOf"].as_array().or(schema["oneOf"].as_array()) {
        let branches: Vec<&Json> = branches
            .iter()
            .filter(|b| b["type"] != json!("null"))
            .collect();
        let values: Option<Vec<Vec<String>>> = branches
            .iter()
            .map(|b| match (b.get("const"), b["enum"].as_array()) {
                (Some(constant), _) => Some(vec![constant.to_string()]),
                (None, Some(values)) => Some(values.iter().map(Json::to_string).collect()),
                (None, None) => None,
            })
            .collect();
        return match (values, branches.as_slice()) {
            (Some(values), _) if !values.is_empty() => Shape::Enum {
                name,
                values: values.into_iter().flatten().collect(),
            },
            (_, [only]) => rust_shape(root, only),
            _ => Shape::Unsupported(schema.to_string()),
        };
    }
    if let Some(values) = schema["enum"].as_array() {
        return Shape::Enum {
            name,
            values: values.iter().map(Json::to_string).collect(),
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Json::String(t) => vec![t.as_str()],
        Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
        _ => vec![],
    };
    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    match types.as_slice() {
        ["array"] => Shape::Array(Box::new(rust_shape(root, &schema["items"]))),
        ["object"] if schema.get("properties").is_some() => Shape::Object {
            name,
            properties: schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), rust_shape(root, v)))
                .collect(),
            required: string_set(&schema["required"]),
        },
        ["object"] => Shape::Map(Box::new(rust_shape(root, &schema["additionalProperties"]))),
        [primitive @ ("string" | "integer" | "number" | "boolean")] => {
            Shape::Primitive(primitive.to_string())
        }
        _ => Shape::Unsupported(schema.to_string()),
    }
}

/// Records where `declared` (schema.json) and `derived` (Rust) differ, by path.
fn compare(path: &str, declared: &Shape, derived: &Shape, out: &mut Vec<String>) {
    match (declared, derived) {
        (Shape::Array(a), Shape::Array(b)) => compare(&format!("{path}.items"), a, b, out),
        (Shape::Map(a), Shape::Map(b)) => {
            compare(&format!("{path}.additionalProperties"), a, b, out)
        }
        (
            Shape::Object {
                name: a_name,
                properties: a_props,
                required: a_required,
            },
            Shape::Object {
                name: b_name,
                properties: b_props,
                required: b_required,
            },
        ) => {
            if a_name != b_name {
                out.push(format!(
                    "{path}: type defang:index:{a_name} in schema.json, {b_name} in Rust"
                ));
            }
            let names: BTreeSet<&String> = a_props.keys().chain(b_props.keys()).collect();
            for name in names {
                let at = format!("{path}.{name}");
                match (a_props.get(name), b_props.get(name)) {
                    (Some(a), Some(b)) => compare(&at, a, b, out),
                    (Some(_), None) => out.push(format!("{at}: in schema.json, not in Rust")),
                    (None, Some(_)) => out.push(format!("{at}: in Rust, not in schema.json")),
                    (None, None) => {}
                }
            }
            for name in a_required.symmetric_difference(b_required) {
                let (yes, no) = if a_required.contains(name) {
                    ("schema.json", "Rust")
                } else {
                    ("Rust", "schema.json")
                };
                out.push(format!(
                    "{path}.{name}: required in {yes}, optional in {no}"
                ));
            }
        }
        (
            Shape::Enum {
                name: a_name,
                values: a_values,
            },
            Shape::Enum {
                name: b_name,
                values: b_values,
            },
        ) => {
            if a_name != b_name {
                out.push(format!(
                    "{path}: enum defang:index:{a_name} in schema.json, {b_name} in Rust"
                ));
            }
            if a_values != b_values {
                out.push(format!(
                    "{path}: enum values {a_values:?} in schema.json, {b_values:?} in Rust"
                ));
            }
        }
        (Shape::Primitive(a), Shape::Primitive(b)) if a == b => {}
        (a, b) => out.push(format!("{path}: {a:?} in schema.json, {b:?} in Rust")),
    }
}

#[test]
fn service_inputs_match_the_rust_type() {
    assert_schema_matches::<ServiceInputs>("defang:index:Service");
}

#[test]
fn project_inputs_match_the_rust_type() {
    assert_schema_matches::<ProjectInputs>("defang:index:Project");
}

/// An edit of the package schema, for the tests of the comparison.
type Edit = Box<dyn Fn(&mut Json)>;

/// Applies `edit` to the value at `pointer`.
fn at(pointer: &'static str, edit: impl Fn(&mut Json) + 'static) -> Edit {
    Box::new(move |package: &mut Json| {
        if let Some(value) = package.pointer_mut(pointer) {
            edit(value);
        }
    })
}

/// The comparison notices each kind of difference (so the two tests above can fail).
#[test]
fn the_comparison_catches_differences() {
    let differences = |edit: &dyn Fn(&mut Json)| {
        let mut package = schema();
        edit(&mut package);
        schema_differences::<ServiceInputs>(&package, "defang:index:Service")
    };
    const INPUTS: &str = "/resources/defang:index:Service/inputProperties";
    let cases: Vec<(&str, Edit)> = vec![
        (
            "inputProperties.replicas: in Rust, not in schema.json",
            at(INPUTS, |inputs| {
                if let Some(map) = inputs.as_object_mut() {
                    map.remove("replicas");
                }
            }),
        ),
        (
            "inputProperties.extra: in schema.json, not in Rust",
            at(INPUTS, |inputs| {
                if let Some(map) = inputs.as_object_mut() {
                    map.insert("extra".into(), json!({"type": "string"}));
                }
            }),
        ),
        (
            "inputProperties.image: required in schema.json, optional in Rust",
            at(
                "/resources/defang:index:Service/requiredInputs",
                |required| {
                    if let Some(list) = required.as_array_mut() {
                        list.push(json!("image"));
                    }
                },
            ),
        ),
        (
            "inputProperties.replicas: Primitive(\"number\") in schema.json, Primitive(\"integer\") in Rust",
            at(
                "/resources/defang:index:Service/inputProperties/replicas/type",
                |t| *t = json!("number"),
            ),
        ),
        (
            "inputProperties.ports.items.target: required in Rust, optional in schema.json",
            at("/types/defang:index:Port/required", |r| *r = json!([])),
        ),
        (
            "inputProperties.ports.items.mode: enum values",
            at("/types/defang:index:PortMode/enum", |values| {
                if let Some(list) = values.as_array_mut() {
                    list.push(json!({"value": "public", "description": "x"}));
                }
            }),
        ),
        (
            "inputProperties.command.items: Primitive(\"integer\") in schema.json",
            at(
                "/resources/defang:index:Service/inputProperties/command/items/type",
                |t| *t = json!("integer"),
            ),
        ),
        (
            "inputProperties.environment: Primitive(\"string\") in schema.json, Map",
            at(
                "/resources/defang:index:Service/inputProperties/environment",
                |e| *e = json!({"type": "string", "description": "x"}),
            ),
        ),
    ];
    for (expected, edit) in cases {
        let found = differences(edit.as_ref());
        assert!(
            found.iter().any(|d| d.starts_with(expected)),
            "expected a difference starting with {expected:?}, got {found:?}"
        );
    }
    assert_eq!(differences(&|_| {}), Vec::<String>::new());

    // And a Rust type with a field schema.json lacks.
    #[derive(JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Extended {
        #[serde(flatten)]
        inputs: ServiceInputs,
        sidecars: Vec<String>,
    }
    let found = schema_differences::<Extended>(&schema(), "defang:index:Service");
    assert!(
        found.contains(&"inputProperties.sidecars: in Rust, not in schema.json".to_string()),
        "{found:?}"
    );
}

/// The committed schema is exactly what the types generate: a change to a type, a doc comment
/// or the metadata without `make schema` fails here, with the fix.
#[test]
fn schema_json_is_generated_from_the_types() {
    let generated = defang_resources::schema::package_schema().to_pretty_string();
    if SCHEMA != generated {
        let first = SCHEMA
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| SCHEMA.lines().count().min(generated.lines().count()));
        panic!(
            "schema.json is not what the types generate (first difference at line {}): run \
             `make schema` (and `make sdk`), then commit both\n  committed: {:?}\n  generated: {:?}",
            first + 1,
            SCHEMA.lines().nth(first).unwrap_or("<end of file>"),
            generated.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

#[test]
fn package_metadata() {
    let package = schema();
    assert_eq!(package["name"], "defang");
    // The SDKs generated from this schema carry its version (`meta.supportPack`): it is the
    // provider's (the workspace's) version.
    assert_eq!(package["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(package["meta"]["supportPack"], true);
    assert_eq!(package["license"], "Apache-2.0");
    assert_eq!(
        package["language"]["nodejs"]["packageName"],
        "@defang-io/pulumi-defang"
    );
    assert_eq!(
        package["language"]["python"]["packageName"],
        "pulumi_defang"
    );
    assert_eq!(
        package["language"]["go"]["importBasePath"],
        "github.com/defang-io/pulumi-defang/sdk/go/defang"
    );
    let variables = &package["config"]["variables"];
    assert_eq!(variables["domainSuffix"]["default"], "defang.app");
    let names: BTreeSet<&str> = variables
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "region",
            "username",
            "profile",
            "domainSuffix",
            "maxRetries"
        ])
    );
    // Its default is held to the adapters' by defang-aws's config tests.
    assert_eq!(variables["maxRetries"]["type"], "integer");
}

/// Every `$ref` in the document, with where it is.
fn refs<'a>(value: &'a Json, path: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Json::Object(map) => {
            for (key, v) in map {
                if key == "$ref"
                    && let Some(r) = v.as_str()
                {
                    out.push((path.clone(), r));
                }
                refs(v, format!("{path}/{key}"), out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_ref_resolves_and_every_type_is_used() {
    let package = schema();
    let mut found = Vec::new();
    refs(&package, String::new(), &mut found);
    assert!(!found.is_empty());
    let mut used = BTreeSet::new();
    for (at, reference) in &found {
        let resolves = if let Some(token) = reference.strip_prefix("#/types/") {
            used.insert(token.to_string());
            package["types"].get(token).is_some()
        } else if let Some(token) = reference.strip_prefix("#/resources/") {
            package["resources"].get(token).is_some()
        } else {
            [
                "pulumi.json#/Any",
                "pulumi.json#/Asset",
                "pulumi.json#/Archive",
                "pulumi.json#/Json",
            ]
            .contains(reference)
        };
        assert!(resolves, "{at}: $ref {reference} does not resolve");
    }
    let declared: BTreeSet<String> = package["types"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(declared, used, "types that nothing refers to");
}

#[test]
fn tokens_are_well_formed() {
    let package = schema();
    for section in ["types", "resources"] {
        for token in package[section].as_object().unwrap().keys() {
            let parts: Vec<&str> = token.split(':').collect();
            assert_eq!(parts.len(), 3, "{token}");
            assert_eq!(parts[0], "defang", "{token}");
            assert_eq!(parts[1], "index", "{token}: use the index module");
            assert!(
                parts[2].starts_with(|c: char| c.is_ascii_uppercase())
                    && parts[2].chars().all(|c| c.is_ascii_alphanumeric()),
                "{token}"
            );
        }
    }
}

/// A description worth reading: a sentence, not the name again.
fn assert_described(at: &str, name: &str, spec: &Json) {
    let description = spec["description"].as_str().unwrap_or_default();
    assert!(
        (description.len() >= 12 && description.ends_with(['.', ')', '`']))
            || description.contains('\n'),
        "{at}: needs a real description, got {description:?}"
    );
    assert_ne!(description.to_lowercase(), name.to_lowercase(), "{at}");
}

fn assert_properties_described(at: &str, properties: &Json) {
    for (name, spec) in properties.as_object().into_iter().flatten() {
        assert_described(&format!("{at}.{name}"), name, spec);
    }
}

#[test]
fn everything_is_described() {
    let package = schema();
    assert_described("package", "defang", &package);
    assert_properties_described("config.variables", &package["config"]["variables"]);
    assert_described("provider", "provider", &package["provider"]);
    assert_properties_described(
        "provider.inputProperties",
        &package["provider"]["inputProperties"],
    );
    for (token, resource) in package["resources"].as_object().unwrap() {
        assert_described(token, token, resource);
        assert_properties_described(
            &format!("{token}.inputProperties"),
            &resource["inputProperties"],
        );
        assert_properties_described(&format!("{token}.properties"), &resource["properties"]);
    }
    for (token, definition) in package["types"].as_object().unwrap() {
        assert_described(token, token, definition);
        assert_properties_described(&format!("{token}.properties"), &definition["properties"]);
        for value in definition["enum"].as_array().into_iter().flatten() {
            assert_described(&format!("{token} {}", value["value"]), "", value);
        }
    }
}

/// Outputs echo the inputs, with the same types, and required outputs exist.
#[test]
fn outputs_include_every_input() {
    let package = schema();
    for (token, resource) in package["resources"].as_object().unwrap() {
        if resource["isComponent"] == true {
            continue; // Its outputs are what construct returns.
        }
        let outputs = &resource["properties"];
        for (name, input) in resource["inputProperties"].as_object().unwrap() {
            let Some(output) = outputs.get(name) else {
                panic!("{token}: input {name} is not an output");
            };
            assert_eq!(
                pulumi_shape(&package, input),
                pulumi_shape(&package, output),
                "{token}.{name}: input and output types differ"
            );
        }
        for name in string_set(&resource["required"]) {
            assert!(
                outputs.get(&name).is_some(),
                "{token}: required output {name} is not declared"
            );
        }
        for name in string_set(&resource["requiredInputs"]) {
            assert!(
                resource["inputProperties"].get(&name).is_some(),
                "{token}: required input {name} is not declared"
            );
        }
    }
}

#[test]
fn service_outputs_as_documented() {
    let package = schema();
    let service = &package["resources"]["defang:index:Service"];
    for (name, kind) in [
        ("domain", "string"),
        ("serviceArn", "string"),
        ("taskDefinitionArn", "string"),
        ("deployedImage", "string"),
        ("deployedCpus", "number"),
        ("deployedMemory", "integer"),
        ("desiredCount", "integer"),
        ("runningCount", "integer"),
        ("clusterName", "string"),
    ] {
        assert_eq!(service["properties"][name]["type"], kind, "{name}");
    }
    assert_eq!(
        service["properties"]["endpoints"]["items"]["type"],
        "string"
    );
    // The domain is absent without an ingress port, so it cannot be a required output.
    assert!(!string_set(&service["required"]).contains("domain"));
    let status = &service["properties"]["status"];
    // An enum type, so that the SDKs get a union type (TypeScript) and named constants (Python,
    // Go): exactly the Rust statuses, in order, each described as Defang describes it.
    assert_eq!(status["$ref"], "#/types/defang:index:ServiceStatus");
    let enumeration = &package["types"]["defang:index:ServiceStatus"];
    assert_eq!(enumeration["type"], "string");
    let declared: Vec<(&str, &str)> = enumeration["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap(),
                v["description"].as_str().unwrap(),
            )
        })
        .collect();
    let rust: Vec<(&str, &str)> = ServiceStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.description()))
        .collect();
    assert_eq!(declared, rust);
    let environment = service["inputProperties"]["environment"]["description"]
        .as_str()
        .unwrap();
    assert!(environment.contains("secret"), "{environment}");
    let memory = service["inputProperties"]["memory"]["description"]
        .as_str()
        .unwrap();
    assert!(
        memory.contains("binary") && memory.contains("bare number is MiB"),
        "{memory}"
    );
}

/// Explicit providers take the same settings as stack configuration.
#[test]
fn provider_inputs_are_the_config_variables() {
    let package = schema();
    assert_eq!(
        package["provider"]["inputProperties"],
        package["config"]["variables"]
    );
}
