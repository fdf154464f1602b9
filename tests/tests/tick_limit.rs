//! The largest tick a scenario may set is not arbitrary: at it every request finishes within
//! its timeout, forwarded ones too (a refresh goes through the client's home node to the
//! publisher), and just past what a single exchange needs (3 ticks) requests time out, so a
//! scenario there would only show a network that never answers.
//!
//! How: the shipped signing-key scenario without its steps, 3 simulated hours, built in code
//! so that it can go past the parser's limit; count sign-ins that succeed and fail.

mod common;

use std::time::Duration;

use authzlab::proto::http::{EXCHANGE_TICKS_MAX, REQUEST_TIMEOUT};
use authzlab::scenario::{Scenario, EDGE_TICK_MAX, TICK_MAX};
use authzlab::trace::catalogue::EventKind;

fn sign_ins_at(tick: Duration) -> (u64, u64) {
    let mut scenario =
        Scenario::load(&common::repo().join("scenarios/signing-key-regenerated.toml")).unwrap();
    scenario.tick = tick;
    scenario.steps.clear();
    scenario.expectations.clear();
    scenario.duration = Duration::from_secs(3 * 3600);
    let run = authzlab::cluster::run(&scenario, 7, common::plugins()).unwrap();
    (run.count(EventKind::LoggedIn), run.count(EventKind::LoginFailed))
}

#[test]
fn at_the_largest_tick_every_request_finishes() {
    // Two clients sign in once each and then only refresh, through their home node.
    assert_eq!(sign_ins_at(TICK_MAX), (2, 0));
}

#[test]
fn past_what_an_exchange_needs_requests_time_out() {
    // An exchange takes 3 ticks; EXCHANGE_TICKS_MAX adds one of margin.
    let exchange_ticks = EXCHANGE_TICKS_MAX - 1;
    let too_slow = REQUEST_TIMEOUT / exchange_ticks + Duration::from_millis(100);
    assert!(too_slow > TICK_MAX);
    let (_, failed) = sign_ins_at(too_slow);
    assert!(failed > 0, "at {too_slow:?} a sign-in must time out");
}

/// Through the edge a refresh makes four exchanges in turn (device, Expressway-E,
/// Expressway-C, home node, publisher): at the edge's largest tick the remote phones still
/// onboard, register and refresh without a failure.
#[test]
fn at_the_largest_tick_with_the_edge_every_request_through_it_finishes() {
    let mut scenario =
        Scenario::load(&common::repo().join("scenarios/mra-phone-activation-code.toml")).unwrap();
    scenario.tick = EDGE_TICK_MAX;
    scenario.expectations.clear();
    let run = authzlab::cluster::run(&scenario, 53, common::plugins()).unwrap();
    assert_eq!(run.count(EventKind::RegistrationFailed), 0);
    assert_eq!(run.count(EventKind::RefreshFailed), 0);
    assert!(run.count(EventKind::TokenRefreshed) >= 4, "{}", run.count(EventKind::TokenRefreshed));
    assert!(run.count(EventKind::Registered) >= 6, "{}", run.count(EventKind::Registered));
}
