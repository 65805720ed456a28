//! A child process under test: started from a [`Command`], its stdout and stderr read line by
//! line on two threads, ready once it prints a marker line, killed and reaped when dropped.
//!
//! ```no_run
//! use std::process::Command;
//! use idunox_test_support::process::Spawned;
//!
//! let mut cmd = Command::new("reference-server");
//! cmd.arg("serve").env("ROCKET_PORT", "0");
//! let server = Spawned::start("portal", cmd, "listening on ");
//! println!("{}", server.url("/v1/partner/config")); // http://127.0.0.1:<port>/v1/partner/config
//! let log = server.stop();                          // every line it printed
//! # let _ = log;
//! ```

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long [`Spawned::start`] waits for the marker line.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running child process; killed (and reaped) on drop.
pub struct Spawned {
    /// A short name for messages.
    pub name: &'static str,
    /// What followed the marker on its line, trimmed (e.g. `http://127.0.0.1:41234`).
    pub base: String,
    child: Child,
    seen: Arc<Mutex<Vec<String>>>,
    /// Lines not yet handed out by `start` or `next_line` (behind a lock so the handle is `Sync`).
    after: Mutex<Receiver<String>>,
}

impl Spawned {
    /// Start `cmd` (stdin closed, stdout and stderr captured) and wait up to [`START_TIMEOUT`]
    /// for a line containing `marker`; what follows the marker becomes [`base`](Self::base).
    ///
    /// # Panics
    /// When the process cannot start, or exits or stays silent without printing the marker;
    /// the message holds everything it printed.
    pub fn start(name: &'static str, mut cmd: Command, marker: &str) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let outputs: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("piped stdout")),
            Box::new(child.stderr.take().expect("piped stderr")),
        ];
        for out in outputs {
            let (tx, seen) = (tx.clone(), Arc::clone(&seen));
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    seen.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(line.clone());
                    // The test may have stopped listening; keep draining the pipe.
                    let _ = tx.send(line);
                }
            });
        }
        let mut spawned = Self {
            name,
            base: String::new(),
            child,
            seen,
            after: Mutex::new(rx),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        spawned.base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = spawned.receiver().recv_timeout(left) else {
                panic!("{name} did not start: {:#?}", spawned.output());
            };
            if let Some(rest) = line.split(marker).nth(1) {
                break rest.trim().to_owned();
            }
        };
        spawned
    }

    /// The operating system's process id (e.g. to read `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `base` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next line printed after the marker line (or after the last one returned here), if
    /// one comes within `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.receiver().recv_timeout(timeout).ok()
    }

    fn receiver(&self) -> std::sync::MutexGuard<'_, Receiver<String>> {
        self.after.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every line printed so far, stdout and stderr interleaved as they arrived.
    pub fn output(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Kill the process, wait for it, and return every line it printed.
    pub fn stop(mut self) -> Vec<String> {
        self.kill();
        // The reader threads end at end of file; give them a moment to hand over the rest.
        let deadline = Instant::now() + Duration::from_secs(2);
        while self
            .receiver()
            .recv_timeout(Duration::from_millis(50))
            .is_ok()
            && Instant::now() < deadline
        {}
        self.output()
    }

    /// Send the process a signal by name (`TERM`, `INT`), with the system's `kill`.
    ///
    /// # Panics
    /// When `kill` cannot be run or refuses (the process is gone).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("run kill -s {name}: {e}"));
        assert!(status.success(), "kill -s {name} {} failed", self.name);
    }

    /// Wait up to `timeout` for the process to exit by itself; its exit status, or `None` when
    /// it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait up to `timeout` for a line containing `text` among the lines not yet handed out;
    /// the line, or `None`.
    pub fn wait_for_line(&self, text: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_line(left)?;
            if line.contains(text) {
                return Some(line);
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run `cmd` to completion with `input` written to its standard input (stdout and stderr
/// captured), e.g. `reference-server user add … --password-stdin`.
///
/// # Panics
/// When the process cannot be started or its stdin cannot be written.
pub fn run_with_stdin(mut cmd: Command, input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for the process")
}
