//! `.env` and `env_file` contents, read as Compose reads them: `KEY=value` lines, `#` comments
//! (whole lines, or after whitespace in an unquoted value), an optional `export ` prefix,
//! double-quoted values with escapes (`\n`, `\t`, `\"`, `\\`...) that may span lines,
//! single-quoted values taken literally, and a bare `KEY` for a variable without a value.
//!
//! Values are not interpolated (Compose expands `${VAR}` inside `.env` values; this reader does
//! not, yet): a `$` in a value is kept as it is.

/// One entry: the key and its value, `None` for a bare `KEY` line.
pub(crate) type Entry = (String, Option<String>);

/// Parses `content`. The error names the line and says what to fix.
pub(crate) fn parse(content: &str) -> Result<Vec<Entry>, String> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let chars: Vec<char> = content.chars().collect();
    let mut entries = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        // Blank lines and leading whitespace.
        if chars[i].is_whitespace() {
            if chars[i] == '\n' {
                line += 1;
            }
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start_line = line;
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && chars[i] != '\n' {
            i += 1;
        }
        let raw_key: String = chars[key_start..i].iter().collect();
        let raw_key = raw_key.trim();
        let key = raw_key
            .strip_prefix("export ")
            .or_else(|| raw_key.strip_prefix("export\t"))
            .unwrap_or(raw_key)
            .trim();
        if !valid_key(key) {
            return Err(format!(
                "line {start_line}: {} is not a variable name: write KEY=value, with a key of \
                 letters, digits, '_', '.' or '-'",
                crate::names::quoted(key)
            ));
        }
        if i >= chars.len() || chars[i] == '\n' {
            entries.push((key.to_string(), None));
            continue;
        }
        i += 1; // '='
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        let value = match chars.get(i) {
            Some('"') => {
                i += 1;
                let mut value = String::new();
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(format!(
                            "line {start_line}: the double-quoted value of {key} is not closed: \
                             end it with '\"'"
                        ));
                    };
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => {
                            let Some(&next) = chars.get(i) else { continue };
                            i += 1;
                            match next {
                                'n' => value.push('\n'),
                                't' => value.push('\t'),
                                'r' => value.push('\r'),
                                '\n' => line += 1,
                                '"' | '\\' | '$' | '\'' => value.push(next),
                                other => {
                                    value.push('\\');
                                    value.push(other);
                                }
                            }
                        }
                        '\n' => {
                            line += 1;
                            value.push('\n');
                        }
                        c => value.push(c),
                    }
                }
                skip_rest_of_line(&chars, &mut i);
                value
            }
            Some('\'') => {
                i += 1;
                let mut value = String::new();
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(format!(
                            "line {start_line}: the single-quoted value of {key} is not closed: \
                             end it with \"'\""
                        ));
                    };
                    i += 1;
                    if c == '\'' {
                        break;
                    }
                    if c == '\n' {
                        line += 1;
                    }
                    value.push(c);
                }
                skip_rest_of_line(&chars, &mut i);
                value
            }
            _ => {
                let start = i;
                while i < chars.len() && chars[i] != '\n' {
                    // ` #` starts a comment in an unquoted value; `a#b` does not.
                    if chars[i] == '#' && i > start && chars[i - 1].is_whitespace() {
                        break;
                    }
                    i += 1;
                }
                let value: String = chars[start..i].iter().collect();
                skip_rest_of_line(&chars, &mut i);
                value.trim_end().to_string()
            }
        };
        entries.push((key.to_string(), Some(value)));
    }
    Ok(entries)
}

/// Moves `i` to the end of the line: what follows a quoted value (a comment) is not part of it.
fn skip_rest_of_line(chars: &[char], i: &mut usize) {
    while *i < chars.len() && chars[*i] != '\n' {
        *i += 1;
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(content: &str) -> Vec<(String, Option<String>)> {
        parse(content).unwrap()
    }

    fn kv(k: &str, v: &str) -> Entry {
        (k.to_string(), Some(v.to_string()))
    }

    #[test]
    fn reads_the_compose_dotenv_syntax() {
        let content = "\u{feff}# a comment\n\
            A=1\n\
            \n\
            export B = two words  # trailing comment\n\
            C=\"line1\\nline2 \\\"q\\\" $X\" # comment\n\
            D='single ${NOT} \\n'\n\
            E=a#b\n\
            F=\n\
            BARE\n\
            G=\"multi\n\
            line\"\n\
            H=x=y\n";
        assert_eq!(
            entries(content),
            vec![
                kv("A", "1"),
                kv("B", "two words"),
                kv("C", "line1\nline2 \"q\" $X"),
                kv("D", "single ${NOT} \\n"),
                kv("E", "a#b"),
                kv("F", ""),
                ("BARE".to_string(), None),
                kv("G", "multi\nline"),
                kv("H", "x=y"),
            ]
        );
        assert_eq!(entries("A=1\r\nB=2\r\n"), vec![kv("A", "1"), kv("B", "2")]);
        assert_eq!(entries(""), vec![]);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("A=1\nB=\"open\n").unwrap_err(),
            "line 2: the double-quoted value of B is not closed: end it with '\"'"
        );
        assert!(
            parse("A='x")
                .unwrap_err()
                .starts_with("line 1: the single-quoted")
        );
        assert!(
            parse("A=1\n\nbad key=2")
                .unwrap_err()
                .starts_with("line 3: \"bad key\" is not a variable name")
        );
        assert!(parse("=3").is_err());
    }
}
