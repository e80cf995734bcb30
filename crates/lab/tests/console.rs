//! The console over HTTP on the demo lab: pages, 404s, escaping of huge input, headers, the
//! event stream.

mod common;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_follows_the_seed_story() {
    let demo = common::start(|_| {}).await;
    demo.until("the console", 30, async || {
        (demo.get("/incidents").await.0 == 200).then_some(())
    })
    .await;

    // `/` sends the browser to the incidents.
    let resp = demo
        .client
        .get(format!("{}/", demo.base))
        .send()
        .await
        .expect("/");
    assert!(resp.status().is_redirection());
    assert_eq!(resp.headers()["location"], "/incidents");

    // Security headers on pages and assets; the script is served, not inlined.
    let resp = demo
        .client
        .get(format!("{}/incidents", demo.base))
        .send()
        .await
        .expect("page");
    let h = resp.headers();
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    let js = demo
        .client
        .get(format!("{}/assets/console.js", demo.base))
        .send()
        .await
        .expect("js");
    assert!(
        js.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/javascript"))
    );
    assert!(js.text().await.expect("js").contains("EventSource"));

    // Events: hello now, a change once fw-a fails.
    let mut events = demo
        .client
        .get(format!("{}/api/v1/events", demo.base))
        .send()
        .await
        .expect("events");
    let hello = events.chunk().await.expect("chunk").expect("hello");
    assert!(String::from_utf8_lossy(&hello).contains("event: hello"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    demo.lab("fail/fw-a").await;
    let change = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let chunk = events.chunk().await.expect("chunk").expect("stream open");
            let text = String::from_utf8_lossy(&chunk).to_string();
            if text.contains("event: change") {
                return text;
            }
        }
    })
    .await
    .expect("a change event after the failure");
    assert!(change.contains("\"seq\":"), "{change}");

    let page = demo
        .until("the incident on /incidents", 60, async || {
            let (_, body) = demo.get("/incidents").await;
            body.contains("data-incident-id=").then_some(body)
        })
        .await;
    assert!(page.contains(r#"data-severity="#));
    let id = page
        .split(r#"data-incident-id=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("an incident id")
        .to_string();
    let (code, detail) = demo
        .get(&format!("/incidents/{}", id.replace('@', "%40")))
        .await;
    assert_eq!(code, 200, "{detail}");
    assert!(
        detail.contains(r#"class="verdict""#) && detail.contains("fw-a"),
        "{detail}"
    );

    let map = demo
        .until("fw-a down on the map", 30, async || {
            let (_, body) = demo.get("/map").await;
            body.contains(r#"data-id="fw-a" data-kind="device" data-state="down""#)
                .then_some(body)
        })
        .await;
    assert!(map.contains("<svg"), "inline SVG");
    let (code, cone) = demo.get("/map?service=accounts").await;
    assert_eq!(code, 200);
    assert!(cone.contains(r#"data-id="db-1""#) && !cone.contains(r#"data-id="web-1""#));

    // The pager's link target answers.
    let (code, why) = demo.get("/why/portal").await;
    assert_eq!(code, 200);
    assert!(why.contains(r#"data-id="portal""#), "{why}");
    let (code, fw) = demo.get("/components/fw-a").await;
    assert_eq!(code, 200);
    assert!(
        fw.contains("port2") && fw.contains("sw-core-1"),
        "interfaces: {fw}"
    );
    for ok in ["/services", "/ready", "/assets/console.css"] {
        assert_eq!(demo.get(ok).await.0, 200, "{ok}");
    }

    // Unknown ids and paths: a 404 page; huge or hostile input is escaped, never echoed raw.
    for missing in [
        "/why/no-such",
        "/components/no-such",
        "/incidents/no-such",
        "/nowhere",
    ] {
        let (code, body) = demo.get(missing).await;
        assert_eq!(code, 404, "{missing}");
        assert!(body.contains("Not found"), "{missing}: {body}");
    }
    let (code, body) = demo.get("/why/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(code, 404);
    assert!(
        !body.contains("<script>alert") && body.contains("&lt;script&gt;"),
        "{body}"
    );
    let huge = "x".repeat(8_000);
    let (code, body) = demo.get(&format!("/map?service={huge}")).await;
    assert_eq!(code, 404);
    assert!(body.contains("no service"));
    let (code, _) = demo.get("/api/v1/no-such").await;
    assert_eq!(code, 404);
}
