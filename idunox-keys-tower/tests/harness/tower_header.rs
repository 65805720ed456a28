//! Arbitrary `X-Api-Key` header bytes through `ApiKeyService`, with the invariants checked.
//!
//! Shared, file for file, by the cargo-fuzz target `fuzz/fuzz_targets/tower_header.rs` and by
//! `tests/fuzz_corpus.rs`, which replays the seed corpus under plain `cargo test`.
//!
//! Input: the bytes, split at `\n`, are the values of the `x-api-key` header, one header line each
//! (no input: no header). Values that no HTTP parser would let through (control characters) are
//! left out, as hyper would have refused the request before any layer saw it.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use http::{HeaderValue, Request, Response, StatusCode};
use idunox_keys::time::Duration;
use idunox_keys::{
    Credential, HashParams, InvalidKey, KeyFormat, KeyId, KeyStore, MemoryStore, Refusal,
    SecretHasher, TenantId, VerifiedKey, Verifier,
};
use idunox_keys_tower::{ApiKeyLayer, ApiKeyService, JsonRefusal};
use tower::util::ServiceFn;
use tower::{Layer, ServiceExt, service_fn};

/// The one key the store knows (the example of `docs/key-format.md`): alone it must succeed.
pub(crate) const KNOWN_KEY: &str = "idx_test_XFE89T5jtdJh_6xuFZu1TeOffxgYTozBujBIzcR09E8aF2BSXAM";
const KNOWN_ID: &str = "XFE89T5jtdJh";
const KNOWN_SECRET: &str = "6xuFZu1TeOffxgYTozBujBIzcR09E8aF";
const TENANT: &str = "fuzz-tenant";

type Inner =
    ServiceFn<fn(Request<()>) -> std::future::Ready<Result<Response<Vec<u8>>, Infallible>>>;

struct Harness {
    rt: tokio::runtime::Runtime,
    service: ApiKeyService<Inner, Arc<MemoryStore>, JsonRefusal>,
}

/// What the guarded service answers: the tenant of the verified key, after checking that the
/// header reached it marked sensitive.
fn inner(req: Request<()>) -> std::future::Ready<Result<Response<Vec<u8>>, Infallible>> {
    assert!(
        req.headers()
            .get_all("x-api-key")
            .iter()
            .all(HeaderValue::is_sensitive),
        "the key header reached the service unmarked"
    );
    let key = req
        .extensions()
        .get::<VerifiedKey>()
        .expect("the service was reached without a verified key");
    std::future::ready(Ok(Response::new(
        key.tenant_id.as_str().as_bytes().to_vec(),
    )))
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let store = Arc::new(MemoryStore::new());
        let format = KeyFormat::new("idx", "test").expect("format");
        let id = KeyId::parse(KNOWN_ID).expect("id");
        let hash = SecretHasher::new(HashParams::INSECURE_FAST)
            .and_then(|h| h.hash(KNOWN_SECRET.as_bytes()))
            .expect("hash");
        let verifier = Verifier::new(store.clone(), format.clone());
        let now = verifier.now();
        rt.block_on(store.insert(
            Credential {
                key_id: id,
                tenant_id: TenantId::new(TENANT),
                name: None,
                masked_key: format.mask(&id),
                secret_hash: hash,
                created_at: now,
                expires_at: now + Duration::days(3650),
                grace_expires_at: None,
                revoked_at: None,
                replaced_by: None,
                replaces: None,
                last_used_at: None,
                scopes: None,
                allowed_ips: None,
            },
            None,
        ))
        .expect("insert");
        let service = ApiKeyLayer::new(verifier).layer(service_fn(inner as fn(_) -> _));
        Harness { rt, service }
    })
}

/// Send one request built from `data` and check every invariant; panics on a violation:
/// only the stored key alone is accepted (and reaches the service with its `VerifiedKey`, the
/// header marked sensitive); everything else gets 401 with exactly the fixed envelope.
pub(crate) fn check(data: &[u8]) {
    let h = harness();
    let values: Vec<HeaderValue> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|&b| b == b'\n')
            .filter_map(|v| HeaderValue::from_bytes(v).ok())
            .collect()
    };
    let mut req = Request::new(());
    for v in &values {
        req.headers_mut().append("x-api-key", v.clone());
    }
    let res =
        h.rt.block_on(h.service.clone().oneshot(req))
            .unwrap_or_else(|e: Infallible| match e {});
    let status = res.status();
    let body = res.body().as_slice();
    let known = values.len() == 1 && values[0].as_bytes() == KNOWN_KEY.as_bytes();

    match status {
        StatusCode::OK => {
            assert!(known, "accepted something other than the one known key");
            assert_eq!(body, TENANT.as_bytes());
        }
        StatusCode::UNAUTHORIZED => {
            assert!(!known, "refused the known key");
            let expected = if values.is_empty() || (values.len() == 1 && values[0].is_empty()) {
                Refusal::Missing
            } else {
                // Nothing but the known key is stored, and it is neither revoked nor expired.
                Refusal::Invalid(InvalidKey::UnknownKeyId)
            };
            // The body is exactly the fixed envelope: it can echo nothing of the request.
            let message = match expected {
                Refusal::Missing => "An API key is required in the X-Api-Key header.".to_owned(),
                ref other => other.to_string(),
            };
            let envelope = format!(
                r#"{{"error":{{"code":"{}","message":"{}"}}}}"#,
                expected.code(),
                message
            );
            assert_eq!(std::str::from_utf8(body).ok(), Some(envelope.as_str()));
            assert_eq!(
                res.headers()["www-authenticate"],
                r#"ApiKey realm="idunox", header="X-Api-Key""#
            );
            assert_eq!(res.headers()["content-type"], "application/json");
        }
        other => panic!("unexpected status {other}"),
    }
}
