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
