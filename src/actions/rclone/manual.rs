//! The rclone actions done by hand: the same remotes drbook configures
//! (`RCLONE_CONFIG_DRBOOKSRC_*`, `RCLONE_CONFIG_DRBOOKDST_*`, see `remotes.rs`), then the
//! same rclone command with the step's flags. A sync is shown with `--dry-run` first,
//! because by hand nothing else guards the destination's files.

use crate::actions::by_hand::{Given, export, quote};

/// The exports of one side's remote and the argument that names its location.
fn side(
    given: &Given,
    location: &str,
    remote: &str,
    name: &str,
    lines: &mut Vec<String>,
) -> String {
    let path = given.text(location);
    let options = given.map(remote);
    if options.is_empty() {
        return quote(&path);
    }
    for (key, value) in options {
        let key = key.to_ascii_uppercase().replace('-', "_");
        lines.push(export(&format!("RCLONE_CONFIG_{name}_{key}"), &value));
    }
    quote(&format!("{name}:{}", path.trim_start_matches('/')))
}

/// The exports, and `rclone VERB SRC DST` with the binary and extra flags.
fn command(given: &Given, verb: &str) -> (Vec<String>, String) {
    let mut lines = Vec::new();
    let source = side(given, "source", "source_remote", "DRBOOKSRC", &mut lines);
    let destination = side(
        given,
        "destination",
        "destination_remote",
        "DRBOOKDST",
        &mut lines,
    );
    let rclone = given
        .opt("rclone")
        .map_or_else(|| "rclone".into(), |r| quote(&r));
    let mut line = format!("{rclone} {verb} {source} {destination}");
    for flag in given.list("flags") {
        line.push(' ');
        line.push_str(&quote(&flag));
    }
    (lines, line)
}

pub(crate) fn copy(given: &Given) -> Vec<String> {
    let (mut lines, copy) = command(given, "copy");
    lines.push(copy);
    lines
}

pub(crate) fn sync(given: &Given) -> Vec<String> {
    let (mut lines, sync) = command(given, "sync");
    let limit = given.opt("max_delete").unwrap_or_else(|| "10%".into());
    let max_delete = match limit.strip_suffix('%') {
        Some(_) => {
            lines.push(format!(
                "# at most {limit} of the destination's files may be deleted: count them (rclone size) and pass that number"
            ));
            "<files>".to_string()
        }
        None => quote(&limit),
    };
    lines.push(format!(
        "{sync} --max-delete {max_delete} --dry-run   # read what it would delete"
    ));
    lines.push(format!("{sync} --max-delete {max_delete}"));
    lines
}

pub(crate) fn check(given: &Given) -> Vec<String> {
    let (mut lines, check) = command(given, "check");
    lines.push(format!(
        "{check}{}",
        if given.flag("one_way") {
            " --one-way"
        } else {
            ""
        }
    ));
    lines.push(if given.flag("allow_differences") {
        "# differences are reported and allowed".into()
    } else {
        "# it must end with 0 differences".into()
    });
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::by_hand::given;

    #[test]
    fn remotes_are_configured_by_drbook_s_variable_names() {
        let lines = copy(&given(json!({
            "source": "backups/etcd", "destination": "/restore",
            "source_remote": {"type": "s3", "secret_access_key": "\"$S3_SECRET\""},
        })));
        // The options come in name order, as the parameters hold them.
        assert_eq!(
            lines,
            vec![
                "export RCLONE_CONFIG_DRBOOKSRC_SECRET_ACCESS_KEY=\"$S3_SECRET\"",
                "export RCLONE_CONFIG_DRBOOKSRC_TYPE=s3",
                "rclone copy DRBOOKSRC:backups/etcd /restore",
            ]
        );
    }
}
