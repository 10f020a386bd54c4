//! Naming rules shared by projects, services and usernames.
//!
//! Each of them becomes a label of a DNS name (`<service>--<port>.<project>.<username>.defang.app`),
//! so each must be a DNS label (RFC 1123, restricted to lowercase and to a leading letter so that it
//! is also a valid CloudFormation stack, ECS and log-group name component). Service names also must
//! not contain `--`, which separates the service from the port in its domain.
//!
//! The validators return the reason as a sentence that says how to fix the value, ready to be used
//! as a check failure.

/// The longest DNS label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

const LABEL_RULE: &str = "must be a DNS label: lowercase letters, digits and '-', \
     starting with a letter and ending with a letter or digit, at most 63 characters";

/// Checks that `value` is a DNS label as defined above (project names, usernames).
pub fn validate_dns_label(value: &str) -> Result<(), String> {
    let problem = label_problem(value);
    match problem {
        None => Ok(()),
        Some(problem) => Err(with_suggestion(
            &format!("{LABEL_RULE}; got {} ({problem})", quoted(value)),
            value,
        )),
    }
}

/// Checks a service name: a DNS label without `--`.
pub fn validate_service_name(value: &str) -> Result<(), String> {
    validate_dns_label(value)?;
    if value.contains("--") {
        return Err(with_suggestion(
            &format!(
                "must not contain \"--\", which separates the service name from the port in its \
                 domain (<service>--<port>.<project>...); got {}",
                quoted(value)
            ),
            value,
        ));
    }
    Ok(())
}

/// Checks a project name: a DNS label without `--`. The project's name is in its stacks' names
/// (see [`crate::aws_names`]), CloudFormation derives the names of the services' target groups
/// from those, and ELB refuses a `--` in a target group's name: a project `shop--web` could
/// never serve an ingress port. (`--` in the third and fourth places is also reserved in DNS
/// for IDNA, `xn--`.)
pub fn validate_project_name(value: &str) -> Result<(), String> {
    validate_dns_label(value)?;
    if value.contains("--") {
        return Err(with_suggestion(
            &format!(
                "must not contain \"--\": the project's name is part of AWS names (its services' \
                 target groups) that cannot contain it; got {}",
                quoted(value)
            ),
            value,
        ));
    }
    Ok(())
}

/// The closest valid label to `input`: lowercased, with runs of other characters turned into a
/// single '-' (so the result never contains `--` and is also a valid service name), trimmed of
/// leading non-letters and trailing '-', and cut to 63 characters. Returns `"app"` when nothing
/// usable is left.
pub fn suggest_label(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    // A label must start with a letter: drop leading digits (and the '-' they leave behind).
    let start = out.find(|c: char| c.is_ascii_lowercase());
    let mut out = match start {
        Some(i) => out[i..].to_string(),
        None => String::new(),
    };
    out.truncate(MAX_LABEL_LEN);
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "app".to_string()
    } else {
        trimmed.to_string()
    }
}

/// What is wrong with `value` as a DNS label, in a few words; `None` when it is valid.
fn label_problem(value: &str) -> Option<String> {
    let Some(first) = value.chars().next() else {
        return Some("empty".to_string());
    };
    if value.len() > MAX_LABEL_LEN {
        return Some(format!("{} characters", value.chars().count()));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(if bad.is_ascii_uppercase() {
            format!("uppercase letter '{bad}'")
        } else {
            format!("character {bad:?}")
        });
    }
    if !first.is_ascii_lowercase() {
        return Some(format!("starts with '{first}'"));
    }
    if value.ends_with('-') {
        return Some("ends with '-'".to_string());
    }
    None
}

fn with_suggestion(reason: &str, value: &str) -> String {
    if value.is_empty() {
        return format!("{reason} — choose a name such as \"app\"");
    }
    format!("{reason} — try \"{}\"", suggest_label(value))
}

pub(crate) use pulumi_plugin::error::quoted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_labels() {
        for ok in ["a", "web", "my-app", "a1", "x-1-y", &"a".repeat(63)] {
            assert_eq!(validate_dns_label(ok), Ok(()), "{ok}");
            assert_eq!(validate_service_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_with_the_fix() {
        let err = validate_dns_label("My_App").unwrap_err();
        assert!(err.starts_with("must be a DNS label"), "{err}");
        assert!(err.contains("got \"My_App\""), "{err}");
        assert!(err.contains("uppercase letter 'M'"), "{err}");
        assert!(err.ends_with("try \"my-app\""), "{err}");

        let cases = [
            ("", "choose a name"),
            ("1web", "starts with '1'"),
            ("-web", "starts with '-'"),
            ("web-", "ends with '-'"),
            ("we b", "character ' '"),
            ("wéb", "character 'é'"),
        ];
        for (bad, expected) in cases {
            let err = validate_dns_label(bad).unwrap_err();
            assert!(err.contains(expected), "{bad}: {err}");
        }
        let long = "a".repeat(64);
        let err = validate_dns_label(&long).unwrap_err();
        assert!(err.contains("64 characters"), "{err}");
        assert!(
            err.contains(&format!("try \"{}\"", "a".repeat(63))),
            "{err}"
        );
    }

    #[test]
    fn service_names_have_no_double_dash() {
        assert_eq!(validate_dns_label("web--api"), Ok(()));
        let err = validate_service_name("web--api").unwrap_err();
        assert!(err.contains("\"--\""), "{err}");
        assert!(err.ends_with("try \"web-api\""), "{err}");
    }

    #[test]
    fn project_names_have_no_double_dash() {
        assert_eq!(validate_project_name("shop-web"), Ok(()));
        let err = validate_project_name("shop--web").unwrap_err();
        assert!(err.contains("target groups"), "{err}");
        assert!(err.ends_with("try \"shop-web\""), "{err}");
        assert!(validate_project_name("Shop").is_err());
    }

    #[test]
    fn suggestions_are_valid_service_names() {
        let inputs = [
            "My_App",
            "1web",
            "--x--",
            "Ünïcode",
            "",
            "123",
            "a__b",
            "web-",
            "CamelCase",
        ];
        for input in inputs {
            let s = suggest_label(input);
            assert_eq!(validate_service_name(&s), Ok(()), "{input} -> {s}");
        }
        assert_eq!(suggest_label("My_App"), "my-app");
        assert_eq!(suggest_label("1web"), "web");
        assert_eq!(suggest_label("123"), "app");
        assert_eq!(suggest_label("a__b"), "a-b");
        let long = format!("{}-b", "a".repeat(62));
        assert_eq!(suggest_label(&long), "a".repeat(62));
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "X".repeat(500);
        let err = validate_dns_label(&long).unwrap_err();
        assert!(err.len() < 400, "{err}");
    }
}
