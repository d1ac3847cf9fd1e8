//! Replaces every secret value with `***` before text reaches the terminal, the journal
//! or an error message: the value as written, and the forms programs print it in
//! (percent-encoded, JSON-escaped, base64, hex; see `encodings.rs`).

mod encodings;

use regex::{Regex, RegexBuilder};

/// Knows the secret values of one run.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// One finder per secret, longest first, so a secret that contains another is
    /// masked whole.
    secrets: Vec<Finder>,
}

pub const MASK: &str = "***";

/// How one secret is found in text.
#[derive(Debug, Clone)]
enum Finder {
    /// The value and its trimmed form, each in every form `encodings.rs` knows.
    Forms(Regex),
    /// The value and its trimmed form as written only: a value over
    /// `MAX_PATTERN_VALUE`, or one whose pattern did not compile.
    Literal(Vec<String>),
}

/// The longest value looked for in all its forms. Passwords, tokens, private keys and
/// kubeconfigs are shorter; the pattern of a longer file would take seconds to build.
const MAX_PATTERN_VALUE: usize = 16 * 1024;

/// Room for the pattern of a value of `MAX_PATTERN_VALUE`.
const PATTERN_SIZE_LIMIT: usize = 64 << 20;

impl Masker {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        values.dedup();
        let secrets = values.into_iter().map(finder).collect();
        Masker { secrets }
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            match secret {
                Finder::Forms(pattern) => {
                    if let std::borrow::Cow::Owned(masked) = pattern.replace_all(&out, MASK) {
                        out = masked;
                    }
                }
                Finder::Literal(values) => {
                    for value in values {
                        if out.contains(value.as_str()) {
                            out = out.replace(value.as_str(), MASK);
                        }
                    }
                }
            }
        }
        out
    }

    /// Masks every string inside a JSON value (step outputs).
    pub fn mask_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.mask_json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.mask(k), self.mask_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The finder of one secret value.
fn finder(value: String) -> Finder {
    // A secret read from a file often ends with a newline; both forms are looked for,
    // the longer first.
    let mut values = vec![value.clone()];
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed != value {
        values.push(trimmed.to_string());
    }
    if value.len() > MAX_PATTERN_VALUE {
        return Finder::Literal(values);
    }
    let forms: Vec<String> = values.iter().map(|v| encodings::pattern(v)).collect();
    match RegexBuilder::new(&forms.join("|"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
    {
        Ok(pattern) => Finder::Forms(pattern),
        Err(_) => Finder::Literal(values),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    use super::*;

    /// 22 bytes; its base64 holds `+` and `/` in some alignments, so the two alphabets
    /// differ.
    const SECRET: &str = "cAnArY>>??-7f3e9b1d~~s";

    fn masker() -> Masker {
        Masker::new([SECRET.to_string()])
    }

    #[test]
    fn masks_inside_longer_text_and_longest_first() {
        let masker = Masker::new(["hunter2".to_string(), "hunter2-extended\n".to_string()]);
        assert_eq!(masker.mask("pw=hunter2;"), "pw=***;");
        assert_eq!(masker.mask("x hunter2-extended y"), "x *** y");
        let json = serde_json::json!({"a": ["hunter2"]});
        assert_eq!(masker.mask_json(&json), serde_json::json!({"a": ["***"]}));
    }

    /// The secret inside a longer base64 stream: after 0 to 5 other bytes (every
    /// alignment, twice), before 0 to 3, in both alphabets, with and without padding.
    /// Exactly the characters that encode the secret's bytes alone are masked; the
    /// ones shared with its neighbours stay.
    #[test]
    fn masks_base64_in_every_alignment_and_alphabet() {
        let masker = masker();
        let engines = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD];
        for before in 0..6 {
            for after in 0..4 {
                let mut stream = b"<head>"[..before].to_vec();
                stream.extend_from_slice(SECRET.as_bytes());
                stream.extend_from_slice(&b"tail"[..after]);
                let first = (8 * before).div_ceil(6);
                let end = 8 * (before + SECRET.len()) / 6;
                for engine in engines {
                    let encoded = engine.encode(&stream);
                    let expected = format!("{}***{}", &encoded[..first], &encoded[end..]);
                    let line = format!("data: {encoded} end");
                    assert_eq!(
                        masker.mask(&line),
                        format!("data: {expected} end"),
                        "{before} bytes before, {after} after"
                    );
                }
            }
        }
    }

    /// Worked by hand (`printf '<secret>' | base64`), so the test does not only repeat
    /// the code's arithmetic.
    #[test]
    fn masks_base64_as_the_base64_tool_prints_it() {
        let masker = Masker::new(["secret".to_string()]);
        assert_eq!(masker.mask("c2VjcmV0"), "***");
        // "Xsecret" and "XYsecret": the first two or three characters hold "X"/"XY".
        assert_eq!(masker.mask("WHNlY3JldA=="), "WH***A==");
        assert_eq!(masker.mask("WFlzZWNyZXQ="), "WFl***Q=");
    }

    #[test]
    fn masks_hex_in_either_case_and_with_separators() {
        let masker = masker();
        let lower = base16ct::lower::encode_string(SECRET.as_bytes());
        let upper = base16ct::upper::encode_string(SECRET.as_bytes());
        let spaced = |hex: &str, separator: &str| {
            (0..hex.len())
                .step_by(2)
                .map(|i| &hex[i..i + 2])
                .collect::<Vec<_>>()
                .join(separator)
        };
        for hex in [
            lower.clone(),
            upper.clone(),
            spaced(&lower, " "),
            spaced(&upper, ":"),
        ] {
            // Inside a longer stream of hex digits, as `xxd -p` prints a file.
            assert_eq!(masker.mask(&format!("00ff{hex}0a")), "00ff***0a", "{hex}");
        }
    }

    #[test]
    fn masks_percent_encoding_however_much_is_encoded() {
        let masker = Masker::new(["p@ss w/rd+ü~".to_string()]);
        for encoded in [
            // urllib.parse.quote(s, safe=''), jq @uri
            "p%40ss%20w%2Frd%2B%C3%BC~",
            // urllib.parse.quote(s): `/` stays
            "p%40ss%20w/rd%2B%C3%BC~",
            // urllib.parse.quote_plus(s)
            "p%40ss+w%2Frd%2B%C3%BC~",
            // lower-case hex, and every byte encoded
            "p%40ss%20w%2frd%2b%c3%bc%7E",
            "%70%40%73%73%20%77%2F%72%64%2B%C3%BC%7E",
        ] {
            assert_eq!(
                masker.mask(&format!("https://x/?pw={encoded}&a=1")),
                "https://x/?pw=***&a=1",
                "{encoded}"
            );
        }
    }

    #[test]
    fn masks_json_escaping_with_or_without_ascii_only() {
        let secret = "a\"b\\c\nd/é😀";
        let masker = Masker::new([secret.to_string()]);
        let serde = serde_json::to_string(secret).unwrap();
        for quoted in [
            serde.as_str(),
            // json.dumps(s): non-ASCII as \u escapes, the emoji as a surrogate pair
            r#""a\"b\\c\nd/\u00e9\ud83d\ude00""#,
            // upper-case digits and an escaped `/`
            r#""a\"b\\c\nd\/\u00E9\uD83D\uDE00""#,
        ] {
            assert_eq!(
                masker.mask(&format!("{{\"pw\": {quoted}}}")),
                "{\"pw\": \"***\"}",
                "{quoted}"
            );
        }
    }

    #[test]
    fn masks_the_trimmed_form_in_every_encoding() {
        let masker = Masker::new([format!("{SECRET}\n")]);
        // At most the last character (which also holds the padding bits) and `==` stay.
        let masked = masker.mask(&STANDARD.encode(SECRET));
        assert!(masked.starts_with("***") && masked.len() <= 6, "{masked}");
        let hex = base16ct::lower::encode_string(SECRET.as_bytes());
        assert_eq!(masker.mask(&hex), "***");
    }

    /// Below the minimum length only the value and its percent and JSON forms are
    /// masked: short base64 and hex fragments occur in innocent text.
    #[test]
    fn a_short_secret_is_not_looked_for_in_base64_or_hex() {
        let masker = Masker::new(["abcde".to_string()]);
        assert_eq!(masker.mask("abcde %61bcde"), "*** ***");
        assert_eq!(masker.mask("6162636465 YWJjZGU="), "6162636465 YWJjZGU=");
    }

    #[test]
    fn innocent_encoded_text_is_left_alone() {
        let masker = masker();
        let text = format!(
            "{} {}",
            STANDARD.encode(b"an innocent certificate body of some length"),
            base16ct::lower::encode_string(b"an innocent digest")
        );
        assert_eq!(masker.mask(&text), text);
    }

    /// A secret file far larger than any token still has its value masked, as written
    /// and trimmed.
    #[test]
    fn a_huge_secret_is_masked() {
        let huge: String = (0..MAX_PATTERN_VALUE + 1)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let masker = Masker::new([format!("{huge}\n")]);
        assert_eq!(masker.mask(&format!("<{huge}>")), "<***>");
        // Just below the limit, the forms are looked for.
        let large = &huge[1..];
        let masker = Masker::new([large.to_string()]);
        let hex = base16ct::lower::encode_string(large.as_bytes());
        assert_eq!(masker.mask(&format!("<{hex}>")), "<***>");
    }
}
