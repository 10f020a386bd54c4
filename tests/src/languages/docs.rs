//! The schema's descriptions, and where the SDKs' doc comments carry them: shared by the SDK
//! test (the generated sources) and the TypeScript test (the compiled `.d.ts`).

use std::collections::BTreeSet;

/// The package schema, parsed.
pub fn schema() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(crate::repo_root().join("schema.json")).unwrap())
        .unwrap()
}

/// Every description in the schema (`(where, text)`): resources' inputs and outputs, object
/// types' properties, enum values.
pub fn descriptions(schema: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for section in ["resources", "types"] {
        for (token, spec) in schema[section].as_object().unwrap() {
            for list in ["inputProperties", "properties"] {
                for (name, property) in spec[list].as_object().into_iter().flatten() {
                    if let Some(text) = property["description"].as_str() {
                        out.push((format!("{token}.{name}"), text.to_string()));
                    }
                }
            }
            for value in spec["enum"].as_array().into_iter().flatten() {
                if let Some(text) = value["description"].as_str() {
                    out.push((format!("{token} {}", value["value"]), text.to_string()));
                }
            }
        }
    }
    out
}

/// Every line of `text` that is not a doc-comment line of `source` (`prefix` + the line).
pub fn undocumented<'a>(text: &'a str, source: &str, prefix: &str) -> Vec<&'a str> {
    let documented: BTreeSet<&str> = source
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix))
        .map(str::trim)
        .collect();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| {
            !documented.contains(l) && !documented.iter().any(|d| d.ends_with(&format!(": {l}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::undocumented;

    #[test]
    fn a_line_counts_only_as_a_doc_line_of_its_own() {
        let source = "/**\n * First line.\n */\n:param x: Second line.\n// Third line, in code";
        assert!(undocumented("First line.\nSecond line.", source, "* ").len() == 1);
        assert_eq!(
            undocumented("First line.", source, "* "),
            Vec::<&str>::new()
        );
        assert_eq!(undocumented("Second line.", source, ""), Vec::<&str>::new());
        assert_eq!(undocumented("Third line", source, "// "), ["Third line"]);
    }
}
