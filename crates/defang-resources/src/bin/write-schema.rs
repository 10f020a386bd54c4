//! Writes the package schema generated from the types to `schema.json` at the repository root
//! (`make schema`), or to the path given as the only argument.

use std::path::PathBuf;

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema.json"));
    let text = defang_resources::schema::package_schema().to_pretty_string();
    if let Err(err) = std::fs::write(&path, text) {
        eprintln!("write-schema: cannot write {}: {err}", path.display());
        std::process::exit(1);
    }
}
