//! What one TLS handshake costs, as the nodes make them (TLS 1.3, Ed25519 certificates, no
//! resumption): the SIP Phone OAuth Port's (server certificate only) and the MRA port's
//! (mutual TLS, the client's certificate signed by a CA). Both ends run in memory with the
//! configurations `proto::tls` builds, so the figure is rustls and ring alone, without the
//! simulated network.
//!
//! `cargo bench -p authzlab --bench tls`

use std::sync::Arc;

use authzlab::certs::authority::Authority;
use authzlab::certs::certificate::{Draw, IDENTITY_VALIDITY};
use authzlab::certs::{Certificate, Identity};
use authzlab::node_id::NodeId;
use authzlab::proto::tls;
use criterion::{criterion_group, criterion_main, Criterion};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};

const AT: u64 = 1_767_571_200;

fn draw(n: u8) -> Draw {
    Draw { serial: [n; 8], key_seed: [n; 32] }
}

/// One full handshake between fresh connections; panics if it fails (the bench's
/// configurations are meant to succeed).
fn handshake(client_config: &Arc<ClientConfig>, server_config: &Arc<ServerConfig>) {
    let name = ServerName::try_from("cucm-sub-1").expect("a DNS name");
    let mut client = ClientConnection::new(client_config.clone(), name).expect("client");
    let mut server = ServerConnection::new(server_config.clone()).expect("server");
    let mut buffer = Vec::with_capacity(8192);
    // A 1.3 handshake is 3 flights (and a 4th for the client's certificate); bounded anyway.
    for _ in 0..16 {
        if !client.is_handshaking() && !server.is_handshaking() {
            return;
        }
        buffer.clear();
        while client.wants_write() {
            client.write_tls(&mut buffer).expect("client writes");
        }
        let mut read = &buffer[..];
        while !read.is_empty() {
            server.read_tls(&mut read).expect("server reads");
        }
        server.process_new_packets().expect("the server accepts");
        buffer.clear();
        while server.wants_write() {
            server.write_tls(&mut buffer).expect("server writes");
        }
        let mut read = &buffer[..];
        while !read.is_empty() {
            client.read_tls(&mut read).expect("client reads");
        }
        client.process_new_packets().expect("the client accepts");
    }
    panic!("the handshake did not finish");
}

fn handshakes(c: &mut Criterion) {
    tls::reseed(1);
    let tomcat = Certificate::issue(Identity::Tomcat, "cucm-sub-1", &draw(1), AT, IDENTITY_VALIDITY).unwrap();
    let ca = Authority::new("Enterprise Root CA", &draw(2), AT - 86_400).unwrap();
    let edge = ca.issue("expressway-c.example.com", &[], &draw(3), AT, IDENTITY_VALIDITY).unwrap();
    let mut group = c.benchmark_group("tls_handshake");
    let server = tls::server_config(&NodeId::cucm_subscriber(1), AT, &tomcat, None).unwrap();
    let client =
        tls::client_config(&NodeId::new("phone-1"), AT, std::slice::from_ref(&tomcat), None).unwrap();
    group.bench_function("phone_port_5090", |b| b.iter(|| handshake(&client, &server)));
    let trust = [tomcat.clone(), ca.certificate.clone()];
    let server = tls::server_config(&NodeId::cucm_subscriber(1), AT, &tomcat, Some(&trust)).unwrap();
    let client =
        tls::client_config(&NodeId::EXPRESSWAY_C, AT, std::slice::from_ref(&tomcat), Some(&edge)).unwrap();
    group.bench_function("mra_port_5091_mutual", |b| b.iter(|| handshake(&client, &server)));
    group.finish();
}

criterion_group!(benches, handshakes);
criterion_main!(benches);
