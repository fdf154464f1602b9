//! **Expressway-E** (our assumption: the documents name only Expressway-C) sits in the DMZ
//! and hands every request from a remote device to Expressway-C; it checks nothing.

use std::rc::Rc;

use hyper::StatusCode;

use crate::node_id::NodeId;
use crate::proto::edge::EDGE_PORT;
use crate::proto::http::{serve, Call, HttpRequest, HttpResponse, Pending};

/// Expressway-E's program: every request from outside goes on to Expressway-C unchanged.
pub async fn run(inside: NodeId) -> turmoil::Result {
    serve(
        EDGE_PORT,
        Rc::new(move |request: HttpRequest| -> Pending {
            let inside = inside.clone();
            Box::pin(async move {
                let agent = NodeId::new(request.agent.clone().unwrap_or_default());
                let call = Call {
                    host: &inside,
                    port: EDGE_PORT,
                    method: request.method.clone(),
                    path: &request.path,
                    bearer: request.bearer.as_deref(),
                    agent: &agent,
                    body: request.body.clone(),
                };
                call.send()
                    .await
                    .unwrap_or_else(|e| HttpResponse::error(StatusCode::BAD_GATEWAY, &e.to_string()))
            })
        }),
    )
    .await
}
