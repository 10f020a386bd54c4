//! A provider written with the kit, small enough to read in one sitting: `kitdemo:index:Note`
//! (a typed custom resource that keeps a text and its length in state) and `kitdemo:index:Pair` (a
//! component that registers two notes, the second after the first).
//!
//! `cargo run -p pulumi-plugin --example kitdemo` prints a port and serves the provider the
//! way the engine launches it; a Pulumi program names it with
//! `plugins.providers: [{name: kitdemo, path: <dir holding pulumi-resource-kitdemo>}]`.

use pulumi_plugin::PackageSchema;
use pulumi_plugin::{
    CheckRequest, CheckResponse, Child, ChildOptions, Component, ComponentScope, ConstructRequest,
    Context, Create, CreateRequest, CreateResponse, DeleteRequest, Diff, DiffRequest, Error,
    PropertyMap, ReadRequest, ReadResponse, Resource, Resources, Update, UpdateRequest, Value,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const NOTE: &str = "kitdemo:index:Note";
const PAIR: &str = "kitdemo:index:Pair";

/// A text kept in state, and its length.
#[derive(Serialize, Deserialize, JsonSchema)]
struct NoteInputs {
    /// The text to keep.
    text: String,
}

/// What a note gives beyond its text: the length (secret when the text is, unknown while it
/// is).
#[derive(Serialize, Deserialize, JsonSchema)]
struct NoteOutputs {
    /// The text kept.
    text: String,
    /// The text's length in characters.
    length: usize,
}

/// Two notes: `<prefix>-first`, then the secret.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct PairInputs {
    /// The first note's text is `<prefix>-first`.
    prefix: String,
    /// The second note's text, kept secret.
    #[schemars(extend("secret" = true))]
    secret: Option<String>,
}

/// What a pair gives.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct PairOutputs {
    /// The URN of the first note.
    first_urn: String,
    /// The length of the first note's text.
    first_length: f64,
    /// The length of the second note's text.
    second_length: f64,
}

/// A typed resource: only create and update are written; check (from the types), diff (from
/// the inputs), read (the state) and delete (nothing to do) are the kit's defaults.
struct Note;

#[async_trait::async_trait]
impl Resource<()> for Note {
    const TOKEN: &'static str = NOTE;
    type Inputs = NoteInputs;
    type Outputs = NoteOutputs;
    const UPDATES_IN_PLACE: bool = true;
    const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] =
        &[("length", &["text"])];

    async fn create(
        &self,
        _: &(),
        req: Create<NoteInputs>,
        _: Context,
    ) -> Result<(String, NoteOutputs), Error> {
        let id = if req.preview {
            String::new()
        } else {
            format!("note-{}", req.name)
        };
        Ok((id, note(req.inputs)))
    }

    async fn update(
        &self,
        _: &(),
        req: Update<NoteInputs, NoteOutputs>,
        _: Context,
    ) -> Result<NoteOutputs, Error> {
        Ok(note(req.news))
    }
}

fn note(inputs: NoteInputs) -> NoteOutputs {
    NoteOutputs {
        length: inputs.text.chars().count(),
        text: inputs.text,
    }
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

/// A component: two notes, the second after the first.
struct Pair;

#[async_trait::async_trait]
impl Component<()> for Pair {
    fn token(&self) -> &'static str {
        PAIR
    }

    async fn construct(
        &self,
        _: Option<&()>,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error> {
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
            Some(Value::Null) | None => {
                scope
                    .log()
                    .warn("no `secret` given: the second note keeps \"none\"")
                    .await;
                Value::from("none").into_secret()
            }
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

struct KitDemo {
    resources: Resources<()>,
    /// Generated from the types at start: small enough that it costs nothing to notice.
    schema: String,
}

#[async_trait::async_trait]
impl pulumi_plugin::Provider for KitDemo {
    fn schema(&self) -> &str {
        &self.schema
    }

    async fn configure(&self, _: PropertyMap) -> Result<(), Error> {
        Ok(())
    }

    async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
        self.resources.check(None, req).await
    }

    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        self.resources.diff(req).await
    }

    async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error> {
        self.resources.create(&(), req, ctx).await
    }

    async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error> {
        self.resources.read(&(), req, ctx).await
    }

    async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
        self.resources.update(&(), req, ctx).await
    }

    async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        self.resources.delete(&(), req, ctx).await
    }

    async fn construct(
        &self,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error> {
        self.resources.construct(None, req, scope).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let schema = PackageSchema::new(serde_json::json!({"name": "kitdemo", "version": "0.1.0"}))
        .typed::<(), Note>()
        .component::<PairInputs, PairOutputs>(PAIR)
        .to_pretty_string();
    let provider = KitDemo {
        resources: Resources::default().typed(Note).component(Pair),
        schema,
    };
    pulumi_plugin::serve("kitdemo", "0.1.0", provider).await
}
