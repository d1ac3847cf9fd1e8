//! The forms a secret takes when a program prints it encoded, as one regular expression
//! per secret value.
//!
//! - **As written, percent-encoded or JSON-escaped**: each character may appear as
//!   itself, as `%XX` (its UTF-8 bytes, either case; `+` for a space), or as a JSON
//!   escape (`\u00XX` in either case, a surrogate pair, or `\"`, `\\`, `\/`, `\n`, ...).
//!   One pattern thus covers `urllib.parse.quote`, `quote_plus`, `jq @uri`, `json.dumps`
//!   (with or without `ensure_ascii`) and `jq -R`, whichever characters they leave alone.
//! - **base64**, standard (`+/`) and URL-safe (`-_`), in all three alignments: inside a
//!   longer stream the secret starts 0, 1 or 2 bytes into a 3-byte group, and each start
//!   encodes differently. The characters that straddle the secret's first or last byte
//!   depend on the bytes around it, so the stable inside is masked, which also covers
//!   the forms with and without `=` padding. At most a byte's worth of bits stays
//!   visible at the edges.
//! - **hex**, either case, with nothing, one or two spaces or a colon between bytes
//!   (`xxd -p`, `od -An -tx1`, `hexdump -C`, `openssl` fingerprints).
//!
//! base64 and hex are only looked for in values of at least `MIN_ENCODED_LEN` (6)
//! bytes, because masking innocent text corrupts the step outputs later steps read.
//! Below it the stable base64 inside shrinks to 4 characters (24 bits) at 4 bytes and
//! 6 (36 bits) at 5: a megabyte of innocent base64 (a certificate bundle, a kubeconfig)
//! would hold one by chance about once in eight, or once in ten thousand. At 6 bytes
//! the inside is at least 7 characters (42 bits) and the hex 12 digits (48 bits): about
//! once in 700,000 megabytes. The percent and JSON forms are never shorter than the
//! value itself, so they are looked for at any length, like the value.
//!
//! Output is masked line by line: an encoding wrapped across lines (`base64` breaks
//! every 76 characters, `od` every 16 bytes) is only found when one line holds it whole.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The shortest value (in bytes) whose base64 and hex forms are masked.
pub(super) const MIN_ENCODED_LEN: usize = 6;

/// A regular expression that matches `value` in any of the forms above.
pub(super) fn pattern(value: &str) -> String {
    let mut alternatives = vec![escaped(value)];
    let bytes = value.as_bytes();
    if bytes.len() >= MIN_ENCODED_LEN {
        alternatives.extend(base64_insides(bytes).iter().map(|s| regex::escape(s)));
        alternatives.push(hex(bytes));
    }
    alternatives.join("|")
}

/// Each character as itself, percent-encoded or JSON-escaped.
fn escaped(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            let mut forms = vec![regex::escape(c.encode_utf8(&mut [0; 4]))];
            let mut utf8 = [0; 4];
            let percent: String = c
                .encode_utf8(&mut utf8)
                .bytes()
                .map(|b| format!("%{}", either_case(&[b])))
                .collect();
            forms.push(percent);
            let mut utf16 = [0; 2];
            let unicode: String = c
                .encode_utf16(&mut utf16)
                .iter()
                .map(|unit| format!(r"\\u{}", either_case(&unit.to_be_bytes())))
                .collect();
            forms.push(unicode);
            let short = match c {
                ' ' => Some(r"\+"),
                '"' => Some(r#"\\""#),
                '\\' => Some(r"\\\\"),
                '/' => Some(r"\\/"),
                '\n' => Some(r"\\n"),
                '\r' => Some(r"\\r"),
                '\t' => Some(r"\\t"),
                '\u{8}' => Some(r"\\b"),
                '\u{c}' => Some(r"\\f"),
                _ => None,
            };
            forms.extend(short.map(String::from));
            format!("(?:{})", forms.join("|"))
        })
        .collect()
}

/// The hex digits of `bytes`, letters in either case.
fn either_case(bytes: &[u8]) -> String {
    format!("(?i:{})", base16ct::lower::encode_string(bytes))
}

/// The stable inside of the base64 forms of `bytes`: both alphabets, all three
/// alignments, without duplicates.
fn base64_insides(bytes: &[u8]) -> Vec<String> {
    let mut insides = Vec::new();
    for before in 0..3 {
        // Zeros stand for the bytes before the secret; the characters they touch are
        // cut off below.
        let mut stream = vec![0u8; before];
        stream.extend_from_slice(bytes);
        let first = (8 * before).div_ceil(6);
        let end = 8 * stream.len() / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&stream);
            let inside = encoded[first..end].to_string();
            if !insides.contains(&inside) {
                insides.push(inside);
            }
        }
    }
    insides
}

/// The hex form of `bytes`: either case, bytes side by side or apart by up to two
/// spaces (`hexdump -C` puts two in the middle of a line) or a colon.
fn hex(bytes: &[u8]) -> String {
    let digits = base16ct::lower::encode_string(bytes);
    let pairs: Vec<&str> = (0..digits.len())
        .step_by(2)
        .map(|i| &digits[i..i + 2])
        .collect();
    format!("(?i:{})", pairs.join("(?:[ ]{0,2}|:)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base64_inside_leaves_out_the_characters_shared_with_neighbours() {
        // 12 bytes: 16 characters when the secret starts a group, 15 stable ones when it
        // starts one or two bytes into one; each in both alphabets.
        let insides = base64_insides(b"??>>~~secret");
        assert_eq!(
            insides,
            [
                "Pz8+Pn5+c2VjcmV0",
                "Pz8-Pn5-c2VjcmV0",
                "8/Pj5+fnNlY3Jld",
                "8_Pj5-fnNlY3Jld",
                "/Pz4+fn5zZWNyZX",
                "_Pz4-fn5zZWNyZX",
            ]
        );
        // Without `+` or `/` the two alphabets agree and the form is kept once.
        assert_eq!(
            base64_insides(b"secret"),
            ["c2VjcmV0", "NlY3Jld", "zZWNyZX"]
        );
    }

    #[test]
    fn hex_pairs_may_be_apart() {
        assert_eq!(hex(b"ab"), "(?i:61(?:[ ]{0,2}|:)62)");
    }
}
