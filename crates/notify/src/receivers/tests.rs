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

#[test]
fn auth_and_tls_problems_are_all_reported_with_the_receiver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").expect("write");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let got = problems(&format!(
        r#"
        [[receivers]]
        name = "am-both"
        kind = "alertmanager"
        url = "https://am.example:9093"
        bearer_token = "tok"
        basic_auth = {{ username = "u", password = "p" }}
        [[receivers]]
        name = "am-files"
        kind = "alertmanager"
        url = "https://am.example:9093"
        basic_auth = {{ username = " ", password_env = "FAULTLINE_NOTIFY_TEST_SURELY_UNSET" }}
        tls = {{ ca_file = "{missing}", cert_file = "{empty}" }}
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "https://hooks.example/x"
        bearer_token = "a"
        bearer_token_file = "{missing}"
        tls = {{ ca_file = "{garbage}", insecure_skip_verify = true }}
        [[receivers]]
        name = "pd"
        kind = "pagerduty"
        routing_key = "0123456789abcdef0123456789abcdef"
        tls = {{ insecure_skip_verify = true }}
        "#,
        missing = missing.display(),
        empty = empty.display(),
        garbage = garbage.display(),
    ));
    let m = missing.display();
    assert_eq!(
        got,
        [
            "receiver am-both, basic_auth: give only one of `basic_auth` and `bearer_token` (`_env`, `_file`)".to_string(),
            "receiver am-files, basic_auth.username: missing or empty".into(),
            "receiver am-files, basic_auth.password_env: environment variable FAULTLINE_NOTIFY_TEST_SURELY_UNSET is not set".into(),
            format!("receiver am-files, tls.ca_file: {m}: No such file or directory (os error 2)"),
            "receiver am-files, tls.key_file: missing (`cert_file` needs its `key_file`)".into(),
            "receiver hook, bearer_token: give only one of `bearer_token`, `bearer_token_env` and `bearer_token_file`".into(),
            format!("receiver hook, tls.ca_file: {}: no PEM certificate in it", garbage.display()),
            "receiver hook, tls.insecure_skip_verify: `ca_file` is ignored when certificate checks are off: drop one of them".into(),
            "receiver pd, url: `basic_auth`, `bearer_token` and `tls` need a `url` override (PagerDuty's own endpoint takes none of them)".into(),
        ]
    );
}

#[test]
fn passwords_and_tokens_never_show_in_debug_or_serialized_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pw_file = dir.path().join("am.password");
    std::fs::write(&pw_file, "pw-from-file-9f2c\n").expect("write password");
    let text = format!(
        r#"
        [[receivers]]
        name = "am"
        kind = "alertmanager"
        url = "https://am.example:9093"
        basic_auth = {{ username = "faultline", password_file = "{}" }}
        tls = {{ insecure_skip_verify = true }}
        [[receivers]]
        name = "am-inline"
        kind = "alertmanager"
        url = "https://am.example:9093"
        basic_auth = {{ username = "faultline", password = "pw-inline-51ab" }}
        [[receivers]]
        name = "hook"
        kind = "webhook"
        url = "https://hooks.example/x"
        bearer_token = "tok-inline-77de"
        "#,
        pw_file.display()
    );
    let cfg = parse(&text);
    let r = Receivers::build(&cfg).expect("builds");
    let secrets = ["pw-from-file-9f2c", "pw-inline-51ab", "tok-inline-77de"];
    let shown = [
        format!("{r:?}"),
        format!("{cfg:?}"),
        toml::to_string(&cfg).expect("serializes"),
        serde_json::to_string(&cfg).expect("serializes"),
        format!("{:?}", r.list[0].client),
        format!("{:?}", r.list[2].client),
    ];
    for s in &shown {
        for secret in secrets {
            assert!(!s.contains(secret), "{secret} shown in {s}");
        }
    }
    assert!(
        shown[0].contains("basic(faultline, <redacted>)"),
        "{}",
        shown[0]
    );
    assert!(shown[0].contains("bearer(<redacted>)"), "{}", shown[0]);
    assert!(
        shown[0].contains("insecure_skip_verify: true"),
        "{}",
        shown[0]
    );
    // The resolved values are what goes on the wire.
    match &r.list[0].client.auth {
        client::Auth::Basic { username, password } => {
            assert_eq!(username, "faultline");
            assert_eq!(password.expose(), "pw-from-file-9f2c");
        }
        other => panic!("expected basic auth, got {other:?}"),
    }
    match &r.list[2].client.auth {
        client::Auth::Bearer(t) => assert_eq!(t.expose(), "tok-inline-77de"),
        other => panic!("expected a bearer token, got {other:?}"),
    }
    assert!(r.list[0].client.insecure() && !r.list[1].client.insecure());
    // A request carries them as the standard Authorization header.
    let client = reqwest::Client::new();
    let req = r.list[2]
        .client
        .authorize(client.post("https://hooks.example/x"))
        .build()
        .expect("request");
    assert_eq!(
        req.headers()["authorization"].to_str().expect("ascii"),
        "Bearer tok-inline-77de"
    );
}

#[test]
fn a_basic_auth_written_as_a_string_is_refused_without_echoing_it() {
    let err = toml::from_str::<NotifyConfig>(
        "[[receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://x\"\nbasic_auth = \"faultline:hunter2-pw\"\n",
    )
    .expect_err("basic_auth is a table");
    let msg = err.to_string();
    assert!(
        msg.contains("receiver am: basic_auth: must be a table"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2-pw"), "{msg}");
    let err = toml::from_str::<NotifyConfig>(
        "[[receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://x\"\nbasic_auth = { user = \"faultline\", password = \"hunter2-pw\" }\n",
    )
    .expect_err("unknown key");
    let msg = err.to_string();
    assert!(msg.contains("basic_auth: unknown field `user`"), "{msg}");
    assert!(!msg.contains("hunter2-pw"), "{msg}");
}
