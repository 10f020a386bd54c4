//! An in-process driver for a provider's tests: the steps the engine takes (check, then create;
//! check, diff, then update or replace; their previews; read; import; delete), sent through the
//! same gRPC service the binary serves (secrets, masking, errors and all) but without a process
//! or a socket; with a resource's custom timeout, and the engine's Cancel. A single RPC can be
//! sent alone too, for what the steps cannot show.
//!
//! It is no substitute for a test through the real `pulumi` CLI: it is for the many cases
//! (scripted clouds, failures, secrets) that would be slow or impossible there.

use crate::engine_log::EngineLog;
use crate::provider::Provider;
use crate::server::PluginService;
use crate::value::{PropertyMap, properties_from_struct, properties_to_struct};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::resource_provider_server::ResourceProvider;
use std::time::Duration;
use tonic::{Request, Status};

/// A resource as the engine would keep it in state.
#[derive(Clone, Debug)]
pub struct Deployed {
    /// Its URN ([`urn`] of its type and name).
    pub urn: String,
    /// Its type, `<package>:<module>:<Type>`.
    pub type_token: String,
    /// Its logical name.
    pub name: String,
    /// Its id, as create returned it (empty after a preview, unless the provider gave one).
    pub id: String,
    /// The checked inputs.
    pub inputs: PropertyMap,
    /// The outputs, as they reached the engine (secrets wrapped).
    pub outputs: PropertyMap,
}

/// Drives one provider in process. Every message the provider logs to the engine is recorded
/// ([`Driver::engine`]).
///
/// # Example
///
/// `Note` (as in [`Resource`](crate::Resource)'s example) served by a provider whose methods
/// send each request to a [`Resources`](crate::Resources) registry:
///
/// ```rust
/// # use pulumi_plugin::*;
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
/// # struct Notes(Resources<()>);
/// # #[async_trait::async_trait]
/// # impl Provider for Notes {
/// #     fn schema(&self) -> &str { "{}" }
/// #     async fn configure(&self, _: PropertyMap) -> Result<(), Error> { Ok(()) }
/// #     async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
/// #         self.0.check(Some(&()), req).await
/// #     }
/// #     async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> { self.0.diff(req).await }
/// #     async fn create(&self, req: CreateRequest, ctx: Context)
/// #         -> Result<CreateResponse, Error> {
/// #         self.0.create(&(), req, ctx).await
/// #     }
/// #     async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error> {
/// #         self.0.read(&(), req, ctx).await
/// #     }
/// #     async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
/// #         self.0.update(&(), req, ctx).await
/// #     }
/// #     async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
/// #         self.0.delete(&(), req, ctx).await
/// #     }
/// # }
/// use pulumi_plugin::testing::Driver;
/// use pulumi_plugin::{PropertyMap, Resources, Value};
///
/// let driver = Driver::new("demo", Notes(Resources::default().typed(Note)));
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// runtime.block_on(async {
///     driver.configure(PropertyMap::new()).await.unwrap();
///     let inputs = PropertyMap::from([("text".into(), Value::from("hello").into_secret())]);
///     let note = driver.create("demo:index:Note", "a", &inputs).await.unwrap();
///     assert_eq!(note.id, "note-a");
///     assert_eq!(note.outputs["length"], Value::from(5i64));
///     // Secret in, secret out: the service did it, as for the engine.
///     assert_eq!(note.outputs["text"], Value::from("hello").into_secret());
///     // A check failure stops the step, as `pulumi up` would.
///     let refused = driver.create("demo:index:Note", "b", &PropertyMap::new()).await;
///     assert!(refused.unwrap_err().message().contains("text: is required"));
/// });
/// ```
pub struct Driver<P: Provider> {
    service: PluginService<P>,
    engine: EngineLog,
    timeout: Option<Duration>,
}

/// The URN the driver gives a resource: `urn:pulumi:test::test::<type>::<name>`.
pub fn urn(type_token: &str, name: &str) -> String {
    format!("urn:pulumi:test::test::{type_token}::{name}")
}

fn failures_status(failures: &[rpc::CheckFailure]) -> Status {
    let text: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.property, f.reason))
        .collect();
    Status::invalid_argument(format!("check failed: {}", text.join("; ")))
}

impl<P: Provider> Driver<P> {
    /// A driver of `provider`, as the plugin of `package` (the prefix of its config keys).
    pub fn new(package: &str, provider: P) -> Self {
        let engine = EngineLog::recording();
        Driver {
            service: PluginService::new(package, "0.0.0-test", provider, engine.clone()),
            engine,
            timeout: None,
        }
    }

    /// Sends `timeout` with every Create, Update and Delete, as the engine sends a resource's
    /// `customTimeouts`: the operation's deadline, `timeout` after the request. Without it the
    /// requests have none (only Cancel ends a wait). Read has no timeout in the protocol.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `timeout` field of a request: seconds, 0 for none.
    fn timeout_seconds(&self) -> f64 {
        self.timeout.map_or(0.0, |t| t.as_secs_f64())
    }

    /// The engine's Cancel (Ctrl-C in `pulumi up`): the operations in flight stop waiting,
    /// and so do those sent later.
    pub async fn cancel(&self) -> Result<(), Status> {
        self.service.cancel(Request::new(())).await.map(|_| ())
    }

    /// What the provider logged to the engine so far.
    pub fn engine(&self) -> &EngineLog {
        &self.engine
    }

    /// Configure with typed `config` (what `pulumi up` sends first, after CheckConfig).
    pub async fn configure(&self, config: PropertyMap) -> Result<(), Status> {
        self.service
            .configure(Request::new(rpc::ConfigureRequest {
                args: Some(properties_to_struct(&config)),
                ..Default::default()
            }))
            .await
            .map(|_| ())
    }

    /// Check, as the engine sends it: the checked inputs, or the failures.
    pub async fn check(
        &self,
        type_token: &str,
        name: &str,
        olds: &PropertyMap,
        news: &PropertyMap,
    ) -> Result<rpc::CheckResponse, Status> {
        self.service
            .check(Request::new(rpc::CheckRequest {
                urn: urn(type_token, name),
                name: name.to_string(),
                r#type: type_token.to_string(),
                olds: Some(properties_to_struct(olds)),
                news: Some(properties_to_struct(news)),
                ..Default::default()
            }))
            .await
            .map(|r| r.into_inner())
    }

    async fn checked(
        &self,
        type_token: &str,
        name: &str,
        olds: &PropertyMap,
        news: &PropertyMap,
    ) -> Result<PropertyMap, Status> {
        let checked = self.check(type_token, name, olds, news).await?;
        if !checked.failures.is_empty() {
            return Err(failures_status(&checked.failures));
        }
        Ok(properties_from_struct(checked.inputs.as_ref()))
    }

    /// The Create RPC alone, with `inputs` as given (no Check first; the engine always checks
    /// them): for what a provider's create does on its own, with inputs Check would refuse or
    /// change, or measured apart from the Check before it. `preview`: what `pulumi preview`
    /// sends.
    pub async fn send_create(
        &self,
        type_token: &str,
        name: &str,
        inputs: &PropertyMap,
        preview: bool,
    ) -> Result<Deployed, Status> {
        let created = self
            .service
            .create(Request::new(rpc::CreateRequest {
                urn: urn(type_token, name),
                name: name.to_string(),
                r#type: type_token.to_string(),
                properties: Some(properties_to_struct(inputs)),
                timeout: self.timeout_seconds(),
                preview,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok(Deployed {
            urn: urn(type_token, name),
            type_token: type_token.to_string(),
            name: name.to_string(),
            id: created.id,
            inputs: inputs.clone(),
            outputs: properties_from_struct(created.properties.as_ref()),
        })
    }

    /// `pulumi up` of a new resource: check, then create.
    pub async fn create(
        &self,
        type_token: &str,
        name: &str,
        inputs: &PropertyMap,
    ) -> Result<Deployed, Status> {
        let checked = self
            .checked(type_token, name, &PropertyMap::new(), inputs)
            .await?;
        self.send_create(type_token, name, &checked, false).await
    }

    /// `pulumi preview` of a new resource: check, then a create with `preview` set.
    pub async fn preview_create(
        &self,
        type_token: &str,
        name: &str,
        inputs: &PropertyMap,
    ) -> Result<Deployed, Status> {
        let checked = self
            .checked(type_token, name, &PropertyMap::new(), inputs)
            .await?;
        self.send_create(type_token, name, &checked, true).await
    }

    /// Diff of a deployed resource against new (checked) inputs.
    pub async fn diff(
        &self,
        deployed: &Deployed,
        news: &PropertyMap,
    ) -> Result<rpc::DiffResponse, Status> {
        self.service
            .diff(Request::new(rpc::DiffRequest {
                id: deployed.id.clone(),
                urn: deployed.urn.clone(),
                name: deployed.name.clone(),
                r#type: deployed.type_token.clone(),
                olds: Some(properties_to_struct(&deployed.outputs)),
                old_inputs: Some(properties_to_struct(&deployed.inputs)),
                news: Some(properties_to_struct(news)),
                ..Default::default()
            }))
            .await
            .map(|r| r.into_inner())
    }

    /// `pulumi up` of new inputs for a deployed resource: check, diff, then nothing, an
    /// update, or a replacement (create the new one, then delete the old one, unless the diff
    /// asks to delete first).
    pub async fn update(
        &self,
        deployed: &Deployed,
        news: &PropertyMap,
    ) -> Result<Deployed, Status> {
        self.update_step(deployed, news, false).await
    }

    /// `pulumi preview` of new inputs for a deployed resource: check, diff, then nothing, an
    /// update with `preview` set, or the replacement's create with `preview` set (nothing is
    /// deleted). The planned state comes back; the deployed one is unchanged.
    pub async fn preview_update(
        &self,
        deployed: &Deployed,
        news: &PropertyMap,
    ) -> Result<Deployed, Status> {
        self.update_step(deployed, news, true).await
    }

    async fn update_step(
        &self,
        deployed: &Deployed,
        news: &PropertyMap,
        preview: bool,
    ) -> Result<Deployed, Status> {
        let checked = self
            .checked(&deployed.type_token, &deployed.name, &deployed.inputs, news)
            .await?;
        let diff = self.diff(deployed, &checked).await?;
        if diff.changes != rpc::diff_response::DiffChanges::DiffSome as i32 {
            return Ok(deployed.clone());
        }
        if diff.replaces.is_empty() {
            return self.send_update(deployed, &checked, preview).await;
        }
        let (type_token, name) = (&deployed.type_token, &deployed.name);
        if preview {
            return self.send_create(type_token, name, &checked, true).await;
        }
        if diff.delete_before_replace {
            self.delete(deployed).await?;
            return self.send_create(type_token, name, &checked, false).await;
        }
        let replacement = self.send_create(type_token, name, &checked, false).await?;
        self.delete(deployed).await?;
        Ok(replacement)
    }

    /// The Update RPC alone, from `deployed` to `news` as given (no Check, and no Diff: the
    /// engine sends an Update only when Diff finds a change): for what a provider's update
    /// does on its own, e.g. with unchanged inputs. `preview`: what `pulumi preview` sends.
    pub async fn send_update(
        &self,
        deployed: &Deployed,
        news: &PropertyMap,
        preview: bool,
    ) -> Result<Deployed, Status> {
        let updated = self
            .service
            .update(Request::new(rpc::UpdateRequest {
                id: deployed.id.clone(),
                urn: deployed.urn.clone(),
                name: deployed.name.clone(),
                r#type: deployed.type_token.clone(),
                olds: Some(properties_to_struct(&deployed.outputs)),
                old_inputs: Some(properties_to_struct(&deployed.inputs)),
                news: Some(properties_to_struct(news)),
                timeout: self.timeout_seconds(),
                preview,
                ..Default::default()
            }))
            .await?
            .into_inner();
        Ok(Deployed {
            inputs: news.clone(),
            outputs: properties_from_struct(updated.properties.as_ref()),
            ..deployed.clone()
        })
    }

    /// `pulumi refresh`: the live resource, or `None` when it is gone.
    pub async fn refresh(&self, deployed: &Deployed) -> Result<Option<Deployed>, Status> {
        let read = self
            .service
            .read(Request::new(rpc::ReadRequest {
                id: deployed.id.clone(),
                urn: deployed.urn.clone(),
                name: deployed.name.clone(),
                r#type: deployed.type_token.clone(),
                properties: Some(properties_to_struct(&deployed.outputs)),
                inputs: Some(properties_to_struct(&deployed.inputs)),
                ..Default::default()
            }))
            .await?
            .into_inner();
        if read.id.is_empty() {
            return Ok(None);
        }
        Ok(Some(Deployed {
            id: read.id,
            inputs: properties_from_struct(read.inputs.as_ref()),
            outputs: properties_from_struct(read.properties.as_ref()),
            ..deployed.clone()
        }))
    }

    /// `pulumi import` of the existing resource of `id` as `name`: a Read of `id` with no
    /// state (no inputs, no outputs), as the engine sends it. The adopted resource, or `None`
    /// when there is no such resource.
    pub async fn import(
        &self,
        type_token: &str,
        name: &str,
        id: &str,
    ) -> Result<Option<Deployed>, Status> {
        self.refresh(&Deployed {
            urn: urn(type_token, name),
            type_token: type_token.to_string(),
            name: name.to_string(),
            id: id.to_string(),
            inputs: PropertyMap::new(),
            outputs: PropertyMap::new(),
        })
        .await
    }

    /// `pulumi destroy` of a deployed resource.
    pub async fn delete(&self, deployed: &Deployed) -> Result<(), Status> {
        self.service
            .delete(Request::new(rpc::DeleteRequest {
                id: deployed.id.clone(),
                urn: deployed.urn.clone(),
                name: deployed.name.clone(),
                r#type: deployed.type_token.clone(),
                properties: Some(properties_to_struct(&deployed.outputs)),
                old_inputs: Some(properties_to_struct(&deployed.inputs)),
                timeout: self.timeout_seconds(),
                ..Default::default()
            }))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Create, Resource, Resources, Update};
    use crate::{
        CheckFailure, CheckRequest, CheckResponse, Context, CreateRequest, CreateResponse,
        DeleteRequest, Diff, DiffRequest, Error, ReadRequest, ReadResponse, UpdateRequest, Value,
    };
    use serde::{Deserialize, Serialize};
    use std::sync::{Arc, Mutex};

    #[derive(Serialize, Deserialize, schemars::JsonSchema)]
    struct Inputs {
        text: String,
        #[serde(default)]
        shelf: Option<String>,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema)]
    struct Outputs {
        text: String,
        length: usize,
        #[serde(default)]
        shelf: Option<String>,
    }

    /// Notes kept in memory, by id; a shelf change replaces a note.
    #[derive(Default)]
    struct Shelf {
        live: Mutex<Vec<String>>,
        /// What reached the resource, in order: `check <name>`, `create <name>`,
        /// `update <id>` or `delete <id>`, then ` (preview)` for a preview and
        /// ` within <time>` when the operation has a deadline.
        calls: Mutex<Vec<String>>,
    }

    impl Shelf {
        fn record(&self, call: String, preview: bool, ctx: Option<&Context>) {
            let mut call = call;
            if preview {
                call.push_str(" (preview)");
            }
            if let Some(deadline) = ctx.and_then(Context::deadline) {
                let left = deadline - tokio::time::Instant::now();
                call.push_str(&format!(" within {left:?}"));
            }
            self.calls.lock().unwrap().push(call);
        }

        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    struct NoteResource;

    #[async_trait::async_trait]
    impl Resource<Shelf> for NoteResource {
        const TOKEN: &'static str = "t:index:Note";
        type Inputs = Inputs;
        type Outputs = Outputs;
        const UPDATES_IN_PLACE: bool = true;
        const REPLACE_ON_CHANGES: &'static [&'static str] = &["shelf"];
        const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] =
            &[("length", &["text"])];

        async fn check_live(&self, shelf: &Shelf, name: &str, _: &Inputs) -> Vec<CheckFailure> {
            shelf.record(format!("check {name}"), false, None);
            Vec::new()
        }

        async fn create(
            &self,
            shelf: &Shelf,
            req: Create<Inputs>,
            ctx: Context,
        ) -> Result<(String, Outputs), Error> {
            shelf.record(format!("create {}", req.name), req.preview, Some(&ctx));
            let mut live = shelf.live.lock().unwrap();
            let id = format!("{}-{}", req.name, live.len());
            if !req.preview {
                live.push(id.clone());
            }
            Ok((id, outputs(req.inputs)))
        }

        async fn update(
            &self,
            shelf: &Shelf,
            req: Update<Inputs, Outputs>,
            ctx: Context,
        ) -> Result<Outputs, Error> {
            shelf.record(format!("update {}", req.id), req.preview, Some(&ctx));
            Ok(outputs(req.news))
        }

        async fn read(
            &self,
            shelf: &Shelf,
            id: &str,
            inputs: Inputs,
            outputs: Outputs,
            _: Context,
        ) -> Result<Option<(Inputs, Outputs)>, Error> {
            let live = shelf.live.lock().unwrap().iter().any(|l| l == id);
            Ok(live.then_some((inputs, outputs)))
        }

        /// A live note imports as one whose text is its id.
        async fn import(
            &self,
            shelf: &Shelf,
            id: &str,
            _: Context,
        ) -> Result<Option<(Inputs, Outputs)>, Error> {
            let live = shelf.live.lock().unwrap().iter().any(|l| l == id);
            let inputs = || Inputs {
                text: id.to_string(),
                shelf: None,
            };
            Ok(live.then(|| (inputs(), outputs(inputs()))))
        }

        async fn delete(
            &self,
            shelf: &Shelf,
            id: &str,
            _: Outputs,
            ctx: Context,
        ) -> Result<(), Error> {
            shelf.record(format!("delete {id}"), false, Some(&ctx));
            shelf.live.lock().unwrap().retain(|l| l != id);
            Ok(())
        }
    }

    /// A note whose create never finishes on its own: it waits until the operation is
    /// interrupted (Cancel, or the deadline), and fails with why.
    struct StuckNote;

    #[async_trait::async_trait]
    impl Resource<Shelf> for StuckNote {
        const TOKEN: &'static str = "t:index:StuckNote";
        type Inputs = Inputs;
        type Outputs = Outputs;

        async fn create(
            &self,
            shelf: &Shelf,
            req: Create<Inputs>,
            ctx: Context,
        ) -> Result<(String, Outputs), Error> {
            shelf.record(format!("create {}", req.name), req.preview, Some(&ctx));
            Err(Error::Interrupted(ctx.interrupted().await))
        }
    }

    fn outputs(inputs: Inputs) -> Outputs {
        Outputs {
            length: inputs.text.chars().count(),
            text: inputs.text,
            shelf: inputs.shelf,
        }
    }

    struct Notes {
        shelf: Arc<Shelf>,
        resources: Resources<Shelf>,
    }

    #[async_trait::async_trait]
    impl Provider for Notes {
        fn schema(&self) -> &str {
            "{}"
        }
        async fn configure(&self, _: PropertyMap) -> Result<(), Error> {
            Ok(())
        }
        async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
            let shelf = Some(&*self.shelf);
            self.resources.check(shelf, req).await
        }
        async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
            self.resources.diff(req).await
        }
        async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error> {
            self.resources.create(&self.shelf, req, ctx).await
        }
        async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error> {
            self.resources
                .get(&req.type_token)?
                .read(&self.shelf, req, ctx)
                .await
        }
        async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
            self.resources.update(&self.shelf, req, ctx).await
        }
        async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
            self.resources.delete(&self.shelf, req, ctx).await
        }
    }

    /// A driver of the notes provider, configured, and its shelf.
    async fn driver() -> (Driver<Notes>, Arc<Shelf>) {
        let shelf = Arc::new(Shelf::default());
        let driver = Driver::new(
            "t",
            Notes {
                shelf: shelf.clone(),
                resources: Resources::default().typed(NoteResource).typed(StuckNote),
            },
        );
        driver.configure(PropertyMap::new()).await.unwrap();
        (driver, shelf)
    }

    /// A configured driver that has created note `a` ("hello", id `a-0`).
    async fn driver_with_note_a() -> (Driver<Notes>, Arc<Shelf>, Deployed) {
        let (driver, shelf) = driver().await;
        let a = driver
            .create("t:index:Note", "a", &note(Value::from("hello"), None))
            .await
            .unwrap();
        (driver, shelf, a)
    }

    fn note(text: Value, shelf: Option<&str>) -> PropertyMap {
        let mut inputs = PropertyMap::from([("text".into(), text)]);
        if let Some(shelf) = shelf {
            inputs.insert("shelf".into(), Value::from(shelf));
        }
        inputs
    }

    #[tokio::test]
    async fn a_note_through_create_update_replace_refresh_and_delete() {
        let (driver, _) = driver().await;
        let token = "t:index:Note";

        let planned = driver
            .preview_create(token, "a", &note(Value::Unknown, None))
            .await
            .unwrap();
        assert_eq!(planned.outputs["length"], Value::Unknown);

        let refused = driver
            .create(token, "a", &PropertyMap::new())
            .await
            .unwrap_err();
        assert!(
            refused.message().contains("text: is required"),
            "{refused:?}"
        );

        let secret = Value::from("hello").into_secret();
        let a = driver
            .create(token, "a", &note(secret, None))
            .await
            .unwrap();
        assert_eq!(a.id, "a-0");
        assert_eq!(a.outputs["length"], Value::Number(5.0).into_secret());
        assert_eq!(a.outputs["text"], Value::from("hello").into_secret());

        let same = driver
            .update(&a, &note(Value::from("hello").into_secret(), None))
            .await
            .unwrap();
        assert_eq!(same.id, a.id);

        let edited = driver
            .update(&a, &note(Value::from("hi"), None))
            .await
            .unwrap();
        assert_eq!(edited.id, "a-0", "a text change updates in place");
        assert_eq!(edited.outputs["length"], Value::Number(2.0));

        let moved = driver
            .update(&edited, &note(Value::from("hi"), Some("top")))
            .await
            .unwrap();
        assert_eq!(moved.id, "a-1", "a shelf change replaces");
        assert!(
            driver.refresh(&edited).await.unwrap().is_none(),
            "the old one is gone"
        );
        let live = driver.refresh(&moved).await.unwrap().unwrap();
        assert_eq!(live.outputs["shelf"], Value::from("top"));

        driver.delete(&moved).await.unwrap();
        assert!(driver.refresh(&moved).await.unwrap().is_none());
    }

    /// Each Create, Update and Delete gets the driver's timeout as its deadline (Check and
    /// Read have none).
    #[tokio::test(start_paused = true)]
    async fn with_timeout_gives_each_operation_its_deadline() {
        let (driver, shelf) = driver().await;
        let driver = driver.with_timeout(Duration::from_secs(90));
        let token = "t:index:Note";
        let a = driver
            .create(token, "a", &note(Value::from("hello"), None))
            .await
            .unwrap();
        let edited = driver
            .update(&a, &note(Value::from("hi"), None))
            .await
            .unwrap();
        driver.delete(&edited).await.unwrap();
        assert_eq!(
            shelf.calls(),
            [
                "check a",
                "create a within 90s",
                "check a",
                "update a-0 within 90s",
                "delete a-0 within 90s"
            ]
        );

        // A stuck create ends at its deadline.
        let started = tokio::time::Instant::now();
        let stuck = driver
            .create("t:index:StuckNote", "s", &note(Value::from("x"), None))
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(90));
        assert_eq!(stuck.code(), tonic::Code::Cancelled);
        assert!(stuck.message().contains("timed out"), "{stuck:?}");
    }

    /// Cancel, as the engine sends it, stops the operation in flight, and those sent after.
    #[tokio::test(start_paused = true)]
    async fn cancel_stops_what_is_in_flight_and_what_comes_after() {
        let (driver, shelf) = driver().await;
        let token = "t:index:StuckNote";
        let inputs = note(Value::from("x"), None);
        // Bounded, so that a cancel that does not arrive fails the test instead of hanging it.
        let bounded = |step| tokio::time::timeout(Duration::from_secs(3600), step);
        let (stuck, cancelled) = tokio::join!(bounded(driver.create(token, "s", &inputs)), async {
            // The create is waiting when the engine cancels.
            while shelf.calls().is_empty() {
                tokio::task::yield_now().await;
            }
            driver.cancel().await
        });
        cancelled.unwrap();
        let stuck = stuck.expect("the cancel ends the create").unwrap_err();
        assert_eq!(stuck.code(), tonic::Code::Cancelled);
        assert!(stuck.message().contains("cancelled"), "{stuck:?}");
        let later = bounded(driver.create(token, "t", &inputs))
            .await
            .expect("a create after the cancel ends at once")
            .unwrap_err();
        // (Its Check, cancelled already, may still answer first: then its create ends.)
        assert_eq!(later.code(), tonic::Code::Cancelled);
    }

    /// `send_create` and `send_update` send their RPC alone: no Check before it, and an Update
    /// even where Diff finds no change (where the `update` step sends none).
    #[tokio::test]
    async fn send_create_and_send_update_are_their_rpc_alone() {
        let (driver, shelf, a) = driver_with_note_a().await;
        let token = "t:index:Note";
        let same = driver.update(&a, &a.inputs).await.unwrap();
        assert_eq!(same.outputs, a.outputs);
        let forced = driver.send_update(&a, &a.inputs, false).await.unwrap();
        assert_eq!(forced.id, "a-0");
        let b = driver
            .send_create(token, "b", &note(Value::from("hi"), None), false)
            .await
            .unwrap();
        assert_eq!(b.outputs["length"], Value::Number(2.0));
        let planned = driver
            .send_update(&b, &note(Value::from("hey"), None), true)
            .await
            .unwrap();
        assert_eq!(planned.outputs["length"], Value::Number(3.0));
        assert_eq!(
            shelf.calls(),
            [
                "check a",
                "create a",
                "check a",
                "update a-0",
                "create b",
                "update b-1 (preview)"
            ]
        );
    }

    /// `import` reads a resource the state does not have yet, under the name given; one that
    /// does not exist comes back as `None`, and a type that cannot be imported says so.
    #[tokio::test]
    async fn import_adopts_what_exists() {
        let (driver, shelf, _) = driver_with_note_a().await;
        let token = "t:index:Note";
        let adopted = driver.import(token, "b", "a-0").await.unwrap().unwrap();
        assert_eq!(adopted.id, "a-0");
        assert_eq!(adopted.urn, urn(token, "b"));
        assert_eq!(adopted.inputs["text"], Value::from("a-0"));
        assert_eq!(adopted.outputs["length"], Value::Number(3.0));
        assert!(driver.import(token, "c", "gone").await.unwrap().is_none());
        let refused = driver
            .import("t:index:StuckNote", "s", "a-0")
            .await
            .unwrap_err();
        assert!(
            refused.message().contains("cannot be imported"),
            "{refused:?}"
        );
        assert_eq!(shelf.calls(), ["check a", "create a"], "nothing written");
    }

    /// A preview of new inputs plans an update, or the replacement's create, with `preview`
    /// set, and deletes nothing.
    #[tokio::test]
    async fn preview_update_plans_and_changes_nothing() {
        let (driver, shelf, a) = driver_with_note_a().await;
        // Only a preview can take a text that is not known yet.
        let planned = driver
            .preview_update(&a, &note(Value::Unknown, None))
            .await
            .unwrap();
        assert_eq!(planned.outputs["length"], Value::Unknown);
        let edited = driver
            .preview_update(&a, &note(Value::from("hi"), None))
            .await
            .unwrap();
        assert_eq!(edited.outputs["length"], Value::Number(2.0));
        let moved = driver
            .preview_update(&a, &note(Value::from("hello"), Some("top")))
            .await
            .unwrap();
        assert_eq!(moved.outputs["shelf"], Value::from("top"));
        assert!(driver.refresh(&a).await.unwrap().is_some(), "not deleted");
        assert_eq!(*shelf.live.lock().unwrap(), ["a-0"]);
        assert_eq!(
            shelf.calls(),
            [
                "check a",
                "create a",
                "check a",
                "update a-0 (preview)",
                "check a",
                "create a (preview)"
            ]
        );
    }
}
