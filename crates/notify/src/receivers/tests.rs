//! Receiver construction: every problem at once, named by receiver and field, no secret echoed.

use super::*;

fn parse(text: &str) -> NotifyConfig {
    toml::from_str(text).expect("test config parses")
}

fn problems(text: &str) -> Vec<String> {
    match Receivers::build(&parse(text)) {
        Ok(r) => panic!("expected problems, built {r:?}"),
        Err(p) => p.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let got = problems(
        r#"
        [retry]
        max_attempts = 0
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        routing_key_env = "FAULTLINE_NOTIFY_TEST_SURELY_UNSET"
        [[receivers]]
        name = "pd-short"
        kind = "pagerduty"
        routing_key = "0123456789abcdef"
        url = "ftp://events.example/v2/enqueue"
        [[receivers]]
        name = "am"
        kind = "alertmanager"
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "  "
        secret = "x"
        secret_env = "Y"
        [[receivers]]
        name = "pd"
        kind = "webhook"
        url = "http://127.0.0.1:9/hook"
        "#,
    );
    assert_eq!(
        got,
        [
            "retry.max_attempts: must be at least 1 (or unset: retry forever)",
            "receiver pd, routing_key_env: environment variable FAULTLINE_NOTIFY_TEST_SURELY_UNSET is not set",
            "receiver pd-short, url: scheme ftp is not http or https",
            "receiver pd-short, routing_key: has 16 characters, PagerDuty integration keys have 32",
            "receiver am, url: missing (required for this kind)",
            "receiver hook, url: is empty",
            "receiver hook, secret: give only one of `secret`, `secret_env` and `secret_file`",
            "receiver pd, name: duplicate name",
        ]
    );
}

#[test]
fn key_problems_never_echo_the_key() {
    let key = " 0123456789abcdef0123456789abcdef ";
    let got = problems(&format!(
        "[[receivers]]\nname = \"pd\"\nkind = \"pagerduty\"\nrouting_key = \"{key}\"\n"
    ));
    assert_eq!(
        got,
        [
            "receiver pd, routing_key: has 34 characters, PagerDuty integration keys have 32 (surrounding white space?)"
        ]
    );
    let missing = problems("[[receivers]]\nname = \"pd\"\nkind = \"pagerduty\"\n");
    assert_eq!(
        missing,
        [
            "receiver pd, routing_key: missing `routing_key` (or `routing_key_env`, `routing_key_file`)"
        ]
    );
}

#[test]
fn secrets_come_from_files_and_receivers_build_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pd.key");
    std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").expect("write key");
    let cfg = parse(&format!(
        r#"
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        routing_key_file = "{}"
        rate_per_minute = 30
        [[receivers]]
        name = "am"
        kind = "alertmanager"
        url = "http://127.0.0.1:9093/"
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "http://127.0.0.1:9/hook"
        "#,
        path.display()
    ));
    let r = Receivers::build(&cfg).expect("builds");
    assert_eq!(r.names(), ["pd", "am", "hook"]);
    assert_eq!(
        r.list[1].receiver.url(),
        "http://127.0.0.1:9093/api/v2/alerts"
    );
    let pd_rate = r.list[0].rate.as_ref().expect("pagerduty is always paced");
    assert_eq!(pd_rate.per_minute, 30);
    assert!(pd_rate.bucket.starts_with("pd:") && !pd_rate.bucket.contains("0123"));
    assert_eq!(r.list[2].rate, None, "unlimited unless configured");
    assert_eq!(
        r.list[1].receiver.resend_interval(),
        Some(Duration::from_secs(60))
    );
    assert_eq!(r.list[0].receiver.resend_interval(), None);
    assert!(!format!("{r:?}").contains("0123456789abcdef"));

    std::fs::write(&path, "").expect("empty key");
    let got: Vec<String> = Receivers::build(&cfg)
        .expect_err("empty key file")
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [format!(
            "receiver pd, routing_key_file: secret file {}: is empty",
            path.display()
        )]
    );
}

#[test]
fn a_kind_refuses_another_kinds_fields() {
    let err = toml::from_str::<NotifyConfig>(
        "[[receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://x\"\nrouting_key = \"k\"\n",
    )
    .expect_err("routing_key is not an alertmanager field");
    assert!(err.to_string().contains("routing_key"), "{err}");
    assert!(!err.to_string().contains("\"k\""), "{err}");
}

#[test]
fn section_errors_name_the_receiver_and_the_line_of_its_table() {
    let text = "[notify]\npublic_url = \"https://x\"\n[[notify.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://x\"\nsource = \"y\"\n";
    let err =
        crate::PagerFileConfig::parse(text, "f.toml").expect_err("source is a pagerduty field");
    assert_eq!(
        err.to_string(),
        "config f.toml: line 3: receiver am: unknown field `source`, expected `url` or `resend_interval_secs`"
    );
}
