//! A test fixture with a bug plugin authors write: it remembers every token it accepted and
//! accepts it again without checking, so a token that has since expired (or whose key was
//! replaced) still passes. Its verdicts depend on the calls before; `authzlab plugin check`
//! must say so rather than only report the cases it then gets wrong.

use std::cell::RefCell;
use std::collections::BTreeMap;

use authzlab_validator_sdk::{check, export, Claims, Guest, PluginInfo, Policy, Rejection, Request};

// Tokens accepted so far, with their claims. (The bug: nothing is ever re-checked.)
thread_local! {
    static ACCEPTED: RefCell<BTreeMap<String, Claims>> = const { RefCell::new(BTreeMap::new()) };
}

struct Caching;

impl Guest for Caching {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            consumer: "unity-connection".into(),
        }
    }

    fn validate(req: Request) -> Result<Claims, Rejection> {
        if let Some(claims) = ACCEPTED.with(|accepted| accepted.borrow().get(&req.token).cloned()) {
            return Ok(claims);
        }
        let claims = check(&req, Policy::default())?;
        ACCEPTED.with(|accepted| accepted.borrow_mut().insert(req.token.clone(), claims.clone()));
        Ok(claims)
    }
}

export!(Caching);
