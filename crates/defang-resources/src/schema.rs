//! The package schema, generated from the types: `schema.json` at the repository root is what
//! [`package_schema`] writes (`make schema`), and a test fails when the two differ. Only the
//! package's metadata (names, SDK settings) is written by hand, in `schema/package.json`.

use crate::compose::{self, component::ComposeInputs, component::ComposeOutputs};
use crate::config::ConfigInputs;
use crate::project::resource::ProjectResource;
use crate::runtime::Runtime;
use crate::service::get_domains::{GetDomainsArgs, GetDomainsResult};
use crate::service::{self, inputs::ServiceInputs, outputs::ServiceOutputs};
use pulumi_plugin::PackageSchema;

/// The package's metadata: everything but its configuration, types and resources.
const METADATA: &str = include_str!("schema/package.json");

/// The schema of the `defang` package.
pub fn package_schema() -> PackageSchema {
    let metadata = serde_json::from_str(METADATA).expect("schema/package.json is valid JSON");
    PackageSchema::new(metadata)
        .config::<ConfigInputs>()
        .typed::<Runtime, ProjectResource>()
        .resource::<ServiceInputs, ServiceOutputs>(
            service::lifecycle::TOKEN,
            service::lifecycle::REPLACE_ON_CHANGES,
        )
        .component::<ComposeInputs, ComposeOutputs>(compose::component::TOKEN)
        .function::<GetDomainsArgs, GetDomainsResult>(service::get_domains::TOKEN)
}
