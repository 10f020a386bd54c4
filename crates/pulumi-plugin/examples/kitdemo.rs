//! A provider written with the kit, small enough to read in one sitting: `kitdemo:index:Note`
//! (a custom resource that keeps a text and its length in state) and `kitdemo:index:Pair` (a
//! component that registers two notes, the second after the first).
//!
//! `cargo run -p pulumi-plugin --example kitdemo` prints a port and serves the provider the
//! way the engine launches it; a Pulumi program names it with
//! `plugins.providers: [{name: kitdemo, path: <dir holding pulumi-resource-kitdemo>}]`.

use pulumi_plugin::{
    CheckFailure, CheckRequest, CheckResponse, Child, ChildOptions, ComponentScope,
    ConstructRequest, Context, CreateRequest, CreateResponse, DeleteRequest, Diff, DiffRequest,
    Error, PropertyMap, ReadRequest, ReadResponse, UpdateRequest, Value, diff_properties,
};

const NOTE: &str = "kitdemo:index:Note";
const PAIR: &str = "kitdemo:index:Pair";

const SCHEMA: &str = r#"{
  "name": "kitdemo",
  "version": "0.1.0",
  "resources": {
    "kitdemo:index:Note": {
      "description": "A text kept in state, and its length.",
      "inputProperties": {"text": {"type": "string"}},
      "requiredInputs": ["text"],
      "properties": {"text": {"type": "string"}, "length": {"type": "number"}},
      "required": ["text", "length"]
    },
    "kitdemo:index:Pair": {
      "description": "Two notes: `<prefix>-first`, then the secret.",
      "isComponent": true,
      "inputProperties": {
        "prefix": {"type": "string"},
        "secret": {"type": "string", "secret": true}
      },
      "requiredInputs": ["prefix"],
      "properties": {
        "firstUrn": {"type": "string"},
        "firstLength": {"type": "number"},
        "secondLength": {"type": "number"}
      },
      "required": ["firstUrn", "firstLength", "secondLength"]
    }
  }
}"#;

struct KitDemo;

/// The outputs of a note: its text and length (unknown while the text is, secret when it is).
fn note_outputs(inputs: &PropertyMap) -> PropertyMap {
    let text = inputs.get("text").cloned().unwrap_or(Value::Null);
    let mut length = match text.unwrap_secrets() {
        Value::String(s) => Value::Number(s.chars().count() as f64),
        _ => Value::Unknown,
    };
    if text.contains_secrets() {
        length = length.into_secret();
    }
    PropertyMap::from([("text".into(), text), ("length".into(), length)])
}

/// `<prefix>-first`, secret when the prefix is, unknown while it is.
fn first_text(prefix: &Value) -> Result<Value, Error> {
    match prefix {
        Value::Secret(inner) => Ok(first_text(inner)?.into_secret()),
        Value::Unknown => Ok(Value::Unknown),
        Value::String(s) => Ok(Value::from(format!("{s}-first"))),
        _ => Err(Error::InvalidArgument(
            "prefix: required, a string; set `prefix` on the Pair".into(),
        )),
    }
}

#[async_trait::async_trait]
impl pulumi_plugin::Provider for KitDemo {
    fn schema(&self) -> &str {
        SCHEMA
    }

    async fn configure(&self, _: PropertyMap) -> Result<(), Error> {
        Ok(())
    }

    async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
        let mut failures = Vec::new();
        if !matches!(
            req.news.get("text").map(Value::unwrap_secrets),
            Some(Value::String(_) | Value::Unknown)
        ) {
            failures.push(CheckFailure::new(
                "text",
                "required, a string: set `text` to the note's text",
            ));
        }
        Ok(CheckResponse {
            inputs: req.news,
            failures,
        })
    }

    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        Ok(diff_properties(&req.old_inputs, &req.news, &[]))
    }

    async fn create(&self, req: CreateRequest, _: Context) -> Result<CreateResponse, Error> {
        Ok(CreateResponse {
            id: if req.preview {
                String::new()
            } else {
                format!("note-{}", req.name)
            },
            outputs: note_outputs(&req.inputs),
        })
    }

    async fn read(&self, req: ReadRequest, _: Context) -> Result<ReadResponse, Error> {
        Ok(ReadResponse {
            id: Some(req.id),
            outputs: req.old_outputs,
            inputs: req.old_inputs,
        })
    }

    async fn update(&self, req: UpdateRequest, _: Context) -> Result<PropertyMap, Error> {
        Ok(note_outputs(&req.news))
    }

    async fn delete(&self, _: DeleteRequest, _: Context) -> Result<(), Error> {
        Ok(())
    }

    async fn construct(
        &self,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error> {
        if req.type_token != PAIR {
            return Err(Error::InvalidArgument(format!(
                "unknown component {}",
                req.type_token
            )));
        }
        let prefix = req.inputs.get("prefix").cloned().unwrap_or(Value::Null);
        let first_inputs = PropertyMap::from([("text".into(), first_text(&prefix)?)]);
        let first = scope
            .register(Child::custom(
                NOTE,
                &format!("{}-first", req.name),
                first_inputs,
            ))
            .await?;
        let secret = match req.inputs.get("secret") {
            Some(v @ Value::Secret(_)) => v.clone(),
            Some(Value::Null) | None => Value::from("none").into_secret(),
            // A plain value from a program that forgot to mark it: secret all the same.
            Some(v) => v.clone().into_secret(),
        };
        let second = scope
            .register(
                Child::custom(
                    NOTE,
                    &format!("{}-second", req.name),
                    PropertyMap::from([("text".into(), secret)]),
                )
                .with_options(ChildOptions {
                    depends_on: vec![first.urn.clone()],
                    ..Default::default()
                }),
            )
            .await?;
        let length =
            |outputs: &PropertyMap| outputs.get("length").cloned().unwrap_or(Value::Unknown);
        Ok(PropertyMap::from([
            ("firstUrn".into(), Value::from(first.urn.clone())),
            ("firstLength".into(), length(&first.outputs)),
            ("secondLength".into(), length(&second.outputs)),
        ]))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    pulumi_plugin::serve("kitdemo", "0.1.0", KitDemo).await
}
