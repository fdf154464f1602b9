//! The revoke API: `POST /ssosp/token/revoke?user_id=…[&client_id=…]` marks the user's
//! refresh tokens revoked, or one device's; access tokens already issued live to their `exp`.

use hyper::StatusCode;

use super::*;
use crate::proto::authz::*;
use crate::proto::http::HttpResponse;
use crate::trace::Happening;

/// Query parameters the revoke API reads; more is a malformed request.
const REVOKE_PARAMETERS_MAX: usize = 2;

/// A `ccid`: `C` and 64 hex digits.
fn is_ccid(value: &str) -> bool {
    value.len() == 65 && value.starts_with('C') && value[1..].chars().all(|c| c.is_ascii_hexdigit())
}

impl Publisher {
    /// `POST /ssosp/token/revoke?user_id=…[&client_id=…]`: revokes the user's refresh
    /// tokens, or one device's. Access tokens already issued stay valid until their `exp`.
    pub(super) fn revoke(&mut self, path: &str) -> HttpResponse {
        let query = path.split_once('?').map_or("", |(_, query)| query);
        let (mut user, mut client) = (None, None);
        for pair in query.split('&').take(REVOKE_PARAMETERS_MAX) {
            match pair.split_once('=') {
                Some(("user_id", value)) if crate::scenario::is_user_id(value) => user = Some(value),
                Some(("client_id", value)) if is_ccid(value) => client = Some(value),
                _ => {
                    return HttpResponse::error(StatusCode::BAD_REQUEST, "expected user_id=…[&client_id=C…]")
                }
            }
        }
        let Some(user) = user else {
            return HttpResponse::error(StatusCode::BAD_REQUEST, "user_id is required");
        };
        let revoked = match self.store.revoke(user, client) {
            Ok(pkids) => pkids,
            Err(e) => return HttpResponse::error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        };
        self.tracer.emit(Happening::TokensRevoked {
            user: user.to_string(),
            ccid: client.map(str::to_string),
            revoked: revoked.len() as u64,
            refresh_tids: revoked.join(" "),
        });
        HttpResponse::json(StatusCode::OK, &RevokeResponse { revoked: revoked.len() as u64 })
    }
}
