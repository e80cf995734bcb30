//! The console in headless Chromium on the demo lab: the seed story as an operator sees it.
//! `lab fail fw-a` → the incidents page shows the critical failover-ineffective incident naming
//! fw-b; Acknowledge on its page (a plain form post with the CSRF token) reaches the webhook and
//! Alertmanager (a silence); the map has fw-a down; `lab heal fw-a` → the map turns fw-a up
//! without a reload (SSE).
//! Screenshots go to `target/test-artifacts/console/`.

mod common;

use std::time::Duration;

use fantoccini::Locator;
use faultline_testpeers::alertmanager::Alertmanager;
use faultline_testpeers::chromium::Chromium;
use faultline_testpeers::http_receiver::{MockReceiver, Mode};

/// Longest wait for one thing to appear on a page.
const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_follows_the_seed_story_in_chromium() {
    let Some(browser) = Chromium::start().await else {
        return;
    };
    let Some(am) = Alertmanager::start().await else {
        return;
    };
    let hook = MockReceiver::start(Mode::Accept).await;
    let notify = format!(
        "[[receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"{}\"\n\
         [[receivers]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        am.base,
        hook.url("/hook")
    );
    let demo = common::start(|cfg| {
        cfg.notify = toml::from_str(&notify).expect("notify config");
    })
    .await;
    let b = &browser.client;
    demo.until("the console", 30, async || {
        (demo.get("/incidents").await.0 == 200).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    demo.lab("fail/fw-a").await;

    b.goto(&format!("{}/incidents", demo.base))
        .await
        .expect("goto");
    let card = b
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(
            r#"article.incident[data-kind="failover_ineffective"][data-severity="critical"]"#,
        ))
        .await
        .expect("the critical failover_ineffective incident");
    let text = card.text().await.expect("text");
    assert!(text.contains("fw-b"), "names fw-b: {text}");
    browser.screenshot("incidents").await;

    // Acknowledge from the incident's page: a form post, then back on the page (no script).
    let id = card
        .attr("data-incident-id")
        .await
        .expect("attr")
        .expect("the incident's id");
    b.goto(&format!(
        "{}/incidents/{}",
        demo.base,
        faultline_api::path::segment(&id)
    ))
    .await
    .expect("goto");
    let comment = b
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(r#"form.action input[name="comment"]"#))
        .await
        .expect("the acknowledge form");
    comment.send_keys("NAT rule on fw-b").await.expect("type");
    b.find(Locator::Css(r#"button[data-action="ack"]"#))
        .await
        .expect("Acknowledge")
        .click()
        .await
        .expect("click");
    b.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(r#"button[data-action="unack"]"#))
        .await
        .expect("the page again, now acknowledged");
    let meta = b
        .find(Locator::Css("p.meta"))
        .await
        .expect("meta")
        .text()
        .await
        .expect("text");
    assert!(meta.contains("acknowledged by console"), "{meta}");
    browser.screenshot("incident-acknowledged").await;
    demo.until("the webhook's acknowledge", 30, async || {
        hook.log()
            .iter()
            .any(|r| r.body["action"] == "acknowledge" && r.body["incident"]["id"] == id)
            .then_some(())
    })
    .await;
    demo.until("Alertmanager's silence", 30, async || {
        (am.active_silences_of(&id).await.len() == 1).then_some(())
    })
    .await;
    // A form posted without the page's token (a cross-site form) is refused.
    let forged = demo
        .client
        .post(format!(
            "{}/incidents/{}/unack",
            demo.base,
            faultline_api::path::segment(&id)
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=00")
        .send()
        .await
        .expect("forged post");
    assert_eq!(forged.status(), 403);

    b.goto(&format!("{}/map", demo.base)).await.expect("goto");
    b.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(r#"[data-id="fw-a"][data-state="down"]"#))
        .await
        .expect("fw-a down on the map");
    browser.screenshot("map-fw-a-down").await;

    // Mark the document: a reload would lose the mark.
    b.execute("window.faultlineMark = 42; return true;", vec![])
        .await
        .expect("mark");
    demo.lab("heal/fw-a").await;
    b.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(
            r#"[data-id="fw-a"][data-kind="device"][data-state="up"]"#,
        ))
        .await
        .expect("fw-a up on the map, live");
    let same = b
        .execute(
            "return [window.faultlineMark, document.body.getAttribute('data-refreshed')];",
            vec![],
        )
        .await
        .expect("mark read");
    assert_eq!(same[0], 42, "updated without a reload");
    assert!(same[1].as_str().is_some_and(|n| n != "0"), "{same:?}");
    browser.screenshot("map-fw-a-healed").await;
    let _ = browser.client.clone().close().await;
}
