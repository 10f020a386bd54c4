//! Times as `ps` and `logs` print them: UTC timestamps (RFC 3339), ages (`5m`, `3h`), and
//! `--since` durations.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `2024-05-01T12:34:56.789Z` for milliseconds since the epoch (UTC).
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// How long ago, in the largest whole unit: `45s`, `12m`, `5h`, `3d`; `0s` for the future
/// (clocks differ a little).
pub fn age(since_ms: i64, now_ms: i64) -> String {
    let secs = (now_ms - since_ms).max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A `--since` duration: whole numbers with a unit each, `s`, `m`, `h` or `d`, one after the
/// other (`90s`, `10m`, `1h30m`, `2d`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!("{why}: give a duration such as 30s, 10m, 1h30m or 2d (units s, m, h, d)")
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad("empty duration"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad(&format!("{text:?} has the unknown unit {c:?}"))),
        };
        if digits.is_empty() {
            return Err(bad(&format!("{text:?} has a unit without a number")));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| bad(&format!("{text:?} is too long")))?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| bad(&format!("{text:?} is too long")))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad(&format!("{text:?} ends without a unit")));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(1_714_566_896_789), "2024-05-01T12:34:56.789Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let now = 1_000_000_000;
        assert_eq!(age(now - 45_000, now), "45s");
        assert_eq!(age(now - 12 * 60_000 - 59_000, now), "12m");
        assert_eq!(age(now - 5 * 3_600_000, now), "5h");
        assert_eq!(age(now - 3 * 86_400_000, now), "3d");
        assert_eq!(age(now + 5_000, now), "0s");
    }

    #[test]
    fn durations_parse_and_bad_ones_say_what_to_give() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 2d "), Ok(Duration::from_secs(172_800)));
        for (bad, why) in [
            ("", "empty"),
            ("10", "ends without a unit"),
            ("10y", "unknown unit 'y'"),
            ("m", "without a number"),
            ("-5m", "unknown unit '-'"),
            ("99999999999999999999s", "too long"),
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains(why) && err.contains("10m"), "{bad}: {err}");
        }
    }
}
