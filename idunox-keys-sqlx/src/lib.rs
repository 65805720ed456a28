#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod db;
pub mod feed;
pub mod page;
pub mod portable;
mod schema;
mod sql;
mod store;
mod touch;
pub mod tx;

pub use db::{
    Backend, PoolSettings, connect, connect_existing, connect_read_only, migrate, migrator,
    normalize_url,
};
pub use feed::{FeedError, FeedSettings};
pub use page::{ListQuery, Page, PageError, Sort, StatusCounts};
pub use schema::{SchemaError, check_schema};
pub use sql::backend;
pub use store::{SqlKeyStore, SqlKeyStoreBuilder};
pub use touch::TouchBatch;
pub use tx::KeyTx;

/// sqlx 0.7, whose [`AnyPool`](sqlx::AnyPool) this crate's API speaks.
pub use sqlx;
