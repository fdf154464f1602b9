//! From the file as written to a checked [`Scenario`]: every value in range, every limit
//! kept, steps in time order. Each refusal names the field and points at its value.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::action::StepKind;
use super::duration::format_duration;
use super::error::line_column;
use super::error::{one_of_nodes, At};
use super::expect;
use super::file::{ClusterFile, ParamsFile, ScenarioFile, StepFile};
use super::{
    Action, ClientGroup, ClientKind, Cluster, ImpCluster, Purge, Release, Scenario, ScenarioError, Site,
    Step, CLIENTS_MAX, CUCM_SUBSCRIBERS_MAX, DURATION_MAX, EPOCH_S_MAX, IMP_SUBSCRIBERS_MAX,
    IMP_VALIDATOR_DEFAULT, PRELOADED_ROWS_MAX, TICK_MAX, TICK_MIN, USER_CHARS_MAX, UTC_OFFSET_MAX_S,
    UTC_OFFSET_MIN_S,
};
use crate::clock::EPOCH_S_DEFAULT;
use crate::node_id::NodeId;
use crate::tokens::{LifetimeError, Lifetimes};

/// Why an old cluster refuses the refresh login flow.
pub(super) const OLD_RELEASE_HAS_NO_FLOW: &str =
    "an old cluster (cluster.release = \"old\") has no \"OAuth with Refresh \
     Login Flow\" parameter: its AuthZ offers only the implicit grant";
use crate::trace::catalogue::did_you_mean;

impl Scenario {
    /// Parses and checks scenario text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let at = |span: Range<usize>, field: &str, message: String| {
            let (line, column) = line_column(text, span.start);
            ScenarioError::Invalid { file: file.clone(), line, column, field: field.to_string(), message }
        };
        let parsed = deserialize(text, &at)?;

        let (tick, duration, epoch_s) = time_settings(&parsed, &at)?;
        let cluster = &parsed.cluster.0;
        let subscribers = *cluster.cucm_subscribers.get_ref();
        if !(1..=CUCM_SUBSCRIBERS_MAX).contains(&subscribers) {
            return Err(at(
                cluster.cucm_subscribers.span(),
                "cluster.cucm_subscribers",
                format!("must be 1 to {CUCM_SUBSCRIBERS_MAX}"),
            ));
        }
        let params = &parsed.params.0;
        let release = cluster.release.as_ref().map_or(Release::NEWEST, |release| *release.get_ref());
        let refresh_login_flow = *params.refresh_login_flow.get_ref();
        if refresh_login_flow && !release.has_refresh_login_flow() {
            return Err(at(
                params.refresh_login_flow.span(),
                "params.refresh_login_flow",
                OLD_RELEASE_HAS_NO_FLOW.to_string(),
            ));
        }
        let lifetimes = lifetimes(params, &at)?;
        let mut purge = purge(params, cluster.time_zone.as_ref(), &at)?;
        preloaded_table(&parsed, &mut purge, &at)?;

        check_validators(&parsed.cluster.0, path, &at)?;
        let clients = client_groups(&parsed, duration, &at)?;
        let devices = super::devices(&clients);
        let imp = imp_cluster(&parsed, &at)?;
        let sip = super::sip_steps::sip_cluster(&parsed.cluster.0, refresh_login_flow, release, &at)?;
        let expressway = super::sip_steps::expressway_cluster(
            &parsed.cluster.0,
            sip.is_some(),
            release,
            &parsed.tick,
            &at,
        )?;
        let cluster = Cluster {
            require_manifests: parsed.cluster.0.require_manifests,
            sip,
            expressway,
            imp,
            cucm_subscribers: subscribers,
            sso: parsed.cluster.0.sso,
            release,
            unity_validator: parsed.cluster.0.unity.as_ref().map(|unity| unity.0.validator.get_ref().clone()),
            unity_setup: parsed.cluster.0.unity.as_ref().map_or(
                super::UnitySetup { authz_server: true, oauth: true },
                |unity| super::UnitySetup { authz_server: unity.0.authz_server, oauth: unity.0.oauth },
            ),
        };
        let hosts = super::hosts(&cluster, !clients.is_empty());

        let step_context = StepContext {
            duration,
            cluster: &cluster,
            hosts: &hosts,
            devices: &devices,
            admin: super::admin_steps::Context { cluster: &cluster, devices: &devices, lifetimes, release },
        };
        let mut steps = Vec::new();
        for (index, step) in parsed.step.iter().map(|step| &step.0).enumerate() {
            steps.push(step_of(step, index, &step_context, &at)?);
        }
        // Steps run in time order; equal times keep file order.
        steps.sort_by_key(|step| step.at);

        let names = super::names(&cluster, &clients, &steps);
        let devices = super::devices(&clients);
        let context = expect::Context { text, file: &file, duration, names: &names, devices: &devices };
        let expectations = expect::expectations(&context, &parsed.expect)?;

        let violates = named_in(&parsed.violates, crate::check::invariants::NAMES, "invariants", "invariant")
            .map_err(|(span, message)| at(span, "violates", message))?;

        certificates_end_in_time(&parsed, &cluster, epoch_s, duration, &at)?;

        let seeds_pinned = seeds_pinned(&parsed, text, &at)?;

        let anomalies = named_in(&parsed.anomalies, crate::check::anomalies::NAMES, "anomalies", "anomaly")
            .map_err(|(span, message)| at(span, "anomalies", message))?;

        Ok(Scenario {
            path: path.to_path_buf(),
            name: parsed.name,
            description: parsed.description,
            seed: parsed.seed,
            seeds_pinned,
            tick,
            duration,
            epoch_s,
            skip_idle: parsed.skip_idle.unwrap_or(true),
            cluster,
            lifetimes,
            refresh_login_flow,
            purge,
            clients,
            steps,
            expectations,
            violates,
            anomalies,
        })
    }
}

/// The file as written, by serde: an error names the field's path as people wrote it.
fn deserialize(text: &str, at: At<'_>) -> Result<ScenarioFile, ScenarioError> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        // `Spanned` values add a private segment to the path; people never wrote it.
        let field: Vec<String> =
            error.path().to_string().split('.').filter(|s| !s.starts_with("$__")).map(String::from).collect();
        let field = field.join(".");
        let inner = error.into_inner();
        let span = inner.span().unwrap_or(0..0);
        let field = if field == "." || field.is_empty() { "scenario".to_string() } else { field };
        let message = match inner.message() {
            // toml's tokenizer reports some characters with a position and no words.
            "" => unexpected_at(text, span.start),
            message => message.to_string(),
        };
        at(span, &field, message)
    })
}

/// `tick`, `duration` and `epoch`, each within its bounds.
fn time_settings(
    parsed: &ScenarioFile,
    at: At<'_>,
) -> Result<(std::time::Duration, std::time::Duration, u64), ScenarioError> {
    let tick = parsed.tick.get_ref().0;
    if !(TICK_MIN..=TICK_MAX).contains(&tick) {
        return Err(at(
            parsed.tick.span(),
            "tick",
            format!(
                "must be {} to {} (above it no request completes within its timeout)",
                format_duration(TICK_MIN),
                format_duration(TICK_MAX)
            ),
        ));
    }
    let duration = parsed.duration.get_ref().0;
    if duration.is_zero() || duration > DURATION_MAX {
        return Err(at(
            parsed.duration.span(),
            "duration",
            format!("must be more than 0s and at most {}", format_duration(DURATION_MAX)),
        ));
    }
    let epoch_s = match &parsed.epoch {
        Some(epoch) if *epoch.get_ref() > EPOCH_S_MAX => {
            return Err(at(
                epoch.span(),
                "epoch",
                format!("must be UNIX seconds up to {EPOCH_S_MAX} (year 9999)"),
            ))
        }
        Some(epoch) => *epoch.get_ref(),
        None => EPOCH_S_DEFAULT,
    };
    Ok((tick, duration, epoch_s))
}

/// `[[table]]`: rows of former users in the refresh-token table at the start, at most
/// [`PRELOADED_ROWS_MAX`] in all.
fn preloaded_table(parsed: &ScenarioFile, purge: &mut Purge, at: At<'_>) -> Result<(), ScenarioError> {
    for (index, entry) in parsed.table.iter().map(|entry| &entry.0).enumerate() {
        let rows = *entry.rows.get_ref();
        purge.preloaded.push((entry.validity.get_ref().0, rows));
        if rows == 0 || purge.preloaded_rows() > PRELOADED_ROWS_MAX {
            return Err(at(
                entry.rows.span(),
                &format!("table[{index}].rows"),
                format!("is 1 or more, and all preloaded rows together at most {PRELOADED_ROWS_MAX}"),
            ));
        }
    }
    Ok(())
}

/// The `[[clients]]` groups: counts within [`CLIENTS_MAX`] in all, users, starts before the
/// end, and sites and kinds the cluster can serve.
fn client_groups(
    parsed: &ScenarioFile,
    duration: std::time::Duration,
    at: At<'_>,
) -> Result<Vec<ClientGroup>, ScenarioError> {
    let mut clients = Vec::new();
    let mut client_total: u32 = 0;
    for (index, client) in parsed.clients.iter().map(|client| &client.0).enumerate() {
        let count = *client.count.get_ref();
        client_total = client_total.saturating_add(count);
        if count == 0 || client_total > CLIENTS_MAX {
            return Err(at(
                client.count.span(),
                &format!("clients[{index}].count"),
                format!("must be 1 or more, and all clients together at most {CLIENTS_MAX}"),
            ));
        }
        let user = match &client.user {
            Some(user) => Some(
                check_user(user.get_ref())
                    .map_err(|message| at(user.span(), &format!("clients[{index}].user"), message))?,
            ),
            None => None,
        };
        let start = match &client.start {
            Some(start) if start.get_ref().0 >= duration => {
                return Err(at(
                    start.span(),
                    &format!("clients[{index}].start"),
                    format!(
                        "{} is not before the end of the run ({})",
                        format_duration(start.get_ref().0),
                        format_duration(duration)
                    ),
                ))
            }
            Some(start) => Some(start.get_ref().0),
            None => None,
        };
        let site = client.site.as_ref().map_or(Site::Campus, |site| *site.get_ref());
        if site == Site::Remote && parsed.cluster.0.expressway.is_none() {
            let span = client.site.as_ref().map_or(0..0, Spanned::span);
            return Err(at(
                span,
                &format!("clients[{index}].site"),
                "remote devices reach the cluster through the edge: add [cluster.expressway]".to_string(),
            ));
        }
        if client.kind == ClientKind::Phone && parsed.cluster.0.sip.is_none() {
            return Err(at(
                client.count.span(),
                &format!("clients[{index}].kind"),
                "phones register over SIP: add [cluster.sip]".to_string(),
            ));
        }
        let release = parsed.cluster.0.release.as_ref().map_or(Release::NEWEST, |release| *release.get_ref());
        if site == Site::Remote && client.kind == ClientKind::Phone && !release.has_phone_oauth() {
            let span = client.site.as_ref().map_or(0..0, Spanned::span);
            return Err(at(
                span,
                &format!("clients[{index}].site"),
                release.too_old("SIP OAuth for phones through the edge", Release::R14),
            ));
        }
        if site == Site::Remote && client.kind == ClientKind::Rtmt {
            let span = client.site.as_ref().map_or(0..0, Spanned::span);
            return Err(at(
                span,
                &format!("clients[{index}].site"),
                "RTMT is an administrator's tool on premises; the edge does not carry it".to_string(),
            ));
        }
        let model = match &client.model {
            None => None,
            Some(model) if client.kind != ClientKind::Phone => {
                return Err(at(
                    model.span(),
                    &format!("clients[{index}].model"),
                    "only a phone has a model".to_string(),
                ))
            }
            Some(model) if !crate::phone_security::is_model_name(model.get_ref()) => {
                return Err(at(
                    model.span(),
                    &format!("clients[{index}].model"),
                    format!(
                        "is a phone model such as \"8845\": 3 to {} letters or digits",
                        crate::phone_security::PHONE_MODEL_CHARS_MAX
                    ),
                ))
            }
            Some(model) => Some(model.get_ref().clone()),
        };
        clients.push(ClientGroup { kind: client.kind, count, user, start, site, model });
    }
    Ok(clients)
}

/// `[cluster.imp]`: IM and Presence, a publisher and up to [`IMP_SUBSCRIBERS_MAX`] more.
/// Every validator a scenario names is a built-in plugin or a component file (its name ends
/// in `.wasm`, read relative to the scenario file); anything else is refused here, naming
/// where authzlab looked and how to name a file, before any node is built.
fn check_validators(cluster: &ClusterFile, path: &Path, at: At<'_>) -> Result<(), ScenarioError> {
    let named = [
        ("cluster.sip.validator", cluster.sip.as_ref().and_then(|sip| sip.0.validator.as_ref())),
        ("cluster.imp.validator", cluster.imp.as_ref().and_then(|imp| imp.0.validator.as_ref())),
        ("cluster.unity.validator", cluster.unity.as_ref().map(|unity| &unity.0.validator)),
        (
            "cluster.expressway.validator",
            cluster.expressway.as_ref().and_then(|edge| edge.0.validator.as_ref()),
        ),
    ];
    for (field, name) in named.into_iter().filter_map(|(field, name)| Some((field, name?))) {
        let wanted = name.get_ref();
        if authzlab_plugins::by_name(wanted).is_some() || wanted.ends_with(".wasm") {
            continue;
        }
        let builtins: Vec<&str> = authzlab_plugins::ALL.iter().map(|artifact| artifact.name).collect();
        let hint = did_you_mean(wanted, builtins.iter().copied())
            .map_or_else(String::new, |close| format!(" (did you mean {close:?}?)"));
        let beside = path.parent().unwrap_or(Path::new(".")).join(format!("{wanted}.wasm"));
        return Err(at(
            name.span(),
            field,
            format!(
                "{wanted:?} is not a built-in validator{hint}: authzlab looked among its built-ins ({}) because the name has no .wasm ending; to load your own component, give its file name with the ending, relative to this scenario file (\"{wanted}.wasm\" would be {})",
                builtins.join(", "),
                beside.display()
            ),
        ));
    }
    Ok(())
}

fn imp_cluster(parsed: &ScenarioFile, at: At<'_>) -> Result<Option<ImpCluster>, ScenarioError> {
    Ok(match &parsed.cluster.0.imp {
        None => None,
        Some(imp) => {
            let imp = &imp.0;
            let subscribers = imp.subscribers.as_ref().map_or(0, |n| *n.get_ref());
            if subscribers > IMP_SUBSCRIBERS_MAX {
                let span = imp.subscribers.as_ref().map_or(0..0, Spanned::span);
                return Err(at(
                    span,
                    "cluster.imp.subscribers",
                    format!("must be 0 to {IMP_SUBSCRIBERS_MAX}"),
                ));
            }
            let validator = imp
                .validator
                .as_ref()
                .map_or_else(|| IMP_VALIDATOR_DEFAULT.to_string(), |v| v.get_ref().clone());
            Some(ImpCluster {
                subscribers,
                validator,
                high_availability: imp.high_availability,
                expired_trust: imp.expired_trust,
            })
        }
    })
}

/// `seeds`: `"all"` (the default) or `"pinned"`, which needs a comment on the line above
/// saying why the verdict holds for this seed alone.
fn seeds_pinned(parsed: &ScenarioFile, text: &str, at: At<'_>) -> Result<bool, ScenarioError> {
    Ok(match &parsed.seeds {
        None => false,
        Some(seeds) => match seeds.get_ref().as_str() {
            "all" => false,
            "pinned" => {
                // A verdict for one seed alone must say why, where a reader sees it.
                let (line, _) = line_column(text, seeds.span().start);
                let above = line.checked_sub(2).and_then(|index| text.lines().nth(index));
                if !above.is_some_and(|above| above.trim_start().starts_with('#')) {
                    return Err(at(
                        seeds.span(),
                        "seeds",
                        "`seeds = \"pinned\"` needs a comment on the line above saying why the \
                     verdict holds for this seed alone"
                            .to_string(),
                    ));
                }
                true
            }
            other => {
                return Err(at(
                    seeds.span(),
                    "seeds",
                    format!("seeds {other:?}: \"all\" (the default) or \"pinned\""),
                ))
            }
        },
    })
}

/// A cluster that makes X.509 certificates (IM and Presence, SIP OAuth, the edge) issues them
/// for up to ten years from any instant of the run; they must end by 9999-12-31, the last
/// date a certificate can carry.
fn certificates_end_in_time(
    parsed: &ScenarioFile,
    cluster: &Cluster,
    epoch_s: u64,
    duration: std::time::Duration,
    at: At<'_>,
) -> Result<(), ScenarioError> {
    // A cluster that makes X.509 certificates (IM and Presence, SIP OAuth, the edge) issues
    // them for up to ten years from any instant of the run; they must end by 9999-12-31,
    // the last date a certificate can carry.
    let certificates_to = epoch_s
        .saturating_add(duration.as_secs())
        .saturating_add(crate::certs::authority::AUTHORITY_VALIDITY.as_secs());
    if (cluster.imp.is_some() || cluster.sip.is_some() || cluster.expressway.is_some())
        && certificates_to > EPOCH_S_MAX
    {
        let span = parsed.epoch.as_ref().map_or(0..0, Spanned::span);
        let latest = EPOCH_S_MAX - duration.as_secs() - crate::certs::authority::AUTHORITY_VALIDITY.as_secs();
        return Err(at(
            span,
            "epoch",
            format!(
                "with certificates in the cluster (IM and Presence, SIP OAuth or the edge) the \
                 epoch is at most {latest}: they are valid for up to ten years from any instant \
                 of the run and must end by 9999-12-31"
            ),
        ));
    }
    Ok(())
}

/// What every step is checked against.
struct StepContext<'a> {
    duration: std::time::Duration,
    cluster: &'a Cluster,
    hosts: &'a [NodeId],
    devices: &'a [super::Device],
    admin: super::admin_steps::Context<'a>,
}

/// One `[[step]]`: its time before the end of the run, its action by the parser of its kind,
/// and no field its action does not take.
fn step_of(
    step: &StepFile,
    index: usize,
    context: &StepContext<'_>,
    at: At<'_>,
) -> Result<Step, ScenarioError> {
    let step_at = step.at.get_ref().0;
    // A step at the very end would be recorded but never carried out: the run stops before
    // any node can act on it.
    if step_at >= context.duration {
        return Err(at(
            step.at.span(),
            &format!("step[{index}].at"),
            format!(
                "{} is not before the end of the run ({}); a step must come before the end to take effect",
                format_duration(step_at),
                format_duration(context.duration)
            ),
        ));
    }
    let span = step.action.span();
    let name = *step.action.get_ref();
    let action = match name.kind() {
        StepKind::Admin => super::admin_steps::admin_action(name, step, index, &context.admin, at)?,
        StepKind::Service => {
            super::service_steps::service_action(name, step, index, context.cluster, span, at)?
        }
        StepKind::Sip => {
            super::sip_steps::sip_action(name, step, index, context.cluster, context.devices, span, at)?
        }
        StepKind::Fault => {
            super::faults::fault_action(name, step, index, context.hosts, context.devices, span, at)?
        }
    };
    refuse_stray_fields(step, index, &action, at)?;
    Ok(Step { at: step_at, action })
}

/// A field the step's action does not take is refused, naming it, rather than ignored.
fn refuse_stray_fields(
    step: &StepFile,
    index: usize,
    action: &Action,
    at: At<'_>,
) -> Result<(), ScenarioError> {
    let spans = [
        ("user", step.user.as_ref().map(Spanned::span)),
        ("client", step.client.as_ref().map(Spanned::span)),
        ("param", step.param.as_ref().map(Spanned::span)),
        ("value", step.value.as_ref().map(Spanned::span)),
        ("between", step.between.as_ref().map(Spanned::span)),
        ("oneway", step.oneway.as_ref().map(Spanned::span)),
        ("node", step.node.as_ref().map(Spanned::span)),
        ("offset", step.offset.as_ref().map(Spanned::span)),
        ("drift_ppm", step.drift_ppm.as_ref().map(Spanned::span)),
        ("latency", step.latency.as_ref().map(Spanned::span)),
        ("loss", step.loss.as_ref().map(Spanned::span)),
        ("service", step.service.as_ref().map(Spanned::span)),
        ("certificate", step.certificate.as_ref().map(Spanned::span)),
        ("phone_port", step.phone_port.as_ref().map(Spanned::span)),
        ("mra_port", step.mra_port.as_ref().map(Spanned::span)),
        ("san", step.san.as_ref().map(Spanned::span)),
        ("digest_authentication", step.digest_authentication.as_ref().map(Spanned::span)),
        ("tftp_encrypted_config", step.tftp_encrypted_config.as_ref().map(Spanned::span)),
        ("device_security_mode", step.device_security_mode.as_ref().map(Spanned::span)),
        ("transport", step.transport.as_ref().map(Spanned::span)),
        ("oauth_authentication", step.oauth_authentication.as_ref().map(Spanned::span)),
        ("authz_server", step.authz_server.as_ref().map(Spanned::span)),
        ("oauth_with_refresh", step.oauth_with_refresh.as_ref().map(Spanned::span)),
        ("trusts_callmanager", step.trusts_callmanager.as_ref().map(Spanned::span)),
        ("query", step.query.as_ref().map(Spanned::span)),
        ("port", step.port.as_ref().map(Spanned::span)),
        ("oauth", step.oauth.as_ref().map(Spanned::span)),
    ];
    let name = *step.action.get_ref();
    let takes: &[&str] = match name.kind() {
        StepKind::Admin => super::admin_steps::fields(name),
        StepKind::Service => super::service_steps::fields(name),
        StepKind::Sip => super::sip_steps::fields(name),
        StepKind::Fault => super::faults::fields(name),
    };
    let stray = spans
        .into_iter()
        .filter(|(name, _)| !takes.contains(name))
        .find_map(|(name, span)| span.map(|span| (name, span)));
    if let Some((name, span)) = stray {
        return Err(at(
            span,
            &format!("step[{index}].{name}"),
            format!("{} takes no `{name}`", action.name()),
        ));
    }
    if matches!(action, Action::Revoke { .. }) && step.key.is_some() {
        return Err(at(
            step.action.span(),
            &format!("step[{index}].key"),
            "revoke takes no `key`".to_string(),
        ));
    }
    Ok(())
}

/// A list of check names (`violates`, `anomalies`), each one of `known`; an unknown one is
/// refused with the nearest known name and all of them.
fn named_in(
    list: &Option<Spanned<Vec<String>>>,
    known: &[&str],
    plural: &str,
    noun: &str,
) -> Result<Vec<String>, (Range<usize>, String)> {
    let Some(names) = list else { return Ok(Vec::new()) };
    for name in names.get_ref() {
        if !known.contains(&name.as_str()) {
            let hint = did_you_mean(name, known.iter().copied())
                .map_or_else(String::new, |near| format!("did you mean {near:?}? "));
            let all = known.join(", ");
            return Err((names.span(), format!("no {noun} {name:?}; {hint}the {plural}: {all}")));
        }
    }
    Ok(names.get_ref().clone())
}

/// `params.purge_at`, `params.purge_batch_rows`, `params.expired_refresh_tokens` and
/// `cluster.time_zone`, each checked.
fn purge(
    params: &ParamsFile,
    time_zone: Option<&Spanned<String>>,
    at: &impl Fn(Range<usize>, &str, String) -> ScenarioError,
) -> Result<Purge, ScenarioError> {
    let mut purge = Purge::default();
    if let Some(text) = &params.purge_at {
        purge.at_s_of_day = clock_time(text.get_ref()).ok_or_else(|| {
            at(text.span(), "params.purge_at", "is a time of day, HH:MM from 00:00 to 23:59".into())
        })?;
    }
    if let Some(zone) = time_zone {
        let offset = zone_offset(zone.get_ref())
            .filter(|offset| (UTC_OFFSET_MIN_S..=UTC_OFFSET_MAX_S).contains(offset))
            .ok_or_else(|| {
                at(zone.span(), "cluster.time_zone", "is an offset from UTC, -12:00 to +14:00".into())
            })?;
        purge.utc_offset_s = offset;
    }
    if let Some(rows) = &params.purge_batch_rows {
        if *rows.get_ref() == 0 {
            return Err(at(
                rows.span(),
                "params.purge_batch_rows",
                "is 1 or more (leave it out for one DELETE)".into(),
            ));
        }
        purge.batch_rows = Some(*rows.get_ref());
    }
    if let Some(rows) = &params.expired_refresh_tokens {
        if *rows.get_ref() > PRELOADED_ROWS_MAX {
            return Err(at(
                rows.span(),
                "params.expired_refresh_tokens",
                format!("is at most {PRELOADED_ROWS_MAX}"),
            ));
        }
        purge.preloaded_expired_rows = *rows.get_ref();
    }
    Ok(purge)
}

/// A node whose CLI a step may use: a CallManager subscriber or IM and Presence node.
pub(super) fn cli_node(
    node: &Spanned<String>,
    cluster: &Cluster,
    field: &str,
    at: &impl Fn(Range<usize>, &str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let mut nodes = cluster.cucm_subscriber_nodes();
    nodes.extend(cluster.imp_nodes());
    let Err(hint) = one_of_nodes(node.get_ref(), &nodes) else { return Ok(()) };
    Err(at(
        node.span(),
        field,
        format!(
            "{:?} is not a CallManager or IM and Presence node here{hint}; here: {}",
            node.get_ref(),
            nodes.join(", ")
        ),
    ))
}

/// `HH:MM` as seconds after midnight.
fn clock_time(text: &str) -> Option<u64> {
    let (hours, minutes) = text.split_once(':')?;
    let two_digits = |part: &str| {
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u64>().ok())
            .flatten()
    };
    let (hours, minutes) = (two_digits(hours)?, two_digits(minutes)?);
    (hours < 24 && minutes < 60).then_some(hours * 3600 + minutes * 60)
}

/// `+HH:MM` or `-HH:MM` as seconds east of UTC.
fn zone_offset(text: &str) -> Option<i64> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    clock_time(text.get(1..)?).map(|seconds| sign * seconds as i64)
}

/// A user id as scenarios may write it: 1 to [`USER_CHARS_MAX`] letters, digits, `.`, `_`, `-`.
pub(super) fn check_user(user: &str) -> Result<String, String> {
    if super::is_user_id(user) {
        return Ok(user.to_string());
    }
    match user.chars().find(|c| !super::is_user_id_char(*c)) {
        Some(bad) => Err(format!("{bad:?} is not allowed in a user id (letters, digits, '.', '_', '-')")),
        None => Err(format!("a user id has 1 to {USER_CHARS_MAX} characters")),
    }
}

/// Words for an error toml reports without any: what stands at `offset`.
fn unexpected_at(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or_default();
    match rest.chars().next() {
        None => "unexpected end of file".to_string(),
        Some(c) if c.is_control() => {
            format!("a control character (U+{:04X}) is not allowed here, not even in a comment", u32::from(c))
        }
        Some(c) => format!("unexpected {c:?}"),
    }
}

fn lifetimes(
    params: &ParamsFile,
    at: &impl Fn(Range<usize>, &str, String) -> ScenarioError,
) -> Result<Lifetimes, ScenarioError> {
    let defaults = Lifetimes::defaults();
    let access_s = params.access_token_expiry.as_ref().map_or(defaults.access_s, |d| d.get_ref().0.as_secs());
    let refresh_s =
        params.refresh_token_expiry.as_ref().map_or(defaults.refresh_s, |d| d.get_ref().0.as_secs());
    Lifetimes::new(access_s, refresh_s).map_err(|error| {
        let (span, field) = match error {
            LifetimeError::Access(_) => (
                params.access_token_expiry.as_ref().map_or(0..0, Spanned::span),
                "params.access_token_expiry",
            ),
            LifetimeError::Refresh(_) => (
                params.refresh_token_expiry.as_ref().map_or(0..0, Spanned::span),
                "params.refresh_token_expiry",
            ),
        };
        at(span, field, error.to_string())
    })
}
