//! Request guards shared by the routes: the JSON body ([`body`]), the query string
//! ([`query`]) and the client's address ([`client_ip`]). The session guards live with the rest of sign-in in [`crate::auth::session`],
//! the `X-Api-Key` guard in [`crate::auth::api_key`].

pub mod body;
pub mod client_ip;
pub mod query;

pub use body::{Body, Payload};
pub use client_ip::{ClientAddress, ClientIp};
pub use query::QueryParams;
