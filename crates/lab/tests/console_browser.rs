//! The console in headless Chromium on the demo lab: the seed story as an operator sees it.
//! `lab fail fw-a` → the incidents page shows the critical failover-ineffective incident naming
//! fw-b; the map has fw-a down; `lab heal fw-a` → the map turns fw-a up without a reload (SSE).
//! Screenshots go to `target/test-artifacts/console/`.

mod common;

use std::time::Duration;

use fantoccini::Locator;
use faultline_testpeers::chromium::Chromium;

/// Longest wait for one thing to appear on a page.
const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_follows_the_seed_story_in_chromium() {
    let Some(browser) = Chromium::start().await else {
        return;
    };
    let demo = common::start(|_| {}).await;
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
