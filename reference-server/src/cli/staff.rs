//! Staff accounts from the command line: `staff add` (an account with a password and a TOTP
//! enrolment shown once), `staff disable` / `staff enable`, and the demo staff account of
//! `serve --demo`.
//!
//! `staff add` prints, on standard output, the staff id as its first line, then the TOTP secret
//! (base32, for typing into an authenticator app), the `otpauth://totp/` URI (what a QR code
//! carries), the password when it generated one — each shown this once — and, only when standard
//! output is a terminal, a QR code of the URI drawn with text characters. The server keeps the
//! secret sealed ([`crate::auth::totp_seal`]), so it must have a key it will still have after a
//! restart: `staff_totp_key`, or a configured `jwt_secret`; without either `staff add` refuses.

use std::fmt::Write as _;

use rocket::figment::Figment;
use zeroize::Zeroizing;

use super::{CliError, check_email, check_password, hash_password, now, open};
use crate::auth::totp::TotpSecret;
use crate::auth::totp_seal::TotpSeal;
use crate::config::{ServerConfig, TotpKeySource};
use crate::db::SqlDb;
use crate::db::staff::{Staff, new_staff_id};

/// The demo staff account's email (`serve --demo`).
pub const DEMO_STAFF_EMAIL: &str = "staff@example.com";

/// A staff account just made, with its TOTP secret (to show once).
#[derive(Debug)]
pub struct Enrolled {
    /// The account.
    pub staff: Staff,
    /// Its TOTP secret.
    pub secret: TotpSecret,
}

/// A staff email: an email (see [`check_email`]) without `:` (an `otpauth://` label cannot hold
/// one).
///
/// # Errors
/// When it does not look like an email or holds a `:`.
pub fn check_staff_email(email: &str) -> Result<String, CliError> {
    let e = check_email(email)?;
    if e.contains(':') {
        return Err(CliError::Invalid(format!(
            "{email:?}: a staff email must not contain ':' (authenticator apps cannot show it)"
        )));
    }
    Ok(e)
}

fn seal_of(config: &ServerConfig) -> Result<TotpSeal, CliError> {
    if config.staff_totp_key_source == TotpKeySource::Ephemeral {
        return Err(CliError::Invalid(
            "set staff_totp_key (or jwt_secret) in the configuration first: staff TOTP secrets \
             are sealed with it, and the server must read them after a restart"
                .into(),
        ));
    }
    Ok(TotpSeal::new(&config.staff_totp_key))
}

/// Hash `password`, draw a TOTP secret and seal it for a new staff id.
async fn credentials(
    config: &ServerConfig,
    seal: &TotpSeal,
    staff_id: &str,
    password: &str,
) -> Result<(String, TotpSecret, String), CliError> {
    let hash = hash_password(config, password).await?;
    let secret = TotpSecret::generate()
        .map_err(|e| CliError::Invalid(format!("no randomness for the TOTP secret: {e}")))?;
    let sealed = seal
        .seal(staff_id, &secret)
        .map_err(|e| CliError::Invalid(format!("no randomness to seal the TOTP secret: {e}")))?;
    Ok((hash, secret, sealed))
}

/// `staff add`: create a staff account with this password (checked here).
///
/// # Errors
/// A malformed email, a weak password, a taken email, no durable sealing key, configuration or
/// database errors.
pub async fn staff_add(
    figment: &Figment,
    email: &str,
    password: &str,
) -> Result<Enrolled, CliError> {
    let email = check_staff_email(email)?;
    check_password(password)?;
    let (config, db) = open(figment).await?;
    let seal = seal_of(&config)?;
    let id = new_staff_id();
    let (hash, secret, sealed) = credentials(&config, &seal, &id, password).await?;
    let staff = db.create_staff(&id, &email, &hash, &sealed, now()).await?;
    Ok(Enrolled { staff, secret })
}

/// `staff disable` / `staff enable`: disabling ends every session of the account at once.
///
/// # Errors
/// An unknown email, configuration or database errors.
pub async fn staff_set_disabled(
    figment: &Figment,
    email: &str,
    disabled: bool,
) -> Result<Staff, CliError> {
    let (_, db) = open(figment).await?;
    Ok(db.set_staff_disabled(email, disabled, now()).await?)
}

/// What `staff add` prints: the id first, then the TOTP secret and URI, the generated password
/// if any, and the QR code when `terminal`.
pub fn enrolment_text(
    enrolled: &Enrolled,
    generated_password: Option<&str>,
    terminal: bool,
) -> Zeroizing<String> {
    let uri = enrolled.secret.uri(&enrolled.staff.email);
    let mut out = Zeroizing::new(String::new());
    let _ = writeln!(out, "{}", enrolled.staff.id);
    let _ = writeln!(
        out,
        "totp secret: {} (base32; shown once)",
        enrolled.secret.base32().as_str()
    );
    let _ = writeln!(out, "totp uri:    {} (shown once)", uri.as_str());
    if let Some(password) = generated_password {
        let _ = writeln!(out, "password:    {password} (shown once)");
    }
    if terminal {
        let _ = writeln!(out, "\nScan with an authenticator app:\n");
        out.push_str(&qr_text(uri.as_str()));
    }
    out
}

/// A QR code of `data` drawn with half-block characters (two modules per character), light on
/// dark as terminals show them; empty when `data` is too long for a QR code.
pub fn qr_text(data: &str) -> Zeroizing<String> {
    use qrcode::render::unicode::Dense1x2;
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return Zeroizing::new(String::new());
    };
    let mut drawn = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    drawn.push('\n');
    Zeroizing::new(drawn)
}

/// Provision (or renew) the demo staff account with a fresh password and TOTP secret, sealed
/// with `seal` (the server's own, so it works even with an ephemeral key).
///
/// # Errors
/// Database, hashing or randomness errors.
pub async fn provision_demo_staff(
    config: &ServerConfig,
    db: &SqlDb,
    seal: &TotpSeal,
) -> Result<(Enrolled, Zeroizing<String>), CliError> {
    let password = super::generate_password();
    let existing = db.staff_by_email(DEMO_STAFF_EMAIL).await?;
    let id = existing
        .as_ref()
        .map_or_else(new_staff_id, |s| s.id.clone());
    let (hash, secret, sealed) = credentials(config, seal, &id, &password).await?;
    let staff = match existing {
        Some(mut staff) => {
            db.reset_staff_credentials(&id, &hash, &sealed).await?;
            if staff.disabled {
                staff = db
                    .set_staff_disabled(DEMO_STAFF_EMAIL, false, now())
                    .await?;
            }
            staff
        }
        None => {
            db.create_staff(&id, DEMO_STAFF_EMAIL, &hash, &sealed, now())
                .await?
        }
    };
    db.clear_sign_in_throttle(crate::auth::throttle::Realm::Staff, DEMO_STAFF_EMAIL)
        .await?;
    Ok((Enrolled { staff, secret }, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_text_and_bounded() {
        let qr = qr_text("otpauth://totp/Idunox:a%40b.test?secret=AAAA&issuer=Idunox");
        assert!(qr.lines().count() > 10);
        assert!(
            qr.chars()
                .all(|c| matches!(c, ' ' | '\u{2580}' | '\u{2584}' | '\u{2588}' | '\n'))
        );
        assert!(qr_text(&"x".repeat(10_000)).is_empty());
    }

    #[test]
    fn staff_emails_have_no_colon() {
        assert_eq!(
            check_staff_email(" Ops@Idunox.test ").unwrap(),
            "ops@idunox.test"
        );
        assert!(check_staff_email("a:b@idunox.test").is_err());
    }
}
