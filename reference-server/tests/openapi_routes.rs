//! One source of truth: every route the server mounts under `/v1` is in `openapi.json` with the
//! same method and path parameters, and every operation of the document is a mounted route. A
//! route added without its documentation (or documented and never mounted) fails here.
#![allow(missing_docs)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use idunox_keys::ManualClock;
use reference_server::routes::openapi::OPENAPI_JSON;
use serde_json::Value;

/// The HTTP methods an OpenAPI path item can hold.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `(METHOD, /v1/path/{param})` of every route Rocket mounts under `/v1`, the catch-all
/// fallbacks (`<path..>`, not API operations) left out. `<param>` is written `{param}`.
async fn mounted() -> BTreeSet<(String, String)> {
    let db = test_db(Backend::Sqlite).await;
    let rocket = reference_server::build(figment(&db.url), Arc::new(ManualClock::new(START)))
        .ignite()
        .await
        .expect("the server ignites");
    rocket
        .routes()
        .filter(|r| !r.uri.path().contains("..>"))
        .filter(|r| r.uri.path().split('/').find(|s| !s.is_empty()) == Some("v1"))
        .map(|r| {
            let path = r
                .uri
                .path()
                .split('/')
                .map(
                    |s| match s.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                        Some(name) => format!("{{{name}}}"),
                        None => s.to_owned(),
                    },
                )
                .collect::<Vec<_>>()
                .join("/");
            (r.method.as_str().to_owned(), path)
        })
        .collect()
}

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
}

/// `(METHOD, path)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in OPENAPI_METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// Resolve a `$ref` within the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => v,
    }
}

#[tokio::test]
async fn mounted_routes_and_document_agree() {
    let mounted = mounted().await;
    let doc = document();
    let documented = documented(&doc);
    assert!(mounted.len() > 10, "the /v1 routes were found: {mounted:?}");
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        undocumented.is_empty(),
        "mounted under /v1 but not in openapi.json (method, path): {undocumented:?}"
    );
    assert!(
        unmounted.is_empty(),
        "in openapi.json but no route serves it (method, path): {unmounted:?}"
    );
}

#[test]
fn path_parameters_are_declared_exactly() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        let shared = item.get("parameters").and_then(Value::as_array);
        for method in OPENAPI_METHODS {
            let Some(op) = item.get(method) else { continue };
            let declared: BTreeSet<String> = shared
                .into_iter()
                .flatten()
                .chain(
                    op.get("parameters")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .map(|p| resolve(&doc, p))
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(
                        p["required"], true,
                        "{method} {path}: path parameter {} must be required",
                        p["name"]
                    );
                    p["name"].as_str().expect("parameter name").to_owned()
                })
                .collect();
            assert_eq!(
                declared, in_template,
                "{method} {path}: declared path parameters differ from the path template"
            );
        }
    }
}

#[tokio::test]
async fn the_served_document_lists_the_configured_rotation_overlaps() {
    let s = server_with(Backend::Sqlite, |f| {
        f.merge(("rotation_grace_hours", vec![6, 12])).merge((
            "scopes",
            serde_json::json!([{"name": "orders:read", "description": "Read orders"}]),
        ))
    })
    .await;
    let r = s.get("/v1/openapi.json", None).await;
    assert_eq!(
        r.body
            .pointer("/components/schemas/RotateRequest/properties/grace_hours/enum")
            .cloned(),
        Some(serde_json::json!([6, 12]))
    );
    for schema in ["CreateRequest", "PatchRequest"] {
        assert_eq!(
            r.body["components"]["schemas"][schema]["properties"]["scopes"]["items"]["enum"],
            serde_json::json!(["orders:read"]),
            "{schema}"
        );
    }
    // Everything else is the embedded document.
    let mut served = r.body.clone();
    let mut embedded = document();
    for d in [&mut served, &mut embedded] {
        d["components"]["schemas"]["RotateRequest"]["properties"]["grace_hours"]
            .as_object_mut()
            .unwrap()
            .remove("enum");
        for schema in ["CreateRequest", "PatchRequest"] {
            d["components"]["schemas"][schema]["properties"]["scopes"]["items"]
                .as_object_mut()
                .unwrap()
                .remove("enum");
        }
    }
    assert_eq!(served, embedded);
}

#[tokio::test]
async fn without_a_scope_catalogue_the_document_takes_no_scopes() {
    let s = server(Backend::Sqlite).await;
    let r = s.get("/v1/openapi.json", None).await;
    for schema in ["CreateRequest", "PatchRequest"] {
        assert_eq!(
            r.body["components"]["schemas"][schema]["properties"]["scopes"]["type"], "null",
            "{schema}"
        );
    }
}

#[test]
fn links_name_operations_and_parameters_that_exist() {
    let doc = document();
    let mut operations = std::collections::BTreeMap::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for method in OPENAPI_METHODS {
            if let Some(id) = item.get(method).and_then(|op| op["operationId"].as_str()) {
                let params: BTreeSet<String> = item[method]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| resolve(&doc, p)["name"].as_str().unwrap_or("").to_owned())
                    .collect();
                assert!(
                    operations.insert(id.to_owned(), params).is_none(),
                    "{id} twice"
                );
            }
        }
    }
    let mut links = 0;
    for item in doc["paths"].as_object().expect("paths").values() {
        for method in OPENAPI_METHODS {
            let Some(responses) = item.get(method).and_then(|op| op["responses"].as_object())
            else {
                continue;
            };
            for link in responses.values().filter_map(|r| r["links"].as_object()) {
                for (name, link) in link {
                    links += 1;
                    let target = link["operationId"].as_str().expect("operationId");
                    let params = operations
                        .get(target)
                        .unwrap_or_else(|| panic!("link {name}: no operation {target}"));
                    for p in link["parameters"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| k)
                    {
                        assert!(params.contains(p), "link {name}: {target} has no {p}");
                    }
                }
            }
        }
    }
    assert!(links > 0, "the document has links");
}
