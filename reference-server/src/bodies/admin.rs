//! The JSON bodies of the admin API that create accounts (tenant create, user provision) and the
//! tenant-name rule. No Rocket here: the fuzz crate compiles this file by path.

use serde::Deserialize;

/// The most characters of a tenant name.
pub const MAX_NAME_CHARS: usize = 100;

/// `POST /v1/admin/tenants` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// The name as sent ([`check_name`] judges it).
    pub name: String,
}

/// `POST /v1/admin/tenants/<tid>/users` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// The email as sent (the route checks and normalises it).
    pub email: String,
}

/// A tenant name: at most [`MAX_NAME_CHARS`] characters as sent, no control characters anywhere,
/// not blank; returned trimmed.
///
/// # Errors
/// A sentence saying what is wrong.
pub fn check_name(name: &str) -> Result<&str, String> {
    if name.chars().any(char::is_control) {
        return Err("The tenant name must not contain control characters.".to_owned());
    }
    let trimmed = name.trim();
    if trimmed.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "The tenant name must have 1 to {MAX_NAME_CHARS} characters."
        ));
    }
    Ok(trimmed)
}
