//! What one PKI file holds, read from its PEM: a certificate, a private key or a public
//! key, each checked to parse. Every way a file can be wrong gets its own sentence,
//! because "not PEM", "a key where a certificate belongs" and "an encrypted key" each
//! send the operator somewhere else.

use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

use super::keys::{self, PrivateKey, PublicKey};
use super::layout::Kind;

/// The parsed content of a file.
#[derive(Debug)]
pub(crate) enum Content {
    /// A certificate that parses; `der` is what `cert()` parses again on demand.
    Cert {
        der: Vec<u8>,
    },
    PrivateKey(PrivateKey),
    PublicKey {
        der: Vec<u8>,
        key: PublicKey,
    },
}

impl Content {
    /// `sha256:<hex>`: of the DER certificate, of the key's PKCS#8 re-encoding, or of
    /// the public key's DER, so PEM line breaks and headers do not change it.
    pub(crate) fn fingerprint(&self) -> String {
        let der = match self {
            Content::Cert { der } | Content::PublicKey { der, .. } => der.as_slice(),
            Content::PrivateKey(key) => key.canonical.as_slice(),
        };
        format!(
            "sha256:{}",
            base16ct::lower::encode_string(&Sha256::digest(der))
        )
    }

    /// The certificate, when this is one.
    pub(crate) fn cert(&self) -> Option<X509Certificate<'_>> {
        match self {
            Content::Cert { der } => x509_parser::parse_x509_certificate(der)
                .ok()
                .map(|(_, cert)| cert),
            _ => None,
        }
    }

    /// The public key a certificate or public-key file holds.
    pub(crate) fn public_key(&self) -> Result<PublicKey, String> {
        match self {
            Content::Cert { .. } => match self.cert() {
                Some(cert) => PublicKey::from_spki(cert.public_key().raw),
                None => Err("holds a certificate that does not parse".to_string()),
            },
            Content::PublicKey { key, .. } => Ok(key.clone()),
            Content::PrivateKey(key) => Ok(key.public.clone()),
        }
    }
}

/// Reads `bytes` as a file of `kind`; the error completes "<file>: …".
pub(crate) fn read(kind: Kind, bytes: &[u8]) -> Result<Content, String> {
    let mut blocks = Vec::new();
    for block in Pem::iter_from_buffer(bytes) {
        match block {
            Ok(block) => blocks.push(block),
            Err(e) => return Err(format!("holds a damaged PEM block ({e})")),
        }
    }
    if blocks.is_empty() {
        return Err("is not PEM: it holds no `-----BEGIN …-----` block".to_string());
    }
    // `openssl ecparam -genkey` writes the curve's parameters before the key.
    let block = blocks
        .iter()
        .find(|b| b.label != "EC PARAMETERS")
        .unwrap_or(&blocks[0]);
    let label = block.label.as_str();
    match kind {
        Kind::Cert => {
            if label != "CERTIFICATE" {
                return Err(format!(
                    "holds a `{label}` block where a certificate (`CERTIFICATE`) belongs"
                ));
            }
            x509_parser::parse_x509_certificate(&block.contents)
                .map_err(|e| format!("holds a certificate that does not parse ({e})"))?;
            Ok(Content::Cert {
                der: block.contents.clone(),
            })
        }
        Kind::PrivateKey => match label {
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "PRIVATE KEY" => {
                keys::private_key(label, &block.contents).map(Content::PrivateKey)
            }
            "ENCRYPTED PRIVATE KEY" => Err(
                "holds an encrypted private key, which the control plane cannot read".to_string(),
            ),
            other => Err(format!(
                "holds a `{other}` block where a private key (`RSA PRIVATE KEY`, `EC PRIVATE KEY` or `PRIVATE KEY`) belongs"
            )),
        },
        Kind::PublicKey => {
            if label != "PUBLIC KEY" {
                return Err(format!(
                    "holds a `{label}` block where a public key (`PUBLIC KEY`) belongs"
                ));
            }
            let key = PublicKey::from_spki(&block.contents)?;
            Ok(Content::PublicKey {
                der: block.contents.clone(),
                key,
            })
        }
    }
}
