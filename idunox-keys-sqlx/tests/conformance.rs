//! The core's `KeyStore` conformance suite (`idunox_keys::conformance`) against `SqlKeyStore` on
//! a SQLite file and on PostgreSQL: every rule of the trait, and the change feed between two
//! stores (two pools, as two processes) on one database.
#![allow(missing_docs)]

mod common;

use common::{db, pool};
use idunox_keys::conformance;
use idunox_keys_sqlx::{Backend, FeedSettings, SqlKeyStore};

async fn conforms(b: Backend) {
    let Some(db) = db(b).await else { return };
    let store = SqlKeyStore::new(pool(&db).await);
    conformance::all(&store).await;
}

async fn conforms_with_a_feed(b: Backend) {
    let Some(db) = db(b).await else { return };
    let writer = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    let reader = SqlKeyStore::with_feed(pool(&db).await, FeedSettings::default()).unwrap();
    conformance::all(&writer).await;
    conformance::feed(&writer, &reader).await;
}

on_both_backends!(conforms, conforms_with_a_feed);
