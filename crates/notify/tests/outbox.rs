//! The outbox as written to the store (no delivery loop): routing, batching, coalescing, config.

mod support;

use faultline_incident::{Severity, TransitionAction, TransitionAction::*};
use faultline_notify::{Notifier, NotifyError, PagerFileConfig, Store};
use support::*;

fn actions(n: &Notifier) -> Vec<(String, String, TransitionAction, u64)> {
    n.pending()
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.receiver,
                e.transition.incident.id,
                e.transition.action,
                e.transition.seq,
            )
        })
        .collect()
}

#[test]
fn one_engine_step_is_one_transaction_with_coalesced_updates() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = pd_config("http://127.0.0.1:9/v2/enqueue", r#"min_severity = "error""#);
    let n = notifier(Store::open(dir.path().join("s.redb")).unwrap(), cfg).unwrap();
    let mut a = incident("inc-a", Severity::Critical, "critical");
    let b = incident("inc-b", Severity::Warning, "critical"); // below min_severity: not paged
    let mut batch = vec![transition(1, Trigger, &a)];
    a.title = "a, worse".into();
    batch.push(transition(2, Update, &a));
    a.title = "a, worst".into();
    batch.push(transition(3, Update, &a));
    batch.push(transition(4, Resolve, &a));
    batch.push(transition(5, Trigger, &b));
    n.enqueue_many(&batch).unwrap();

    // The trigger carries the latest update's content; the resolve follows; b is filtered.
    assert_eq!(
        actions(&n),
        [
            ("pd".to_string(), "inc-a".to_string(), Trigger, 3),
            ("pd".to_string(), "inc-a".to_string(), Resolve, 4)
        ]
    );
    assert_eq!(
        n.pending().unwrap()[0].transition.incident.title,
        "a, worst"
    );
    assert_eq!(n.stats().pending, 2);
    // Every incident is recorded, paged or not, in the same transaction.
    assert_eq!(n.store().incidents(false).unwrap().len(), 2);
    // The caller's own write lands in the same transaction.
    n.enqueue_many_with(&[], |txn| txn.set_engine_seq(5))
        .unwrap();
    assert_eq!(n.store().engine_seq().unwrap(), 5);
    // An update after the resolve is a new page (trigger), never appended to the resolve.
    n.enqueue(&transition(6, Update, &a)).unwrap();
    assert_eq!(actions(&n).last().map(|x| (x.2, x.3)), Some((Trigger, 6)));
}

#[test]
fn a_restarted_notifier_reloads_the_outbox_and_keeps_coalescing_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let cfg = pd_config("http://127.0.0.1:9/v2/enqueue", "");
    let inc = incident("inc-a", Severity::Critical, "critical");
    {
        let n = notifier(Store::open(&path).unwrap(), cfg.clone()).unwrap();
        n.enqueue(&transition(1, Trigger, &inc)).unwrap();
    }
    let n = notifier(Store::open(&path).unwrap(), cfg).unwrap();
    assert_eq!(n.stats().pending, 1);
    n.enqueue(&transition(2, Update, &inc)).unwrap();
    n.enqueue(&transition(3, Resolve, &inc)).unwrap();
    let got: Vec<_> = actions(&n).into_iter().map(|x| (x.2, x.3)).collect();
    assert_eq!(got, [(Trigger, 2), (Resolve, 3)]);
}

#[test]
fn pager_file_config_ignores_other_tables_and_never_echoes_secrets() {
    let text = format!(
        r#"
        [collector]
        listen = "127.0.0.1:8080"
        [store]
        path = "/var/lib/faultline/f.redb"
        [notify]
        public_url = "https://faultline.example"
        [[notify.receivers]]
        name = "pd"
        kind = "pagerduty"
        routing_key = "{ROUTING_KEY}"
        tiers = ["critical", "high"]
        [[notify.receivers]]
        name = "am"
        kind = "alertmanager"
        url = "http://127.0.0.1:9093"
        "#
    );
    let cfg = PagerFileConfig::parse(&text, "faultline.toml").unwrap();
    assert_eq!(
        cfg.store.path,
        std::path::PathBuf::from("/var/lib/faultline/f.redb")
    );
    assert_eq!(cfg.notify.receivers.len(), 2);
    assert_eq!(cfg.notify.receivers[0].tiers, ["critical", "high"]);
    assert!(!format!("{cfg:?}").contains(ROUTING_KEY));

    // A typo next to a secret: the error points at the line, without the line's text.
    let bad = format!(
        "[notify]\n[[notify.receivers]]\nname = \"pd\"\nkind = \"pagerdutyy\"\nrouting_key = \"{ROUTING_KEY}\"\n"
    );
    let err = PagerFileConfig::parse(&bad, "faultline.toml").unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(matches!(err, NotifyError::ConfigFile { .. }));
    assert!(
        msg.contains("faultline.toml") && msg.contains("line 4"),
        "{msg}"
    );
    assert!(!msg.contains(ROUTING_KEY), "{msg}");

    // A missing env secret is reported by variable name.
    let env_cfg = PagerFileConfig::parse(
        "[[notify.receivers]]\nname = \"pd\"\nkind = \"pagerduty\"\nrouting_key_env = \"FAULTLINE_TEST_UNSET_KEY_7\"\n",
        "x.toml",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = notifier(
        Store::open(dir.path().join("s.redb")).unwrap(),
        env_cfg.notify,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("FAULTLINE_TEST_UNSET_KEY_7"),
        "{err}"
    );
}
