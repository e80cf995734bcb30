//! Agents that answer garbage, truncated or oversized datagrams: the poll fails with an error
//! (timeout or malformed), never a panic, and a healthy poll on the same poller still works.

use std::time::Duration;

use faultline_observe::PollFailure;
use faultline_snmp::{Credentials, PollerConfig, SnmpPoller, Target};
use faultline_testpeers::fake_agent::FakeAgent;
use faultline_testpeers::snmpd::Snmpd;

#[tokio::test]
async fn garbage_truncated_and_oversized_answers_are_errors() {
    type Reply = Box<dyn Fn(&[u8]) -> Vec<u8> + Send>;
    let cases: Vec<(&str, Reply)> = vec![
        (
            "random bytes",
            Box::new(|_| {
                (0..200u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect()
            }),
        ),
        (
            "truncated echo",
            Box::new(|req| req[..req.len() / 2].to_vec()),
        ),
        (
            "echo with a lying length",
            Box::new(|req| {
                let mut r = req.to_vec();
                if r.len() > 2 {
                    r[1] = 0x84;
                }
                r
            }),
        ),
        (
            "oversized",
            Box::new(|_| {
                let mut r = vec![0x30, 0x83, 0x00, 0xff, 0xf0];
                r.resize(65_000, 0x04);
                r
            }),
        ),
        ("empty", Box::new(|_| vec![])),
        // The request echoed back unchanged: a GET PDU where a Response belongs.
        ("echo", Box::new(|req| req.to_vec())),
    ];
    let poller = SnmpPoller::new(PollerConfig::default());
    for (i, (what, reply)) in cases.into_iter().enumerate() {
        let agent = FakeAgent::start(reply);
        let mut t = Target::new(format!("junk-{i}"), agent.addr, Credentials::v2c("public"));
        t.timeout = Duration::from_millis(300);
        t.retries = 0;
        let out = poller.poll(&t, None).await;
        let failure = out.report.failure();
        assert!(
            matches!(failure, Some(PollFailure::Timeout | PollFailure::Malformed)),
            "{what}: {failure:?} {:?}",
            out.report.errors
        );
    }
    // The same poller (shared socket) still polls a real agent afterwards.
    if let Some(agent) = Snmpd::start() {
        let out = poller
            .poll(
                &Target::new("real", agent.addr, Credentials::v2c("public")),
                None,
            )
            .await;
        assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
    }
}
