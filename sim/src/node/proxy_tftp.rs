//! A proxy TFTP: another cluster's TFTP server that this cluster's phones on premises take
//! their files from (docs/domain.md "Phone-edge-trust").
//!
//! The Korean SIP OAuth guide, before `utils sipOAuth-mode enable`: "14SU1 릴리스부터 프록시
//! TFTP가 활성화된 경우 오프 클러스터 Tomcat 인증서의 루트 CA 인증서를 프록시 전화기 엣지
//! 신뢰로 복사해야 합니다" (from 14SU1, with proxy TFTP, the root CA of the off-cluster
//! Tomcat certificate must be copied into the proxy's phone-edge-trust). Seen from the proxy,
//! the run's cluster is the off-cluster: its phones read the phone-edge-trust the proxy
//! serves, and then check this cluster's Tomcat against it when they ask for tokens.
//!
//! Assumptions (the guide says only the sentence above): the proxy serves its own
//! phone-edge-trust and hands every other file request to this cluster's first subscriber's
//! TFTP (its entry for the remote cluster); its own cluster's roots are left out, since none
//! of its own phones runs; an administrator copies a root into it with `upload-certificate`
//! on the node `proxy-tftp`, and the copy is served from the next request on.

use std::cell::RefCell;
use std::rc::Rc;

use hyper::{Method, StatusCode};

use crate::certs::sync::CertificateSet;
use crate::certs::{CertStore, CertificateName, Identity, PhoneEdgeTrust};
use crate::node::certificate_management;
use crate::node::platform_commands::{next_command, NodeCommand, NodeCommands};
use crate::node::subscriber::tftp::{current_anchor, ClusterCerts};
use crate::node_id::NodeId;
use crate::proto::http::{serve, Call, HttpRequest, HttpResponse, Pending};
use crate::proto::tftp::{PHONE_EDGE_TRUST_PATH, TFTP_HTTPS_PORT, TFTP_HTTP_PORT};
use crate::trace::Tracer;

/// The proxy and what an administrator copies into it from.
pub struct ProxyTftp {
    /// This cluster's TFTP it hands file requests to.
    pub remote: NodeId,
    /// The proxy's own phone-edge-trust.
    pub phone_edge: PhoneEdgeTrust,
    /// This cluster's CallManager publisher's certificates and its subscribers': the
    /// off-cluster Tomcat certificates whose roots may be copied.
    pub publisher_certs: Rc<RefCell<CertStore>>,
    pub cluster: ClusterCerts,
    pub tracer: Tracer,
}

impl ProxyTftp {
    /// A file request: the proxy's phone-edge-trust itself, anything else from the remote.
    async fn answer(&self, request: HttpRequest, port: u16) -> HttpResponse {
        if request.method != Method::GET {
            return HttpResponse::error(StatusCode::METHOD_NOT_ALLOWED, "TFTP serves files");
        }
        if request.path == PHONE_EDGE_TRUST_PATH {
            return HttpResponse::json(StatusCode::OK, &CertificateSet::of(&self.phone_edge.certificates()));
        }
        let agent = NodeId::new(request.agent.clone().unwrap_or_default());
        Call::get(&self.remote, port, &request.path, &agent)
            .send()
            .await
            .unwrap_or_else(|e| HttpResponse::error(StatusCode::BAD_GATEWAY, &e.to_string()))
    }
}

/// The proxy's program: both TFTP ports, and its administrator's uploads.
pub async fn run(proxy: Rc<ProxyTftp>, commands: NodeCommands) -> turmoil::Result {
    for port in [TFTP_HTTP_PORT, TFTP_HTTPS_PORT] {
        let proxy = proxy.clone();
        let handler = Rc::new(move |request: HttpRequest| -> Pending {
            let proxy = proxy.clone();
            Box::pin(async move { proxy.answer(request, port).await })
        });
        tokio::task::spawn_local(serve(port, handler));
    }
    // The parser admits only phone-edge-trust uploads of this cluster's CallManager nodes.
    while let Some(command) = next_command(&commands).await {
        if let NodeCommand::UploadCertificate(CertificateName::PhoneEdgeTrust { host }) = command {
            if let Some(root) =
                current_anchor(&proxy.publisher_certs, &proxy.cluster, &host, Identity::Tomcat)
            {
                proxy.tracer.emit(certificate_management::uploaded_to_phone_edge_trust(&root));
                proxy.phone_edge.upload(root);
            }
        }
    }
    Ok(())
}
