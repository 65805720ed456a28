#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base62;
mod blocking;
mod cache;
pub mod clock;
mod credential;
mod error;
mod generate;
pub mod hash;
pub mod key;
pub mod lifecycle;
pub mod status;
pub mod store;
mod tenant;
pub mod verify;

pub use clock::{Clock, ManualClock, SystemClock};
pub use credential::Credential;
pub use error::{
    FormatError, HashError, ManageError, ParseError, RandomnessError, Refusal, StoreError,
};
pub use hash::{HashParams, SecretHasher};
pub use key::{ApiKey, KeyFormat, KeyId, PresentedKey};
pub use lifecycle::{Issued, KeyManager, Policy, Rotated};
pub use status::Status;
pub use store::{Immediate, KeyStore, MemoryStore, Rotation};
pub use tenant::TenantId;
pub use verify::{VerifiedKey, Verifier, VerifierBuilder};

/// The `time` crate, whose `OffsetDateTime` and `Duration` this crate's API speaks.
pub use time;
