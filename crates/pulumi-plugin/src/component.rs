//! Component resources (`Construct`): a resource whose implementation registers child
//! resources through the engine's `ResourceMonitor`, the way a program would.
//!
//! The machinery registers the component itself with the options the program gave it
//! (parent, `protect`, aliases, `dependsOn`, providers, …), hands the implementation a
//! [`ComponentScope`] to register children under it, and registers the component's outputs
//! when the implementation returns them. Children inherit what the protocol says nested
//! resources inherit (`protect`, `customTimeouts`, `deleteBeforeReplace`, `retainOnDelete`,
//! `deletedWith`, the component's dependencies and its providers) unless they set their own.

use crate::engine_log::{EngineLog, ResourceLog};
use crate::error::Error;
use crate::mask::Mask;
use crate::value::{PropertyMap, properties_from_struct, properties_to_struct};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::resource_monitor_client::ResourceMonitorClient;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use tonic::transport::Channel;

/// What the engine asks of a component.
#[derive(Clone, Debug)]
pub struct ConstructRequest {
    /// The component's type, `<package>:<module>:<Type>`.
    pub type_token: String,
    /// The component's logical name: children are usually named after it.
    pub name: String,
    /// The program's inputs, with secrets and (in preview) unknowns. The engine has not
    /// checked them: the component validates its own inputs.
    pub inputs: PropertyMap,
    /// Which URNs each input came from.
    pub input_dependencies: BTreeMap<String, Vec<String>>,
    /// A preview: children are registered as usual, and the engine answers with planned
    /// outputs (unknown where a child cannot know them yet).
    pub dry_run: bool,
    /// The program's project name.
    pub project: String,
    /// The stack being deployed.
    pub stack: String,
    /// The stack configuration (`<namespace>:<key>` to value).
    pub config: BTreeMap<String, String>,
}

/// Timeouts of create, update and delete, as the engine writes durations (`"5m"`, `"90s"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomTimeouts {
    /// The create timeout; empty: the provider's default.
    pub create: String,
    /// The update timeout; empty: the provider's default.
    pub update: String,
    /// The delete timeout; empty: the provider's default.
    pub delete: String,
}

/// The options of one child resource. `None` inherits the component's.
#[derive(Clone, Debug, Default)]
pub struct ChildOptions {
    /// URNs this child waits for, beyond the component's own dependencies.
    pub depends_on: Vec<String>,
    /// Which URNs each input property came from (for the engine's dependency graph).
    pub property_dependencies: BTreeMap<String, Vec<String>>,
    /// The engine refuses to delete (or replace) a protected resource.
    pub protect: Option<bool>,
    /// A replacement deletes the old child before creating the new one.
    pub delete_before_replace: Option<bool>,
    /// Deleting the child only drops it from state; the cloud resource stays.
    pub retain_on_delete: Option<bool>,
    /// How long the child's create, update and delete may take.
    pub custom_timeouts: Option<CustomTimeouts>,
    /// Input paths whose changes the engine ignores (old values kept).
    pub ignore_changes: Vec<String>,
    /// Input paths whose changes replace the child, beyond those its provider names.
    pub replace_on_changes: Vec<String>,
    /// Output properties the engine makes secret, beyond those that follow secret inputs.
    pub additional_secret_outputs: Vec<String>,
    /// Earlier identities of this child (renames), as alias specs.
    pub aliases: Vec<rpc::Alias>,
}

/// A child to register: a custom resource, or a component of its own (`custom: false`).
#[derive(Clone, Debug)]
pub struct Child {
    /// The child's type, `<package>:<module>:<Type>`: its package picks the provider (the
    /// component's provider for that package, when the program gave one).
    pub type_token: String,
    /// The child's logical name: unique among resources of its type in the stack, so derive
    /// it from the component's name.
    pub name: String,
    /// The child's inputs, secrets and unknowns as they are; its provider checks them.
    pub inputs: PropertyMap,
    /// A custom resource (a provider creates it), or a component (`false`).
    pub custom: bool,
    /// Its options; the defaults inherit the component's.
    pub options: ChildOptions,
}

impl Child {
    /// A custom resource with default options.
    pub fn custom(type_token: &str, name: &str, inputs: PropertyMap) -> Self {
        Child {
            type_token: type_token.to_string(),
            name: name.to_string(),
            inputs,
            custom: true,
            options: ChildOptions::default(),
        }
    }

    /// The same child with `options` instead of the defaults.
    pub fn with_options(mut self, options: ChildOptions) -> Self {
        self.options = options;
        self
    }
}

/// A registered child, as the engine answered.
#[derive(Clone, Debug)]
pub struct Registered {
    /// The child's URN: a dependency for later children ([`ChildOptions::depends_on`]).
    pub urn: String,
    /// Empty in preview for a resource that is not created yet.
    pub id: String,
    /// Its outputs: planned ones (unknown where not known yet) in preview.
    pub outputs: PropertyMap,
}

/// The options the program gave the component, kept for its children.
#[derive(Clone, Debug, Default)]
struct Inherited {
    protect: Option<bool>,
    delete_before_replace: Option<bool>,
    retain_on_delete: Option<bool>,
    custom_timeouts: Option<CustomTimeouts>,
    deleted_with: String,
    dependencies: Vec<String>,
    providers: HashMap<String, String>,
}

/// The engine's monitor, as seen from one component under construction.
pub struct ComponentScope {
    monitor: ResourceMonitorClient<Channel>,
    urn: String,
    log: ResourceLog,
    dry_run: bool,
    inherited: Inherited,
    children: Mutex<BTreeSet<String>>,
}

impl ComponentScope {
    /// The component's URN: the parent of every child registered here.
    pub fn urn(&self) -> &str {
        &self.urn
    }

    /// Whether this is a preview ([`ConstructRequest::dry_run`]).
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Messages shown against the component in `pulumi preview` and `up` (warnings about its
    /// inputs, progress), masked of the secret values of its inputs.
    pub fn log(&self) -> &ResourceLog {
        &self.log
    }

    /// Registers a child under the component and waits for the engine to create, update or
    /// keep it (in preview: to plan it). Children registered concurrently are deployed
    /// concurrently, as in a program.
    pub async fn register(&self, child: Child) -> Result<Registered, Error> {
        let request = self.child_request(child);
        let what = format!("{} {}", request.r#type, request.name);
        let response = self
            .monitor
            .clone()
            .register_resource(request)
            .await
            .map_err(|status| monitor_error(&what, status))?
            .into_inner();
        self.children
            .lock()
            .expect("children lock")
            .insert(response.urn.clone());
        Ok(Registered {
            urn: response.urn,
            id: response.id,
            outputs: properties_from_struct(response.object.as_ref()),
        })
    }

    fn child_request(&self, child: Child) -> rpc::RegisterResourceRequest {
        let inherited = &self.inherited;
        let options = child.options;
        let package = child.type_token.split(':').next().unwrap_or_default();
        let provider = if child.custom {
            inherited
                .providers
                .get(package)
                .cloned()
                .unwrap_or_default()
        } else {
            String::new()
        };
        let mut dependencies = inherited.dependencies.clone();
        dependencies.extend(options.depends_on);
        let delete_before_replace = options
            .delete_before_replace
            .or(inherited.delete_before_replace);
        rpc::RegisterResourceRequest {
            r#type: child.type_token,
            name: child.name,
            parent: self.urn.clone(),
            custom: child.custom,
            object: Some(properties_to_struct(&child.inputs)),
            protect: options.protect.or(inherited.protect),
            dependencies,
            provider,
            providers: if child.custom {
                HashMap::new()
            } else {
                inherited.providers.clone()
            },
            property_dependencies: options
                .property_dependencies
                .into_iter()
                .map(|(key, urns)| {
                    (
                        key,
                        rpc::register_resource_request::PropertyDependencies { urns },
                    )
                })
                .collect(),
            delete_before_replace: delete_before_replace.unwrap_or(false),
            delete_before_replace_defined: delete_before_replace.is_some(),
            ignore_changes: options.ignore_changes,
            replace_on_changes: options.replace_on_changes,
            additional_secret_outputs: options.additional_secret_outputs,
            custom_timeouts: options
                .custom_timeouts
                .or_else(|| inherited.custom_timeouts.clone())
                .map(|t| rpc::register_resource_request::CustomTimeouts {
                    create: t.create,
                    update: t.update,
                    delete: t.delete,
                }),
            retain_on_delete: options.retain_on_delete.or(inherited.retain_on_delete),
            deleted_with: inherited.deleted_with.clone(),
            aliases: options.aliases,
            alias_specs: true,
            accept_secrets: true,
            accept_resources: true,
            supports_partial_values: true,
            ..Default::default()
        }
    }

    /// The children registered so far: what every output of the component depends on.
    fn children(&self) -> Vec<String> {
        self.children
            .lock()
            .expect("children lock")
            .iter()
            .cloned()
            .collect()
    }
}

fn monitor_error(what: &str, status: tonic::Status) -> Error {
    Error::Failed(format!(
        "registering {what} with the engine failed: {}",
        status.message()
    ))
}

/// Splits the wire request into what the implementation reads and what the machinery keeps.
pub(crate) fn construct_request(r: &rpc::ConstructRequest) -> ConstructRequest {
    ConstructRequest {
        type_token: r.r#type.clone(),
        name: r.name.clone(),
        inputs: properties_from_struct(r.inputs.as_ref()),
        input_dependencies: r
            .input_dependencies
            .iter()
            .map(|(k, d)| (k.clone(), d.urns.clone()))
            .collect(),
        dry_run: r.dry_run,
        project: r.project.clone(),
        stack: r.stack.clone(),
        config: r
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// Connects to the engine's monitor and registers the component with the program's options.
pub(crate) async fn open_scope(
    r: &rpc::ConstructRequest,
    max_message_bytes: usize,
    log: &EngineLog,
    mask: &Mask,
) -> Result<ComponentScope, Error> {
    let endpoint = format!("http://{}", r.monitor_endpoint);
    let channel = Channel::from_shared(endpoint)
        .map_err(|e| Error::Internal(format!("the engine's monitor address is invalid: {e}")))?
        .connect()
        .await
        .map_err(|e| {
            Error::Failed(format!(
                "cannot reach the engine's resource monitor at {}: {e}",
                r.monitor_endpoint
            ))
        })?;
    let mut monitor = ResourceMonitorClient::new(channel)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
    let custom_timeouts = r.custom_timeouts.as_ref().map(|t| CustomTimeouts {
        create: t.create.clone(),
        update: t.update.clone(),
        delete: t.delete.clone(),
    });
    let what = format!("{} {}", r.r#type, r.name);
    let registered = monitor
        .register_resource(rpc::RegisterResourceRequest {
            r#type: r.r#type.clone(),
            name: r.name.clone(),
            parent: r.parent.clone(),
            custom: false,
            object: Some(prost_types::Struct::default()),
            protect: r.protect,
            dependencies: r.dependencies.clone(),
            providers: r.providers.clone(),
            property_dependencies: r
                .input_dependencies
                .iter()
                .map(|(k, d)| {
                    (
                        k.clone(),
                        rpc::register_resource_request::PropertyDependencies {
                            urns: d.urns.clone(),
                        },
                    )
                })
                .collect(),
            delete_before_replace: r.delete_before_replace.unwrap_or(false),
            delete_before_replace_defined: r.delete_before_replace.is_some(),
            ignore_changes: r.ignore_changes.clone(),
            replace_on_changes: r.replace_on_changes.clone(),
            additional_secret_outputs: r.additional_secret_outputs.clone(),
            custom_timeouts: r.custom_timeouts.as_ref().map(|t| {
                rpc::register_resource_request::CustomTimeouts {
                    create: t.create.clone(),
                    update: t.update.clone(),
                    delete: t.delete.clone(),
                }
            }),
            retain_on_delete: r.retain_on_delete,
            deleted_with: r.deleted_with.clone(),
            replace_with: r.replace_with.clone(),
            replacement_trigger: r.replacement_trigger.clone(),
            aliases: r.aliases.clone(),
            alias_specs: true,
            accept_secrets: true,
            accept_resources: true,
            supports_partial_values: true,
            ..Default::default()
        })
        .await
        .map_err(|status| monitor_error(&what, status))?
        .into_inner();
    Ok(ComponentScope {
        monitor,
        log: log.for_resource(&registered.urn).with_mask(mask),
        urn: registered.urn,
        dry_run: r.dry_run,
        inherited: Inherited {
            protect: r.protect,
            delete_before_replace: r.delete_before_replace,
            retain_on_delete: r.retain_on_delete,
            custom_timeouts,
            deleted_with: r.deleted_with.clone(),
            dependencies: r.dependencies.clone(),
            providers: r.providers.clone(),
        },
        children: Mutex::new(BTreeSet::new()),
    })
}

/// Registers the component's outputs and answers the engine: every output depends on every
/// child (the engine then orders a consumer of an output after the children it came from).
pub(crate) async fn finish(
    scope: ComponentScope,
    outputs: &PropertyMap,
) -> Result<rpc::ConstructResponse, Error> {
    let state = properties_to_struct(outputs);
    let what = format!("the outputs of {}", scope.urn);
    scope
        .monitor
        .clone()
        .register_resource_outputs(rpc::RegisterResourceOutputsRequest {
            urn: scope.urn.clone(),
            outputs: Some(state.clone()),
        })
        .await
        .map_err(|status| monitor_error(&what, status))?;
    let children = scope.children();
    Ok(rpc::ConstructResponse {
        urn: scope.urn,
        state: Some(state),
        state_dependencies: outputs
            .keys()
            .map(|key| {
                (
                    key.clone(),
                    rpc::construct_response::PropertyDependencies {
                        urns: children.clone(),
                    },
                )
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn scope(inherited: Inherited) -> ComponentScope {
        let channel = Channel::from_static("http://127.0.0.1:1").connect_lazy();
        ComponentScope {
            monitor: ResourceMonitorClient::new(channel),
            log: EngineLog::recording().for_resource("urn:pulumi:dev::p::t:index:Pair::pair"),
            urn: "urn:pulumi:dev::p::t:index:Pair::pair".into(),
            dry_run: false,
            inherited,
            children: Mutex::new(BTreeSet::new()),
        }
    }

    #[tokio::test]
    async fn children_inherit_the_component_options_they_do_not_set() {
        let scope = scope(Inherited {
            protect: Some(true),
            delete_before_replace: Some(true),
            retain_on_delete: Some(true),
            custom_timeouts: Some(CustomTimeouts {
                create: "2m".into(),
                ..Default::default()
            }),
            deleted_with: "urn:w".into(),
            dependencies: vec!["urn:dep".into()],
            providers: HashMap::from([("t".into(), "urn:prov::id".into())]),
        });
        let inputs = PropertyMap::from([("text".into(), Value::from("x").into_secret())]);
        let plain = scope.child_request(Child::custom("t:index:Note", "a", inputs.clone()));
        assert_eq!(plain.parent, scope.urn);
        assert_eq!(plain.protect, Some(true));
        assert!(plain.delete_before_replace && plain.delete_before_replace_defined);
        assert_eq!(plain.retain_on_delete, Some(true));
        assert_eq!(plain.custom_timeouts.as_ref().unwrap().create, "2m");
        assert_eq!(plain.deleted_with, "urn:w");
        assert_eq!(plain.dependencies, vec!["urn:dep".to_string()]);
        assert_eq!(plain.provider, "urn:prov::id");
        assert!(plain.accept_secrets && plain.custom);
        assert_eq!(properties_from_struct(plain.object.as_ref()), inputs);

        let own = scope.child_request(Child::custom("t:index:Note", "b", inputs).with_options(
            ChildOptions {
                depends_on: vec!["urn:a".into()],
                protect: Some(false),
                delete_before_replace: Some(false),
                custom_timeouts: Some(CustomTimeouts {
                    delete: "1m".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ));
        assert_eq!(own.protect, Some(false));
        assert!(!own.delete_before_replace && own.delete_before_replace_defined);
        assert_eq!(own.custom_timeouts.as_ref().unwrap().create, "");
        assert_eq!(own.custom_timeouts.as_ref().unwrap().delete, "1m");
        assert_eq!(
            own.dependencies,
            vec!["urn:dep".to_string(), "urn:a".to_string()]
        );
    }

    #[tokio::test]
    async fn a_child_of_another_package_gets_no_provider_of_ours() {
        let scope = scope(Inherited {
            providers: HashMap::from([("t".into(), "urn:prov::id".into())]),
            ..Default::default()
        });
        let other = scope.child_request(Child::custom("aws:s3:Bucket", "b", PropertyMap::new()));
        assert_eq!(other.provider, "");
        let nested = scope.child_request(Child {
            custom: false,
            ..Child::custom("t:index:Group", "g", PropertyMap::new())
        });
        assert_eq!(nested.provider, "");
        assert_eq!(
            nested.providers.get("t").map(String::as_str),
            Some("urn:prov::id")
        );
    }
}
