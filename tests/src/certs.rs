//! Certificates made at test time: a throwaway CA and a leaf it signed.
//! Nothing secret is ever checked in.

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use std::path::{Path, PathBuf};

/// A CA certificate and a server certificate (with its key) signed by it.
#[derive(Debug)]
pub struct TestCerts {
    /// The CA certificate, PEM: what clients trust.
    pub ca_pem: String,
    /// The server's chain (leaf, then CA), PEM.
    pub chain_pem: String,
    /// The server's private key, PKCS#8 PEM.
    pub key_pem: String,
    /// A client's chain (leaf for client authentication, then CA), PEM:
    /// for servers that require client certificates.
    pub client_chain_pem: String,
    /// The client's private key, PKCS#8 PEM.
    pub client_key_pem: String,
}

impl TestCerts {
    /// A fresh CA and a leaf valid for `names` (DNS names or IP addresses).
    pub fn generate(names: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: two test CAs must not look like the same issuer.
        let serial: u64 = rand::random();
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("sockweave test CA {serial:016x}"),
        );
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");

        let key = KeyPair::generate().expect("leaf key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "sockweave test server");
        let leaf = params.signed_by(&key, &ca, &ca_key).expect("leaf");

        let client_key = KeyPair::generate().expect("client key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, "sockweave test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = params
            .signed_by(&client_key, &ca, &ca_key)
            .expect("client certificate");
        Self {
            ca_pem: ca.pem(),
            chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
            key_pem: key.serialize_pem(),
            client_chain_pem: format!("{}{}", client.pem(), ca.pem()),
            client_key_pem: client_key.serialize_pem(),
        }
    }

    /// For `localhost`, `127.0.0.1` and `::1`.
    pub fn localhost() -> Self {
        Self::generate(&["localhost", "127.0.0.1", "::1"])
    }

    /// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`; returns their
    /// paths in that order.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<[PathBuf; 3]> {
        std::fs::create_dir_all(dir)?;
        let paths = [
            dir.join("ca.pem"),
            dir.join("cert.pem"),
            dir.join("key.pem"),
        ];
        std::fs::write(&paths[0], &self.ca_pem)?;
        std::fs::write(&paths[1], &self.chain_pem)?;
        std::fs::write(&paths[2], &self.key_pem)?;
        Ok(paths)
    }
}
