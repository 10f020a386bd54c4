//! "Secret inputs give secret outputs": secretness follows the value's path from inputs to outputs.

use super::{PropertyMap, Value};

/// Marks as secret every output value found at a path that holds a secret in `inputs`.
pub fn propagate_secrets(inputs: &PropertyMap, outputs: &mut PropertyMap) {
    for (key, input) in inputs {
        if let Some(output) = outputs.get_mut(key) {
            apply(input, output);
        }
    }
}

/// What [`propagate_secrets`] reads of `inputs`: the paths to their secrets (each a secret of
/// null), with every object key and array item that holds none left out (array items as null,
/// so indices still line up). Propagating from it marks exactly what propagating from `inputs`
/// does, without a copy of every input value.
pub fn secrets_only(inputs: &PropertyMap) -> PropertyMap {
    inputs
        .iter()
        .filter_map(|(k, v)| secret_skeleton(v).map(|s| (k.clone(), s)))
        .collect()
}

fn secret_skeleton(v: &Value) -> Option<Value> {
    match v {
        Value::Secret(_) => Some(Value::Secret(Box::new(Value::Null))),
        Value::Object(map) => {
            let kept = secrets_only(map);
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) if items.iter().any(Value::contains_secrets) => Some(Value::Array(
            items
                .iter()
                .map(|item| secret_skeleton(item).unwrap_or(Value::Null))
                .collect(),
        )),
        _ => None,
    }
}

fn apply(input: &Value, output: &mut Value) {
    match (input, &mut *output) {
        (_, Value::Secret(_)) => {}
        (Value::Secret(_), _) => output.make_secret(),
        (Value::Object(im), Value::Object(om)) => {
            for (k, iv) in im {
                if let Some(ov) = om.get_mut(k) {
                    apply(iv, ov);
                }
            }
        }
        (Value::Array(ia), Value::Array(oa)) => {
            for (iv, ov) in ia.iter().zip(oa.iter_mut()) {
                apply(iv, ov);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Propagating from `secrets_only(inputs)` marks what propagating from the inputs does.
    #[test]
    fn secrets_only_propagates_the_same() {
        let obj = |pairs: Vec<(&str, Value)>| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let inputs: PropertyMap = [
            ("plain".to_string(), Value::from("a")),
            ("top".to_string(), Value::from("s").into_secret()),
            (
                "env".to_string(),
                obj(vec![
                    ("A", Value::from("1")),
                    ("B", Value::from("2").into_secret()),
                    ("C", obj(vec![("D", Value::from("x"))])),
                ]),
            ),
            (
                "list".to_string(),
                Value::Array(vec![
                    Value::from("0"),
                    obj(vec![("k", Value::from("1").into_secret())]),
                    Value::from("2").into_secret(),
                ]),
            ),
            (
                "plainList".to_string(),
                Value::Array(vec![Value::from("0")]),
            ),
        ]
        .into();
        let outputs: PropertyMap = [
            ("plain".to_string(), Value::from("a")),
            ("top".to_string(), Value::from("s")),
            (
                "env".to_string(),
                obj(vec![
                    ("A", Value::from("1")),
                    ("B", Value::from("2")),
                    ("C", obj(vec![("D", Value::from("x"))])),
                ]),
            ),
            (
                "list".to_string(),
                Value::Array(vec![
                    Value::from("0"),
                    obj(vec![("k", Value::from("1")), ("j", Value::from("y"))]),
                    Value::from("2"),
                    Value::from("3"),
                ]),
            ),
            (
                "plainList".to_string(),
                Value::Array(vec![Value::from("0")]),
            ),
            ("status".to_string(), Value::from("OK")),
        ]
        .into();
        let skeleton = secrets_only(&inputs);
        assert_eq!(
            skeleton.keys().collect::<Vec<_>>(),
            ["env", "list", "top"],
            "only what holds a secret"
        );
        let mut from_inputs = outputs.clone();
        propagate_secrets(&inputs, &mut from_inputs);
        let mut from_skeleton = outputs;
        propagate_secrets(&skeleton, &mut from_skeleton);
        assert_eq!(from_inputs, from_skeleton);
        assert!(from_inputs["top"].is_secret());
        let Value::Array(list) = &from_inputs["list"] else {
            panic!()
        };
        assert!(list[2].is_secret() && !list[0].is_secret() && !list[3].is_secret());
    }

    #[test]
    fn follows_paths() {
        let inputs = PropertyMap::from([(
            "environment".to_string(),
            Value::Object(PropertyMap::from([
                ("A".to_string(), Value::from("1")),
                ("B".to_string(), Value::from("2").into_secret()),
            ])),
        )]);
        let mut outputs = PropertyMap::from([
            (
                "environment".to_string(),
                Value::Object(PropertyMap::from([
                    ("A".to_string(), Value::from("1")),
                    ("B".to_string(), Value::from("2")),
                ])),
            ),
            ("status".to_string(), Value::from("OK")),
        ]);
        propagate_secrets(&inputs, &mut outputs);
        let Value::Object(env) = &outputs["environment"] else {
            panic!()
        };
        assert!(!env["A"].is_secret());
        assert!(env["B"].is_secret());
        assert!(!outputs["status"].is_secret());
    }

    #[test]
    fn whole_secret_objects() {
        let inputs = PropertyMap::from([(
            "args".to_string(),
            Value::Object(PropertyMap::new()).into_secret(),
        )]);
        let mut outputs = PropertyMap::from([(
            "args".to_string(),
            Value::Object(PropertyMap::from([("X".to_string(), Value::from("y"))])),
        )]);
        propagate_secrets(&inputs, &mut outputs);
        assert!(outputs["args"].is_secret());
    }
}
