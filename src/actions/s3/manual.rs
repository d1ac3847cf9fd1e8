//! The S3 actions done by hand with rclone, chosen over the aws CLI because drbook's
//! `rclone.*` actions already need it on the same machine, it is one static binary, it
//! addresses MinIO path-style by default (the aws CLI needs a config change for that),
//! and `rclone lsl` prints modification times that sort as text. The store is an
//! on-the-fly `:s3:` remote configured by `RCLONE_S3_*` variables, so no config file is
//! written and the keys are references to where the secrets come from.

use crate::actions::by_hand::{Given, export, quote};

/// The variables that describe the store.
fn setup(given: &Given) -> Vec<String> {
    let endpoint = given.opt("endpoint");
    let mut lines = vec![export(
        "RCLONE_S3_PROVIDER",
        if endpoint.is_some() { "Other" } else { "AWS" },
    )];
    if let Some(endpoint) = endpoint {
        lines.push(export("RCLONE_S3_ENDPOINT", &endpoint));
    }
    lines.push(export(
        "RCLONE_S3_REGION",
        &given.opt("region").unwrap_or_else(|| "us-east-1".into()),
    ));
    lines.push(export(
        "RCLONE_S3_ACCESS_KEY_ID",
        &given.text("access_key_id"),
    ));
    lines.push(export(
        "RCLONE_S3_SECRET_ACCESS_KEY",
        &given.text("secret_access_key"),
    ));
    if given.opt("path_style").is_some() && !given.flag("path_style") {
        lines.push(export("RCLONE_S3_FORCE_PATH_STYLE", "false"));
    }
    lines
}

/// `rclone lsl` of the bucket, limited to keys with the prefix (and suffix).
fn listing(given: &Given, suffix: Option<String>) -> String {
    let bucket = quote(&format!(":s3:{}", given.text("bucket")));
    let prefix = given.opt("prefix");
    if prefix.is_none() && suffix.is_none() {
        return format!("rclone lsl {bucket}");
    }
    let pattern = format!(
        "/{}**{}",
        prefix.unwrap_or_default(),
        suffix.unwrap_or_default()
    );
    format!("rclone lsl {bucket} --include {}", quote(&pattern))
}

pub(crate) fn list(given: &Given) -> Vec<String> {
    let mut lines = setup(given);
    lines.push(listing(given, None));
    lines
}

pub(crate) fn latest(given: &Given) -> Vec<String> {
    let mut lines = setup(given);
    lines.push(format!(
        "{} | sort -k2,3 | tail -n 1",
        listing(given, given.opt("suffix"))
    ));
    lines.push("# the last line is the newest object: write down its key and time".into());
    if let Some(before) = given.opt("before") {
        lines.push(format!(
            "# only objects modified before {before} count: drop later lines before taking the last"
        ));
    }
    lines
}

pub(crate) fn get(given: &Given) -> Vec<String> {
    let mut lines = setup(given);
    let file = given.text("file");
    lines.push(format!("# {file} must not exist yet (never overwrite it)"));
    lines.push(format!(
        "rclone copyto {} {}",
        quote(&format!(
            ":s3:{}/{}",
            given.text("bucket"),
            given.text("key")
        )),
        quote(&file)
    ));
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::by_hand::given;

    #[test]
    fn latest_sorts_the_listing_by_time() {
        let lines = latest(&given(json!({
            "bucket": "backups", "endpoint": "http://127.0.0.1:9000", "prefix": "c1-",
            "suffix": ".db.gz", "access_key_id": "\"$S3_KEY\"", "secret_access_key": "\"$S3_SECRET\"",
        })));
        assert!(lines.contains(&"export RCLONE_S3_ACCESS_KEY_ID=\"$S3_KEY\"".to_string()));
        assert!(
            lines.contains(
                &"rclone lsl :s3:backups --include '/c1-**.db.gz' | sort -k2,3 | tail -n 1"
                    .to_string()
            ),
            "{lines:#?}"
        );
    }

    #[test]
    fn get_copies_one_object_to_the_file() {
        let lines = get(&given(
            json!({"bucket": "b", "key": "k/1.db", "file": "s.db"}),
        ));
        assert_eq!(lines.last().unwrap(), "rclone copyto :s3:b/k/1.db s.db");
    }
}
