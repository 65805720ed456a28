#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod base62;
pub mod budget;
mod cache;
pub mod clock;
#[cfg(feature = "conformance")]
#[cfg_attr(docsrs, doc(cfg(feature = "conformance")))]
pub mod conformance;
mod credential;
mod error;
pub mod fairness;
pub mod feed;
mod generate;
pub mod hash;
pub mod key;
pub mod lifecycle;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub mod metrics;
mod records;
pub mod restrictions;
pub mod status;
pub mod store;
mod tenant;
pub mod verify;

pub use budget::{BudgetSettings, BudgetStats, HashBudget, Priority};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credential::Credential;
pub use error::{
    BudgetError, FormatError, HashError, InvalidKey, ManageError, Overload, ParseError,
    RandomnessError, Refusal, StoreError,
};
pub use feed::{ChangeFeed, FeedSubscriber};
pub use hash::{HashParams, SecretHasher};
pub use key::{ApiKey, KeyFormat, KeyId, PresentedKey};
pub use lifecycle::{Issued, KeyChanges, KeyManager, NewKey, Policy, RotateOptions, Rotated};
pub use restrictions::IpNet;
pub use status::Status;
pub use store::{Immediate, KeyStore, LiveLimit, MemoryStore, Patch, Rotation};
pub use tenant::TenantId;
pub use verify::{Check, Pending, VerifiedKey, Verifier, VerifierBuilder, VerifierStats};

/// The `time` crate, whose `OffsetDateTime` and `Duration` this crate's API speaks.
pub use time;
