//! Resources served by type token: a [`Resources`] registry of [`RawResource`]s (property-map
//! level), and the typed [`Resource`] trait whose check, diff, read and delete have defaults
//! driven by its `Inputs` and `Outputs` types.
//!
//! `S` is what the provider's `configure` produced (clients, settings): every operation but
//! Check and Diff gets it; Check may run before Configure, so it gets an `Option`.

use crate::component::{ComponentScope, ConstructRequest};
use crate::context::Context;
use crate::diff::{Diff, diff_properties};
use crate::error::Error;
use crate::provider::{
    CheckFailure, CheckRequest, CheckResponse, CreateRequest, CreateResponse, DeleteRequest,
    DiffRequest, ReadRequest, ReadResponse, UpdateRequest,
};
use crate::schema::Shape;
use crate::value::{PropertyMap, Value, from_properties, to_properties};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// One resource type at the level of property maps: what the engine sends, unchanged.
#[async_trait::async_trait]
pub trait RawResource<S: Send + Sync + 'static>: Send + Sync + 'static {
    /// The type token, `<package>:<module>:<Type>`.
    fn token(&self) -> &'static str;
    /// [`Provider::check`](crate::Provider::check) for this type; `state` is `None` before
    /// Configure.
    async fn check(&self, state: Option<&S>, req: CheckRequest) -> Result<CheckResponse, Error>;
    /// [`Provider::diff`](crate::Provider::diff) for this type.
    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error>;
    /// [`Provider::create`](crate::Provider::create) for this type.
    async fn create(
        &self,
        state: &S,
        req: CreateRequest,
        ctx: Context,
    ) -> Result<CreateResponse, Error>;
    /// [`Provider::read`](crate::Provider::read) for this type.
    async fn read(&self, state: &S, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error>;
    /// [`Provider::update`](crate::Provider::update) for this type.
    async fn update(
        &self,
        state: &S,
        req: UpdateRequest,
        ctx: Context,
    ) -> Result<PropertyMap, Error>;
    /// [`Provider::delete`](crate::Provider::delete) for this type.
    async fn delete(&self, state: &S, req: DeleteRequest, ctx: Context) -> Result<(), Error>;
}

/// A component resource type: its implementation registers child resources (see
/// [`crate::component`]). `state` is what Configure made, when it has run.
#[async_trait::async_trait]
pub trait Component<S: Send + Sync + 'static>: Send + Sync + 'static {
    /// The type token, `<package>:<module>:<Type>`.
    fn token(&self) -> &'static str;
    /// Registers the children through `scope` and returns the component's outputs.
    async fn construct(
        &self,
        state: Option<&S>,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error>;
}

/// A provider function (`Invoke`): a computation over its arguments, with no state of its own.
/// `state` is what Configure made, when it has run.
#[async_trait::async_trait]
pub trait Function<S: Send + Sync + 'static>: Send + Sync + 'static {
    /// The function's token, `<package>:<module>:<name>` (by convention `getX`).
    fn token(&self) -> &'static str;
    /// The result for `args`; [`Error::InvalidArgument`] for arguments the caller must fix.
    async fn invoke(&self, state: Option<&S>, args: PropertyMap) -> Result<PropertyMap, Error>;
}

/// The resources a provider serves, by type token.
///
/// # Example
///
/// A registry of one typed resource (`Note`, as in [`Resource`]'s example); a provider's
/// [`Provider`](crate::Provider) methods send each request on with one line.
///
/// ```rust
/// # use pulumi_plugin::{Context, Create, Error, Resource};
/// # use schemars::JsonSchema;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Serialize, Deserialize, JsonSchema)]
/// # #[serde(deny_unknown_fields)]
/// # struct NoteInputs { text: String }
/// # #[derive(Serialize, Deserialize, JsonSchema)]
/// # struct NoteOutputs { text: String, length: usize }
/// # struct Note;
/// # #[async_trait::async_trait]
/// # impl Resource<()> for Note {
/// #     const TOKEN: &'static str = "demo:index:Note";
/// #     type Inputs = NoteInputs;
/// #     type Outputs = NoteOutputs;
/// #     async fn create(&self, _: &(), req: Create<NoteInputs>, _: Context)
/// #         -> Result<(String, NoteOutputs), Error> {
/// #         let length = req.inputs.text.chars().count();
/// #         Ok((format!("note-{}", req.name), NoteOutputs { text: req.inputs.text, length }))
/// #     }
/// # }
/// use futures::executor::block_on;
/// use pulumi_plugin::{CheckRequest, PropertyMap, Resources, Value};
///
/// let resources = Resources::<()>::default().typed(Note);
/// assert_eq!(resources.tokens().collect::<Vec<_>>(), ["demo:index:Note"]);
///
/// let check = |news: PropertyMap| {
///     let req = CheckRequest {
///         urn: "urn:pulumi:dev::demo::demo:index:Note::n".into(),
///         name: "n".into(),
///         type_token: "demo:index:Note".into(),
///         olds: PropertyMap::new(),
///         news,
///     };
///     block_on(resources.check(None, req)).unwrap().failures
/// };
/// // Check holds the inputs to `NoteInputs`' JSON schema, each failure at its property.
/// assert_eq!(check(PropertyMap::new())[0].property, "text");
/// let typo = check(PropertyMap::from([("txt".into(), Value::from("hi"))]));
/// assert!(typo.iter().any(|f| f.reason.contains("did you mean `text`")));
/// assert!(check(PropertyMap::from([("text".into(), Value::from("hi"))])).is_empty());
/// // A type it does not serve is an error that names it.
/// assert!(resources.get("demo:index:Nope").is_err());
/// ```
pub struct Resources<S> {
    by_token: BTreeMap<&'static str, Box<dyn RawResource<S>>>,
    components: BTreeMap<&'static str, Box<dyn Component<S>>>,
    functions: BTreeMap<&'static str, Box<dyn Function<S>>>,
}

impl<S: Send + Sync + 'static> Default for Resources<S> {
    fn default() -> Self {
        Resources {
            by_token: BTreeMap::new(),
            components: BTreeMap::new(),
            functions: BTreeMap::new(),
        }
    }
}

impl<S: Send + Sync + 'static> Resources<S> {
    /// Adds a resource at the property-map level.
    pub fn raw(mut self, resource: impl RawResource<S>) -> Self {
        let token = resource.token();
        assert!(
            !self.components.contains_key(token),
            "{token} is registered twice"
        );
        let previous = self.by_token.insert(token, Box::new(resource));
        assert!(previous.is_none(), "{token} is registered twice");
        self
    }

    /// Adds a typed resource.
    pub fn typed<R: Resource<S>>(self, resource: R) -> Self {
        self.raw(Typed {
            resource,
            shape: std::sync::OnceLock::new(),
        })
    }

    /// Adds a component resource.
    pub fn component(mut self, component: impl Component<S>) -> Self {
        let token = component.token();
        assert!(
            !self.by_token.contains_key(token),
            "{token} is registered twice"
        );
        let previous = self.components.insert(token, Box::new(component));
        assert!(previous.is_none(), "{token} is registered twice");
        self
    }

    /// Adds a provider function.
    pub fn function(mut self, function: impl Function<S>) -> Self {
        let token = function.token();
        let previous = self.functions.insert(token, Box::new(function));
        assert!(previous.is_none(), "{token} is registered twice");
        self
    }

    /// Runs the function `token`.
    pub async fn invoke(
        &self,
        state: Option<&S>,
        token: &str,
        args: PropertyMap,
    ) -> Result<PropertyMap, Error> {
        let function = self.functions.get(token).ok_or_else(|| {
            Error::InvalidArgument(format!("{token} is not a function of this provider"))
        })?;
        function.invoke(state, args).await
    }

    /// Builds the component of the request's type.
    pub async fn construct(
        &self,
        state: Option<&S>,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error> {
        let component = self
            .components
            .get(req.type_token.as_str())
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{} is not a component resource of this provider",
                    req.type_token
                ))
            })?;
        component.construct(state, req, scope).await
    }

    /// The resource of `token`, or an error that names it.
    pub fn get(&self, token: &str) -> Result<&dyn RawResource<S>, Error> {
        self.by_token
            .get(token)
            .map(|r| r.as_ref())
            .ok_or_else(|| Error::InvalidArgument(format!("unknown resource type {token}")))
    }

    /// Every type token served: custom resources, then components.
    pub fn tokens(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_token.keys().chain(self.components.keys()).copied()
    }

    // Each operation, sent to the resource of the request's type: a provider's `Provider`
    // methods are one line each.

    /// Check, by the resource of `req.type_token`.
    pub async fn check(
        &self,
        state: Option<&S>,
        req: CheckRequest,
    ) -> Result<CheckResponse, Error> {
        self.get(&req.type_token)?.check(state, req).await
    }

    /// Diff, by the resource of `req.type_token`.
    pub async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        self.get(&req.type_token)?.diff(req).await
    }

    /// Create, by the resource of `req.type_token`.
    pub async fn create(
        &self,
        state: &S,
        req: CreateRequest,
        ctx: Context,
    ) -> Result<CreateResponse, Error> {
        self.get(&req.type_token)?.create(state, req, ctx).await
    }

    /// Read, by the resource of `req.type_token`.
    pub async fn read(
        &self,
        state: &S,
        req: ReadRequest,
        ctx: Context,
    ) -> Result<ReadResponse, Error> {
        self.get(&req.type_token)?.read(state, req, ctx).await
    }

    /// Update, by the resource of `req.type_token`.
    pub async fn update(
        &self,
        state: &S,
        req: UpdateRequest,
        ctx: Context,
    ) -> Result<PropertyMap, Error> {
        self.get(&req.type_token)?.update(state, req, ctx).await
    }

    /// Delete, by the resource of `req.type_token`.
    pub async fn delete(&self, state: &S, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        self.get(&req.type_token)?.delete(state, req, ctx).await
    }
}

/// A create (or its preview) with decoded inputs.
#[derive(Clone, Debug)]
pub struct Create<I> {
    /// The resource's logical name in the program (the base of a generated physical name).
    pub name: String,
    /// The new resource's URN.
    pub urn: String,
    /// The checked inputs, decoded (secrets unwrapped: the machinery puts them back).
    pub inputs: I,
    /// Only plan: compute the outputs, touch nothing.
    pub preview: bool,
}

/// An update (or its preview) with decoded inputs and the last outputs.
#[derive(Clone, Debug)]
pub struct Update<I, O> {
    /// The resource's id, as create returned it.
    pub id: String,
    /// The resource's URN.
    pub urn: String,
    /// The resource's logical name in the program.
    pub name: String,
    /// The outputs in state.
    pub olds: O,
    /// The inputs the resource was last created or updated with, decoded; `None` when they no
    /// longer decode (a state written by an older version of the resource).
    pub old_inputs: Option<I>,
    /// The new checked inputs, decoded.
    pub news: I,
    /// Only plan: compute the new outputs, touch nothing.
    pub preview: bool,
}

/// A resource type with typed inputs and outputs (serde, and schemars for the schema and the
/// check). Only `create` is required; every other capability has a default:
/// - check fills in defaults ([`Resource::defaults`]), holds the inputs to their type's JSON
///   schema (every failure at once, each at its property path, an unknown property with the
///   closest known name), then decodes them and calls [`Resource::validate`] and, once the
///   provider is configured, [`Resource::check_live`];
/// - diff compares inputs; a change replaces the resource unless it updates in place
///   ([`Resource::UPDATES_IN_PLACE`]) and the property is not in
///   [`Resource::REPLACE_ON_CHANGES`]; [`Resource::diff`] may add to it;
/// - read returns the state as it is; import is refused; delete does nothing.
///
/// The state Pulumi keeps is the inputs overlaid by the outputs: `Outputs` need not repeat an
/// input, and an output named like an input takes its place (say, a name that defaults).
/// Outputs named like an input are secret when that input is; [`Resource::OUTPUT_SOURCES`]
/// names the inputs other outputs come from, so they are secret when one of those is, and
/// unknown in preview when one of those is (also when [`Resource::PREVIEWS_UNKNOWNS`] lets the
/// resource compute the others). The old outputs an update, delete or preview gets
/// are that state decoded as `Outputs`: give fields that older states may lack a
/// `#[serde(default)]` (the schema is made for what the provider writes, so they stay required
/// there).
///
/// # Example
///
/// A note that keeps a text and its length: only `create` is written.
///
/// ```rust
/// # use pulumi_plugin::{Context, Create, CreateRequest, Error, PropertyMap, Value};
/// # use futures::executor::block_on;
/// use pulumi_plugin::{Resource, Resources};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// #[serde(deny_unknown_fields)] // so that check reports a misspelled property
/// struct NoteInputs {
///     /// The text to keep.
///     text: String,
/// }
///
/// #[derive(Serialize, Deserialize, JsonSchema)]
/// struct NoteOutputs { text: String, length: usize }
///
/// struct Note;
///
/// #[async_trait::async_trait]
/// impl Resource<()> for Note {
///     const TOKEN: &'static str = "demo:index:Note";
///     type Inputs = NoteInputs;
///     type Outputs = NoteOutputs;
///     // `length` comes from `text`: secret when it is, unknown in a preview while it is.
///     const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] =
///         &[("length", &["text"])];
///
///     async fn create(&self, _: &(), req: Create<NoteInputs>, _: Context)
///         -> Result<(String, NoteOutputs), Error> {
///         let length = req.inputs.text.chars().count();
///         Ok((format!("note-{}", req.name), NoteOutputs { text: req.inputs.text, length }))
///     }
/// }
///
/// # let ctx = Context::new(
/// #     pulumi_plugin::EngineLog::default().for_resource("urn"),
/// #     tokio_util::sync::CancellationToken::new(),
/// #     None,
/// # );
/// # let create_request = |name: &str, inputs| CreateRequest {
/// #     urn: format!("urn:pulumi:dev::demo::demo:index:Note::{name}"),
/// #     name: name.into(),
/// #     type_token: Note::TOKEN.into(),
/// #     inputs,
/// #     timeout: None,
/// #     preview: false,
/// # };
/// let resources = Resources::default().typed(Note);
/// let inputs = PropertyMap::from([("text".into(), Value::from("hello").into_secret())]);
/// let created = block_on(resources.create(&(), create_request("a", inputs), ctx)).unwrap();
/// assert_eq!(created.id, "note-a");
/// assert_eq!(created.outputs["length"], Value::from(5i64).into_secret());
/// ```
#[async_trait::async_trait]
pub trait Resource<S: Send + Sync + 'static>: Send + Sync + 'static {
    /// The type token, `<package>:<module>:<Type>`.
    const TOKEN: &'static str;
    /// What the program gives: its JSON schema is both the check and the schema's
    /// `inputProperties`.
    type Inputs: DeserializeOwned + Serialize + JsonSchema + Send + Sync;
    /// What is kept in state and given back to the program (the schema's `properties`, over
    /// the inputs).
    type Outputs: DeserializeOwned + Serialize + JsonSchema + Send + Sync;
    /// Input properties whose change replaces the resource.
    const REPLACE_ON_CHANGES: &'static [&'static str] = &[];
    /// Whether [`Resource::update`] is implemented; without it every change replaces.
    const UPDATES_IN_PLACE: bool = false;
    /// `(output, inputs it is computed from)` for outputs not named like an input.
    const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] = &[];
    /// Whether a preview whose inputs are not all known still calls [`Resource::create`] and
    /// [`Resource::update`], so that outputs that do not depend on the unknown inputs are shown:
    /// the inputs then hold [`Computed::Unknown`](crate::value::Computed) where they are not
    /// known (an `Option` reads as `None`), and the outputs may too. Without it, such a preview
    /// returns the inputs as they are and every declared output unknown.
    const PREVIEWS_UNKNOWNS: bool = false;

    /// Fills in what the program left out, before the inputs are checked: a name taken from
    /// the resource's, a value chosen earlier and kept (from `req.olds`). Pulumi stores the
    /// filled-in inputs, and every later operation sees them. The inputs are in `news`, not in
    /// `req.news` (taken from the request, not copied).
    fn defaults(&self, req: &CheckRequest, news: &mut PropertyMap) {
        let _ = (req, news);
    }

    /// Holds the inputs (`news`, defaults filled in; `req.news` is empty) to their rules, every
    /// failure at once: by default to `shape` (the JSON schema of `Inputs`: each failure at its
    /// property path, an unknown property with the closest known name) and, once they decode,
    /// to [`Resource::validate`]. Returns the decoded inputs when [`Resource::check_live`]
    /// should look at them too.
    ///
    /// Override it when rules must also run on the known part of inputs that are not all known
    /// yet (a preview), or when a rule must tell a value the program gave from a default: then
    /// fill that default in here, after the rules (`news` is what Pulumi stores).
    fn check_inputs(
        &self,
        req: &CheckRequest,
        news: &mut PropertyMap,
        shape: &Shape,
    ) -> (Option<Self::Inputs>, Vec<CheckFailure>) {
        let _ = req;
        let news = &*news;
        let shape_failures = shape.check(news);
        if !shape_failures.is_empty() {
            return (None, shape_failures.into_iter().map(From::from).collect());
        }
        match from_properties::<Self::Inputs>(news) {
            Ok(inputs) => {
                let failures = self.validate(&inputs);
                (Some(inputs), failures)
            }
            // A value that is not known yet may be what is missing: the check of `up`, with
            // every value known, decides.
            Err(_) if contains_unknowns(news) => (None, Vec::new()),
            // What the schema cannot say (a serde rule of the type's own).
            Err(e) => (None, vec![decode_failure(e)]),
        }
    }

    /// Checks beyond the types (ranges, formats, combinations): pure rules over the inputs.
    fn validate(&self, inputs: &Self::Inputs) -> Vec<CheckFailure> {
        let _ = inputs;
        Vec::new()
    }

    /// Checks that need what Configure made (a lookup in the cloud, the stack's settings):
    /// only once the provider is configured and the inputs decode. `name` is the resource's
    /// name in the program.
    async fn check_live(&self, state: &S, name: &str, inputs: &Self::Inputs) -> Vec<CheckFailure> {
        let _ = (state, name, inputs);
        Vec::new()
    }

    /// The diff, given the one the kit planned from the inputs ([`Resource::REPLACE_ON_CHANGES`]
    /// and [`Resource::UPDATES_IN_PLACE`]): add what inputs alone cannot show (a changed file
    /// the resource reads, a value that moves between stores), or set
    /// [`Diff::delete_before_replace`].
    async fn diff(&self, req: &DiffRequest, planned: Diff) -> Result<Diff, Error> {
        let _ = req;
        Ok(planned)
    }

    /// Creates the resource (or, when `req.preview`, only computes its outputs): its id and
    /// outputs.
    async fn create(
        &self,
        state: &S,
        req: Create<Self::Inputs>,
        ctx: Context,
    ) -> Result<(String, Self::Outputs), Error>;

    /// Updates the resource in place (or, when `req.preview`, only computes its outputs).
    /// Called only when [`Resource::UPDATES_IN_PLACE`] is set.
    async fn update(
        &self,
        state: &S,
        req: Update<Self::Inputs, Self::Outputs>,
        ctx: Context,
    ) -> Result<Self::Outputs, Error> {
        let _ = (state, req, ctx);
        Err(Error::Internal(format!(
            "{} does not update in place; its diff should have replaced it",
            Self::TOKEN
        )))
    }

    /// The live inputs and outputs, or `None` when the resource is gone.
    async fn read(
        &self,
        state: &S,
        id: &str,
        inputs: Self::Inputs,
        outputs: Self::Outputs,
        ctx: Context,
    ) -> Result<Option<(Self::Inputs, Self::Outputs)>, Error> {
        let _ = (state, id, ctx);
        Ok(Some((inputs, outputs)))
    }

    /// What `pulumi import` adopts: the inputs and outputs of the existing resource of `id`
    /// (the state has neither yet), or `None` when there is no such resource. By default a
    /// resource cannot be imported.
    async fn import(
        &self,
        state: &S,
        id: &str,
        ctx: Context,
    ) -> Result<Option<(Self::Inputs, Self::Outputs)>, Error> {
        let _ = (state, ctx);
        Err(Error::InvalidArgument(format!(
            "{} cannot be imported (id {id})",
            Self::TOKEN
        )))
    }

    /// Deletes the resource of `id`; one that is already gone counts as deleted.
    async fn delete(
        &self,
        state: &S,
        id: &str,
        outputs: Self::Outputs,
        ctx: Context,
    ) -> Result<(), Error> {
        let _ = (state, id, outputs, ctx);
        Ok(())
    }
}

/// A typed resource served at the property-map level, with the shape of its inputs, derived
/// once, at its first Check (a provider process the engine starts only for the schema never
/// needs it).
struct Typed<R> {
    resource: R,
    shape: std::sync::OnceLock<Shape>,
}

fn decode<T: DeserializeOwned>(what: &str, props: &PropertyMap) -> Result<T, Error> {
    from_properties(props).map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))
}

/// The state Pulumi keeps: the inputs, overlaid by the outputs.
pub fn state_of<O: Serialize>(inputs: &PropertyMap, outputs: &O) -> PropertyMap {
    let mut state = inputs.clone();
    state.extend(to_properties(outputs));
    state
}

/// The state after a create or update: the inputs (taken, not copied: a request's inputs are
/// not needed once the resource has run) overlaid by the outputs, and the declared outputs
/// unknown and secret where one of their inputs is (as [`derive_unknowns`] and
/// [`derive_secrets`] make them; each input looked at once).
fn into_state<O: Serialize>(
    sources: &[(&str, &[&str])],
    inputs: PropertyMap,
    outputs: &O,
) -> PropertyMap {
    // (input, unknown, secret) for the inputs the sources name.
    let mut seen: Vec<(&str, bool, bool)> = Vec::with_capacity(16);
    let mut derived: Vec<(&str, bool, bool)> = Vec::with_capacity(sources.len());
    for (output, from) in sources {
        let (mut unknown, mut secret) = (false, false);
        for input in from.iter().copied() {
            let flags = match seen.iter().find(|(name, _, _)| *name == input) {
                Some(&(_, u, s)) => (u, s),
                None => {
                    let value = inputs.get(input);
                    let u = value.is_some_and(Value::contains_unknowns);
                    let s = value.is_some_and(Value::contains_secrets);
                    seen.push((input, u, s));
                    (u, s)
                }
            };
            unknown |= flags.0;
            secret |= flags.1;
        }
        derived.push((output, unknown, secret));
    }
    let mut state = inputs;
    state.extend(to_properties(outputs));
    for (output, unknown, secret) in derived {
        if unknown {
            state.insert(output.to_string(), Value::Unknown);
        }
        if secret && let Some(value) = state.get_mut(output) {
            value.make_secret();
        }
    }
    state
}

/// Marks the declared outputs secret where one of their inputs is (named-alike outputs are
/// handled by the machinery for every resource).
pub fn derive_secrets(
    sources: &[(&str, &[&str])],
    inputs: &PropertyMap,
    outputs: &mut PropertyMap,
) {
    for (output, from) in sources {
        let secret = from
            .iter()
            .any(|i| inputs.get(*i).is_some_and(Value::contains_secrets));
        if let Some(value) = outputs.get_mut(*output)
            && secret
        {
            value.make_secret();
        }
    }
}

/// Marks unknown every declared output one of whose inputs is not known yet (a preview): it
/// cannot be computed from a value that is not there, whatever the resource put there.
pub fn derive_unknowns(
    sources: &[(&str, &[&str])],
    inputs: &PropertyMap,
    outputs: &mut PropertyMap,
) {
    for (output, from) in sources {
        if from
            .iter()
            .any(|i| inputs.get(*i).is_some_and(Value::contains_unknowns))
        {
            outputs.insert(output.to_string(), Value::Unknown);
        }
    }
}

/// The outputs of a preview whose inputs are not all known: the inputs as they are, and every
/// other declared output unknown (it cannot be computed from values that are not there yet).
fn unknown_outputs(sources: &[(&str, &[&str])], inputs: &PropertyMap) -> PropertyMap {
    let mut outputs = inputs.clone();
    for (output, _) in sources {
        if !inputs.contains_key(*output) {
            outputs.insert(output.to_string(), Value::Unknown);
        }
    }
    outputs
}

/// A partial failure's state, as for a success: the outputs the resource gave, over the
/// inputs, with the declared outputs secret where their inputs are.
fn partial_state(sources: &[(&str, &[&str])], inputs: &PropertyMap, error: Error) -> Error {
    match error {
        Error::ResourceInitFailed(mut partial) => {
            let mut state = inputs.clone();
            state.extend(std::mem::take(&mut partial.outputs));
            derive_secrets(sources, inputs, &mut state);
            partial.outputs = state;
            Error::ResourceInitFailed(partial)
        }
        other => other,
    }
}

/// A decoding failure as a check failure; a missing field is named as the property it is.
fn decode_failure(e: crate::value::DecodeError) -> CheckFailure {
    let missing = e
        .message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match missing {
        Some(field) => {
            let property = if e.path.is_empty() {
                field.to_string()
            } else {
                format!("{}.{field}", e.path)
            };
            CheckFailure::new(property, format!("required: set `{field}`"))
        }
        None => CheckFailure::new(e.path, e.message),
    }
}

fn contains_unknowns(props: &PropertyMap) -> bool {
    props.values().any(Value::contains_unknowns)
}

#[async_trait::async_trait]
impl<S: Send + Sync + 'static, R: Resource<S>> RawResource<S> for Typed<R> {
    fn token(&self) -> &'static str {
        R::TOKEN
    }

    async fn check(&self, state: Option<&S>, req: CheckRequest) -> Result<CheckResponse, Error> {
        let mut req = req;
        let mut news = std::mem::take(&mut req.news);
        self.resource.defaults(&req, &mut news);
        let shape = self.shape.get_or_init(Shape::of::<R::Inputs>);
        let (inputs, mut failures) = self.resource.check_inputs(&req, &mut news, shape);
        if let (Some(state), Some(inputs)) = (state, inputs) {
            failures.extend(self.resource.check_live(state, &req.name, &inputs).await);
        }
        Ok(CheckResponse {
            inputs: news,
            failures,
        })
    }

    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        let every_key: Vec<&str>;
        let replace: &[&str] = if R::UPDATES_IN_PLACE {
            R::REPLACE_ON_CHANGES
        } else {
            every_key = req
                .old_inputs
                .keys()
                .chain(req.news.keys())
                .map(String::as_str)
                .collect();
            &every_key
        };
        let planned = diff_properties(&req.old_inputs, &req.news, replace);
        self.resource.diff(&req, planned).await
    }

    async fn create(
        &self,
        state: &S,
        req: CreateRequest,
        ctx: Context,
    ) -> Result<CreateResponse, Error> {
        if req.preview && !R::PREVIEWS_UNKNOWNS && contains_unknowns(&req.inputs) {
            return Ok(CreateResponse {
                id: String::new(),
                outputs: unknown_outputs(R::OUTPUT_SOURCES, &req.inputs),
            });
        }
        let inputs = match decode(R::TOKEN, &req.inputs) {
            Ok(inputs) => inputs,
            // Unknowns the inputs' types cannot hold: nothing can be computed yet.
            Err(_) if req.preview && contains_unknowns(&req.inputs) => {
                return Ok(CreateResponse {
                    id: String::new(),
                    outputs: unknown_outputs(R::OUTPUT_SOURCES, &req.inputs),
                });
            }
            Err(e) => return Err(e),
        };
        let create = Create {
            name: req.name,
            urn: req.urn,
            inputs,
            preview: req.preview,
        };
        let (id, outputs) = self
            .resource
            .create(state, create, ctx)
            .await
            .map_err(|e| partial_state(R::OUTPUT_SOURCES, &req.inputs, e))?;
        let outputs = into_state(R::OUTPUT_SOURCES, req.inputs, &outputs);
        Ok(CreateResponse { id, outputs })
    }

    async fn read(&self, state: &S, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error> {
        let read = if req.old_inputs.is_empty() && req.old_outputs.is_empty() {
            self.resource.import(state, &req.id, ctx).await?
        } else {
            let inputs = decode(R::TOKEN, &req.old_inputs)?;
            let outputs = decode(R::TOKEN, &req.old_outputs)?;
            self.resource
                .read(state, &req.id, inputs, outputs, ctx)
                .await?
        };
        match read {
            None => Ok(ReadResponse::gone()),
            Some((inputs, outputs)) => {
                let inputs = to_properties(&inputs);
                let mut outputs = state_of(&inputs, &outputs);
                derive_secrets(R::OUTPUT_SOURCES, &req.old_inputs, &mut outputs);
                Ok(ReadResponse {
                    id: Some(req.id),
                    outputs,
                    inputs,
                })
            }
        }
    }

    async fn update(
        &self,
        state: &S,
        req: UpdateRequest,
        ctx: Context,
    ) -> Result<PropertyMap, Error> {
        if req.preview && !R::PREVIEWS_UNKNOWNS && contains_unknowns(&req.news) {
            return Ok(unknown_outputs(R::OUTPUT_SOURCES, &req.news));
        }
        let news = match decode(R::TOKEN, &req.news) {
            Ok(news) => news,
            // Unknowns the inputs' types cannot hold: nothing can be computed yet.
            Err(_) if req.preview && contains_unknowns(&req.news) => {
                return Ok(unknown_outputs(R::OUTPUT_SOURCES, &req.news));
            }
            Err(e) => return Err(e),
        };
        let update = Update {
            id: req.id,
            urn: req.urn,
            name: req.name,
            olds: decode(R::TOKEN, &req.old_outputs)?,
            old_inputs: from_properties(&req.old_inputs).ok(),
            news,
            preview: req.preview,
        };
        let outputs = self
            .resource
            .update(state, update, ctx)
            .await
            .map_err(|e| partial_state(R::OUTPUT_SOURCES, &req.news, e))?;
        Ok(into_state(R::OUTPUT_SOURCES, req.news, &outputs))
    }

    async fn delete(&self, state: &S, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        let outputs = decode(R::TOKEN, &req.old_outputs)?;
        self.resource.delete(state, &req.id, outputs, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_log::EngineLog;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct NoteInputs {
        text: String,
        #[serde(default)]
        shelf: Option<String>,
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct NoteOutputs {
        text: String,
        length: usize,
    }

    struct Note;

    #[async_trait::async_trait]
    impl Resource<()> for Note {
        const TOKEN: &'static str = "t:index:Note";
        type Inputs = NoteInputs;
        type Outputs = NoteOutputs;
        const UPDATES_IN_PLACE: bool = true;
        const REPLACE_ON_CHANGES: &'static [&'static str] = &["shelf"];
        const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] =
            &[("length", &["text"])];

        fn validate(&self, inputs: &NoteInputs) -> Vec<CheckFailure> {
            if inputs.text.is_empty() {
                vec![CheckFailure::new(
                    "text",
                    "must not be empty: write something",
                )]
            } else {
                Vec::new()
            }
        }

        async fn create(
            &self,
            _: &(),
            req: Create<NoteInputs>,
            _: Context,
        ) -> Result<(String, NoteOutputs), Error> {
            let length = req.inputs.text.chars().count();
            Ok((
                format!("note-{}", req.name),
                NoteOutputs {
                    text: req.inputs.text,
                    length,
                },
            ))
        }
    }

    fn registry() -> Resources<()> {
        Resources::default().typed(Note)
    }

    /// A Create (or its preview) of `name`, of type `token`.
    fn create_request(
        token: &str,
        name: &str,
        inputs: PropertyMap,
        preview: bool,
    ) -> CreateRequest {
        CreateRequest {
            urn: "urn".into(),
            name: name.into(),
            type_token: token.into(),
            inputs,
            timeout: None,
            preview,
        }
    }

    fn ctx() -> Context {
        Context::new(
            EngineLog::default().for_resource("urn"),
            tokio_util::sync::CancellationToken::new(),
            None,
        )
    }

    fn check(news: PropertyMap) -> CheckResponse {
        futures::executor::block_on(registry().get("t:index:Note").unwrap().check(
            None,
            CheckRequest {
                urn: "urn".into(),
                name: "n".into(),
                type_token: "t:index:Note".into(),
                olds: PropertyMap::new(),
                news,
            },
        ))
        .unwrap()
    }

    fn create(inputs: PropertyMap, preview: bool) -> CreateResponse {
        futures::executor::block_on(registry().get("t:index:Note").unwrap().create(
            &(),
            create_request("t:index:Note", "n", inputs, preview),
            ctx(),
        ))
        .unwrap()
    }

    fn text(v: Value) -> PropertyMap {
        PropertyMap::from([("text".into(), v)])
    }

    #[test]
    fn an_unknown_token_is_an_error_that_names_it() {
        let err = registry().get("t:index:Nope").err().unwrap();
        assert!(err.to_string().contains("t:index:Nope"), "{err}");
    }

    #[test]
    fn check_reports_type_errors_at_their_path_then_validates() {
        let wrong = check(text(Value::Number(3.0)));
        assert_eq!(wrong.failures.len(), 1);
        assert_eq!(wrong.failures[0].property, "text");
        let empty = check(text(Value::from("")));
        assert_eq!(empty.failures[0].property, "text");
        assert!(empty.failures[0].reason.contains("must not be empty"));
        assert!(check(text(Value::from("hi"))).failures.is_empty());
        let missing = check(PropertyMap::new());
        assert_eq!(missing.failures[0].property, "text");
        assert_eq!(missing.failures[0].reason, "is required");
        // Every problem at once, not the first one serde meets.
        let two = check(PropertyMap::from([
            ("text".into(), Value::Number(3.0)),
            ("shelf".into(), Value::Bool(true)),
        ]));
        assert_eq!(two.failures.len(), 2, "{:?}", two.failures);
        let typo = check(PropertyMap::from([("txt".into(), Value::from("hi"))]));
        assert!(
            typo.failures
                .iter()
                .any(|f| f.reason.contains("did you mean `text`")),
            "{:?}",
            typo.failures
        );
        // Not known yet: nothing to say until up; but a property that is not there at all is
        // missing in preview as in up.
        assert!(check(text(Value::Unknown)).failures.is_empty());
        let unknown_shelf = check(PropertyMap::from([("shelf".into(), Value::Unknown)]));
        assert_eq!(unknown_shelf.failures.len(), 1);
        assert_eq!(unknown_shelf.failures[0].property, "text");
    }

    #[test]
    fn diff_updates_in_place_except_declared_replacements() {
        let diff = |olds: PropertyMap, news: PropertyMap| {
            futures::executor::block_on(registry().get("t:index:Note").unwrap().diff(DiffRequest {
                id: "id".into(),
                urn: "urn".into(),
                name: "n".into(),
                type_token: "t:index:Note".into(),
                old_outputs: PropertyMap::new(),
                old_inputs: olds,
                news,
                ignore_changes: Vec::new(),
            }))
            .unwrap()
        };
        let edit = diff(text(Value::from("a")), text(Value::from("b")));
        assert!(edit.has_changes() && edit.replaces().is_empty());
        let mut moved = text(Value::from("a"));
        moved.insert("shelf".into(), Value::from("top"));
        assert_eq!(
            diff(text(Value::from("a")), moved).replaces(),
            vec!["shelf"]
        );
        assert!(!diff(text(Value::from("a")), text(Value::from("a"))).has_changes());
    }

    #[test]
    fn declared_outputs_follow_their_inputs_secrets_and_unknowns() {
        let created = create(text(Value::from("hello").into_secret()), false);
        assert_eq!(created.id, "note-n");
        assert_eq!(created.outputs["length"], Value::Number(5.0).into_secret());
        let plain = create(text(Value::from("hello")), false);
        assert_eq!(plain.outputs["length"], Value::Number(5.0));
        let planned = create(text(Value::Unknown), true);
        assert_eq!(planned.outputs["length"], Value::Unknown);
        assert_eq!(planned.outputs["text"], Value::Unknown);
    }

    /// A label on a shelf: the label's text may be unknown in a preview, the shelf is known.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct LabelInputs {
        text: crate::value::Computed<String>,
        shelf: crate::value::MaybeSecret<String>,
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct LabelOutputs {
        text: crate::value::Computed<String>,
        shelf: crate::value::MaybeSecret<String>,
        /// Known from the shelf alone.
        location: String,
        /// Only once the text is known.
        length: crate::value::Computed<usize>,
    }

    struct Label;

    #[async_trait::async_trait]
    impl Resource<()> for Label {
        const TOKEN: &'static str = "t:index:Label";
        type Inputs = LabelInputs;
        type Outputs = LabelOutputs;
        const PREVIEWS_UNKNOWNS: bool = true;

        async fn create(
            &self,
            _: &(),
            req: Create<LabelInputs>,
            _: Context,
        ) -> Result<(String, LabelOutputs), Error> {
            use crate::value::Computed;
            let location = format!("shelf {}", req.inputs.shelf.value);
            let length = match &req.inputs.text {
                Computed::Known(text) => Computed::Known(text.len()),
                Computed::Unknown => Computed::Unknown,
            };
            Ok((
                String::new(),
                LabelOutputs {
                    text: req.inputs.text,
                    shelf: req.inputs.shelf,
                    location,
                    length,
                },
            ))
        }
    }

    /// A resource that previews with unknowns shows what it knows: the outputs that do not
    /// depend on the unknown input are known, the others unknown; a secret stays secret.
    #[test]
    fn a_preview_with_unknowns_shows_what_is_known() {
        let resources = Resources::default().typed(Label);
        let inputs = PropertyMap::from([
            ("text".into(), Value::Unknown),
            ("shelf".into(), Value::from("top").into_secret()),
        ]);
        let planned = futures::executor::block_on(resources.get("t:index:Label").unwrap().create(
            &(),
            create_request("t:index:Label", "n", inputs, true),
            ctx(),
        ))
        .unwrap();
        assert_eq!(planned.outputs["location"], Value::from("shelf top"));
        assert_eq!(planned.outputs["length"], Value::Unknown);
        assert_eq!(planned.outputs["text"], Value::Unknown);
        assert_eq!(planned.outputs["shelf"], Value::from("top").into_secret());
    }

    /// A preview whose inputs the types cannot hold (a required value not known yet) plans
    /// what can be planned: the inputs as they are, every declared output unknown. Not an
    /// error: the engine would stop the whole preview.
    #[test]
    fn a_preview_whose_inputs_do_not_decode_yet_has_unknown_outputs() {
        let planned = futures::executor::block_on(Resources::default().typed(Sign).create(
            &(),
            create_request(
                "t:index:Sign",
                "s",
                // `height` is a number: an unknown one decodes (as `None`), a text in it not.
                PropertyMap::from([
                    ("text".into(), Value::from("hi")),
                    ("height".into(), Value::Array(vec![Value::Unknown])),
                ]),
                true,
            ),
            ctx(),
        ))
        .expect("a preview, not an error");
        assert_eq!(planned.outputs["shout"], Value::Unknown);
        assert_eq!(planned.outputs["storeys"], Value::Unknown);
        assert_eq!(planned.outputs["text"], Value::from("hi"));
    }

    /// A jar that breaks once filled: a partial failure (kept in the state) carries what the
    /// resource knows, and gets its state made as for a success: the inputs under it, and the
    /// outputs computed from a secret secret.
    struct Jar;

    #[async_trait::async_trait]
    impl Resource<()> for Jar {
        const TOKEN: &'static str = "t:index:Jar";
        type Inputs = NoteInputs;
        type Outputs = NoteOutputs;
        const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] =
            &[("length", &["text"])];

        async fn create(
            &self,
            _: &(),
            req: Create<NoteInputs>,
            _: Context,
        ) -> Result<(String, NoteOutputs), Error> {
            let length = req.inputs.text.len();
            Err(Error::ResourceInitFailed(Box::new(crate::PartialState {
                id: "jar-1".into(),
                outputs: PropertyMap::from([("length".into(), Value::from(length as i64))]),
                inputs: None,
                reasons: vec!["cracked".into()],
            })))
        }
    }

    #[test]
    fn a_partial_failure_keeps_the_inputs_and_their_secrets() {
        let err = futures::executor::block_on(Resources::default().typed(Jar).create(
            &(),
            create_request(
                "t:index:Jar",
                "j",
                text(Value::from("jam").into_secret()),
                false,
            ),
            ctx(),
        ))
        .unwrap_err();
        let Error::ResourceInitFailed(partial) = err else {
            panic!("{err:?}")
        };
        assert_eq!(partial.id, "jar-1");
        assert_eq!(partial.outputs["text"], Value::from("jam").into_secret());
        assert_eq!(partial.outputs["length"], Value::Number(3.0).into_secret());
    }

    /// A badge: its `label` defaults to the resource's name (kept once chosen), a label may be
    /// taken already (known only once configured), a new colour repaints it in place but must be
    /// removed first, and existing badges can be imported.
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct BadgeInputs {
        label: String,
        #[serde(default)]
        colour: Option<String>,
    }

    /// Only what the inputs do not say: the state echoes the inputs.
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct BadgeOutputs {
        serial: u32,
    }

    /// Labels taken in the badge store (what Configure would connect to).
    struct Store {
        taken: Vec<&'static str>,
    }

    struct Badge;

    #[async_trait::async_trait]
    impl Resource<Store> for Badge {
        const TOKEN: &'static str = "t:index:Badge";
        type Inputs = BadgeInputs;
        type Outputs = BadgeOutputs;
        const UPDATES_IN_PLACE: bool = true;

        fn defaults(&self, req: &CheckRequest, news: &mut PropertyMap) {
            if !news.contains_key("label") {
                let label = req.olds.get("label").cloned();
                news.insert(
                    "label".into(),
                    label.unwrap_or(Value::from(req.name.as_str())),
                );
            }
        }

        async fn check_live(
            &self,
            store: &Store,
            _: &str,
            inputs: &BadgeInputs,
        ) -> Vec<CheckFailure> {
            if store.taken.contains(&inputs.label.as_str()) {
                vec![CheckFailure::new("label", "is taken: choose another")]
            } else {
                Vec::new()
            }
        }

        async fn diff(&self, _: &DiffRequest, mut planned: Diff) -> Result<Diff, Error> {
            planned.delete_before_replace = true;
            Ok(planned)
        }

        async fn create(
            &self,
            _: &Store,
            req: Create<BadgeInputs>,
            _: Context,
        ) -> Result<(String, BadgeOutputs), Error> {
            Ok((req.inputs.label, BadgeOutputs { serial: 1 }))
        }

        async fn import(
            &self,
            _: &Store,
            id: &str,
            _: Context,
        ) -> Result<Option<(BadgeInputs, BadgeOutputs)>, Error> {
            let inputs = BadgeInputs {
                label: id.to_string(),
                colour: Some("red".into()),
            };
            Ok((id != "gone").then_some((inputs, BadgeOutputs { serial: 9 })))
        }
    }

    fn badges() -> Resources<Store> {
        Resources::default().typed(Badge)
    }

    fn badge_check(state: Option<&Store>, olds: PropertyMap, news: PropertyMap) -> CheckResponse {
        futures::executor::block_on(badges().check(
            state,
            CheckRequest {
                urn: "urn".into(),
                name: "door".into(),
                type_token: "t:index:Badge".into(),
                olds,
                news,
            },
        ))
        .unwrap()
    }

    #[test]
    fn check_fills_in_defaults_then_checks_what_only_the_configured_provider_knows() {
        let filled = badge_check(None, PropertyMap::new(), PropertyMap::new());
        assert!(filled.failures.is_empty(), "{:?}", filled.failures);
        assert_eq!(filled.inputs["label"], Value::from("door"));
        let kept = PropertyMap::from([("label".into(), Value::from("front"))]);
        assert_eq!(
            badge_check(None, kept, PropertyMap::new()).inputs["label"],
            Value::from("front")
        );
        // Before Configure the store cannot be asked; after, a taken label is refused.
        let store = Store {
            taken: vec!["door"],
        };
        let taken = badge_check(Some(&store), PropertyMap::new(), PropertyMap::new());
        assert_eq!(taken.failures.len(), 1);
        assert_eq!(taken.failures[0].property, "label");
        // Type errors come first, and alone: a lookup with wrong inputs would say nothing useful.
        let wrong = badge_check(
            Some(&store),
            PropertyMap::new(),
            PropertyMap::from([("colour".into(), Value::Number(1.0))]),
        );
        assert_eq!(wrong.failures.len(), 1, "{:?}", wrong.failures);
        assert_eq!(wrong.failures[0].property, "colour");
    }

    #[test]
    fn a_resource_adds_to_the_planned_diff_and_the_state_echoes_the_inputs() {
        let label = |l: &str| PropertyMap::from([("label".into(), Value::from(l))]);
        let diff = futures::executor::block_on(badges().diff(DiffRequest {
            id: "a".into(),
            urn: "urn".into(),
            name: "door".into(),
            type_token: "t:index:Badge".into(),
            old_outputs: PropertyMap::new(),
            old_inputs: label("a"),
            news: label("b"),
            ignore_changes: Vec::new(),
        }))
        .unwrap();
        assert!(diff.has_changes() && diff.delete_before_replace);

        let mut inputs = label("a");
        inputs.insert("colour".into(), Value::from("blue").into_secret());
        let created = futures::executor::block_on(badges().create(
            &Store { taken: Vec::new() },
            create_request("t:index:Badge", "door", inputs, false),
            ctx(),
        ))
        .unwrap();
        assert_eq!(created.outputs["label"], Value::from("a"));
        assert_eq!(created.outputs["colour"], Value::from("blue").into_secret());
        assert_eq!(created.outputs["serial"], Value::Number(1.0));
    }

    #[test]
    fn import_reads_a_resource_the_state_does_not_have_yet() {
        let import = |id: &str| {
            futures::executor::block_on(badges().read(
                &Store { taken: Vec::new() },
                ReadRequest {
                    id: id.into(),
                    urn: "urn".into(),
                    name: "door".into(),
                    type_token: "t:index:Badge".into(),
                    old_inputs: PropertyMap::new(),
                    old_outputs: PropertyMap::new(),
                },
                ctx(),
            ))
            .unwrap()
        };
        let read = import("back");
        assert_eq!(read.id.as_deref(), Some("back"));
        assert_eq!(read.inputs["colour"], Value::from("red"));
        assert_eq!(read.outputs["label"], Value::from("back"));
        assert_eq!(read.outputs["serial"], Value::Number(9.0));
        assert!(import("gone").id.is_none());
        // A resource that does not import says so, naming its type.
        let refused = futures::executor::block_on(registry().read(
            &(),
            ReadRequest {
                id: "n".into(),
                urn: "urn".into(),
                name: "n".into(),
                type_token: "t:index:Note".into(),
                old_inputs: PropertyMap::new(),
                old_outputs: PropertyMap::new(),
            },
            ctx(),
        ))
        .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("t:index:Note cannot be imported"),
            "{refused}"
        );
    }

    /// A sign that shouts its text; the text may not be known in a preview.
    #[derive(Serialize, Deserialize, JsonSchema)]
    struct SignInputs {
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        height: Option<u32>,
    }

    #[derive(Serialize, Deserialize, JsonSchema)]
    struct SignOutputs {
        shout: String,
        storeys: u32,
    }

    struct Sign;

    #[async_trait::async_trait]
    impl Resource<()> for Sign {
        const TOKEN: &'static str = "t:index:Sign";
        type Inputs = SignInputs;
        type Outputs = SignOutputs;
        const PREVIEWS_UNKNOWNS: bool = true;
        const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] =
            &[("shout", &["text"]), ("storeys", &["height"])];

        async fn create(
            &self,
            _: &(),
            req: Create<SignInputs>,
            _: Context,
        ) -> Result<(String, SignOutputs), Error> {
            // An unknown text reads as None here: the declared source makes `shout` unknown.
            let shout = req.inputs.text.unwrap_or_default().to_uppercase();
            let storeys = req.inputs.height.unwrap_or(1).div_ceil(3);
            Ok((String::new(), SignOutputs { shout, storeys }))
        }
    }

    #[test]
    fn declared_sources_make_outputs_unknown_while_their_inputs_are() {
        let planned = futures::executor::block_on(Resources::default().typed(Sign).create(
            &(),
            create_request(
                "t:index:Sign",
                "s",
                PropertyMap::from([
                    ("text".into(), Value::Unknown),
                    ("height".into(), Value::Number(7.0)),
                ]),
                true,
            ),
            ctx(),
        ))
        .unwrap();
        assert_eq!(planned.outputs["shout"], Value::Unknown);
        assert_eq!(planned.outputs["storeys"], Value::Number(3.0));
    }
}
