//! Proxy mode (docs/domain.md "Two grant flows"): an opaque access token is not self-contained,
//! so a node that is handed one asks the node that issued it, over the network, and waits.
//! The wait is the cost the documents name ("network delay"); every acceptance or refusal
//! made this way records it as `proxy_ms`.

use hyper::StatusCode;

use crate::clock;
use crate::node::authz::consumer::{Consumer, Vouched};
use crate::node::authz::refusal::Refusal;
use crate::node_id::NodeId;
use crate::proto::authz::{IntrospectRequest, IntrospectResponse, HTTPS_PORT, INTROSPECT_PATH};
use crate::proto::http::{Call, HttpRequest, HttpResponse};
use crate::trace::Tracer;

/// The issuer's verdict on a token and how long it took to get it.
pub struct ProxyVerdict {
    /// The claims, or the reason for refusing: the issuer's (`expired`, `unknown-token`) or
    /// `issuer-unreachable` when no answer came.
    pub outcome: Result<Vouched, String>,
    pub proxy_ms: u64,
}

/// Asks `issuer` about `token` on behalf of `asker` (a node name, for the issuer's logs).
/// Bounded by one request's timeout (`REQUEST_TIMEOUT`).
pub async fn ask_issuer(issuer: &NodeId, asker: &NodeId, token: &str) -> ProxyVerdict {
    let started = clock::elapsed();
    let question = IntrospectRequest { token: token.to_string() };
    let answer = Call::post(issuer, HTTPS_PORT, INTROSPECT_PATH, asker, &question).send().await;
    let proxy_ms = (clock::elapsed().saturating_sub(started)).as_millis() as u64;
    let outcome = match answer {
        Ok(response) if response.status == StatusCode::OK => match response.decode::<IntrospectResponse>() {
            Ok(IntrospectResponse {
                active: true, user: Some(user), tid: Some(tid), exp: Some(exp), ..
            }) => Ok(Vouched { user, tid, exp }),
            Ok(answer) => Err(answer.reason.unwrap_or_else(|| "unknown-token".to_string())),
            Err(_) => Err("issuer-unreachable".to_string()),
        },
        _ => Err("issuer-unreachable".to_string()),
    };
    ProxyVerdict { outcome, proxy_ms }
}

/// Answers a request that carries an opaque token: asks `issuer`, records the verdict with
/// the consumer's own events (`accepted`, `rejected`: the client, the verdict and `proxy_ms`)
/// and answers 200 with the user or 401 with the reason. Every consumer of opaque tokens
/// (subscriber, Unity, IM and Presence) answers this way.
pub async fn answer_by_proxy(
    issuer: NodeId,
    tracer: Tracer,
    request: HttpRequest,
    consumer: Consumer,
) -> HttpResponse {
    let client = request.agent.clone().unwrap_or_default();
    let token = request.bearer.unwrap_or_default();
    let verdict = ask_issuer(&issuer, tracer.node(), &token).await;
    let proxy_ms = Some(verdict.proxy_ms);
    match verdict.outcome {
        Ok(vouched) => {
            let user = vouched.user.clone();
            tracer.emit(consumer.accepted(client, vouched, proxy_ms, None));
            HttpResponse::json(StatusCode::OK, &serde_json::json!({ "user": user }))
        }
        Err(reason) => {
            tracer.emit(consumer.rejected(client, Refusal::relayed(&reason), proxy_ms, None));
            HttpResponse::error(StatusCode::UNAUTHORIZED, &reason)
        }
    }
}
