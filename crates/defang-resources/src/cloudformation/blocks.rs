//! Building blocks of the CloudFormation templates (project and service stacks).

use serde_json::{Value, json};

/// `{"Ref": id}`: a resource's id (or a parameter's value).
pub fn r(logical_id: &str) -> Value {
    json!({ "Ref": logical_id })
}

/// `{"Fn::GetAtt": [id, attribute]}`.
pub fn attr(logical_id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [logical_id, attribute] })
}
