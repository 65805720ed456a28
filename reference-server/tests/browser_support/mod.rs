//! Harness for the browser tests: the real server binary on a free loopback port with a
//! temporary SQLite file, provisioned through its CLI, and a headless Chromium driven through
//! ChromeDriver with fantoccini.
//!
//! Browser tests run one at a time (a process-wide lock), each bounded in time; the server,
//! ChromeDriver and Chromium are stopped by id when the test ends, pass or fail.
//!
//! Staff accounts for the console at `/admin` are made with the server's own `staff add` and
//! sign in with TOTP codes computed by [`totp`], the way an authenticator app computes them
//! ([`admin`]).

// Used by the console's tests (and the pending portal tests), not by every test binary.
#[allow(dead_code)]
pub(crate) mod admin;
#[allow(dead_code)]
pub(crate) mod totp;

use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use idunox_test_support::server::ServerCommand;
use serde_json::{Value, json};

/// The portal user every test signs in as.
pub(crate) const EMAIL: &str = "it-ops@acme.example";
/// Their password.
pub(crate) const PASSWORD: &str = "correct horse battery staple";
/// The tenant's name.
pub(crate) const TENANT: &str = "Acme Logistics";

/// The scope catalogue of every test server (setting `scopes`): restricted keys choose from it.
pub(crate) const SCOPES: &str = "[{name=\"orders:read\",description=\"Read orders\"},\
    {name=\"orders:write\",description=\"Create and change orders\"}]";

/// Longest a whole browser scenario may take.
const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
/// Longest a single wait for the page may take.
const WAIT_LIMIT: Duration = Duration::from_secs(15);

/// One browser test at a time: two cores, one Chromium.
static SERIAL: Mutex<()> = Mutex::new(());

/// Where test artefacts (screenshots) go: `<workspace>/test-artifacts/`, git-ignored.
pub(crate) fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create test-artifacts/");
    dir
}

/// With `UPDATE_SCREENSHOTS=1`, copies a screenshot of `test-artifacts/` to `docs/screenshots/`
/// under `name`, where the READMEs show it.
#[allow(dead_code)] // not every test binary takes screenshots
pub(crate) fn publish_screenshot(path: &Path, name: &str) {
    if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&docs).expect("docs/screenshots");
        std::fs::copy(path, docs.join(name)).expect("copy the screenshot");
    }
}

/// Asserts what every page of the server keeps to, over real HTTP: the page at `path` and each of
/// its `assets` (served under `<path>/assets/`) answer with their content type and
/// `Cache-Control: no-store`; the page carries a strict Content-Security-Policy (no `unsafe`
/// anything) and has no inline style, inline script, `javascript:` URL or event-handler
/// attribute, and loads its scripts only as external modules from its own assets; no script uses
/// an HTML sink (`innerHTML` and the like); an unknown asset answers the HTML 404 page.
pub(crate) fn assert_strict_page(base: &str, path: &str, assets: &[&str]) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let page = agent
        .get(&format!("{base}{path}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(page.status(), 200);
    assert_eq!(page.header("Cache-Control"), Some("no-store"));
    assert!(
        page.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let csp = page
        .header("Content-Security-Policy")
        .expect("a CSP on the page")
        .to_owned();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe"), "CSP allows unsafe code: {csp}");
    let html = page.into_string().expect("page body");
    let lower = html.to_lowercase();
    assert!(
        !lower.contains("style="),
        "inline style attribute in {path}"
    );
    assert!(!lower.contains("<style"), "inline <style> in {path}");
    assert!(!lower.contains("javascript:"), "javascript: URL in {path}");
    for (i, _) in lower.match_indices(" on") {
        let rest = &lower[i + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            name.is_empty() || !rest[name.len()..].starts_with('='),
            "inline event handler on{name}= in {path}"
        );
    }
    let scripts: Vec<&str> = lower.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "{path} loads its module");
    for script in scripts {
        let (tag, body) = script.split_once('>').expect("a closed script tag");
        assert!(
            tag.contains("type=\"module\"") && tag.contains(&format!("src=\"{path}/assets/")),
            "a script that is not an external module: <script{tag}>"
        );
        assert!(body.starts_with("</script"), "an inline script body");
    }

    assert!(!assets.is_empty(), "{path} serves assets");
    for file in assets {
        let content_type = match file.rsplit_once('.').map(|(_, ext)| ext) {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected asset kind {other:?}: {file}"),
        };
        let asset = agent
            .get(&format!("{base}{path}/assets/{file}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}/assets/{file}: {e}"));
        assert!(
            asset
                .header("Content-Type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{file} served as {:?}",
            asset.header("Content-Type")
        );
        assert_eq!(asset.header("Cache-Control"), Some("no-store"), "{file}");
        let body = asset.into_string().expect("asset body");
        if file.ends_with(".js") {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!body.contains(sink), "{file} uses {sink}");
            }
        }
    }

    match agent.get(&format!("{base}{path}/assets/nope.js")).call() {
        Err(ureq::Error::Status(404, r)) => {
            assert!(
                r.header("Content-Type")
                    .is_some_and(|t| t.starts_with("text/html"))
            );
        }
        other => panic!("an unknown asset answered {other:?}"),
    }
}

/// Settings of the server under test.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServerOptions {
    /// `jwt_ttl_seconds`.
    pub(crate) jwt_ttl_seconds: u64,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            jwt_ttl_seconds: 3600,
        }
    }
}

/// The real `reference-server` binary, serving on a free loopback port.
pub(crate) struct Server {
    child: Child,
    /// Its API.
    pub(crate) api: Api,
    dir: tempfile::TempDir,
    port: u16,
    options: ServerOptions,
}

impl Server {
    /// The real binary in `dir` on its own SQLite file, serving on `port`: cheap argon2 (m = 1024
    /// KiB, t = 1), the test scope catalogue, no colours in its log.
    fn setup(dir: &Path, port: u16, options: ServerOptions) -> ServerCommand {
        let db = dir.join("db.sqlite");
        ServerCommand::new(
            env!("CARGO_BIN_EXE_reference-server"),
            dir,
            &format!("sqlite://{}?mode=rwc", db.display()),
            "browser-tests-secret-0123456789abcdefghijklmnop",
        )
        .port(port)
        .argon2("{m_cost=1024,t_cost=1,p_cost=1}")
        .env(
            "ROCKET_JWT_TTL_SECONDS",
            options.jwt_ttl_seconds.to_string(),
        )
        .env("ROCKET_SCOPES", SCOPES)
        .env("ROCKET_CLI_COLORS", "false")
    }

    /// Provisions a tenant and a user through the CLI, then starts `serve` and waits until it
    /// answers.
    pub(crate) fn start(options: ServerOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = idunox_test_support::free_port();

        let tenant_id = Self::setup(dir.path(), port, options).provision(TENANT, EMAIL, PASSWORD);
        assert!(!tenant_id.is_empty(), "tenant add printed no id");

        let child = Self::serve(dir.path(), port, options);
        let mut server = Self {
            child,
            api: Api {
                base: format!("http://127.0.0.1:{port}"),
            },
            dir,
            port,
            options,
        };
        server.wait_ready();
        server
    }

    fn serve(dir: &Path, port: u16, options: ServerOptions) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .expect("server.log");
        Self::setup(dir, port, options)
            .command()
            .arg("serve")
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start `reference-server serve`")
    }

    /// Runs the server's CLI on the same configuration and database, with `input` on stdin.
    #[allow(dead_code)] // used by the console's tests and browser_account.rs
    pub(crate) fn cli(&self, args: &[&str], input: &str) -> std::process::Output {
        let mut cmd = Self::setup(self.dir.path(), self.port, self.options).command();
        cmd.args(args);
        idunox_test_support::process::run_with_stdin(cmd, input)
    }

    /// Stops the server process (an outage); [`Server::restart`] brings it back on the same
    /// port and database.
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again after [`Server::stop`] and waits until it answers.
    pub(crate) fn restart(&mut self) {
        self.stop();
        self.child = Self::serve(self.dir.path(), self.port, self.options);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the server exited ({status}) before answering:\n{}",
                    self.log()
                );
            }
            if ureq::get(&format!("{}/v1/partner/config", self.api.base))
                .timeout(Duration::from_secs(2))
                .call()
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer within 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the server wrote so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

/// The server's JSON API, for setting up and checking what the page shows (blocking calls).
#[derive(Clone, Debug)]
pub(crate) struct Api {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
}

impl Api {
    /// `GET /v1/partner/config`.
    pub(crate) fn config(&self) -> Value {
        ureq::get(&format!("{}/v1/partner/config", self.base))
            .call()
            .expect("config")
            .into_json()
            .expect("config JSON")
    }

    /// Signs in through the API and returns a session token.
    pub(crate) fn token(&self) -> String {
        let answer: Value = ureq::post(&format!("{}/v1/partner/auth/login", self.base))
            .send_json(json!({ "email": EMAIL, "password": PASSWORD }))
            .expect("login")
            .into_json()
            .expect("login JSON");
        answer["token"].as_str().expect("token").to_owned()
    }

    /// Creates a key through the API; returns `(credential, plaintext)`.
    pub(crate) fn create_key(
        &self,
        token: &str,
        name: &str,
        validity_days: u32,
    ) -> (Value, String) {
        let answer: Value = ureq::post(&format!("{}/v1/partner/credentials", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(json!({ "name": name, "validity_days": validity_days }))
            .expect("create a key")
            .into_json()
            .expect("create JSON");
        let key = answer["api_key"].as_str().expect("api_key").to_owned();
        (answer["credential"].clone(), key)
    }

    /// Rotates a key through the API.
    pub(crate) fn rotate_key(&self, token: &str, id: &str, grace_hours: u32) -> Value {
        ureq::post(&format!("{}/v1/partner/credentials/{id}/rotate", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .send_json(json!({ "grace_hours": grace_hours }))
            .expect("rotate a key")
            .into_json()
            .expect("rotate JSON")
    }

    /// Revokes a key through the API.
    pub(crate) fn revoke_key(&self, token: &str, id: &str) {
        ureq::post(&format!("{}/v1/partner/credentials/{id}/revoke", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("revoke a key");
    }

    /// Presents a key to the probe endpoint: the HTTP status and the error code, if any.
    pub(crate) fn probe(&self, key: &str) -> (u16, Option<String>) {
        match ureq::get(&format!("{}/v1/partner-auth-probe", self.base))
            .set("X-Api-Key", key)
            .call()
        {
            Ok(r) => (r.status(), None),
            Err(ureq::Error::Status(code, r)) => {
                let body: Value = r.into_json().unwrap_or(Value::Null);
                (code, body["error"]["code"].as_str().map(str::to_owned))
            }
            Err(e) => panic!("probe: {e}"),
        }
    }

    /// One failed sign-in through the API; returns the status.
    pub(crate) fn failed_login(&self) -> u16 {
        match ureq::post(&format!("{}/v1/partner/auth/login", self.base))
            .send_json(json!({ "email": EMAIL, "password": "not the password at all" }))
        {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("login: {e}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ChromeDriver, in its own process group so that it and the Chromium it starts are stopped
/// together by that group's id.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(binary: &Path) -> Self {
        let port = idunox_test_support::free_port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        Self { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is ChromeDriver's own pid: this ends it and the browsers it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where ChromeDriver is, or `None` (with the reason) when this machine has none.
fn chromedriver() -> Result<PathBuf, String> {
    let path = PathBuf::from(
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()),
    );
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: install Chromium and its driver \
             (`apt-get update && apt-get install -y chromium chromium-driver`) \
             or set CHROMEDRIVER",
            path.display()
        ))
    }
}

fn chromium_binary() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Browser settings of one test.
#[derive(Clone, Debug, Default)]
pub(crate) struct BrowserOptions {
    /// Ask the page for `prefers-color-scheme: dark`.
    pub(crate) dark_system_theme: bool,
}

async fn connect(port: u16, profile: &Path, options: &BrowserOptions) -> Client {
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--window-size=1280,1000".to_owned(),
        "--lang=en-US".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    if options.dark_system_theme {
        args.push("--force-dark-mode".to_owned());
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": chromium_binary(), "args": args }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("could not open a Chromium session through ChromeDriver: {e}"),
        }
    }
}

/// Runs one browser scenario against a fresh server: serialised, bounded in time, with a
/// screenshot and the server log on failure. Without ChromeDriver the test returns early, or
/// fails under `CI=true`.
pub(crate) fn browser_test<F, Fut>(
    name: &str,
    server_options: ServerOptions,
    browser_options: BrowserOptions,
    scenario: F,
) where
    F: FnOnce(Page) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let driver_binary = match chromedriver() {
        Ok(path) => path,
        Err(why) => {
            // Under CI=true this fails the test instead of skipping it.
            idunox_test_support::require(false, &format!("browser test `{name}`: {why}"));
            return;
        }
    };
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    let server = Arc::new(Mutex::new(Server::start(server_options)));
    let api = lock(&server).api.clone();
    let profile = tempfile::tempdir().expect("browser profile dir");
    let driver = Driver::start(&driver_binary);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let outcome = runtime.block_on(async {
        let client = connect(driver.port, profile.path(), &browser_options).await;
        let page = Page {
            client: client.clone(),
            base: api.base.clone(),
            api: api.clone(),
            server: Arc::clone(&server),
        };
        let task = tokio::spawn(scenario(page));
        let outcome = tokio::time::timeout(SCENARIO_LIMIT, task).await;
        if !matches!(outcome, Ok(Ok(())))
            && let Ok(png) = client.screenshot().await
        {
            let path = artifacts_dir().join(format!("failure-{name}.png"));
            let _ = std::fs::write(&path, png);
            eprintln!("screenshot of the failure: {}", path.display());
        }
        let _ = client.close().await;
        outcome
    });
    drop(runtime);
    drop(driver);

    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(join)) => {
            eprintln!("server log:\n{}", lock(&server).log());
            match join.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("browser scenario `{name}` failed: {e}"),
            }
        }
        Err(_) => {
            eprintln!("server log:\n{}", lock(&server).log());
            panic!("browser scenario `{name}` took longer than {SCENARIO_LIMIT:?}");
        }
    }
    // Keep the server for the API helpers until here.
    drop(server);
}

/// Locks a mutex, whatever a panicking holder left in it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The page under test and the server behind it.
#[derive(Clone)]
pub(crate) struct Page {
    /// The WebDriver session.
    pub(crate) client: Client,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// The server's API.
    pub(crate) api: Api,
    server: Arc<Mutex<Server>>,
}

impl Page {
    /// Opens a path of the server.
    pub(crate) async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The element matching a CSS selector, waiting for it to exist.
    pub(crate) async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT_LIMIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}`: {e}"))
    }

    /// Clicks the element matching a CSS selector once it is displayed.
    ///
    /// A page that redraws a list when an answer arrives may replace the element between
    /// finding and clicking it ("stale element reference"): the click then goes to the element
    /// now matching the selector, a few times at most.
    pub(crate) async fn click(&self, css: &str) {
        for attempt in 1.. {
            self.wait_until(
                &format!("`{css}` is visible"),
                "const e = document.querySelector(arguments[0]); \
                 return !!e && e.getClientRects().length > 0 && !e.disabled;",
                vec![json!(css)],
            )
            .await;
            // Centre it first, as a person would look at it: WebDriver's own scrolling may
            // leave it under the sticky header.
            self.js(
                "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
                vec![json!(css)],
            )
            .await;
            match self.find(css).await.click().await {
                Ok(_) => return,
                Err(e) if attempt < 3 && e.to_string().contains("stale element") => continue,
                Err(e) => panic!("click `{css}`: {e}"),
            }
        }
    }

    /// Replaces the value of an input by typing.
    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear `{css}`: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Runs a script in the page and returns its value.
    pub(crate) async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// A string-valued script.
    pub(crate) async fn js_string(&self, script: &str, args: Vec<Value>) -> String {
        match self.js(script, args).await {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// The `textContent` of the element matching a selector ("" when absent).
    pub(crate) async fn text(&self, css: &str) -> String {
        self.js_string(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![json!(css)],
        )
        .await
    }

    /// Presses and releases one key on the keyboard (whatever has focus receives it).
    pub(crate) async fn press(&self, key: char) {
        let actions = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(actions)
            .await
            .unwrap_or_else(|e| panic!("press a key: {e}"));
    }

    /// Presses a key while Control is held (e.g. Ctrl+V).
    pub(crate) async fn press_with_control(&self, key: char) {
        let control: char = Key::Control.into();
        let actions = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: control })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: control });
        self.client
            .perform_actions(actions)
            .await
            .unwrap_or_else(|e| panic!("press Ctrl+{key}: {e}"));
    }

    /// Whether an element matching the selector exists and is rendered.
    pub(crate) async fn visible(&self, css: &str) -> bool {
        self.js(
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.getClientRects().length > 0;",
            vec![json!(css)],
        )
        .await
            == json!(true)
    }

    /// Polls a boolean script until it is true, or panics with the description.
    ///
    /// The page says how many of its calls are on their way to the server (`<html
    /// data-requests>`): time spent waiting on the server does not count against
    /// [`WAIT_LIMIT`], so a loaded machine (argon2 at sign-in, a slow list) slows the test down
    /// instead of failing it. Only time the page spends idle without getting there counts; the
    /// whole scenario stays bounded by [`SCENARIO_LIMIT`].
    pub(crate) async fn wait_until(&self, what: &str, script: &str, args: Vec<Value>) {
        let wrapped = format!(
            "const done = (function () {{ {script} }}).apply(null, arguments); \
             return [done === true, Number(document.documentElement.dataset.requests || 0) > 0];"
        );
        let mut idle = Duration::ZERO;
        let mut last = Instant::now();
        loop {
            let answer = self.js(&wrapped, args.clone()).await;
            if answer[0] == json!(true) {
                return;
            }
            let now = Instant::now();
            if answer[1] != json!(true) {
                idle += now - last;
            }
            last = now;
            assert!(idle < WAIT_LIMIT, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until none of the page's calls is on its way to the server (`<html data-requests>`),
    /// e.g. the sign-out it sends after it has already shown the sign-in form.
    #[allow(dead_code)] // used by browser_account.rs and admin_browser.rs
    pub(crate) async fn wait_idle(&self) {
        self.wait_until(
            "the page has no call on its way",
            "return Number(document.documentElement.dataset.requests || 0) === 0;",
            vec![],
        )
        .await;
    }

    /// Waits until the element matching the selector is rendered.
    pub(crate) async fn wait_visible(&self, css: &str) {
        self.wait_until(
            &format!("`{css}` is visible"),
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.getClientRects().length > 0;",
            vec![json!(css)],
        )
        .await;
    }

    /// Waits until the element matching the selector has this text (trimmed) in it.
    pub(crate) async fn wait_text(&self, css: &str, needle: &str) {
        self.wait_until(
            &format!("`{css}` contains {needle:?}"),
            "const e = document.querySelector(arguments[0]); \
             return !!e && e.textContent.includes(arguments[1]);",
            vec![json!(css), json!(needle)],
        )
        .await;
    }

    /// The id of the focused element.
    pub(crate) async fn focused_id(&self) -> String {
        self.js_string(
            "return document.activeElement ? document.activeElement.id : null;",
            vec![],
        )
        .await
    }

    /// Signs in through the form and waits for the key list.
    pub(crate) async fn sign_in(&self) {
        self.goto("/partner").await;
        self.wait_visible("#signin-form").await;
        self.fill("#signin-email", EMAIL).await;
        self.fill("#signin-password", PASSWORD).await;
        self.click("#signin-submit").await;
        self.wait_visible("#keys-view").await;
        self.wait_until(
            "the key list has loaded",
            "return document.getElementById('keys-loading').hidden;",
            vec![],
        )
        .await;
    }

    /// Reloads the page and waits for the key list to load again.
    pub(crate) async fn reload_list(&self) {
        self.client.refresh().await.expect("reload");
        self.wait_visible("#keys-view").await;
        self.wait_until(
            "the key list has loaded",
            "return document.getElementById('keys-loading').hidden;",
            vec![],
        )
        .await;
    }

    /// A CSS selector for the row of a credential id.
    pub(crate) fn row(id: &str) -> String {
        format!("#keys-body tr[data-id=\"{id}\"]")
    }

    /// The id of the first row whose name is exactly `name` and whose status is `status`.
    pub(crate) async fn row_id(&self, name: &str, status: &str) -> String {
        self.js_string(
            "for (const tr of document.querySelectorAll('#keys-body tr')) { \
               if (tr.querySelector('.key-name').textContent === arguments[0] \
                   && tr.dataset.status === arguments[1]) return tr.dataset.id; } \
             return null;",
            vec![json!(name), json!(status)],
        )
        .await
    }

    /// The status shown for a credential id (the row's badge).
    pub(crate) async fn row_status(&self, id: &str) -> String {
        self.js_string(
            "const tr = document.querySelector(arguments[0]); \
             return tr ? tr.querySelector('.badge').dataset.status : null;",
            vec![json!(Self::row(id))],
        )
        .await
    }

    /// Whether the plaintext appears anywhere the page keeps text: markup, text, input values,
    /// the selection and both storages.
    pub(crate) async fn holds_text(&self, needle: &str) -> bool {
        self.js(
            "const n = arguments[0]; \
             const inputs = [...document.querySelectorAll('input, textarea')].map(i => i.value); \
             const storage = [sessionStorage, localStorage].flatMap(s => \
               Object.keys(s).map(k => k + '=' + s.getItem(k))); \
             const sel = String(window.getSelection()); \
             return [document.documentElement.outerHTML, document.body.innerText, sel, \
                     ...inputs, ...storage].some(t => t.includes(n));",
            vec![json!(needle)],
        )
        .await
            == json!(true)
    }

    /// Saves a screenshot of the page to `test-artifacts/<name>.png` and returns its path.
    pub(crate) async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Replaces the stored session token with one the server refuses (a tampered signature).
    pub(crate) async fn tamper_token(&self) {
        self.tamper_stored_token("idunox.portal.session").await;
    }

    /// Reverses the signature of the token stored in `sessionStorage` under `key`.
    pub(crate) async fn tamper_stored_token(&self, key: &str) {
        self.js(
            "const s = JSON.parse(sessionStorage.getItem(arguments[0])); \
             const parts = s.token.split('.'); \
             parts[2] = parts[2].split('').reverse().join(''); \
             s.token = parts.join('.'); \
             sessionStorage.setItem(arguments[0], JSON.stringify(s));",
            vec![json!(key)],
        )
        .await;
    }

    /// Whether a dialog (by id) is open.
    pub(crate) async fn dialog_open(&self, id: &str) -> bool {
        self.js(
            "const d = document.getElementById(arguments[0]); return !!d && d.open;",
            vec![json!(id)],
        )
        .await
            == json!(true)
    }

    /// Waits until a dialog (by id) is closed or gone.
    pub(crate) async fn wait_dialog_closed(&self, id: &str) {
        self.wait_until(
            &format!("#{id} closed"),
            "const d = document.getElementById(arguments[0]); return !d || !d.open;",
            vec![json!(id)],
        )
        .await;
    }

    /// Whether the element matching a selector has focus.
    pub(crate) async fn has_focus(&self, css: &str) -> bool {
        self.js(
            "return document.activeElement === document.querySelector(arguments[0]);",
            vec![json!(css)],
        )
        .await
            == json!(true)
    }

    /// Whether the field is marked invalid and described by a visible error saying `needle`.
    pub(crate) async fn field_marked_invalid(&self, id: &str, needle: &str) -> bool {
        self.js(
            "const input = document.getElementById(arguments[0]); \
             if (!input || input.getAttribute('aria-invalid') !== 'true') return false; \
             const ids = (input.getAttribute('aria-describedby') || '').split(/\\s+/); \
             return ids.some(id => { const e = document.getElementById(id); \
               return !!e && !e.hidden && e.textContent.includes(arguments[1]); });",
            vec![json!(id), json!(needle)],
        )
        .await
            == json!(true)
    }

    /// Runs the server's CLI (`reference-server <args>`) on its configuration and database.
    #[allow(dead_code)] // used by the console's tests and browser_account.rs
    pub(crate) fn cli(&self, args: &[&str], input: &str) -> std::process::Output {
        lock(&self.server).cli(args, input)
    }

    /// Stops the server (an outage) until [`Page::restart_server`].
    pub(crate) fn stop_server(&self) {
        lock(&self.server).stop();
    }

    /// Starts the server again on the same port and database.
    pub(crate) fn restart_server(&self) {
        lock(&self.server).restart();
    }

    /// The `value` of the input matching a selector ("" when absent).
    pub(crate) async fn value(&self, css: &str) -> String {
        self.js_string(
            "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
            vec![json!(css)],
        )
        .await
    }

    /// Resizes the browser so that the page's viewport is `width` CSS pixels wide.
    pub(crate) async fn set_viewport_width(&self, width: u32) {
        let height = 900;
        let target = i64::from(width);
        let mut outer = target;
        for _ in 0..6 {
            self.client
                .set_window_size(u32::try_from(outer).expect("width"), height)
                .await
                .expect("resize the window");
            // A resize reaches the page a little later: read its width until it holds still.
            let mut inner = -1;
            for _ in 0..40 {
                let now = self.js("return window.innerWidth;", vec![]).await;
                let now = now.as_i64().expect("innerWidth");
                if now == inner {
                    break;
                }
                inner = now;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if inner == target {
                return;
            }
            // The window has borders in some modes: correct by what the page reports.
            outer = (outer + target - inner).max(200);
        }
        panic!("the viewport did not become {width} px wide");
    }

    /// The controls on screen smaller than 44 × 44 CSS pixels (buttons, selects, button-like
    /// links, navigation links, search fields), by id or text with their size.
    pub(crate) async fn small_targets(&self) -> Vec<Value> {
        self.js(
            "return [...document.querySelectorAll('button, select, a.button, a.nav-link, \
               a.section-link, input[type=search]')] \
               .filter(e => e.getClientRects().length && !e.closest('[hidden]') \
                 && !(e.closest('dialog') && !e.closest('dialog').open)) \
               .map(e => { const r = e.getBoundingClientRect(); \
                 return { el: e.id || e.textContent.trim(), w: Math.round(r.width), h: Math.round(r.height) }; }) \
               .filter(t => t.w < 44 || t.h < 44);",
            vec![],
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Opens the account menu and signs out through it; waits for the sign-in form.
    pub(crate) async fn sign_out(&self) {
        self.click("#account-button").await;
        self.click("#sign-out").await;
        self.wait_visible("#signin-form").await;
    }

    /// Chooses a theme in the header: `system`, `light` or `dark`.
    pub(crate) async fn choose_theme(&self, choice: &str) {
        let select = self.find("#theme-select").await;
        select
            .select_by_value(choice)
            .await
            .unwrap_or_else(|e| panic!("choose the {choice} theme: {e}"));
        self.wait_until(
            &format!("the theme choice is {choice}"),
            "return document.documentElement.dataset.themeChoice === arguments[0];",
            vec![json!(choice)],
        )
        .await;
    }

    /// Runs axe-core on the page as it is and returns its violations (an empty list when
    /// clean), or `None` when axe-core is not installed (`npm ci` in `tests/axe/`), which
    /// fails under `CI=true`.
    pub(crate) async fn axe(&self) -> Option<Vec<Value>> {
        let source = axe_source()?;
        let loaded = self
            .js("return typeof window.axe === 'object';", vec![])
            .await;
        if loaded != json!(true) {
            // WebDriver runs scripts outside the page's Content-Security-Policy: the page
            // itself never loads axe.
            self.js(&format!("{source}\n;return true;"), vec![]).await;
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 axe.run(document, { resultTypes: ['violations'] }) \
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, \
                     help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ': ' \
                       + n.failureSummary) })))) \
                   .catch(e => done([{ id: 'axe-error', help: String(e) }]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        Some(result.as_array().cloned().unwrap_or_default())
    }

    /// Asserts that axe-core finds nothing on the page as it is (skips without axe-core,
    /// except under `CI=true`).
    pub(crate) async fn assert_accessible(&self, view: &str) {
        if let Some(violations) = self.axe().await {
            assert!(
                violations.is_empty(),
                "axe-core violations on {view}:\n{}",
                serde_json::to_string_pretty(&violations).unwrap_or_default()
            );
        }
    }
}

/// `tests/axe/node_modules/axe-core/axe.min.js`, read once; `None` (or a failure under
/// `CI=true`) when `npm ci` has not been run in `tests/axe/`.
fn axe_source() -> Option<&'static str> {
    static SOURCE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/axe/node_modules/axe-core/axe.min.js");
            match std::fs::read_to_string(&path) {
                Ok(source) => Some(source),
                Err(e) => {
                    idunox_test_support::require(
                        false,
                        &format!(
                            "axe-core missing at {} ({e}): run `npm ci` in reference-server/tests/axe",
                            path.display()
                        ),
                    );
                    None
                }
            }
        })
        .as_deref()
}
