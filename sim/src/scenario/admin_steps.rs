//! The administrator's AuthZ steps, checked: `regenerate-key` (on the publisher, or the
//! documented command run on another node, which puts keys on its disk), `revoke`,
//! `set-param` and `show-keys`.

use super::action::{ActionName, LogName, SqlQuery};
use super::duration::parse_duration;
use super::error::At;
use super::file::{ParamName, StepFile};
use super::parse::{check_user, cli_node, OLD_RELEASE_HAS_NO_FLOW};
use super::{Action, Cluster, Device, Release, ScenarioError};
use crate::node_id::NodeId;
use crate::tokens::{ExpiryTimer, Lifetimes};
use crate::trace::catalogue::did_you_mean;

/// What these steps are checked against.
pub(super) struct Context<'a> {
    pub cluster: &'a Cluster,
    pub devices: &'a [Device],
    pub lifetimes: Lifetimes,
    pub release: Release,
}

/// The action of an AuthZ step (`name` is one of them).
pub(super) fn admin_action(
    name: ActionName,
    step: &StepFile,
    index: usize,
    context: &Context<'_>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    match name {
        ActionName::RegenerateKey => regenerate_key(step, index, context, at),
        ActionName::Revoke => revoke(step, index, context.devices, at),
        ActionName::SetParam => set_param(step, index, context, at),
        ActionName::ShowKeys => Ok(Action::ShowKeys),
        ActionName::ReconfigureSso if !context.cluster.sso => Err(at(
            step.action.span(),
            &format!("step[{index}].action"),
            "reconfigure-sso needs SSO: [cluster] sso = true".to_string(),
        )),
        ActionName::ReconfigureSso => Ok(Action::ReconfigureSso),
        ActionName::ConfigureUnity => configure_unity(step, index, context, at),
        ActionName::RunSql => run_sql(step, index, at),
        ActionName::ReadLog => read_log(step, index, at),
        _ => unreachable!("not an AuthZ step"),
    }
}

/// The fields each of these steps takes.
pub(super) fn fields(name: ActionName) -> &'static [&'static str] {
    match name {
        ActionName::RegenerateKey => &["node"],
        ActionName::Revoke => &["user", "client"],
        ActionName::SetParam => &["param", "value"],
        ActionName::ConfigureUnity => &["authz_server", "oauth"],
        ActionName::RunSql => &["query"],
        ActionName::ReadLog => &["log"],
        _ => &[],
    }
}

/// `run-sql`: one of the queries the documents quote, by name.
fn run_sql(step: &StepFile, index: usize, at: At<'_>) -> Result<Action, ScenarioError> {
    let names: Vec<&str> = SqlQuery::ALL.iter().map(|query| query.name()).collect();
    let field = One { step, index, field: "query", names: &names, unknown: "a query authzlab knows" };
    field.named(step.query.as_ref(), SqlQuery::named, at).map(Action::RunSql)
}

/// `read-log`: one of the logs the documents name, by its file name.
fn read_log(step: &StepFile, index: usize, at: At<'_>) -> Result<Action, ScenarioError> {
    let names: Vec<&str> = LogName::ALL.iter().map(|log| log.name()).collect();
    let field = One { step, index, field: "log", names: &names, unknown: "a log the documents name" };
    field.named(step.log.as_ref(), LogName::named, at).map(Action::ReadLog)
}

/// A step field that names one of a few things (`names`), refused with them otherwise.
struct One<'a> {
    step: &'a StepFile,
    index: usize,
    field: &'a str,
    names: &'a [&'a str],
    /// What the things are, for the refusal: "a query authzlab knows".
    unknown: &'a str,
}

impl One<'_> {
    fn named<T>(
        &self,
        value: Option<&toml::Spanned<String>>,
        lookup: impl Fn(&str) -> Option<T>,
        at: At<'_>,
    ) -> Result<T, ScenarioError> {
        let field = format!("step[{}].{}", self.index, self.field);
        let Some(value) = value else {
            return Err(at(
                self.step.action.span(),
                &field,
                format!(
                    "{} needs `{}`, one of: {}",
                    self.step.action.get_ref().name(),
                    self.field,
                    self.names.join(", ")
                ),
            ));
        };
        lookup(value.get_ref()).ok_or_else(|| {
            at(
                value.span(),
                &field,
                format!("{:?} is not {}; one of: {}", value.get_ref(), self.unknown, self.names.join(", ")),
            )
        })
    }
}

/// `configure-unity`: Unity Connection's Authz Servers entry, OAuth services, or both.
fn configure_unity(
    step: &StepFile,
    index: usize,
    context: &Context<'_>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    if context.cluster.unity_validator.is_none() {
        return Err(at(
            step.action.span(),
            &format!("step[{index}].action"),
            "configure-unity needs Unity Connection ([cluster.unity])".to_string(),
        ));
    }
    let (authz_server, oauth) = (
        step.authz_server.as_ref().map(|flag| *flag.get_ref()),
        step.oauth.as_ref().map(|flag| *flag.get_ref()),
    );
    if authz_server.is_none() && oauth.is_none() {
        return Err(at(
            step.action.span(),
            &format!("step[{index}].authz_server"),
            "configure-unity needs `authz_server`, `oauth` or both (true or false)".to_string(),
        ));
    }
    Ok(Action::ConfigureUnity { authz_server, oauth })
}

/// `regenerate-key`: on the publisher, a new key; on another node, the documented command
/// that puts the keys on its disk (`PullKeys`). An old cluster has no key to regenerate.
fn regenerate_key(
    step: &StepFile,
    index: usize,
    context: &Context<'_>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let needs_key = || {
        at(
            step.action.span(),
            &format!("step[{index}].key"),
            "regenerate-key needs `key = \"signing\"` or `key = \"encryption\"`".to_string(),
        )
    };
    if !context.release.has_refresh_login_flow() {
        return Err(at(
            step.action.span(),
            &format!("step[{index}].action"),
            "an old cluster (cluster.release = \"old\") has no AuthZ signing or encryption key to \
                 regenerate: they came with the refresh login flow"
                .to_string(),
        ));
    }
    match &step.node {
        Some(node) if NodeId::PUBLISHER != *node.get_ref() => {
            cli_node(node, context.cluster, &format!("step[{index}].node"), &at)?;
            let kind = step.key.ok_or_else(needs_key)?;
            Ok(Action::PullKeys { node: NodeId::new(node.get_ref().clone()), kind })
        }
        _ => step.key.map(Action::RegenerateKey).ok_or_else(needs_key),
    }
}

/// `revoke`: every refresh token of a user who signs in here, or of one of the user's
/// devices.
fn revoke(step: &StepFile, index: usize, devices: &[Device], at: At<'_>) -> Result<Action, ScenarioError> {
    let Some(user) = &step.user else {
        return Err(at(
            step.action.span(),
            &format!("step[{index}].user"),
            "revoke needs `user = \"…\"` (and `client = \"jabber-N\"` for one device only)".to_string(),
        ));
    };
    let field = format!("step[{index}].user");
    let name = check_user(user.get_ref()).map_err(|message| at(user.span(), &field, message))?;
    if !devices.iter().any(|device| device.user == name) {
        let users: Vec<&str> = devices.iter().map(|device| device.user.as_str()).collect();
        let hint = did_you_mean(&name, users.iter().copied())
            .map_or_else(String::new, |near| format!(" (did you mean {near:?}?)"));
        return Err(at(
            user.span(),
            &field,
            format!("no client signs in as {name:?}{hint}; users here: {}", users.join(", ")),
        ));
    }
    let device = match &step.client {
        None => None,
        Some(client) => {
            let wanted = client.get_ref();
            match devices.iter().find(|device| &device.name == wanted) {
                Some(device) if device.user == name => Some(device.name.clone()),
                Some(device) => {
                    return Err(at(
                        client.span(),
                        &format!("step[{index}].client"),
                        format!("{wanted} is {}'s device, not {name}'s", device.user),
                    ))
                }
                None => {
                    return Err(at(
                        client.span(),
                        &format!("step[{index}].client"),
                        format!(
                            "no such client; clients here: {}",
                            devices.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            }
        }
    };
    Ok(Action::Revoke { user: name, device })
}

/// `set-param`: an expiry timer (checked against the documents' bounds now, not when the step
/// runs) or the refresh login flow (which an old cluster does not have).
fn set_param(
    step: &StepFile,
    index: usize,
    context: &Context<'_>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let (release, lifetimes) = (context.release, context.lifetimes);
    let (Some(param), Some(value)) = (&step.param, &step.value) else {
        return Err(at(
            step.action.span(),
            &format!("step[{index}].param"),
            "set-param needs `param = \"access_token_expiry\"`, `\"refresh_token_expiry\"` \
             or `\"refresh_login_flow\"`, and `value = …`"
                .to_string(),
        ));
    };
    let field = format!("step[{index}].value");
    let timer = match param.get_ref() {
        ParamName::AccessTokenExpiry => Some(ExpiryTimer::AccessTokenExpiry),
        ParamName::RefreshTokenExpiry => Some(ExpiryTimer::RefreshTokenExpiry),
        ParamName::RefreshLoginFlow => None,
    };
    Ok(match (timer, value.get_ref()) {
        (None, _) if !release.has_refresh_login_flow() => {
            return Err(at(
                param.span(),
                &format!("step[{index}].param"),
                OLD_RELEASE_HAS_NO_FLOW.to_string(),
            ))
        }
        (None, toml::Value::Boolean(enabled)) => Action::SetRefreshLoginFlow(*enabled),
        (None, _) => {
            return Err(at(
                value.span(),
                &field,
                "refresh_login_flow is `true` (Enabled) or `false` (Disabled)".to_string(),
            ))
        }
        (Some(timer), toml::Value::String(text)) => {
            let value_s =
                parse_duration(text).map_err(|message| at(value.span(), &field, message))?.as_secs();
            // Checked against the documents' bounds now, not when the step runs.
            lifetimes.with(timer, value_s).map_err(|error| at(value.span(), &field, error.to_string()))?;
            Action::SetExpiry { timer, value_s }
        }
        (Some(timer), _) => {
            return Err(at(value.span(), &field, format!("{timer} is a duration such as \"30m\"")))
        }
    })
}
