//! The local certificate authority and the server's certificate, kept in `<data dir>/tls/`.
//!
//! On first start a CA (ECDSA P-256, two years) is created; people trust it once, in Postman
//! or curl, through `tessera cert export`. It is name-constrained to `localhost`,
//! `127.0.0.1`, `::1` and any listen address the server was started on, so even a stolen CA
//! key cannot vouch for anyone else's site. It is re-signed with the same key when it nears its
//! end (within 60 days), when it predates the constraints, or when a new listen address is
//! used; a trusted earlier copy keeps working, since the key is the same. The leaf certificate
//! for those names is issued afresh by the CA at every start, so it never expires under a
//! running installation and its key is never old. Private keys are written 0600. The
//! fingerprint people compare is the SHA-256 of the CA's DER.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
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
/// What the CA was last signed for: its end and the extra addresses it permits.
const CA_META: &str = "ca.json";
/// How long a CA lives.
const CA_LIFETIME: Duration = Duration::days(730);
/// Re-sign the CA when less than this is left.
const CA_RENEW_BEFORE: Duration = Duration::days(60);

/// The CA as loaded or created.
pub struct Ca {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key: KeyPair,
    /// Non-loopback addresses the CA's name constraints permit.
    extra: Vec<IpAddr>,
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
/// match the stored CA certificate, so this is the one place that defines it. `extra` are
/// the non-loopback addresses servers listen on, which the name constraints must permit.
fn ca_params(extra: &[IpAddr]) -> Result<CertificateParams> {
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
    let mut permitted = vec![
        GeneralSubtree::DnsName("localhost".into()),
        GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
            IpAddr::from([127, 0, 0, 1]),
            32,
        )),
        GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            128,
        )),
    ];
    for ip in extra {
        let len = if ip.is_ipv4() { 32 } else { 128 };
        permitted.push(GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
            *ip, len,
        )));
    }
    p.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: Vec::new(),
    });
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(1);
    p.not_after = now + CA_LIFETIME;
    Ok(p)
}

/// What [`CA_META`] records.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CaMeta {
    /// Unix seconds.
    not_after: i64,
    extra: Vec<IpAddr>,
}

fn read_meta(dir: &Path) -> Option<CaMeta> {
    let text = std::fs::read_to_string(dir.join(CA_META)).ok()?;
    serde_json::from_str(&text).ok()
}

/// An extra address the CA must permit for a listener on `ip`: none for loopback or "any".
fn listen_name(ip: Option<IpAddr>) -> Option<IpAddr> {
    ip.map(|ip| ip.to_canonical())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// Sign (or re-sign) the CA certificate with `key` for `extra`, and record what it covers.
fn sign_ca(
    dir: &Path,
    key: &KeyPair,
    extra: Vec<IpAddr>,
) -> Result<(String, CertificateDer<'static>)> {
    let params = ca_params(&extra)?;
    let not_after = params.not_after.unix_timestamp();
    let cert = params.self_signed(key).map_err(cert_err)?;
    write_file(&dir.join(CA_CERT), cert.pem().as_bytes(), false)?;
    let meta = serde_json::to_vec(&CaMeta { not_after, extra })
        .map_err(|e| Error::internal("cannot record the CA's names", e))?;
    write_file(&dir.join(CA_META), &meta, false)?;
    Ok((cert.pem(), cert.der().clone()))
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
    load_or_create_ca_for(data_dir, None)
}

/// [`load_or_create_ca`] for a server listening on `listen`: the CA is re-signed (same key)
/// when it nears its end, predates its name constraints, or does not yet permit `listen`.
pub fn load_or_create_ca_for(data_dir: &Path, listen: Option<IpAddr>) -> Result<Ca> {
    let dir = tls_dir(data_dir);
    ensure_dir(&dir)?;
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    let wanted = listen_name(listen);
    if cert_path.exists() && key_path.exists() {
        let key_pem =
            std::fs::read_to_string(&key_path).map_err(|e| io_err("read the CA key", e))?;
        let key = KeyPair::from_pem(&key_pem).map_err(cert_err)?;
        let meta = read_meta(&dir);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let renew = match &meta {
            None => true,
            Some(m) => {
                m.not_after - now < CA_RENEW_BEFORE.whole_seconds()
                    || wanted.is_some_and(|ip| !m.extra.contains(&ip))
            }
        };
        if renew {
            let mut extra = meta.map(|m| m.extra).unwrap_or_default();
            extra.extend(wanted.filter(|ip| !extra.contains(ip)));
            tracing::info!(dir = %dir.display(), "re-signing the local certificate authority (same key)");
            let (cert_pem, cert_der) = sign_ca(&dir, &key, extra.clone())?;
            return Ok(Ca {
                cert_pem,
                cert_der,
                key,
                extra,
            });
        }
        let cert_pem = std::fs::read_to_string(&cert_path)
            .map_err(|e| io_err("read the CA certificate", e))?;
        let cert_der = pem_to_der(&cert_pem)?;
        return Ok(Ca {
            cert_pem,
            cert_der,
            key,
            extra: meta.map(|m| m.extra).unwrap_or_default(),
        });
    }
    tracing::info!(dir = %dir.display(), "creating the local certificate authority");
    let key = KeyPair::generate().map_err(cert_err)?;
    // Key first: a CA certificate without its key would be useless.
    write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
    let extra: Vec<IpAddr> = wanted.into_iter().collect();
    let (cert_pem, cert_der) = sign_ca(&dir, &key, extra.clone())?;
    Ok(Ca {
        cert_pem,
        cert_der,
        key,
        extra,
    })
}

fn pem_to_der(pem: &str) -> Result<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| Error::internal("the stored CA certificate cannot be read; delete the data dir's tls/ folder to make a new one", e))
}

/// Issue a fresh leaf certificate (and write it to the data dir) for loopback and `extra`.
pub fn issue_server_cert(data_dir: &Path, extra: Option<IpAddr>) -> Result<ServerCert> {
    let ca = load_or_create_ca_for(data_dir, extra)?;
    let mut names = vec![
        SanType::DnsName("localhost".try_into().map_err(cert_err)?),
        SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
        SanType::IpAddress(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ];
    if let Some(ip) = listen_name(extra) {
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
    let issuer = Issuer::new(ca_params(&ca.extra)?, &ca.key);
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

    /// The DER of the name-constraints extension's OID (2.5.29.30).
    const NAME_CONSTRAINTS_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x1e];

    fn has(der: &[u8], needle: &[u8]) -> bool {
        der.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn the_ca_is_name_constrained_and_re_signed_with_the_same_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = load_or_create_ca(dir.path()).expect("create");
        assert!(has(&a.cert_der, &NAME_CONSTRAINTS_OID));
        let spki = a.key.public_key_raw().to_vec();
        // A listen address outside loopback is added to the constraints, same key.
        let lan: IpAddr = "192.0.2.10".parse().expect("ip");
        let b = load_or_create_ca_for(dir.path(), Some(lan)).expect("re-sign");
        assert_ne!(a.cert_der, b.cert_der);
        assert_eq!(b.key.public_key_raw().to_vec(), spki);
        assert!(has(&b.cert_der, &[192, 0, 2, 10, 255, 255, 255, 255]));
        assert_eq!(b.extra, vec![lan]);
        // Nothing changes while the CA is fresh and covers the address.
        let c = load_or_create_ca_for(dir.path(), Some(lan)).expect("load");
        assert_eq!(c.cert_der, b.cert_der);
        // Near its end (or without a record, as a CA from before the constraints) it is
        // re-signed, keeping what it covered.
        let tls = dir.path().join("tls");
        let meta = CaMeta {
            not_after: OffsetDateTime::now_utc().unix_timestamp() + 86_400,
            extra: vec![lan],
        };
        std::fs::write(tls.join(CA_META), serde_json::to_vec(&meta).expect("json")).expect("write");
        let d = load_or_create_ca(dir.path()).expect("renew");
        assert_ne!(d.cert_der, c.cert_der);
        assert_eq!(d.extra, vec![lan]);
        let renewed = read_meta(&tls).expect("meta");
        assert!(renewed.not_after > OffsetDateTime::now_utc().unix_timestamp() + 700 * 86_400);
        std::fs::remove_file(tls.join(CA_META)).expect("remove");
        let e = load_or_create_ca(dir.path()).expect("old CA");
        assert_ne!(e.cert_der, d.cert_der);
        assert_eq!(e.key.public_key_raw().to_vec(), spki);
    }

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
