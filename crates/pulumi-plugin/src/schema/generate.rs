//! The package schema (what `GetSchema` serves and the SDK generators read), derived from the
//! Rust types of a provider's configuration and resources with schemars: properties, their
//! descriptions (the doc comments), required properties, enums (with each variant's doc
//! comment), nested object types, components, and the two property flags Pulumi's schema has:
//! `#[schemars(extend("default" = …))]` and `#[schemars(extend("secret" = true))]` (an input the
//! SDKs make secret before it leaves the program).
//!
//! The rules, which follow Pulumi's schema and the way typed resources use it:
//! - a resource's input properties are its `Inputs` type; its output properties are the inputs
//!   overlaid by its `Outputs` type, so an output named like an input (e.g. a name that
//!   defaults to the resource name) has the output's type, optionality and description;
//! - `Option` means not required; everything else is required (an output with
//!   `#[serde(default)]` too: outputs are described as the provider writes them);
//! - every named type (`$defs`) becomes `<package>:index:<Name>`: a string enum when it is a
//!   set of constants, an object type otherwise;
//! - a doc comment's single line breaks are joined (they are wrapping); blank lines stay.
//!
//! Anything else a JSON schema can say (ranges, formats, patterns) is for [`super::Shape`]:
//! Pulumi's schema has no place for it.

use schemars::JsonSchema;
use serde_json::{Map, Value as Json, json};

/// A package schema under construction.
///
/// # Example
///
/// ```rust
/// use pulumi_plugin::PackageSchema;
/// use schemars::JsonSchema;
/// use serde_json::json;
///
/// #[derive(JsonSchema)]
/// struct NoteInputs {
///     /// The text to keep.
///     text: String,
///     /// Where it is kept; moving it replaces the note.
///     shelf: Option<String>,
/// }
///
/// #[derive(JsonSchema)]
/// struct NoteOutputs {
///     /// The text's length in characters.
///     length: u32,
/// }
///
/// let schema = PackageSchema::new(json!({"name": "demo", "version": "0.1.0"}))
///     .resource::<NoteInputs, NoteOutputs>("demo:index:Note", &["shelf"])
///     .to_value();
/// let note = &schema["resources"]["demo:index:Note"];
/// let text = &note["inputProperties"]["text"];
/// assert_eq!(text["type"], "string");
/// assert_eq!(text["description"], "The text to keep.");
/// assert_eq!(note["requiredInputs"], json!(["text"]), "an Option is not required");
/// assert_eq!(note["inputProperties"]["shelf"]["willReplaceOnChanges"], true);
/// // The outputs are the inputs overlaid by the output type.
/// assert_eq!(note["required"], json!(["text", "length"]));
/// assert_eq!(note["properties"]["length"]["type"], "integer");
/// ```
#[derive(Clone, Debug)]
pub struct PackageSchema {
    name: String,
    metadata: Map<String, Json>,
    config: Option<Map<String, Json>>,
    provider: Option<Map<String, Json>>,
    types: Map<String, Json>,
    resources: Map<String, Json>,
    functions: Map<String, Json>,
}

/// A resource's place in the schema: its token, input and output types, and the inputs whose
/// change replaces it.
#[derive(Clone, Debug)]
pub struct ResourceSchema {
    /// The type token, `<package>:<module>:<Type>`.
    pub token: String,
    /// The JSON schema (schemars) of the inputs type.
    pub inputs: Json,
    /// The JSON schema (schemars) of the outputs type, laid over the inputs.
    pub outputs: Json,
    /// Input properties marked `willReplaceOnChanges`; each must be an input.
    pub replace_on_changes: Vec<String>,
    /// A component (`Construct`), whose children are registered by the provider.
    pub is_component: bool,
}

impl ResourceSchema {
    /// A custom resource of inputs `I` and outputs `O`.
    pub fn of<I: JsonSchema, O: JsonSchema>(token: &str, replace_on_changes: &[&str]) -> Self {
        ResourceSchema {
            token: token.to_string(),
            inputs: schemars::schema_for!(I).to_value(),
            outputs: output_schema::<O>(),
            replace_on_changes: replace_on_changes.iter().map(|s| s.to_string()).collect(),
            is_component: false,
        }
    }
}

/// The schema of what the provider writes: a field is required when it is always written (and
/// not null: see [`PackageSchema::object_properties`]), so a `#[serde(default)]` that lets older
/// states decode neither makes an output optional nor gives it a default (a default is for
/// inputs the program leaves out).
fn output_schema<O: JsonSchema>() -> Json {
    let mut schema = schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<O>()
        .to_value();
    if let Some(Json::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Json::Object(property) = property {
                property.remove("default");
            }
        }
    }
    schema
}

/// Whether a property's schema admits `null` (an `Option`).
fn allows_null(schema: &Json) -> bool {
    let null_type = |s: &Json| match s.get("type") {
        Some(Json::String(t)) => t == "null",
        Some(Json::Array(types)) => types.iter().any(|t| t == "null"),
        _ => false,
    };
    null_type(schema)
        || ["anyOf", "oneOf"].iter().any(|key| {
            schema
                .get(*key)
                .and_then(Json::as_array)
                .is_some_and(|branches| branches.iter().any(null_type))
        })
}

impl PackageSchema {
    /// Starts from the package's metadata: `name` (required), `version`, `description`,
    /// `language`, …; everything but `config`, `provider`, `types` and `resources`, which are
    /// derived.
    ///
    /// # Panics
    /// When `metadata` is not an object with a string `name`, or already holds a derived
    /// section: both are mistakes in the provider's source, not in anyone's input.
    pub fn new(metadata: Json) -> Self {
        let Json::Object(metadata) = metadata else {
            panic!("package metadata must be a JSON object");
        };
        let name = metadata
            .get("name")
            .and_then(Json::as_str)
            .expect("package metadata must have a string `name`")
            .to_string();
        for derived in ["config", "provider", "types", "resources"] {
            assert!(
                !metadata.contains_key(derived),
                "package metadata must not hold `{derived}`: it is derived from the types"
            );
        }
        PackageSchema {
            name,
            metadata,
            config: None,
            provider: None,
            types: Map::new(),
            resources: Map::new(),
            functions: Map::new(),
        }
    }

    /// The provider's configuration: `C`'s properties are both the stack config variables
    /// (`<package>:<name>`) and the explicit provider resource's inputs; `C`'s doc comment
    /// describes the provider resource.
    pub fn config<C: JsonSchema>(mut self) -> Self {
        let root = schemars::schema_for!(C).to_value();
        let (properties, required) = self.object_properties(&root, &root);
        let mut config = Map::new();
        config.insert("variables".into(), Json::Object(properties.clone()));
        if !required.is_empty() {
            config.insert("required".into(), json!(required));
        }
        let mut provider = Map::new();
        if let Some(description) = description_of(&root) {
            provider.insert("description".into(), description.into());
        }
        provider.insert("inputProperties".into(), Json::Object(properties));
        if !required.is_empty() {
            provider.insert("requiredInputs".into(), json!(required));
        }
        self.config = Some(config);
        self.provider = Some(provider);
        self
    }

    /// A resource of inputs `I` and outputs `O` (see the module's rules).
    pub fn resource<I: JsonSchema, O: JsonSchema>(
        self,
        token: &str,
        replace_on_changes: &[&str],
    ) -> Self {
        self.resource_schema(ResourceSchema::of::<I, O>(token, replace_on_changes))
    }

    /// A typed resource: its token, inputs, outputs and replace-on-change properties.
    pub fn typed<S: Send + Sync + 'static, R: crate::resource::Resource<S>>(self) -> Self {
        self.resource::<R::Inputs, R::Outputs>(R::TOKEN, R::REPLACE_ON_CHANGES)
    }

    /// A provider function of arguments `I` and result `O` (`I`'s doc comment describes it).
    pub fn function<I: JsonSchema, O: JsonSchema>(mut self, token: &str) -> Self {
        let inputs = schemars::schema_for!(I).to_value();
        let outputs = schemars::schema_for!(O).to_value();
        let mut spec = Map::new();
        if let Some(description) = description_of(&inputs) {
            spec.insert("description".into(), description.into());
        }
        for (key, root) in [("inputs", &inputs), ("outputs", &outputs)] {
            let (properties, required) = self.object_properties(root, root);
            let mut object = Map::new();
            object.insert("type".into(), "object".into());
            object.insert("properties".into(), Json::Object(properties));
            if !required.is_empty() {
                object.insert("required".into(), json!(required));
            }
            spec.insert(key.into(), Json::Object(object));
        }
        let previous = self.functions.insert(token.to_string(), Json::Object(spec));
        assert!(previous.is_none(), "{token} is declared twice");
        self
    }

    /// A component resource of inputs `I` and outputs `O`.
    pub fn component<I: JsonSchema, O: JsonSchema>(self, token: &str) -> Self {
        let mut resource = ResourceSchema::of::<I, O>(token, &[]);
        resource.is_component = true;
        self.resource_schema(resource)
    }

    /// A resource from its parts, for what the typed forms do not cover (a schema built by
    /// hand, or adjusted).
    ///
    /// # Panics
    /// When the token is declared twice or a replace-on-change property is not an input.
    pub fn resource_schema(mut self, resource: ResourceSchema) -> Self {
        let (mut inputs, required_inputs) =
            self.object_properties(&resource.inputs, &resource.inputs);
        let (overlay, required_overlay) =
            self.object_properties(&resource.outputs, &resource.outputs);
        // A custom resource's state holds its inputs; a component's outputs are only what its
        // construct returns.
        let mut outputs = if resource.is_component {
            Map::new()
        } else {
            inputs.clone()
        };
        let mut required: Vec<String> = required_inputs
            .iter()
            .filter(|name| !resource.is_component && !overlay.contains_key(name.as_str()))
            .cloned()
            .collect();
        for (name, property) in overlay {
            outputs.insert(name, property);
        }
        for name in outputs.keys() {
            if required_overlay.contains(name) && !required.contains(name) {
                required.push(name.clone());
            }
        }
        // Required outputs in the order of the properties, as a reader expects.
        required.sort_by_key(|name| outputs.keys().position(|k| k == name));
        for name in &resource.replace_on_changes {
            let mut found = false;
            for properties in [&mut inputs, &mut outputs] {
                if let Some(Json::Object(property)) = properties.get_mut(name) {
                    property.insert("willReplaceOnChanges".into(), true.into());
                    found = true;
                }
            }
            assert!(
                found,
                "{}: replace-on-change property `{name}` is not an input",
                resource.token
            );
        }
        let mut spec = Map::new();
        if let Some(description) = description_of(&resource.inputs) {
            spec.insert("description".into(), description.into());
        }
        if resource.is_component {
            spec.insert("isComponent".into(), true.into());
        }
        spec.insert("properties".into(), Json::Object(outputs));
        if !required.is_empty() {
            spec.insert("required".into(), json!(required));
        }
        spec.insert("inputProperties".into(), Json::Object(inputs));
        if !required_inputs.is_empty() {
            spec.insert("requiredInputs".into(), json!(required_inputs));
        }
        let previous = self
            .resources
            .insert(resource.token.clone(), Json::Object(spec));
        assert!(previous.is_none(), "{} is declared twice", resource.token);
        self
    }

    /// The schema as JSON.
    pub fn to_value(&self) -> Json {
        let mut out = self.metadata.clone();
        if let Some(config) = &self.config {
            out.insert("config".into(), Json::Object(config.clone()));
        }
        if let Some(provider) = &self.provider {
            out.insert("provider".into(), Json::Object(provider.clone()));
        }
        out.insert("types".into(), Json::Object(self.types.clone()));
        out.insert("resources".into(), Json::Object(self.resources.clone()));
        if !self.functions.is_empty() {
            out.insert("functions".into(), Json::Object(self.functions.clone()));
        }
        Json::Object(out)
    }

    /// The schema as the file a repository commits: pretty-printed, with a final newline.
    pub fn to_pretty_string(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.to_value()).expect("a JSON value always serializes");
        text.push('\n');
        text
    }

    /// The properties of an object schema, and which are required: never one that may be null
    /// (an `Option` written as null is absent to Pulumi).
    fn object_properties(
        &mut self,
        root: &Json,
        schema: &Json,
    ) -> (Map<String, Json>, Vec<String>) {
        let mut properties = Map::new();
        let mut nullable = Vec::new();
        if let Some(Json::Object(declared)) = schema.get("properties") {
            for (name, property) in declared {
                if allows_null(property) {
                    nullable.push(name.as_str());
                }
                properties.insert(name.clone(), self.property(root, property));
            }
        }
        let required = schema
            .get("required")
            .and_then(Json::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(Json::as_str)
                    .filter(|name| !nullable.contains(name))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        (properties, required)
    }

    /// One property (or array item, or map value): its Pulumi type, description and default.
    fn property(&mut self, root: &Json, schema: &Json) -> Json {
        let mut out = Map::new();
        let inner = without_null(schema);
        if let Some(reference) = inner.get("$ref").and_then(Json::as_str) {
            let token = self.named_type(root, reference);
            out.insert("$ref".into(), format!("#/types/{token}").into());
        } else {
            match type_of(inner) {
                Some("array") => {
                    out.insert("type".into(), "array".into());
                    let items = inner.get("items").unwrap_or(&Json::Bool(true));
                    out.insert("items".into(), self.property(root, items));
                }
                Some("object") => {
                    out.insert("type".into(), "object".into());
                    let values = inner
                        .get("additionalProperties")
                        .filter(|v| v.is_object())
                        .unwrap_or(&Json::Bool(true));
                    out.insert("additionalProperties".into(), self.property(root, values));
                }
                Some(scalar @ ("string" | "integer" | "number" | "boolean")) => {
                    out.insert("type".into(), scalar.into());
                }
                // No type: anything goes.
                _ => {
                    out.insert("$ref".into(), "pulumi.json#/Any".into());
                }
            }
        }
        if let Some(description) = description_of(schema).or_else(|| description_of(inner)) {
            out.insert("description".into(), description.into());
        }
        // Pulumi's defaults are strings, numbers and booleans (serde's `default` on a list or
        // map makes schemars write `[]`/`{}`, which is no default to a Pulumi SDK).
        if let Some(default) = schema
            .get("default")
            .filter(|d| d.is_string() || d.is_number() || d.is_boolean())
        {
            out.insert("default".into(), default.clone());
        }
        if schema.get("secret") == Some(&Json::Bool(true)) {
            out.insert("secret".into(), true.into());
        }
        Json::Object(out)
    }

    /// Declares the type a `$ref` names (once), and returns its token.
    fn named_type(&mut self, root: &Json, reference: &str) -> String {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        let token = format!("{}:index:{name}", self.name);
        if self.types.contains_key(&token) {
            return token;
        }
        let pointer = reference.strip_prefix('#').unwrap_or(reference);
        let definition = root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("unresolved schema reference {reference}"))
            .clone();
        // Declared before its properties are walked, so a recursive type terminates.
        self.types.insert(token.clone(), Json::Null);
        let spec = match enum_values(&definition) {
            Some(values) => {
                let mut spec = Map::new();
                spec.insert("type".into(), "string".into());
                if let Some(description) = description_of(&definition) {
                    spec.insert("description".into(), description.into());
                }
                spec.insert("enum".into(), Json::Array(values));
                spec
            }
            None => {
                let (properties, required) = self.object_properties(root, &definition);
                let mut spec = Map::new();
                spec.insert("type".into(), "object".into());
                if let Some(description) = description_of(&definition) {
                    spec.insert("description".into(), description.into());
                }
                spec.insert("properties".into(), Json::Object(properties));
                if !required.is_empty() {
                    spec.insert("required".into(), json!(required));
                }
                spec
            }
        };
        self.types.insert(token.clone(), Json::Object(spec));
        token
    }
}

/// A string enum's values as Pulumi declares them (`value`, `name`, `description`), or `None`
/// when the schema is not a set of string constants.
fn enum_values(schema: &Json) -> Option<Vec<Json>> {
    let value = |constant: &str, description: Option<String>| {
        let mut out = Map::new();
        out.insert("value".into(), constant.into());
        out.insert("name".into(), pascal_case(constant).into());
        if let Some(description) = description {
            out.insert("description".into(), description.into());
        }
        Json::Object(out)
    };
    if let Some(constants) = schema.get("enum").and_then(Json::as_array) {
        return constants
            .iter()
            .map(|c| c.as_str().map(|c| value(c, None)))
            .collect();
    }
    let branches = schema.get("oneOf").and_then(Json::as_array)?;
    branches
        .iter()
        .map(|branch| {
            let constant = branch.get("const").and_then(Json::as_str)?;
            Some(value(constant, description_of(branch)))
        })
        .collect()
}

/// The schema without its `null` alternative (how schemars spells `Option`).
fn without_null(schema: &Json) -> &Json {
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Json::as_array) {
            let not_null: Vec<&Json> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Json::as_str) != Some("null"))
                .collect();
            if not_null.len() == 1 && branches.len() == 2 {
                return not_null[0];
            }
        }
    }
    schema
}

/// The one non-null type a schema declares.
fn type_of(schema: &Json) -> Option<&str> {
    match schema.get("type")? {
        Json::String(t) => Some(t),
        Json::Array(types) => {
            let mut not_null = types
                .iter()
                .filter_map(Json::as_str)
                .filter(|t| *t != "null");
            let first = not_null.next();
            match not_null.next() {
                None => first,
                Some(_) => None,
            }
        }
        _ => None,
    }
}

/// A doc comment as a description: lines joined, paragraphs kept.
fn description_of(schema: &Json) -> Option<String> {
    let text = schema.get("description")?.as_str()?;
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        .collect();
    Some(paragraphs.join("\n\n"))
}

/// `linux/amd64` → `LinuxAmd64`, `BUILD_QUEUED` → `BuildQueued`, `http2` → `Http2`.
fn pascal_case(value: &str) -> String {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// A widget: a thing with
    /// a name.
    ///
    /// Second paragraph.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct WidgetInputs {
        /// The widget's name; changing it replaces the widget.
        name: String,
        /// How big, when given.
        #[serde(default)]
        size: Option<Size>,
        /// Parts, in order.
        #[serde(default)]
        parts: Vec<Part>,
        /// Labels by key.
        #[serde(default)]
        labels: BTreeMap<String, String>,
        /// A password.
        #[serde(default)]
        #[schemars(extend("secret" = true))]
        password: Option<String>,
        /// How many; defaults to 3.
        #[serde(default)]
        #[schemars(extend("default" = 3))]
        count: Option<u32>,
    }

    /// A widget's outputs beyond its inputs.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct WidgetOutputs {
        /// The size it got (the default applied).
        size: Size,
        /// Its ID in the widget store.
        widget_id: String,
        /// When it was last polished, if ever.
        polished_at: Option<String>,
    }

    /// A part of a widget.
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Part {
        /// The part number.
        number: u16,
        /// Where it sits.
        place: Option<String>,
    }

    /// Widget sizes.
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    #[allow(dead_code)]
    enum Size {
        /// Fits in a hand.
        ExtraSmall,
        /// Needs a truck.
        Large,
    }

    fn package() -> Json {
        PackageSchema::new(json!({"name": "shop", "version": "1.0.0"}))
            .resource::<WidgetInputs, WidgetOutputs>("shop:index:Widget", &["name"])
            .to_value()
    }

    #[test]
    fn inputs_are_the_input_type() {
        let widget = &package()["resources"]["shop:index:Widget"];
        let inputs = &widget["inputProperties"];
        let names: Vec<&String> = inputs.as_object().unwrap().keys().collect();
        assert_eq!(
            names,
            ["name", "size", "parts", "labels", "password", "count"],
            "in the order of the fields"
        );
        assert_eq!(
            widget["requiredInputs"],
            json!(["name"]),
            "Option and defaults are not"
        );
        assert_eq!(inputs["name"]["type"], "string");
        assert_eq!(inputs["name"]["willReplaceOnChanges"], true);
        assert_eq!(inputs["size"]["$ref"], "#/types/shop:index:Size");
        assert_eq!(inputs["size"]["description"], "How big, when given.");
        assert_eq!(
            inputs["parts"],
            json!({"type": "array", "items": {"$ref": "#/types/shop:index:Part"},
                   "description": "Parts, in order."})
        );
        assert_eq!(
            inputs["labels"]["additionalProperties"],
            json!({"type": "string"})
        );
        assert_eq!(inputs["password"]["secret"], true);
        assert_eq!(inputs["count"]["type"], "integer");
        assert_eq!(inputs["count"]["default"], 3);
        assert!(inputs["name"].get("secret").is_none());
    }

    #[test]
    fn outputs_are_the_inputs_overlaid_by_the_output_type() {
        let widget = &package()["resources"]["shop:index:Widget"];
        let outputs = &widget["properties"];
        let names: Vec<&String> = outputs.as_object().unwrap().keys().collect();
        assert_eq!(
            names,
            [
                "name",
                "size",
                "parts",
                "labels",
                "password",
                "count",
                "widgetId",
                "polishedAt"
            ]
        );
        assert_eq!(
            outputs["size"]["description"], "The size it got (the default applied).",
            "an output named like an input has the output's description"
        );
        assert_eq!(outputs["name"]["willReplaceOnChanges"], true);
        assert_eq!(
            widget["required"],
            json!(["name", "size", "widgetId"]),
            "required inputs, and the output type's non-Option fields, in property order"
        );
    }

    /// Outputs that older states may lack decode with a default: they stay required (the
    /// provider always writes them) and get no Pulumi default; an `Option` is never required.
    #[test]
    fn outputs_are_described_as_written() {
        /// A gadget.
        #[derive(Deserialize, JsonSchema)]
        #[allow(dead_code)]
        struct GadgetInputs {
            /// Its label.
            label: String,
        }
        #[derive(Deserialize, JsonSchema)]
        #[serde(rename_all = "camelCase", default)]
        #[allow(dead_code)]
        struct GadgetOutputs {
            /// Added in version 2.
            serial: u32,
            /// Written as null when there is none.
            owner: Option<String>,
        }
        impl Default for GadgetOutputs {
            fn default() -> Self {
                GadgetOutputs {
                    serial: 7,
                    owner: None,
                }
            }
        }
        let schema = PackageSchema::new(json!({"name": "shop"}))
            .resource::<GadgetInputs, GadgetOutputs>("shop:index:Gadget", &[])
            .to_value();
        let gadget = &schema["resources"]["shop:index:Gadget"];
        assert_eq!(gadget["required"], json!(["label", "serial"]));
        assert!(
            gadget["properties"]["serial"].get("default").is_none(),
            "{gadget}"
        );
    }

    #[test]
    fn descriptions_join_wrapped_lines_and_keep_paragraphs() {
        let widget = &package()["resources"]["shop:index:Widget"];
        assert_eq!(
            widget["description"],
            "A widget: a thing with a name.\n\nSecond paragraph."
        );
    }

    #[test]
    fn named_types_become_object_and_enum_types() {
        let types = &package()["types"];
        assert_eq!(
            types["shop:index:Part"],
            json!({
                "type": "object",
                "description": "A part of a widget.",
                "properties": {
                    "number": {"type": "integer", "description": "The part number."},
                    "place": {"type": "string", "description": "Where it sits."}
                },
                "required": ["number"]
            })
        );
        assert_eq!(
            types["shop:index:Size"],
            json!({
                "type": "string",
                "description": "Widget sizes.",
                "enum": [
                    {"value": "EXTRA_SMALL", "name": "ExtraSmall", "description": "Fits in a hand."},
                    {"value": "LARGE", "name": "Large", "description": "Needs a truck."}
                ]
            })
        );
        assert_eq!(types.as_object().unwrap().len(), 2);
    }

    #[test]
    fn config_is_both_the_variables_and_the_provider_inputs() {
        /// The shop's provider.
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Config {
            /// Where the shop is; defaults to `eu`.
            #[schemars(extend("default" = "eu"))]
            region: Option<String>,
        }
        let package = PackageSchema::new(json!({"name": "shop"}))
            .config::<Config>()
            .to_value();
        let region = json!({"type": "string", "description": "Where the shop is; defaults to `eu`.",
                            "default": "eu"});
        assert_eq!(package["config"]["variables"]["region"], region);
        assert_eq!(package["provider"]["inputProperties"]["region"], region);
        assert_eq!(package["provider"]["description"], "The shop's provider.");
        assert!(package["config"].get("required").is_none());
    }

    #[test]
    fn components_are_marked() {
        let package = PackageSchema::new(json!({"name": "shop"}))
            .component::<WidgetInputs, WidgetOutputs>("shop:index:Kit")
            .to_value();
        let kit = &package["resources"]["shop:index:Kit"];
        assert_eq!(kit["isComponent"], true);
        // Outputs are what construct returns, not the inputs echoed.
        let outputs: Vec<&String> = kit["properties"].as_object().unwrap().keys().collect();
        assert_eq!(outputs, ["size", "widgetId", "polishedAt"]);
        assert_eq!(kit["required"], json!(["size", "widgetId"]));
    }

    #[test]
    fn functions_have_inputs_and_outputs() {
        let package = PackageSchema::new(json!({"name": "shop"}))
            .function::<WidgetInputs, WidgetOutputs>("shop:index:getWidget")
            .to_value();
        let function = &package["functions"]["shop:index:getWidget"];
        assert_eq!(
            function["description"],
            "A widget: a thing with a name.\n\nSecond paragraph."
        );
        assert_eq!(function["inputs"]["required"], json!(["name"]));
        assert_eq!(function["inputs"]["properties"]["name"]["type"], "string");
        assert_eq!(function["outputs"]["required"], json!(["size", "widgetId"]));
        assert_eq!(
            function["outputs"]["properties"]["size"]["$ref"],
            "#/types/shop:index:Size"
        );
        // A list's `[]` default (serde's `default`) is no Pulumi default.
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Listed {
            /// Items.
            #[serde(default)]
            items: Vec<String>,
        }
        let listed = PackageSchema::new(json!({"name": "shop"}))
            .function::<Listed, Listed>("shop:index:getList")
            .to_value();
        let items = &listed["functions"]["shop:index:getList"]["inputs"]["properties"]["items"];
        assert!(items.get("default").is_none(), "{items}");
        // No functions, no section.
        let none = PackageSchema::new(json!({"name": "shop"})).to_value();
        assert!(none.get("functions").is_none());
    }

    #[test]
    fn pascal_case_names() {
        assert_eq!(pascal_case("linux/amd64"), "LinuxAmd64");
        assert_eq!(pascal_case("BUILD_QUEUED"), "BuildQueued");
        assert_eq!(pascal_case("http2"), "Http2");
    }

    #[test]
    #[should_panic(expected = "replace-on-change property `nmae` is not an input")]
    fn a_misspelled_replace_on_change_property_is_a_mistake() {
        PackageSchema::new(json!({"name": "shop"}))
            .resource::<WidgetInputs, WidgetOutputs>("shop:index:Widget", &["nmae"]);
    }

    #[test]
    fn the_file_is_pretty_and_ends_with_a_newline() {
        let text = PackageSchema::new(json!({"name": "shop"})).to_pretty_string();
        assert!(text.starts_with("{\n  \"name\": \"shop\""), "{text}");
        assert!(text.ends_with("}\n"));
    }
}
