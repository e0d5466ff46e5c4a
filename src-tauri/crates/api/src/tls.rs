//! The local certificate authority and the server's certificate, kept in `<data dir>/tls/`.
//!
//! On first start a CA (ECDSA P-256, ten years) is created; people trust it once, in Postman
//! or curl, through `tessera cert export`. The leaf certificate for `localhost`, `127.0.0.1`
//! and `::1` (plus an explicitly chosen listen address) is issued afresh by that CA at every
//! start, so it never expires under a running installation and its key is never old. Private
//! keys are written 0600. The fingerprint people compare is the SHA-256 of the CA's DER.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tessera_core::Error;
use time::{Duration, OffsetDateTime};

use crate::Result;

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca.key";
const LEAF_CERT: &str = "server.pem";
const LEAF_KEY: &str = "server.key";
const CA_NAME: &str = "Tessera local CA";

/// The CA as loaded or created.
pub struct Ca {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key: KeyPair,
}

/// What the server needs to speak TLS.
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// SHA-256 of the CA certificate, colon-separated upper-case hex.
    pub fingerprint: String,
}

fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

fn io_err(what: &str, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::internal(
        format!("cannot {what}; check the data dir's permissions"),
        e,
    )
}

fn cert_err(e: rcgen::Error) -> Error {
    Error::internal("cannot create the TLS certificates", e)
}

/// SHA-256 of a DER certificate as `AB:CD:...`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The parameters the CA is (re)built from. The issuer identity used for signing leaves must
/// match the stored CA certificate, so this is the one place that defines it.
fn ca_params() -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    dn.push(DnType::OrganizationName, "Tessera");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(3650);
    Ok(p)
}

/// Write a file atomically (temp file + rename); `secret` files are 0600.
fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    if secret {
        // Owner-only even when a stale temp file with a looser mode is in the way.
        tessera_core::secret_file::write(&tmp, contents)
            .map_err(|e| io_err("write a TLS file", e))?;
    } else {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o644);
        }
        let mut f = opts.open(&tmp).map_err(|e| io_err("write a TLS file", e))?;
        f.write_all(contents)
            .map_err(|e| io_err("write a TLS file", e))?;
        f.sync_all().map_err(|e| io_err("write a TLS file", e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err("write a TLS file", e))?;
    Ok(())
}

fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_err("create the TLS directory", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err("protect the TLS directory", e))?;
    }
    Ok(())
}

/// Load the CA from the data dir, creating it on first use.
pub fn load_or_create_ca(data_dir: &Path) -> Result<Ca> {
    let dir = tls_dir(data_dir);
    ensure_dir(&dir)?;
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if cert_path.exists() && key_path.exists() {
        let cert_pem = std::fs::read_to_string(&cert_path)
            .map_err(|e| io_err("read the CA certificate", e))?;
        let key_pem =
            std::fs::read_to_string(&key_path).map_err(|e| io_err("read the CA key", e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(cert_err)?;
        let cert_der = pem_to_der(&cert_pem)?;
        return Ok(Ca {
            cert_pem,
            cert_der,
            key,
        });
    }
    tracing::info!(dir = %dir.display(), "creating the local certificate authority");
    let key = KeyPair::generate().map_err(cert_err)?;
    let cert = ca_params()?.self_signed(&key).map_err(cert_err)?;
    // Key first: a CA certificate without its key would be useless.
    write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
    write_file(&cert_path, cert.pem().as_bytes(), false)?;
    Ok(Ca {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key,
    })
}

fn pem_to_der(pem: &str) -> Result<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| Error::internal("the stored CA certificate cannot be read; delete the data dir's tls/ folder to make a new one", e))
}

/// Issue a fresh leaf certificate (and write it to the data dir) for loopback and `extra`.
pub fn issue_server_cert(data_dir: &Path, extra: Option<IpAddr>) -> Result<ServerCert> {
    let ca = load_or_create_ca(data_dir)?;
    let mut names = vec![
        SanType::DnsName("localhost".try_into().map_err(cert_err)?),
        SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
        SanType::IpAddress(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ];
    if let Some(ip) = extra.filter(|ip| !ip.is_loopback() && !ip.is_unspecified()) {
        names.push(SanType::IpAddress(ip));
    }
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    p.subject_alt_names = names;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localhost");
    p.distinguished_name = dn;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(397);
    let key = KeyPair::generate().map_err(cert_err)?;
    let issuer = Issuer::new(ca_params()?, &ca.key);
    let cert = p.signed_by(&key, &issuer).map_err(cert_err)?;
    let dir = tls_dir(data_dir);
    write_file(&dir.join(LEAF_KEY), key.serialize_pem().as_bytes(), true)?;
    write_file(
        &dir.join(LEAF_CERT),
        format!("{}{}", cert.pem(), ca.cert_pem).as_bytes(),
        false,
    )?;
    Ok(ServerCert {
        chain: vec![cert.der().clone(), ca.cert_der.clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        fingerprint: fingerprint(&ca.cert_der),
    })
}

/// The leaf certificate and key the last [`issue_server_cert`] wrote to the data dir, as the
/// server uses them. For a second listener that must present the very same certificates (the
/// benchmark baseline, [`crate::bench::serve_ok`]).
pub fn load_server_cert(data_dir: &Path) -> Result<ServerCert> {
    use rustls::pki_types::pem::PemObject;
    let dir = tls_dir(data_dir);
    let chain_pem =
        std::fs::read(dir.join(LEAF_CERT)).map_err(|e| io_err("read the server certificate", e))?;
    let key_pem =
        std::fs::read(dir.join(LEAF_KEY)).map_err(|e| io_err("read the server key", e))?;
    let unreadable = |e| Error::internal("the stored server certificate cannot be read", e);
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(unreadable)?;
    let ca = chain
        .last()
        .ok_or_else(|| Error::state("the stored server certificate is empty"))?;
    let fingerprint = fingerprint(ca);
    Ok(ServerCert {
        chain,
        key,
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_and_keys_are_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = load_or_create_ca(dir.path()).expect("create");
        let b = load_or_create_ca(dir.path()).expect("load");
        assert_eq!(a.cert_pem, b.cert_pem);
        let leaf = issue_server_cert(dir.path(), None).expect("leaf");
        assert_eq!(leaf.fingerprint, fingerprint(&a.cert_der));
        assert_eq!(leaf.fingerprint.len(), 32 * 3 - 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [CA_KEY, LEAF_KEY] {
                let mode = std::fs::metadata(dir.path().join("tls").join(f))
                    .expect("meta")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }
}
