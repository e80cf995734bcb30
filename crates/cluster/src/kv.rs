//! The key-value buckets of the lease and the paged record, created as the streams JetStream
//! keeps them in (`KV_<bucket>`), with the settings the KV clients use. The client's own
//! `create_key_value` first asks for the account's limits in a form Debian's nats-server 2.9
//! does not answer, so the stream is created directly.

use std::time::Duration;

use async_nats::jetstream::Context;
use async_nats::jetstream::kv::Store;
use async_nats::jetstream::stream::{Config, DiscardPolicy, StorageType};

/// JetStream's default de-duplication window, shortened to `max_age` when that is shorter (the
/// server refuses a window longer than the age limit).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Bucket `bucket` (one value per key), created if missing; when it exists with another
/// `max_age`, updated to this one. `max_age` zero: values never expire.
pub(crate) async fn bucket(
    js: &Context,
    bucket: &str,
    description: &str,
    max_age: Duration,
    replicas: usize,
) -> Result<Store, String> {
    let duplicate_window = if max_age.is_zero() {
        DUPLICATE_WINDOW
    } else {
        DUPLICATE_WINDOW.min(max_age)
    };
    let config = Config {
        name: format!("KV_{bucket}"),
        description: Some(description.to_string()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age,
        duplicate_window,
        storage: StorageType::File,
        num_replicas: replicas.max(1),
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        ..Default::default()
    };
    let mut stream = js
        .get_or_create_stream(config.clone())
        .await
        .map_err(|e| e.to_string())?;
    let current = stream.info().await.map_err(|e| e.to_string())?;
    if current.config.max_age != max_age {
        js.update_stream(&config).await.map_err(|e| e.to_string())?;
    }
    js.get_key_value(bucket).await.map_err(|e| e.to_string())
}
