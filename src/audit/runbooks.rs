//! The runbooks that must be drilled (`--runbooks DIR`): every `*.yaml` in the
//! directory (not below it), by the name in its `metadata` and the SHA-256 of its exact
//! bytes, the hash a run records.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app_error::AppError;

/// A runbook file the audit knows of.
#[derive(Debug, Clone)]
pub(crate) struct KnownRunbook {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
}

/// Just the name: the audit does not validate runbooks (`drbook validate` does).
#[derive(Deserialize)]
struct Head {
    kind: Option<String>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
}

/// Every runbook in `dir`, sorted by path.
pub(crate) fn read(dir: &Path) -> Result<Vec<KnownRunbook>, AppError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AppError::unreadable(dir, &e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut runbooks = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|e| AppError::unreadable(&path, &e))?;
        let text = String::from_utf8_lossy(&bytes);
        // Targets and answers files live beside runbooks; only runbooks have a name.
        let Ok(Head {
            kind: Some(kind),
            metadata: Some(metadata),
        }) = serde_saphyr::from_str::<Head>(&text)
        else {
            continue;
        };
        if kind != crate::RUNBOOK_KIND {
            continue;
        }
        runbooks.push(KnownRunbook {
            name: metadata.name,
            sha256: base16ct::lower::encode_string(&Sha256::digest(&bytes)),
            path,
        });
    }
    Ok(runbooks)
}
