//! A throwaway PostgreSQL cluster for tests.
//!
//! [`admin_url`] returns `IDUNOX_TEST_POSTGRES_URL` when set; otherwise, when Debian's
//! `postgresql` binaries are installed, it starts one [`OwnedCluster`] per test process in a
//! temporary directory on a free loopback port (trust auth, `fsync=off`), shared by the process's
//! tests. A cluster lives at most as long as the test process: `postgres` runs under a small shell
//! that reads commands from a pipe from this process and, when the pipe closes, stops the server
//! and deletes its directory, so nothing is left behind even when a test panics.
//!
//! [`fresh_database`] creates an empty database per test, so tests never see each other's rows.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Environment variable naming an existing server's admin URL
/// (e.g. `postgres://postgres@127.0.0.1:55432/postgres`).
pub const ENV: &str = "IDUNOX_TEST_POSTGRES_URL";

/// The cluster [`admin_url`] shares with every test of this process: an [`OwnedCluster`] that is
/// never stopped by hand, so it lives until the process ends.
static CLUSTER: OnceLock<Option<OwnedCluster>> = OnceLock::new();

/// The directory holding `initdb` and `postgres`, newest version first.
fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Run `program args…` as the `postgres` user when we are root (initdb refuses root).
fn as_pg_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Run one SQL statement through `psql`.
///
/// # Errors
/// `psql`'s standard error when it fails or cannot be started.
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The admin URL of a PostgreSQL server for tests, starting a throwaway one if needed.
/// `None` when there is none and none can be started (under `CI=true` that panics instead).
///
/// # Panics
/// Under `CI=true` when no server is available.
pub fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var(ENV)
        && !url.is_empty()
    {
        return Some(url);
    }
    let cluster = CLUSTER.get_or_init(OwnedCluster::try_start).as_ref();
    crate::require(
        cluster.is_some(),
        "PostgreSQL is not available: install Debian's `postgresql` or set IDUNOX_TEST_POSTGRES_URL",
    )
    .then(|| cluster.map(|c| c.admin_url().to_owned()))
    .flatten()
}

/// Create an empty database on the server at `admin_url` and return its URL.
///
/// # Panics
/// When the database cannot be created.
pub fn fresh_database(admin_url: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("t_{}_{}_{}", std::process::id(), nanos, n);
    psql(admin_url, &format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{admin_url}/{name}"),
    }
}

/// A PostgreSQL cluster owned by one test, which it may stop and start again (a fault test
/// does, mid-traffic). Unlike [`admin_url`]'s shared cluster, nothing else uses it.
///
/// It runs under a small keeper shell that takes `stop` / `start` lines on its standard input
/// (from this process) and, when that pipe closes — the handle dropped, or the test process
/// gone, even by a panic or a kill — stops the server (immediate shutdown) and deletes its
/// directory. The port stays the same across restarts, so clients reconnect to the same URL.
pub struct OwnedCluster {
    url: String,
    keeper: Mutex<Keeper>,
}

struct Keeper {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl OwnedCluster {
    /// Start a fresh cluster on a free loopback port. `None` when PostgreSQL is not installed
    /// (under `CI=true` that panics instead).
    ///
    /// # Panics
    /// Under `CI=true` when no cluster can be started.
    pub fn start() -> Option<Self> {
        let cluster = Self::try_start();
        crate::require(
            cluster.is_some(),
            "PostgreSQL is not available: install Debian's `postgresql` to run this test",
        )
        .then_some(cluster)
        .flatten()
    }

    fn try_start() -> Option<Self> {
        use std::io::BufRead;
        let bin = bin_dir()?;
        let dir = std::env::temp_dir().join(format!(
            "idunox-pg-owned-{}-{}",
            std::process::id(),
            crate::free_port()
        ));
        std::fs::create_dir_all(&dir).ok()?;
        if is_root()
            && !Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success())
        {
            return None;
        }
        let init = as_pg_user(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .ok()?;
        if !init.status.success() {
            eprintln!("initdb failed: {}", String::from_utf8_lossy(&init.stderr));
            return None;
        }
        let port = crate::free_port();
        let script = r#"
            up() {
                "$1/pg_ctl" -D "$2/data" -l "$2/log" -w -t 30 -o "-p $3 -k $2 \
                    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                    -c full_page_writes=off -c max_connections=400" start >/dev/null 2>&1
            }
            down() { "$1/pg_ctl" -D "$2/data" -m "$4" -w -t 30 stop >/dev/null 2>&1; }
            up "$@"; echo started
            while read -r cmd; do
                case "$cmd" in
                    stop) down "$1" "$2" "$3" fast; echo stopped ;;
                    start) up "$@"; echo started ;;
                esac
            done
            down "$1" "$2" "$3" immediate
            rm -rf "$2"
        "#;
        let mut child = as_pg_user(Path::new("/bin/sh"))
            .args(["-c", script, "pg-owned-keeper"])
            .arg(&bin)
            .arg(&dir)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let mut stdout = std::io::BufReader::new(child.stdout.take()?);
        let mut line = String::new();
        stdout.read_line(&mut line).ok()?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let cluster = Self {
            url,
            keeper: Mutex::new(Keeper {
                child,
                stdin: Some(stdin),
                stdout,
            }),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if psql(&cluster.url, "SELECT 1").is_ok() {
                return Some(cluster);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "postgres did not come up: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        None
    }

    /// The admin URL (database `postgres`); [`fresh_database`] makes a test database on it.
    pub fn admin_url(&self) -> &str {
        &self.url
    }

    fn command(&self, cmd: &str, answer: &str) {
        use std::io::{BufRead, Write};
        let mut k = self
            .keeper
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stdin = k.stdin.as_mut().expect("the PostgreSQL keeper is gone");
        writeln!(stdin, "{cmd}").expect("the PostgreSQL keeper is gone");
        stdin.flush().expect("the PostgreSQL keeper is gone");
        let mut line = String::new();
        k.stdout
            .read_line(&mut line)
            .expect("the PostgreSQL keeper is gone");
        assert_eq!(line.trim(), answer, "PostgreSQL keeper: {cmd}");
    }

    /// Stop the server (fast shutdown: open sessions are ended), waiting until it is down.
    ///
    /// # Panics
    /// When the keeper shell is gone.
    pub fn stop(&self) {
        self.command("stop", "stopped");
    }

    /// Start it again on the same port and data, waiting until it accepts connections.
    ///
    /// # Panics
    /// When the keeper shell is gone or the server does not come back within 30 s.
    pub fn start_again(&self) {
        self.command("start", "started");
        let deadline = Instant::now() + Duration::from_secs(30);
        while psql(&self.url, "SELECT 1").is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not come back");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for OwnedCluster {
    fn drop(&mut self) {
        let k = self
            .keeper
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Closing its stdin tells the keeper to stop the server and delete the directory.
        drop(k.stdin.take());
        let _ = k.child.wait();
    }
}
