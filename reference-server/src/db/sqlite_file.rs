//! A SQLite database file the server or its CLI creates is readable and writable by its owner
//! only (mode 0600): it holds password and key hashes, sessions and the audit trail.
//!
//! SQLite would create a missing file with mode 0644 (less the umask). So before the pool opens a
//! `sqlite:` URL whose `mode` is `rwc`, [`create_private`] creates the missing file itself, empty
//! (SQLite reads an empty file as an empty database) and with mode 0600; SQLite gives its journal
//! and WAL files the mode of the database file. An existing file is left as it is, with a warning
//! when others may read it. In-memory databases and other URLs are untouched.
//!
//! ```
//! use reference_server::db::sqlite_file::file_to_create;
//! assert_eq!(
//!     file_to_create("sqlite://data/idunox.sqlite?mode=rwc").unwrap().to_str(),
//!     Some("data/idunox.sqlite")
//! );
//! assert!(file_to_create("sqlite://idunox.sqlite?mode=ro").is_none());
//! assert!(file_to_create("sqlite::memory:").is_none());
//! assert!(file_to_create("postgres://db/idunox").is_none());
//! ```

use std::path::PathBuf;

use rocket::http::RawStr;

/// The file a SQLite URL would have SQLite create (`mode=rwc`), if any. The path is read as
/// sqlx reads it: after `sqlite://` or `sqlite:`, up to `?`, percent-decoded.
pub fn file_to_create(url: &str) -> Option<PathBuf> {
    if super::Backend::from_url(url) != Some(super::Backend::Sqlite) {
        return None;
    }
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let creates = params
        .split('&')
        .any(|p| p.eq_ignore_ascii_case("mode=rwc"));
    if !creates || path.is_empty() || path == ":memory:" {
        return None;
    }
    let decoded = RawStr::new(path).percent_decode().ok()?;
    Some(PathBuf::from(decoded.as_ref()))
}

/// Create the file of a SQLite `url` with mode 0600 when it is missing (see the [module
/// docs](self)); warn on stderr when an existing one is readable by group or others.
///
/// # Errors
/// When the file cannot be created (a missing directory, no permission).
pub fn create_private(url: &str) -> std::io::Result<()> {
    let Some(path) = file_to_create(url) else {
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            warn_if_shared(&path);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "the database file {} can be read by other users (mode {:o}); it holds \
             password and key hashes: `chmod 600` it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &std::path::Path) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_missing_files_0600_and_leaves_existing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a b.sqlite");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("a%20b.sqlite").display()
        );
        create_private(&url).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private(&url).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "an existing file is not changed");
        assert!(
            create_private(&format!(
                "sqlite://{}/missing/x.sqlite?mode=rwc",
                dir.path().display()
            ))
            .is_err()
        );
    }
}
