//! The JSON bodies that carry a password: partner sign-in, staff sign-in and the password
//! change. `Debug` never shows a password or a code. No Rocket here: the fuzz crate compiles this
//! file by path.

use serde::Deserialize;

/// `POST /v1/partner/auth/login`. `Debug` hides the password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The email as sent (normalised by the route).
    pub email: String,
    /// The password as sent.
    pub password: String,
}

impl core::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/admin/auth/login`. `Debug` shows only the email.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffLoginRequest {
    /// The email as sent (normalised by the route).
    pub email: String,
    /// The password as sent.
    pub password: String,
    /// The TOTP code, when the staff member has one.
    #[serde(default)]
    pub totp: Option<String>,
}

impl core::fmt::Debug for StaffLoginRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StaffLoginRequest")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/partner/me/password`. `Debug` shows neither password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in use.
    pub current_password: String,
    /// The password wanted (checked by the password rules).
    pub new_password: String,
}

impl core::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}
