//! Who signs: an OpenSSH ed25519 private key read from a file (`--sign-key FILE`, or
//! `$DRBOOK_SIGN_KEY`), or a program that signs as `ssh-keygen -Y sign` does
//! (`--sign-program ssh-keygen`), for keys held by ssh-agent or a FIDO token, the way
//! git signs commits with SSH keys.
//!
//! Everything that can refuse a signer is checked when it is resolved, before a run
//! starts: the file is readable, is an OpenSSH private key, has no passphrase and is
//! ed25519 (or, with a program, the program is on the PATH). The key's bytes are never
//! printed: `Debug` shows the file and the public key's fingerprint only.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, SshSig};

use super::error::SigningError;

/// The environment variable naming the signing key when `--sign-key` is not given.
pub const SIGN_KEY_ENV: &str = "DRBOOK_SIGN_KEY";

/// A resolved signer.
pub enum Signer {
    /// drbook signs with the key itself.
    Key { path: PathBuf, key: Box<PrivateKey> },
    /// `PROGRAM -Y sign -f KEY -n NAMESPACE` signs what it reads on stdin.
    Program { program: String, key: PathBuf },
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Key { path, key } => f
                .debug_struct("Signer::Key")
                .field("path", path)
                .field("fingerprint", &key.fingerprint(HashAlg::Sha256).to_string())
                .finish(),
            Signer::Program { program, key } => f
                .debug_struct("Signer::Program")
                .field("program", program)
                .field("key", key)
                .finish(),
        }
    }
}

impl Signer {
    /// The signer the command line asks for: `--sign-key`, else `$DRBOOK_SIGN_KEY`;
    /// none when neither names a key.
    pub fn resolve(
        key_flag: Option<&Path>,
        program: Option<&str>,
    ) -> Result<Option<Signer>, SigningError> {
        let key = key_flag.map(Path::to_path_buf).or_else(|| {
            std::env::var_os(SIGN_KEY_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        match (key, program) {
            (None, None) => Ok(None),
            (None, Some(program)) => Err(SigningError::ProgramWithoutKey {
                program: program.to_string(),
            }),
            (Some(path), None) => Signer::from_key_file(&path).map(Some),
            (Some(key), Some(program)) => Signer::program(program, &key).map(Some),
        }
    }

    /// A signer that signs with the ed25519 key in `path` itself.
    pub fn from_key_file(path: &Path) -> Result<Signer, SigningError> {
        let text = read_key_file(path)?;
        let key = PrivateKey::from_openssh(&text).map_err(|e| SigningError::KeyInvalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if key.is_encrypted() {
            return Err(SigningError::KeyEncrypted {
                path: path.to_path_buf(),
            });
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(SigningError::KeyUnsupported {
                path: path.to_path_buf(),
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(Signer::Key {
            path: path.to_path_buf(),
            key: Box::new(key),
        })
    }

    /// A signer that runs `program -Y sign` with the key file `key` (a private key, or
    /// the public key of one ssh-agent holds).
    pub fn program(program: &str, key: &Path) -> Result<Signer, SigningError> {
        read_key_file(key)?;
        if find_program(program).is_none() {
            return Err(SigningError::ProgramMissing {
                program: program.to_string(),
            });
        }
        Ok(Signer::Program {
            program: program.to_string(),
            key: key.to_path_buf(),
        })
    }

    /// The armored SSH signature (`-----BEGIN SSH SIGNATURE-----`, as `ssh-keygen -Y
    /// sign` writes it) of `message` in `namespace`. `what` names the message in errors.
    pub fn sign(
        &self,
        namespace: &str,
        message: &[u8],
        what: &str,
    ) -> Result<String, SigningError> {
        let failed = |why: String| SigningError::Sign {
            what: what.to_string(),
            why,
        };
        match self {
            // SHA-512, as ssh-keygen: the same key and message give the same bytes.
            Signer::Key { key, .. } => key
                .sign(namespace, HashAlg::Sha512, message)
                .and_then(|sig| sig.to_pem(LineEnding::LF))
                .map_err(|e| failed(e.to_string())),
            Signer::Program { program, key } => {
                let armored = run_program(program, key, namespace, message, what)?;
                // What the program wrote is stored as it is, once it is known to be a
                // signature of this message in this namespace.
                let sig = SshSig::from_pem(armored.as_bytes()).map_err(|e| {
                    failed(format!("`{program}` did not write an SSH signature: {e}"))
                })?;
                ssh_key::PublicKey::new(sig.public_key().clone(), "")
                    .verify(namespace, message, &sig)
                    .map_err(|e| {
                        failed(format!(
                            "the signature `{program}` wrote does not verify: {e}"
                        ))
                    })?;
                Ok(armored)
            }
        }
    }
}

/// The key file's text; a missing or unreadable file is named with what to do.
fn read_key_file(path: &Path) -> Result<String, SigningError> {
    std::fs::read_to_string(path).map_err(|e| SigningError::KeyUnreadable {
        path: path.to_path_buf(),
        why: crate::source::source_file::describe_io(&e),
    })
}

/// `program` as a path, or found on the PATH.
fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs `program -Y sign -f key -n namespace` with `message` on stdin and returns what
/// it wrote on stdout. Its stderr stays on the terminal: a FIDO key asks for a touch.
fn run_program(
    program: &str,
    key: &Path,
    namespace: &str,
    message: &[u8],
    what: &str,
) -> Result<String, SigningError> {
    let failed = |why: String| SigningError::ProgramFailed {
        program: program.to_string(),
        what: what.to_string(),
        why,
    };
    let mut child = Command::new(program)
        .args(["-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    // Written from a thread: a large journal must not fill the pipe while the program
    // waits to be read.
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| failed("no stdin".into()))?;
    let bytes = message.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child
        .wait_with_output()
        .map_err(|e| failed(format!("cannot wait for it: {e}")))?;
    let written = writer
        .join()
        .map_err(|_| failed("the writer panicked".into()))?;
    if !output.status.success() {
        return Err(failed(format!(
            "it exited with {} (its message is above)",
            output.status
        )));
    }
    written.map_err(|e| failed(format!("cannot write the message to it: {e}")))?;
    String::from_utf8(output.stdout)
        .map_err(|_| failed("it wrote something that is not text".into()))
}
