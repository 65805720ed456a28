#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
mod event;
pub mod extract;
pub mod future;
pub mod layer;
pub mod refusal;
pub mod scope;
pub mod service;

pub use client::{PeerAddr, client_addr};
pub use extract::{MissingVerifiedKey, Verified};
pub use future::ResponseFuture;
pub use layer::ApiKeyLayer;
pub use refusal::{JsonRefusal, OnRefusal, error_response};
pub use scope::{RequireScope, RequireScopeService, ScopeFuture};
pub use service::ApiKeyService;

/// The core crate, whose [`Verifier`](idunox_keys::Verifier) and
/// [`VerifiedKey`](idunox_keys::VerifiedKey) this crate's API speaks.
pub use idunox_keys;
