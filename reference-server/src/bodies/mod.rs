//! The JSON request bodies the server parses, and the pure rules that judge them, kept free of
//! Rocket so the fuzz crate (`fuzz/`) can compile [`credentials`], [`sign_in`], [`admin`],
//! [`email`] and [`shape`] by path and feed them arbitrary bytes. The routes read them through
//! [`Body`](crate::guards::Body); this module says how ([`Payload`]).

pub mod admin;
pub mod credentials;
pub mod email;
pub mod shape;
pub mod sign_in;

use crate::guards::Payload;

impl Payload for credentials::CreateRequest {
    const EMPTY_IS_OBJECT: bool = true;
}
impl Payload for credentials::RotateRequest {}
impl Payload for credentials::PatchRequest {}
impl Payload for sign_in::LoginRequest {
    const SENSITIVE: bool = true;
}
impl Payload for sign_in::StaffLoginRequest {
    const SENSITIVE: bool = true;
}
impl Payload for sign_in::PasswordChange {
    const SENSITIVE: bool = true;
}
impl Payload for admin::NewTenant {}
impl Payload for admin::NewUserRequest {}
