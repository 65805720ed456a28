//! The API reference page at `/docs` in a real headless Chromium, against the real server binary
//! (harness in `browser_support`): one section per operation of the served OpenAPI document,
//! `$ref`s resolved, the filter, the theme, in-page anchors, 375 px, text-only rendering of a
//! hostile document, and a browser log free of CSP violations and script errors.
//!
//! Without ChromeDriver the browser tests print why and pass, except under `CI=true`, where they
//! fail. The screenshot lands in `test-artifacts/api-docs.png`; with `UPDATE_SCREENSHOTS=1` it is
//! also written to `docs/screenshots/api-docs.png`.

// The harness serves the portal's browser tests too; this file uses part of it.
#[allow(dead_code)]
mod browser_support;

use std::path::Path;

use browser_support::{BrowserOptions, Page, ServerOptions, browser_test};
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

/// The methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "patch", "delete", "options", "head", "trace",
];

/// Text that would run script if the page ever parsed a document value as HTML.
const HOSTILE: &str = "<img src=x onerror=\"document.title='pwned'\">";

/// One operation of the served document.
struct Operation<'a> {
    method: &'static str,
    path: &'a str,
    op: &'a Value,
}

impl Operation<'_> {
    /// What the page's filter searches: method, path, summary, operation id and tags.
    fn search_text(&self) -> String {
        let mut parts = vec![self.method.to_owned(), self.path.to_owned()];
        for key in ["summary", "operationId"] {
            if let Some(s) = self.op[key].as_str() {
                parts.push(s.to_owned());
            }
        }
        for tag in self.op["tags"].as_array().into_iter().flatten() {
            if let Some(t) = tag.as_str() {
                parts.push(t.to_owned());
            }
        }
        parts.join(" ").to_lowercase()
    }
}

/// Every operation of the document, counted from the JSON itself.
fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths").iter() {
        for method in METHODS {
            if let Some(op) = item.get(method).filter(|op| op.is_object()) {
                out.push(Operation { method, path, op });
            }
        }
    }
    out
}

/// The property names of `#/components/schemas/<name>` when `schema` is such a reference.
fn referenced_properties(doc: &Value, schema: &Value) -> Option<(String, Vec<String>)> {
    let name = schema["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")?;
    let properties = doc["components"]["schemas"][name]["properties"].as_object()?;
    Some((name.to_owned(), properties.keys().cloned().collect()))
}

/// A ChromeDriver command outside the W3C set, posted to `session/{id}/<endpoint>`:
/// `se/log` reads the browser log since the last read (console errors, CSP violations with
/// source `security`, uncaught exceptions with source `javascript`); `goog/cdp/execute` runs a
/// Chrome DevTools Protocol command.
#[derive(Debug)]
struct DriverCommand {
    endpoint: &'static str,
    body: Value,
}

impl DriverCommand {
    fn browser_log() -> Self {
        Self {
            endpoint: "se/log",
            body: json!({ "type": "browser" }),
        }
    }

    fn dev_tools(cmd: &str, params: Value) -> Self {
        Self {
            endpoint: "goog/cdp/execute",
            body: json!({ "cmd": cmd, "params": params }),
        }
    }
}

impl WebDriverCompatibleCommand for DriverCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.endpoint
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// The browser log entries since the last read.
async fn browser_log(page: &Page) -> Vec<Value> {
    match page
        .client
        .issue_cmd(DriverCommand::browser_log())
        .await
        .expect("read the browser log")
    {
        Value::Array(entries) => entries,
        other => panic!("the browser log is not a list: {other}"),
    }
}

/// Entries that are errors: CSP violations, uncaught exceptions, failed loads, console errors.
fn errors(entries: &[Value]) -> Vec<&Value> {
    entries.iter().filter(|e| e["level"] == "SEVERE").collect()
}

/// The document the server serves, as the page fetches it.
fn served_document(page: &Page) -> Value {
    ureq::get(&format!("{}/v1/openapi.json", page.base))
        .call()
        .expect("GET /v1/openapi.json")
        .into_json()
        .expect("the OpenAPI document is JSON")
}

/// Opens `/docs` (with an optional fragment) and waits until the document is rendered.
async fn open_docs(page: &Page, fragment: &str) {
    page.goto(&format!("/docs{fragment}")).await;
    page.wait_until(
        "the API reference has rendered",
        "return document.documentElement.dataset.rendered === 'true';",
        vec![],
    )
    .await;
}

/// How many operation sections and table-of-contents entries are displayed.
async fn visible_operations(page: &Page) -> (u64, u64) {
    let counts = page
        .js(
            "const shown = (e) => !e.closest('[hidden]') && e.getClientRects().length > 0; \
             return [[...document.querySelectorAll('section.operation')].filter(shown).length, \
                     [...document.querySelectorAll('a.toc-op')].filter(shown).length];",
            vec![],
        )
        .await;
    (
        counts[0].as_u64().expect("a count"),
        counts[1].as_u64().expect("a count"),
    )
}

/// The field names shown under `part` (`.request-body`, `.responses`) of one operation.
async fn shown_fields(page: &Page, method: &str, path: &str, part: &str) -> Vec<String> {
    let names = page
        .js(
            "const sec = [...document.querySelectorAll('section.operation')] \
               .find(s => s.dataset.method === arguments[0] && s.dataset.path === arguments[1]); \
             if (!sec) return null; \
             return [...sec.querySelectorAll(arguments[2] + ' .field')].map(f => f.dataset.field);",
            vec![json!(method), json!(path), json!(part)],
        )
        .await;
    serde_json::from_value(names).unwrap_or_else(|_| panic!("no section for {method} {path}"))
}

#[test]
fn docs_page_is_served_with_the_portal_csp_and_is_the_configured_docs_url() {
    let server = browser_support::Server::start(ServerOptions::default());
    let base = &server.api.base;

    let config = server.api.config();
    assert_eq!(config["docs_url"], json!(format!("{base}/docs")));

    let page = ureq::get(&format!("{base}/docs"))
        .call()
        .expect("GET /docs");
    assert_eq!(page.status(), 200);
    assert!(
        page.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert_eq!(
        page.header("Content-Security-Policy"),
        Some(reference_server::portal::CONTENT_SECURITY_POLICY)
    );
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    let html = page.into_string().expect("page body").to_lowercase();
    assert!(
        html.contains("href=\"/v1/openapi.json\""),
        "links the raw document"
    );
    assert!(!html.contains("style="), "inline style attribute");
    assert!(!html.contains("<style"), "inline <style>");
    for script in html.split("<script").skip(1) {
        let (tag, body) = script.split_once('>').expect("a closed script tag");
        assert!(
            tag.contains("type=\"module\"") && tag.contains("src=\"/docs/assets/"),
            "a script that is not an external module: <script{tag}>"
        );
        assert!(body.starts_with("</script"), "an inline script body");
    }

    for name in reference_server::docs_page::asset_names() {
        let asset = ureq::get(&format!("{base}/docs/assets/{name}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {name}: {e}"));
        let expected = match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            other => panic!("an asset of unexpected kind {other:?}"),
        };
        assert!(
            asset
                .header("Content-Type")
                .is_some_and(|t| t.starts_with(expected)),
            "{name} served as {:?}",
            asset.header("Content-Type")
        );
        assert_eq!(
            asset.header("Content-Security-Policy"),
            Some(reference_server::portal::CONTENT_SECURITY_POLICY),
            "{name}"
        );
        assert_eq!(asset.header("X-Content-Type-Options"), Some("nosniff"));
        let body = asset.into_string().expect("asset body");
        if name.ends_with(".js") {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!body.contains(sink), "{name} uses {sink}");
            }
        }
    }
}

#[test]
fn renders_every_operation_resolves_refs_filters_and_logs_no_error() {
    browser_test(
        "docs_page",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            let doc = served_document(&page);
            let ops = operations(&doc);
            assert!(ops.len() >= 5, "a document with operations");

            open_docs(&page, "").await;

            // One section per operation, exactly the document's (method, path) pairs.
            let shown = page
                .js(
                    "return [...document.querySelectorAll('section.operation')] \
                       .map(s => s.dataset.method + ' ' + s.dataset.path);",
                    vec![],
                )
                .await;
            let mut shown: Vec<String> = serde_json::from_value(shown).expect("a list");
            let mut expected: Vec<String> = ops
                .iter()
                .map(|o| format!("{} {}", o.method, o.path))
                .collect();
            shown.sort();
            expected.sort();
            assert_eq!(shown, expected, "one section per operation");
            assert_eq!(
                visible_operations(&page).await,
                (ops.len() as u64, ops.len() as u64)
            );
            let schemas = doc["components"]["schemas"]
                .as_object()
                .map_or(0, |s| s.len());
            assert_eq!(
                page.js(
                    "return document.querySelectorAll('section.schema').length;",
                    vec![]
                )
                .await,
                json!(schemas),
                "one section per component schema"
            );
            assert_eq!(
                page.js(
                    "return !!document.querySelector('#content a[href=\"/v1/openapi.json\"]');",
                    vec![]
                )
                .await,
                json!(true),
                "the page links the raw document"
            );

            // `$ref`s are resolved: a request body and a success answer that are references to
            // component schemas show those schemas' fields in place.
            let mut body_refs = 0;
            let mut answer_refs = 0;
            for o in &ops {
                let body = &o.op["requestBody"]["content"]["application/json"]["schema"];
                if let Some((name, fields)) = referenced_properties(&doc, body) {
                    let shown = shown_fields(&page, o.method, o.path, ".request-body").await;
                    for field in &fields {
                        assert!(
                            shown.contains(field),
                            "{} {}: field {field} of {name} is not shown in the request body \
                             (shown: {shown:?})",
                            o.method,
                            o.path
                        );
                    }
                    body_refs += 1;
                }
                for (status, answer) in o.op["responses"].as_object().into_iter().flatten() {
                    let schema = &answer["content"]["application/json"]["schema"];
                    let Some((name, fields)) = referenced_properties(&doc, schema) else {
                        continue;
                    };
                    if !status.starts_with('2') {
                        continue;
                    }
                    let part = format!(".responses [data-status=\"{status}\"]");
                    let shown = shown_fields(&page, o.method, o.path, &part).await;
                    for field in &fields {
                        assert!(
                            shown.contains(field),
                            "{} {} {status}: field {field} of {name} is not shown",
                            o.method,
                            o.path
                        );
                    }
                    answer_refs += 1;
                }
            }
            assert!(
                body_refs > 0 && answer_refs > 0,
                "the document has referenced request bodies ({body_refs}) and answers \
                 ({answer_refs}) to check"
            );

            // The filter: the same rule as the page (every term in method, path, summary,
            // operation id or tags), counted from the JSON.
            let term = "rotate";
            let matching = ops
                .iter()
                .filter(|o| o.search_text().contains(term))
                .count() as u64;
            assert!(matching > 0 && matching < ops.len() as u64);
            page.fill("#filter", term).await;
            page.wait_until(
                "the filter has applied",
                "return document.getElementById('filter-count').textContent.includes(' of ');",
                vec![],
            )
            .await;
            assert_eq!(visible_operations(&page).await, (matching, matching));
            assert!(!page.visible("#no-match").await);
            page.fill("#filter", "no-such-operation-anywhere").await;
            assert_eq!(visible_operations(&page).await, (0, 0));
            assert!(page.visible("#no-match").await, "says that nothing matches");
            // Escape clears the filter; "/" comes back to it from anywhere.
            page.press(Key::Escape.into()).await;
            assert_eq!(
                visible_operations(&page).await,
                (ops.len() as u64, ops.len() as u64)
            );
            page.js("document.activeElement.blur();", vec![]).await;
            page.press('/').await;
            assert_eq!(page.focused_id().await, "filter");

            // Theme: dark is remembered across a reload; System follows the system (light here).
            page.find("#theme-select")
                .await
                .select_by_value("dark")
                .await
                .expect("choose the dark theme");
            assert_eq!(
                page.js_string("return document.documentElement.dataset.theme;", vec![])
                    .await,
                "dark"
            );
            page.client.refresh().await.expect("reload");
            page.wait_until(
                "the API reference has rendered again",
                "return document.documentElement.dataset.rendered === 'true';",
                vec![],
            )
            .await;
            assert_eq!(
                page.js_string(
                    "return document.documentElement.dataset.theme + ' ' \
                       + document.getElementById('theme-select').value;",
                    vec![]
                )
                .await,
                "dark dark"
            );
            page.screenshot("api-docs-dark").await;
            page.find("#theme-select")
                .await
                .select_by_value("system")
                .await
                .expect("choose the system theme");
            assert_eq!(
                page.js_string("return document.documentElement.dataset.theme;", vec![])
                    .await,
                "light"
            );

            // The screenshot of the README, from the top.
            page.js(
                "document.activeElement.blur(); window.scrollTo(0, 0);",
                vec![],
            )
            .await;
            let path = page.screenshot("api-docs").await;
            if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
                let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
                std::fs::write(
                    docs.join("api-docs.png"),
                    std::fs::read(&path).expect("read the screenshot"),
                )
                .expect("write docs/screenshots/api-docs.png");
            }

            // An anchor in the address leads to its operation once the page has rendered, with
            // focus on its heading.
            let last = page
                .js_string(
                    "const all = document.querySelectorAll('section.operation'); \
                     return all[all.length - 1].id;",
                    vec![],
                )
                .await;
            page.client
                .goto("about:blank")
                .await
                .expect("leave the page");
            open_docs(&page, &format!("#{last}")).await;
            page.wait_until(
                "the linked operation is scrolled into view",
                "const r = document.getElementById(arguments[0]).getBoundingClientRect(); \
                 return r.top >= -2 && r.top < 160;",
                vec![json!(last)],
            )
            .await;
            assert_eq!(page.focused_id().await, format!("{last}-title"));

            // Nothing went wrong in the browser: no CSP violation, no script error, no failed
            // load. Then prove the log would have shown one: an inline style is refused.
            let entries = browser_log(&page).await;
            assert!(
                errors(&entries).is_empty(),
                "the browser logged errors: {entries:#?}"
            );
            page.js(
                "document.body.setAttribute('style', 'outline: 1px solid red');",
                vec![],
            )
            .await;
            let entries = browser_log(&page).await;
            assert!(
                entries
                    .iter()
                    .any(|e| e["source"] == "security" && e["level"] == "SEVERE"),
                "a CSP violation reaches the browser log: {entries:#?}"
            );
        },
    );
}

#[test]
fn readable_at_375_px_and_renders_a_hostile_document_as_text() {
    browser_test(
        "docs_page_375",
        ServerOptions::default(),
        BrowserOptions::default(),
        |page| async move {
            // Headless Chromium will not size a window under 500 px: emulate a phone instead.
            page.client
                .issue_cmd(DriverCommand::dev_tools(
                    "Emulation.setDeviceMetricsOverride",
                    json!({ "width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": true }),
                ))
                .await
                .expect("emulate a 375 px screen");
            open_docs(&page, "").await;
            // Open every disclosure (examples, nested fields) so the widest content is laid out.
            page.js(
                "for (let i = 0; i < 3; i++) \
                   document.querySelectorAll('details').forEach(d => { d.open = true; });",
                vec![],
            )
            .await;
            let widths = page
                .js(
                    "return [window.innerWidth, document.documentElement.scrollWidth];",
                    vec![],
                )
                .await;
            assert_eq!(widths[0], json!(375), "the viewport is 375 px wide");
            assert!(
                widths[1].as_u64() <= widths[0].as_u64(),
                "the page scrolls sideways at 375 px: {widths}"
            );
            assert!(page.visible("#filter").await);
            page.screenshot("api-docs-375").await;

            // A document full of markup renders as text: no element comes out of a value, and
            // no link gets a `javascript:` address.
            let hostile = json!({
                "openapi": "3.1.0",
                "info": {
                    "title": HOSTILE,
                    "version": HOSTILE,
                    "description": format!("`{HOSTILE}` and {HOSTILE}"),
                    "license": { "name": HOSTILE, "url": "javascript:alert(1)" },
                    "contact": { "name": HOSTILE, "url": "javascript:alert(1)" }
                },
                "servers": [{ "url": "javascript:alert(1)", "description": HOSTILE }],
                "paths": {
                    format!("/v1/{HOSTILE}"): {
                        "post": {
                            "summary": HOSTILE,
                            "operationId": HOSTILE,
                            "tags": [HOSTILE],
                            "description": HOSTILE,
                            "security": [{ HOSTILE: [HOSTILE] }],
                            "parameters": [{
                                "name": HOSTILE, "in": "query", "description": HOSTILE,
                                "schema": { "type": "string", "enum": [HOSTILE], "pattern": HOSTILE }
                            }],
                            "requestBody": { "content": { "application/json": {
                                "schema": { "$ref": format!("#/components/schemas/{HOSTILE}") }
                            } } },
                            "responses": { HOSTILE: {
                                "description": HOSTILE,
                                "headers": { HOSTILE: { "schema": { "type": "string" } } },
                                "content": { "application/json": { "examples": {
                                    HOSTILE: { "summary": HOSTILE, "value": { HOSTILE: HOSTILE } }
                                } } }
                            } }
                        }
                    }
                },
                "components": {
                    "securitySchemes": { HOSTILE: {
                        "type": "apiKey", "in": "header", "name": HOSTILE, "description": HOSTILE
                    } },
                    "schemas": { HOSTILE: {
                        "type": "object",
                        "description": HOSTILE,
                        "required": [HOSTILE],
                        "properties": { HOSTILE: {
                            "type": "object", "description": HOSTILE,
                            "properties": { HOSTILE: { "type": "string", "examples": [HOSTILE] } }
                        } }
                    } }
                }
            });
            let outcome = page
                .client
                .execute_async(
                    "const [doc, needle, done] = arguments; \
                     import('/docs/assets/render.js').then((m) => { \
                       const r = m.renderDocument(doc); \
                       const host = document.createElement('div'); \
                       host.append(r.content, r.toc); \
                       document.body.append(host); \
                       for (let i = 0; i < 3; i++) \
                         host.querySelectorAll('details').forEach(d => { d.open = true; }); \
                       done({ \
                         elements: host.querySelectorAll('img, script, iframe, object, embed, \
                           [onerror], [onclick], [onload], [style]').length, \
                         scriptLinks: [...host.querySelectorAll('a[href]')] \
                           .filter(a => !/^(https?:|mailto:|#|\\/)/.test(a.getAttribute('href'))) \
                           .length, \
                         literal: host.textContent.split(needle).length - 1, \
                         title: document.title, \
                       }); \
                     }).catch((e) => done({ error: String(e) }));",
                    vec![hostile, json!(HOSTILE)],
                )
                .await
                .expect("render a hostile document");
            assert_eq!(outcome["error"], Value::Null, "{outcome}");
            assert_eq!(outcome["elements"], json!(0), "markup became elements");
            assert_eq!(outcome["scriptLinks"], json!(0), "a script link was made");
            assert!(
                outcome["literal"].as_u64().unwrap_or(0) >= 10,
                "the markup is shown as text: {outcome}"
            );
            assert_ne!(outcome["title"], json!("pwned"));

            let entries = browser_log(&page).await;
            assert!(
                errors(&entries).is_empty(),
                "the browser logged errors: {entries:#?}"
            );
        },
    );
}
