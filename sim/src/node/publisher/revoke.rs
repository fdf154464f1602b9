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

/// The revoke API's query: `user_id`, and `client_id` when one device's tokens go. The method
/// (`POST`) and the `client_id` format are ours (assumption): the documents show only the path
/// and `?user_id=xyz&client_id=abc`. We take `client_id` to be the table's `clientid`, the
/// refresh token's `ccid` (`C` and 64 hex digits), so a placeholder such as the documents'
/// `abc` is refused, and the refusal says why.
pub(crate) fn revoke_query(query: &str) -> Result<(&str, Option<&str>), String> {
    let (mut user, mut client) = (None, None);
    if query.split('&').nth(REVOKE_PARAMETERS_MAX).is_some() {
        return Err(format!("more than {REVOKE_PARAMETERS_MAX} parameters"));
    }
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("user_id", value)) if crate::scenario::is_user_id(value) => user = Some(value),
            Some(("client_id", value)) if is_ccid(value) => client = Some(value),
            Some(("client_id", value)) => {
                return Err(format!(
                    "client_id {value:?} is not a refresh token's ccid (C and 64 hex digits, the \
                     refreshtokendetails clientid); authzlab assumes the documents' client_id=abc \
                     stands for one"
                ))
            }
            _ => return Err("expected user_id=…[&client_id=C…]".to_string()),
        }
    }
    user.map(|user| (user, client)).ok_or_else(|| "user_id is required".to_string())
}

impl Publisher {
    /// `POST /ssosp/token/revoke?user_id=…[&client_id=…]`: revokes the user's refresh
    /// tokens, or one device's. Access tokens already issued stay valid until their `exp`.
    pub(super) fn revoke(&mut self, path: &str) -> HttpResponse {
        let query = path.split_once('?').map_or("", |(_, query)| query);
        let (user, client) = match revoke_query(query) {
            Ok(parsed) => parsed,
            Err(why) => return HttpResponse::error(StatusCode::BAD_REQUEST, &why),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_placeholder_client_id_is_refused_saying_why() {
        let ccid = crate::tokens::client_id_hash("jabber-1");
        assert_eq!(revoke_query("user_id=alice"), Ok(("alice", None)));
        let both = format!("user_id=alice&client_id={ccid}");
        assert_eq!(revoke_query(&both), Ok(("alice", Some(ccid.as_str()))));
        let why = revoke_query("user_id=xyz&client_id=abc").unwrap_err();
        assert!(why.contains("\"abc\" is not a refresh token's ccid") && why.contains("assumes"), "{why}");
        assert!(revoke_query("client_id=abc&user_id=x").unwrap_err().contains("ccid"));
        assert_eq!(revoke_query("").unwrap_err(), "expected user_id=…[&client_id=C…]");
        assert_eq!(revoke_query("user_id=alice&user_id=bob&x=1").unwrap_err(), "more than 2 parameters");
    }
}
