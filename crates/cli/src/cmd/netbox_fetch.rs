//! `faultline import netbox --url`: the inventory read from a NetBox (or Nautobot) REST API
//! instead of saved pages. `/api/dcim/devices/` (with the site, tag and role filters),
//! `/api/dcim/interfaces/` and `/api/dcim/cables/` (with the site filter), every page followed
//! through `next`. The pages are then imported exactly as saved ones are.
//!
//! The token goes only to the origin of `--url`: a `next` link elsewhere is refused, not
//! followed.
//!
//! Nautobot is told apart by its `/api/status/` (`nautobot-version`): its pages are then asked
//! with `depth=1`, since at its default depth nested objects carry only an id and a URL (no
//! role name, no address, no interface's device name), and `--site` filters by `location`
//! (Nautobot 2 replaced sites with locations).

use std::time::Duration;

use faultline_secret::Secret;
use serde_json::Value;

/// Per request: NetBox answers a page of 1,000 devices in well under a second; a stalled
/// server must not hang the command.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Pages read per endpoint at most: a `next` that never ends (a server bug) stops here.
const MAX_PAGES: usize = 100_000;

/// The two servers of this inventory shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    NetBox,
    Nautobot,
}

/// What to read and how.
pub struct Fetch {
    /// The server's base URL (`https://netbox.example.com`).
    pub url: String,
    pub token: Secret,
    /// Devices per page (`limit`).
    pub page_size: u32,
    pub sites: Vec<String>,
    pub tags: Vec<String>,
    pub roles: Vec<String>,
}

impl Fetch {
    /// Every page of the three endpoints, in order; `progress` hears each page read
    /// (endpoint, objects so far, the server's count).
    pub fn pages(&self, progress: &mut dyn FnMut(&str, usize, u64)) -> Result<Vec<Value>, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        rt.block_on(async {
            let client = reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .map_err(|e| e.to_string())?;
            let server = self.server(&client).await;
            let mut pages = Vec::new();
            for endpoint in ["devices", "interfaces", "cables"] {
                self.endpoint(&client, server, endpoint, &mut pages, progress)
                    .await?;
            }
            Ok(pages)
        })
    }

    /// Which server answers: Nautobot says so in `/api/status/`; anything else (NetBox, or no
    /// answer there) is read as NetBox.
    async fn server(&self, client: &reqwest::Client) -> Server {
        let base = self.url.trim_end_matches('/');
        let Ok(url) = reqwest::Url::parse(&format!("{base}/api/status/")) else {
            return Server::NetBox;
        };
        match self.get(client, &url).await {
            Ok(status) if status.get("nautobot-version").is_some() => Server::Nautobot,
            _ => Server::NetBox,
        }
    }

    /// The first page's URL of `endpoint`, with the filters that apply to it.
    fn first_url(&self, server: Server, endpoint: &str) -> Result<reqwest::Url, String> {
        let base = self.url.trim_end_matches('/');
        let mut url = reqwest::Url::parse(&format!("{base}/api/dcim/{endpoint}/"))
            .map_err(|e| format!("--url {}: {e}", self.url))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &self.page_size.to_string());
            let site = match server {
                Server::NetBox => "site",
                Server::Nautobot => {
                    q.append_pair("depth", "1");
                    "location"
                }
            };
            for s in &self.sites {
                q.append_pair(site, s);
            }
            if endpoint == "devices" {
                for t in &self.tags {
                    q.append_pair("tag", t);
                }
                for r in &self.roles {
                    q.append_pair("role", r);
                }
            }
        }
        Ok(url)
    }

    async fn endpoint(
        &self,
        client: &reqwest::Client,
        server: Server,
        endpoint: &str,
        pages: &mut Vec<Value>,
        progress: &mut dyn FnMut(&str, usize, u64),
    ) -> Result<(), String> {
        let first = self.first_url(server, endpoint)?;
        let mut next = Some(first.clone());
        let mut read = 0usize;
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(());
            };
            if url.origin() != first.origin() {
                return Err(format!(
                    "{endpoint}: the server's next page is at {}, not at --url {}: not sending \
                     the token there (set NetBox's BASE_PATH / ALLOWED_HOSTS so `next` links \
                     use the address you gave)",
                    url.origin().ascii_serialization(),
                    first.origin().ascii_serialization()
                ));
            }
            let page = self.get(client, &url).await?;
            read += page
                .get("results")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let count = page.get("count").and_then(Value::as_u64).unwrap_or(0);
            progress(endpoint, read, count);
            next = match page.get("next").and_then(Value::as_str) {
                Some(n) => Some(
                    reqwest::Url::parse(n)
                        .map_err(|e| format!("{endpoint}: bad next link {n:?}: {e}"))?,
                ),
                None => None,
            };
            pages.push(page);
        }
        Err(format!("{endpoint}: more than {MAX_PAGES} pages; stopped"))
    }

    async fn get(&self, client: &reqwest::Client, url: &reqwest::Url) -> Result<Value, String> {
        // NetBox 4.5's v2 tokens (`nbt_...`) are bearer tokens; older ones and Nautobot's are
        // `Token` tokens.
        let token = self.token.expose();
        let scheme = if token.starts_with("nbt_") {
            "Bearer"
        } else {
            "Token"
        };
        let resp = client
            .get(url.clone())
            .header("Authorization", format!("{scheme} {token}"))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot reach {}: {e}", url.origin().ascii_serialization()))?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| format!("{}: {e}", url.path()))?;
        if !status.is_success() {
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            return Err(format!("{} answered {status} {detail}", url.path())
                .trim_end()
                .to_owned());
        }
        serde_json::from_str(&body).map_err(|e| format!("{}: not JSON: {e}", url.path()))
    }
}
