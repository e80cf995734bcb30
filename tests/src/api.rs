//! The collector's HTTP API, read as JSON. Everything that knows the shape of an answer is in
//! this file (and the incident fields in [`IncidentView::from_json`]), so that moving to the
//! typed API crate touches only here.

use std::time::Duration;

use serde_json::Value;

/// One API request may take this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// An incident, as much of it as the tests look at.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentView {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub title: String,
    pub root_causes: Vec<String>,
    /// Suspect components, best first.
    pub suspects: Vec<String>,
    /// Why each suspect is suspected, in the same order.
    pub suspect_reasons: Vec<String>,
    /// Affected services as `(id, state)`.
    pub affected: Vec<(String, String)>,
    /// Evidence as `(subject, text)`, oldest first.
    pub evidence: Vec<(String, String)>,
}

impl IncidentView {
    /// The fields of one element of `/api/incidents`' `open` or `resolved` arrays.
    pub fn from_json(v: &Value) -> IncidentView {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        IncidentView {
            id: s(&v["id"]),
            kind: s(&v["kind"]),
            severity: s(&v["severity"]),
            title: s(&v["title"]),
            root_causes: list(&v["root_causes"]).iter().map(s).collect(),
            suspects: list(&v["suspects"])
                .iter()
                .map(|x| s(&x["component"]))
                .collect(),
            suspect_reasons: list(&v["suspects"])
                .iter()
                .map(|x| s(&x["reason"]))
                .collect(),
            affected: list(&v["affected_services"])
                .iter()
                .map(|x| (s(&x["id"]), s(&x["state"])))
                .collect(),
            evidence: list(&v["evidence"])
                .iter()
                .map(|x| (s(&x["subject"]), s(&x["text"])))
                .collect(),
        }
    }
}

/// Open and recently resolved incidents.
#[derive(Debug, Clone, Default)]
pub struct Incidents {
    pub open: Vec<IncidentView>,
    pub resolved: Vec<IncidentView>,
}

/// A client for one collector.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// `base`: `http://127.0.0.1:PORT`.
    pub fn new(base: &str) -> Api {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("HTTP client");
        Api {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// GET a path (`/api/status`) as JSON.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .map_err(|e| format!("GET {url}: body is not JSON: {e}"))?;
        if !status.is_success() {
            return Err(format!("GET {url}: {status}: {body}"));
        }
        Ok(body)
    }

    /// Open and recently resolved incidents (`/api/incidents?all=true`).
    pub async fn incidents(&self) -> Result<Incidents, String> {
        let v = self.get("/api/incidents?all=true").await?;
        let views = |k: &str| {
            v[k].as_array()
                .map(|a| a.iter().map(IncidentView::from_json).collect())
                .unwrap_or_default()
        };
        Ok(Incidents {
            open: views("open"),
            resolved: views("resolved"),
        })
    }

    /// Every component's state, `id -> state` (`/api/components`).
    pub async fn component_states(&self) -> Result<Vec<(String, String)>, String> {
        let v = self.get("/api/components").await?;
        Ok(v["components"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (
                            c["id"].as_str().unwrap_or_default().to_string(),
                            c["state"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The HA role of every component that reports one, `id -> role` (`/api/components`).
    pub async fn ha_roles(&self) -> Result<Vec<(String, String)>, String> {
        let v = self.get("/api/components").await?;
        Ok(v["components"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| {
                        Some((
                            c["id"].as_str()?.to_string(),
                            c["ha_role"].as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Every service's state, `id -> state` (`/api/services`).
    pub async fn service_states(&self) -> Result<Vec<(String, String)>, String> {
        let v = self.get("/api/services").await?;
        Ok(v["services"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        (
                            c["id"].as_str().unwrap_or_default().to_string(),
                            c["state"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// What a failing test should print: components, incidents and the timeline as the API
    /// has them now (or why they could not be read).
    pub async fn dump(&self) -> String {
        let mut s = String::from("--- collector API: components ---\n");
        match self.get("/api/components").await {
            Ok(v) => {
                for c in v["components"].as_array().cloned().unwrap_or_default() {
                    s.push_str(&format!(
                        "{} {} (own {}){}\n",
                        c["id"].as_str().unwrap_or_default(),
                        c["state"].as_str().unwrap_or_default(),
                        c["own"].as_str().unwrap_or_default(),
                        c.get("ha_role")
                            .map(|r| format!(" ha {r}"))
                            .unwrap_or_default()
                    ));
                }
            }
            Err(e) => s.push_str(&format!("{e}\n")),
        }
        s.push_str("--- collector API: incidents ---\n");
        match self.get("/api/incidents?all=true").await {
            Ok(v) => s.push_str(&format!("{v:#}\n")),
            Err(e) => s.push_str(&format!("{e}\n")),
        }
        s.push_str("--- collector API: timeline ---\n");
        match self.get("/api/timeline").await {
            Ok(v) => {
                for e in v["timeline"].as_array().cloned().unwrap_or_default() {
                    s.push_str(&format!(
                        "{} {}: {}\n",
                        e["at"],
                        e["subject"].as_str().unwrap_or_default(),
                        e["text"].as_str().unwrap_or_default()
                    ));
                }
            }
            Err(e) => s.push_str(&format!("{e}\n")),
        }
        s
    }
}
