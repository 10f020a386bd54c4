//! Compose's durations (`1m30s`) and byte sizes (`512m`), converted to what the Service inputs
//! take: whole seconds and a memory string in MiB or GiB. Both round up, so that a service never
//! gets less time or memory than the file asks for.

use crate::service::sizing::format_memory;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// Parses a Compose duration into whole seconds, rounded up: a sequence of numbers with units
/// (`h`, `m`, `s`, `ms`, `us`/`µs`, `ns`), such as `1m30s`, `10s`, `1.5h` or `500ms`, as Go's
/// `time.ParseDuration` reads them (Compose's own parser). A bare number is seconds.
pub(crate) fn duration_seconds(text: &str) -> Result<u32, String> {
    let problem = || {
        format!(
            "must be a duration such as \"30s\", \"1m30s\", \"500ms\" or \"1h\" (units h, m, s, \
             ms, us, ns); got {}",
            crate::names::quoted(text)
        )
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(problem());
    }
    // A bare number: seconds (a YAML number, or an interpolated one).
    if let Ok(seconds) = s.parse::<f64>() {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(problem());
        }
        return round_seconds((seconds * 1e9).ceil() as u128, &problem);
    }
    let mut nanos: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(after) => {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                after.split_at(len)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(problem());
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "h" => 3600 * NANOS_PER_SECOND,
            "m" => 60 * NANOS_PER_SECOND,
            "s" => NANOS_PER_SECOND,
            "ms" => 1_000_000,
            "us" | "µs" | "μs" => 1_000,
            "ns" => 1,
            _ => return Err(problem()),
        };
        // Integer arithmetic on the digits: "1.1s" is exactly 1.1 s, not 1.1000000000000001.
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| problem())?
        };
        let frac_digits = &frac_part[..frac_part.len().min(18)];
        let frac: u128 = if frac_digits.is_empty() {
            0
        } else {
            frac_digits.parse().map_err(|_| problem())?
        };
        let scale = 10u128.pow(frac_digits.len() as u32);
        let part = int
            .checked_mul(unit_nanos)
            .and_then(|n| n.checked_add((frac * unit_nanos).div_ceil(scale)))
            .ok_or_else(problem)?;
        nanos = nanos.checked_add(part).ok_or_else(problem)?;
        rest = after;
    }
    round_seconds(nanos, &problem)
}

fn round_seconds(nanos: u128, problem: &dyn Fn() -> String) -> Result<u32, String> {
    u32::try_from(nanos.div_ceil(NANOS_PER_SECOND)).map_err(|_| problem())
}

/// Parses a Compose byte size (`mem_limit`, `deploy.resources.*.memory`) into the Service's
/// `memory` string. Compose reads sizes as Docker does: a number with an optional unit `b`, `k`,
/// `m`, `g`, `t` (each optionally followed by `b`, and an `i` is allowed: `512mi`, `1GiB`), case
/// insensitive and all binary; a bare number is **bytes** (where the Service reads MiB), so
/// everything is converted to MiB, rounded up, and written as the Service reads it (`"512Mi"`,
/// `"2Gi"`).
pub(crate) fn memory(text: &str) -> Result<String, String> {
    let problem = || {
        format!(
            "must be a size such as \"512m\", \"1g\" or \"1.5GiB\" (units b, k, m, g, t; a bare \
             number is bytes); got {}",
            crate::names::quoted(text)
        )
    };
    let s = text.trim();
    let number_len = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (number, unit) = s.split_at(number_len);
    let amount: f64 = number.parse().map_err(|_| problem())?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let multiplier: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "ki" | "kib" => 1024.0,
        "m" | "mb" | "mi" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "ti" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(problem()),
    };
    let bytes = amount * multiplier;
    let mib = (bytes / (1024.0 * 1024.0)).ceil();
    if !(mib.is_finite()) || mib > f64::from(u32::MAX) {
        return Err(format!(
            "is more memory than any Fargate task has (at most 120 GiB); got {}",
            crate::names::quoted(text)
        ));
    }
    if mib < 1.0 {
        return Err(format!(
            "must be more than 0, for example \"512m\" or \"1g\"; got {}",
            crate::names::quoted(text)
        ));
    }
    Ok(format_memory(mib as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::sizing::parse_memory;

    #[test]
    fn durations_round_up_to_whole_seconds() {
        let cases = [
            ("10s", 10),
            ("1m30s", 90),
            ("1h", 3600),
            ("500ms", 1),
            ("1.5s", 2),
            ("1.1s", 2),
            ("2.0s", 2),
            ("1h2m3s", 3723),
            ("1.5h", 5400),
            ("1500ms", 2),
            ("100us", 1),
            ("5µs", 1),
            ("1ns", 1),
            ("0s", 0),
            ("0", 0),
            ("30", 30),
            (" 30s ", 30),
            (".5s", 1),
        ];
        for (text, seconds) in cases {
            assert_eq!(duration_seconds(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn bad_durations_say_what_is_expected() {
        for bad in [
            "",
            "s",
            "10x",
            "ten seconds",
            "1m30",
            "-5s",
            "1..5s",
            "10 s",
            "99999999999h",
        ] {
            let err = duration_seconds(bad).unwrap_err();
            assert!(
                err.starts_with("must be a duration such as"),
                "{bad}: {err}"
            );
        }
        assert!(
            duration_seconds("10d")
                .unwrap_err()
                .ends_with("got \"10d\"")
        );
    }

    #[test]
    fn memory_converts_compose_units_to_mib() {
        let cases = [
            ("512m", "512Mi"),
            ("512M", "512Mi"),
            ("512MB", "512Mi"),
            ("512Mi", "512Mi"),
            ("512MiB", "512Mi"),
            ("1g", "1Gi"),
            ("1GB", "1Gi"),
            ("1.5G", "1536Mi"),
            ("2gib", "2Gi"),
            ("1048576", "1Mi"),
            ("1048577", "2Mi"),
            ("536870912b", "512Mi"),
            ("1024k", "1Mi"),
            ("1 g", "1Gi"),
            ("1t", "1024Gi"),
        ];
        for (text, expected) in cases {
            assert_eq!(memory(text).as_deref(), Ok(expected), "{text}");
        }
        // 1000 KiB is 0.98 MiB: rounded up.
        assert_eq!(memory("1000kb").as_deref(), Ok("1Mi"));
        // What comes out is what the Service's parser reads.
        for text in ["512m", "1.5G", "3g", "1"] {
            let out = memory(text).unwrap();
            assert!(parse_memory(&out).is_ok(), "{out}");
        }
    }

    #[test]
    fn bad_memory_says_what_is_expected() {
        for bad in ["", "lots", "512x", "1.2.3g", "g"] {
            let err = memory(bad).unwrap_err();
            assert!(err.starts_with("must be a size such as"), "{bad}: {err}");
        }
        assert!(memory("0").unwrap_err().starts_with("must be more than 0"));
        assert!(
            memory("99999999999t")
                .unwrap_err()
                .contains("at most 120 GiB")
        );
    }
}
