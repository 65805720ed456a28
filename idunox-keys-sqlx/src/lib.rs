#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod db;
pub mod portable;
mod store;
mod touch;

pub use db::{Backend, PoolSettings, connect, migrate, migrator, normalize_url};
pub use store::{SqlKeyStore, backend};
pub use touch::TouchBatch;

/// sqlx 0.7, whose [`AnyPool`](sqlx::AnyPool) this crate's API speaks.
pub use sqlx;
