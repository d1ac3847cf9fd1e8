//! Private key ↔ public key matching. A certificate and its key belong together when the
//! public key derived from the private key is the certificate's (its SPKI); the same for
//! `sa.pub` and `sa.key`. kubeadm writes RSA keys (PKCS#1 `RSA PRIVATE KEY`) by default
//! and ECDSA P-256 or P-384 keys when configured; PKCS#8 `PRIVATE KEY` and SEC1
//! `EC PRIVATE KEY` are read too. Keys of other types are reported, not guessed at.
//!
//! Nothing here ever puts key material into a message: errors name the encoding and the
//! decoder's reason, which holds no bytes of the key.

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, PrivateKeyInfoRef, SubjectPublicKeyInfoRef,
};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};

/// A public key of a type drbook checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::PublicKey),
    P384(p384::PublicKey),
}

impl PublicKey {
    /// The key of a DER SubjectPublicKeyInfo (a certificate's, or a `PUBLIC KEY` block).
    pub(crate) fn from_spki(der: &[u8]) -> Result<PublicKey, String> {
        if let Ok(key) = RsaPublicKey::from_public_key_der(der) {
            return Ok(PublicKey::Rsa(key));
        }
        if let Ok(key) = p256::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(key));
        }
        if let Ok(key) = p384::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(key));
        }
        Err(match SubjectPublicKeyInfoRef::try_from(der) {
            Ok(info) => format!(
                "holds a public key of a type drbook does not check (algorithm {}); kubeadm uses RSA or ECDSA P-256/P-384",
                info.algorithm.oid
            ),
            Err(e) => format!("holds a public key that does not parse ({e})"),
        })
    }

    /// "RSA 2048", "ECDSA P-256", for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            PublicKey::Rsa(key) => format!("RSA {}", key.n().bit_width()),
            PublicKey::P256(_) => "ECDSA P-256".to_string(),
            PublicKey::P384(_) => "ECDSA P-384".to_string(),
        }
    }
}

/// A private key that parsed, reduced to what the checks need.
#[derive(Debug)]
pub(crate) struct PrivateKey {
    /// The public key derived from it.
    pub public: PublicKey,
    /// Its PKCS#8 DER re-encoding, the same for the same key whatever PEM form the file
    /// used; only ever hashed (the fingerprint), never shown.
    pub canonical: Vec<u8>,
}

/// Reads the private key of a PEM block with `label` and DER `der`.
pub(crate) fn private_key(label: &str, der: &[u8]) -> Result<PrivateKey, String> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        format!("holds a `{label}` block that is not a valid {what} ({e})")
    };
    match label {
        "RSA PRIVATE KEY" => {
            let key = RsaPrivateKey::from_pkcs1_der(der).map_err(|e| bad("RSA key", &e))?;
            rsa_key(&key)
        }
        "EC PRIVATE KEY" => {
            if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
                return p256_key(&key);
            }
            if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
                return p384_key(&key);
            }
            Err(format!(
                "holds an `{label}` block that is neither a P-256 nor a P-384 key (the curves kubeadm uses), or is damaged"
            ))
        }
        "PRIVATE KEY" => {
            if let Ok(key) = RsaPrivateKey::from_pkcs8_der(der) {
                return rsa_key(&key);
            }
            if let Ok(key) = p256::SecretKey::from_pkcs8_der(der) {
                return p256_key(&key);
            }
            if let Ok(key) = p384::SecretKey::from_pkcs8_der(der) {
                return p384_key(&key);
            }
            Err(match PrivateKeyInfoRef::try_from(der) {
                Ok(info) => format!(
                    "holds a PKCS#8 key of a type drbook does not check (algorithm {}); kubeadm uses RSA or ECDSA P-256/P-384",
                    info.algorithm.oid
                ),
                Err(e) => bad("PKCS#8 key", &e),
            })
        }
        other => Err(format!("holds a `{other}` block, not a private key")),
    }
}

fn encoding_failed(e: &dyn std::fmt::Display) -> String {
    format!("holds a key that cannot be re-encoded for its fingerprint ({e})")
}

fn rsa_key(key: &RsaPrivateKey) -> Result<PrivateKey, String> {
    Ok(PrivateKey {
        public: PublicKey::Rsa(key.to_public_key()),
        canonical: key
            .to_pkcs8_der()
            .map_err(|e| encoding_failed(&e))?
            .as_bytes()
            .to_vec(),
    })
}

fn p256_key(key: &p256::SecretKey) -> Result<PrivateKey, String> {
    Ok(PrivateKey {
        public: PublicKey::P256(key.public_key()),
        canonical: key
            .to_pkcs8_der()
            .map_err(|e| encoding_failed(&e))?
            .as_bytes()
            .to_vec(),
    })
}

fn p384_key(key: &p384::SecretKey) -> Result<PrivateKey, String> {
    Ok(PrivateKey {
        public: PublicKey::P384(key.public_key()),
        canonical: key
            .to_pkcs8_der()
            .map_err(|e| encoding_failed(&e))?
            .as_bytes()
            .to_vec(),
    })
}
