//! The PKI actions: check a Kubernetes control plane's PKI (`pki.verify`) and install
//! the eight files every control-plane node must share from a backup (`pki.restore`).
//!
//! Everything is read and checked in process (x509-parser for certificates, RustCrypto
//! for keys), so no `openssl` or `kubeadm` binary is needed on the machine drbook runs on.

mod content;
mod error;
mod finding;
mod inspect;
mod install;
mod keys;
mod layout;
mod manual;
mod restore;
mod verify;

pub use error::PkiError;

pub(crate) use restore::SPEC as RESTORE;
pub(crate) use verify::SPEC as VERIFY;
