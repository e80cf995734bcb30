// faultline console: live updates over Server-Sent Events. Every page reads without this
// script; with it, the page's <main> is fetched again whenever the collector's state changes.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch) { return; }
  var live = document.getElementById("live");
  var busy = false, again = false;
  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
  }
  function refresh() {
    if (busy) { again = true; return; }
    if (typing()) { return; }
    busy = true;
    fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text === null) { return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("main"), main = document.getElementById("main");
        if (fresh && main) {
          main.replaceWith(document.adoptNode(fresh));
          document.body.setAttribute("data-refreshed", String(Number(document.body.getAttribute("data-refreshed") || 0) + 1));
        }
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var events = new EventSource("/api/v1/events");
  events.addEventListener("change", refresh);
  events.onopen = function () { if (live) { live.textContent = "live"; live.className = "live on"; } };
  events.onerror = function () { if (live) { live.textContent = "reconnecting"; live.className = "live off"; } };
})();
