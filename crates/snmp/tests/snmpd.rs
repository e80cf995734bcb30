//! Polls against a real net-snmp snmpd on loopback.

use std::time::Duration;

use faultline_observe::{PollFailure, Signal};
use faultline_snmp::{AuthProto, Credentials, PollerConfig, PrivProto, Secret, SnmpPoller, Target};
use faultline_testpeers::snmpd::{
    Snmpd, V3_AUTH, V3_PRIV, V3_SHA256_AUTH, V3_SHA256_USER, V3_USER,
};
use faultline_testpeers::{cmd, free_udp_port};

fn target(addr: std::net::SocketAddr, credentials: Credentials) -> Target {
    let mut t = Target::new("dev-1", addr, credentials);
    t.timeout = Duration::from_millis(700);
    t.retries = 0;
    t
}

fn v3(
    user: &str,
    auth: Option<(AuthProto, &str)>,
    privacy: Option<(PrivProto, &str)>,
) -> Credentials {
    Credentials::V3 {
        user: user.into(),
        auth: auth.map(|(p, s)| (p, Secret::new(s))),
        privacy: privacy.map(|(p, s)| (p, Secret::new(s))),
        context: String::new(),
    }
}

/// ifIndex → ifDescr as net-snmp's own snmpbulkwalk sees them.
fn bulkwalk_if_descr(addr: std::net::SocketAddr) -> Vec<(String, String)> {
    let out = cmd::ok(&[
        "snmpbulkwalk",
        "-v2c",
        "-c",
        "public",
        "-m",
        "",
        "-On",
        "-Oq",
        "-Ov",
        "-Cr25",
        &addr.to_string(),
        "1.3.6.1.2.1.2.2.1.2",
    ]);
    let idx = cmd::ok(&[
        "snmpbulkwalk",
        "-v2c",
        "-c",
        "public",
        "-m",
        "",
        "-On",
        "-Oq",
        "-Ov",
        "-Cr25",
        &addr.to_string(),
        "1.3.6.1.2.1.2.2.1.1",
    ]);
    idx.lines()
        .map(|l| l.trim().to_owned())
        .zip(out.lines().map(|l| l.trim().trim_matches('"').to_owned()))
        .collect()
}

#[tokio::test]
async fn v2c_poll_matches_net_snmp_tools() {
    let Some(agent) = Snmpd::start() else { return };
    let poller = SnmpPoller::new(PollerConfig::default());
    let out = poller
        .poll(&target(agent.addr, Credentials::v2c("public")), None)
        .await;
    assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
    let sys = out.report.system.as_ref().expect("system info");
    assert_eq!(sys.name, agent.sys_name());
    let tool_name = cmd::ok(&[
        "snmpget",
        "-v2c",
        "-c",
        "public",
        "-m",
        "",
        "-Oqv",
        &agent.addr.to_string(),
        "1.3.6.1.2.1.1.5.0",
    ]);
    assert_eq!(sys.name, tool_name.trim().trim_matches('"'));
    assert!(sys.uptime_cs.is_some());
    assert!(
        sys.object_id.starts_with("1.3.6.1.4.1.8072"),
        "net-snmp sysObjectID: {}",
        sys.object_id
    );
    assert_eq!(out.report.profile.as_deref(), Some("generic"));

    let ours: Vec<(String, String)> = out
        .report
        .interfaces
        .iter()
        .map(|i| (i.index.clone(), i.descr.clone()))
        .collect();
    let theirs = bulkwalk_if_descr(agent.addr);
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs);
    let lo = out
        .report
        .interfaces
        .iter()
        .find(|i| i.descr == "lo")
        .expect("lo interface");
    assert_eq!(lo.oper, faultline_observe::IfStatus::Up);

    assert!(matches!(out.observations[0].signal, Signal::AgentUp));
    assert!(
        out.observations
            .iter()
            .any(|o| matches!(o.signal, Signal::Uptime { .. }))
    );
    let if_obs = out
        .observations
        .iter()
        .filter(|o| matches!(o.signal, Signal::Interface { .. }))
        .count();
    assert_eq!(if_obs, theirs.len());

    // A second poll with the previous state yields traffic rates from the HC counters.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = poller
        .poll(
            &target(agent.addr, Credentials::v2c("public")),
            Some(&out.state),
        )
        .await;
    assert!(again.report.rebooted.is_none());
    assert!(
        again
            .observations
            .iter()
            .any(|o| matches!(o.signal, Signal::Traffic { .. }))
    );
}

#[tokio::test]
async fn v3_auth_priv_and_sha256_auth_no_priv() {
    let Some(agent) = Snmpd::start() else { return };
    let poller = SnmpPoller::new(PollerConfig::default());
    for creds in [
        v3(
            V3_USER,
            Some((AuthProto::Sha, V3_AUTH)),
            Some((PrivProto::Aes, V3_PRIV)),
        ),
        v3(
            V3_SHA256_USER,
            Some((AuthProto::Sha256, V3_SHA256_AUTH)),
            None,
        ),
    ] {
        let mut t = target(agent.addr, creds);
        t.timeout = Duration::from_secs(2);
        let out = poller.poll(&t, None).await;
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
        assert_eq!(
            out.report.system.as_ref().map(|s| s.name.clone()),
            Some(agent.sys_name())
        );
        assert!(!out.report.interfaces.is_empty());
    }
}

#[tokio::test]
async fn wrong_community_is_timeout_but_wrong_v3_user_or_password_is_auth_failure() {
    let Some(agent) = Snmpd::start() else { return };
    let poller = SnmpPoller::new(PollerConfig::default());
    let cases = [
        (
            "wrong community",
            Credentials::v2c("not-the-community"),
            PollFailure::Timeout,
        ),
        (
            "wrong v3 user",
            v3(
                "nosuchuser",
                Some((AuthProto::Sha, V3_AUTH)),
                Some((PrivProto::Aes, V3_PRIV)),
            ),
            PollFailure::AuthFailure,
        ),
        (
            "wrong v3 auth pass",
            v3(
                V3_USER,
                Some((AuthProto::Sha, "wrongpass999")),
                Some((PrivProto::Aes, V3_PRIV)),
            ),
            PollFailure::AuthFailure,
        ),
        (
            "wrong v3 auth proto",
            v3(V3_SHA256_USER, Some((AuthProto::Md5, V3_SHA256_AUTH)), None),
            PollFailure::AuthFailure,
        ),
    ];
    for (i, (what, creds, expected)) in cases.into_iter().enumerate() {
        let mut t = target(agent.addr, creds);
        t.device_id = format!("dev-{i}");
        let out = poller.poll(&t, None).await;
        assert_eq!(
            out.report.failure(),
            Some(expected),
            "{what}: {:?}",
            out.report.errors
        );
        assert!(
            matches!(out.observations.as_slice(), [o] if o.signal == Signal::AgentDown { reason: expected }),
            "{what}"
        );
        let msg = &out.report.errors[0].message;
        assert!(
            msg.contains(&t.device_id) && msg.contains(&agent.addr.to_string()),
            "{what}: context in {msg}"
        );
        for secret in ["not-the-community", V3_AUTH, V3_PRIV, "wrongpass999"] {
            assert!(!msg.contains(secret), "{what}: secret leaked in {msg}");
        }
    }
}

#[tokio::test]
async fn dead_agent_does_not_delay_a_live_one() {
    let Some(agent) = Snmpd::start() else { return };
    let poller = SnmpPoller::new(PollerConfig {
        global_concurrency: 4,
        ..PollerConfig::default()
    });
    let dead_addr = format!("127.0.0.1:{}", free_udp_port())
        .parse()
        .expect("addr");
    let mut dead = Target::new("dead", dead_addr, Credentials::v2c("public"));
    dead.timeout = Duration::from_secs(3);
    dead.retries = 1;
    let live = target(agent.addr, Credentials::v2c("public"));

    let p = poller.clone();
    let dead_task = tokio::spawn(async move { p.poll(&dead, None).await });
    // Give the dead poll a head start so it holds its slot and socket first.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let live_out = poller.poll(&live, None).await;
    // Causality: the live poll completed while the dead one was still waiting for its timeout.
    assert!(
        !dead_task.is_finished(),
        "dead poll finished before the live one"
    );
    assert!(
        live_out.report.errors.is_empty(),
        "{:?}",
        live_out.report.errors
    );
    let dead_out = dead_task.await.expect("join");
    assert_eq!(dead_out.report.failure(), Some(PollFailure::Timeout));
}

#[tokio::test]
async fn circuit_breaker_skips_a_dead_device_without_waiting() {
    let poller = SnmpPoller::new(PollerConfig {
        breaker_threshold: 2,
        ..PollerConfig::default()
    });
    let dead_addr = format!("127.0.0.1:{}", free_udp_port())
        .parse()
        .expect("addr");
    let mut dead = Target::new("dead", dead_addr, Credentials::v2c("public"));
    dead.timeout = Duration::from_millis(200);
    dead.retries = 0;
    for _ in 0..2 {
        let out = poller.poll(&dead, None).await;
        assert!(
            out.report.errors[0].message.contains("no answer"),
            "{:?}",
            out.report.errors
        );
    }
    // Third poll: the circuit is open, so it fails without sending (message says so).
    let out = poller.poll(&dead, None).await;
    assert_eq!(out.report.failure(), Some(PollFailure::Timeout));
    assert!(
        out.report.errors[0].message.contains("circuit open"),
        "{:?}",
        out.report.errors
    );
}

/// A profile that does not match the device (net-snmp's snmpd polled as a FortiGate): the
/// poll still works, the HA role is reported `unknown` (the engine holds the group unknown)
/// and the report says why, so that the mismatch is never silent.
#[tokio::test]
async fn a_profile_that_does_not_match_reports_the_role_unknown_and_says_why() {
    let Some(agent) = Snmpd::start() else { return };
    let poller = SnmpPoller::new(PollerConfig::default());
    let mut t = target(agent.addr, Credentials::v2c("public"));
    t.profile = Some("fortigate".into());
    let out = poller.poll(&t, None).await;
    assert!(out.report.failure().is_none(), "{:?}", out.report.errors);
    assert!(out.report.system.is_some());
    let mismatch = out
        .report
        .errors
        .iter()
        .find(|e| e.kind == PollFailure::ProfileMismatch)
        .unwrap_or_else(|| panic!("no profile mismatch in {:?}", out.report.errors));
    assert!(
        mismatch.message.contains("fortigate"),
        "{}",
        mismatch.message
    );
    let roles: Vec<_> = out
        .observations
        .iter()
        .filter_map(|o| match &o.signal {
            Signal::HaRole { role, .. } => Some(*role),
            _ => None,
        })
        .collect();
    assert_eq!(roles, [faultline_observe::HaRole::Unknown]);
}
