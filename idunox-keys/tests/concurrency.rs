//! The store's atomic operations under real parallelism: of many concurrent rotations of one key
//! exactly one wins, and of many inserts with one key id exactly one lands.

mod common;

use std::sync::Arc;

use common::{T0, credential, days, format, tenant};
use idunox_keys::{KeyManager, KeyStore, ManageError, MemoryStore, Status, StoreError};
use tokio::sync::Barrier;

const N: usize = 32;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn concurrent_rotations_leave_exactly_one_successor() {
    let rt = runtime();
    // Several rounds: a race that is lost only sometimes should still show up.
    for round in 0..5 {
        rt.block_on(async {
            let store = Arc::new(MemoryStore::new());
            let keys = Arc::new(
                KeyManager::new(store.clone(), format()).with_hasher(common::fast_hasher()),
            );
            let acme = tenant("acme");
            let old = keys.create(&acme, None, None).await.unwrap().credential;
            let barrier = Arc::new(Barrier::new(N));
            let tasks: Vec<_> = (0..N)
                .map(|_| {
                    let (keys, barrier, acme) = (keys.clone(), barrier.clone(), acme.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        keys.rotate(&acme, &old.key_id, 24).await
                    })
                })
                .collect();
            let mut wins = Vec::new();
            let mut refused = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(r) => wins.push(r),
                    Err(ManageError::NotRotatable { status }) => {
                        assert_eq!(status, Status::Grace, "round {round}");
                        refused += 1;
                    }
                    // Refused before hashing: another rotation of this key was running.
                    Err(ManageError::RotationInProgress) => refused += 1,
                    Err(e) => panic!("round {round}: unexpected {e:?}"),
                }
            }
            assert_eq!(wins.len(), 1, "round {round}: {} successors", wins.len());
            assert_eq!(refused, N - 1);
            let listed = store.list(&acme).await.unwrap();
            assert_eq!(listed.len(), 2, "round {round}");
            let successor = &wins[0].credential;
            let stored_old = store.find(&old.key_id).await.unwrap().unwrap();
            assert_eq!(stored_old.replaced_by, Some(successor.key_id));
            assert_eq!(successor.replaces, Some(old.key_id));
            assert!(listed.iter().any(|c| c.key_id == successor.key_id));
        });
    }
}

#[test]
fn concurrent_rotate_and_revoke_never_both_win_into_an_inconsistent_record() {
    let rt = runtime();
    rt.block_on(async {
        let store = Arc::new(MemoryStore::new());
        let keys =
            Arc::new(KeyManager::new(store.clone(), format()).with_hasher(common::fast_hasher()));
        let acme = tenant("acme");
        let old = keys.create(&acme, None, None).await.unwrap().credential;
        let barrier = Arc::new(Barrier::new(2));
        let (k1, b1, t1) = (keys.clone(), barrier.clone(), acme.clone());
        let rot = tokio::spawn(async move {
            b1.wait().await;
            k1.rotate(&t1, &old.key_id, 24).await
        });
        let (k2, b2, t2) = (keys.clone(), barrier.clone(), acme.clone());
        let rev = tokio::spawn(async move {
            b2.wait().await;
            k2.revoke(&t2, &old.key_id).await
        });
        let rot = rot.await.unwrap();
        let revoked = rev.await.unwrap().unwrap();
        assert!(revoked.revoked_at.is_some());
        let stored = store.find(&old.key_id).await.unwrap().unwrap();
        assert_eq!(keys.status(&stored), Status::Revoked);
        match rot {
            Ok(r) => assert_eq!(stored.replaced_by, Some(r.credential.key_id)),
            Err(ManageError::NotRotatable { status }) => {
                assert_eq!(status, Status::Revoked);
                assert_eq!(store.len(), 1);
            }
            Err(e) => panic!("{e:?}"),
        }
    });
}

#[test]
fn concurrent_inserts_with_one_key_id_let_exactly_one_win() {
    let rt = runtime();
    for round in 0..5 {
        rt.block_on(async {
            let store = Arc::new(MemoryStore::new());
            let barrier = Arc::new(Barrier::new(N));
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let (store, barrier) = (store.clone(), barrier.clone());
                    tokio::spawn(async move {
                        let mut c = credential(T0 + days(365));
                        // Each contender is a different tenant: the id is taken for all of them.
                        c.tenant_id = tenant(&format!("t{i}"));
                        barrier.wait().await;
                        (i, store.insert(c, None).await)
                    })
                })
                .collect();
            let mut winners = Vec::new();
            for t in tasks {
                match t.await.unwrap() {
                    (i, Ok(())) => winners.push(i),
                    (_, Err(StoreError::KeyIdTaken)) => {}
                    (_, Err(e)) => panic!("round {round}: {e:?}"),
                }
            }
            assert_eq!(winners.len(), 1, "round {round}");
            assert_eq!(store.len(), 1);
            let stored = store
                .find(&common::id("AAAAAAAAAAAA"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(stored.tenant_id, tenant(&format!("t{}", winners[0])));
            // Only the winner's tenant lists it.
            for i in 0..N {
                let n = store.list(&tenant(&format!("t{i}"))).await.unwrap().len();
                assert_eq!(n, usize::from(i == winners[0]), "round {round} tenant {i}");
            }
        });
    }
}

#[test]
fn inserts_from_plain_threads_let_exactly_one_win() {
    let store = Arc::new(MemoryStore::new());
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                barrier.wait();
                rt.block_on(store.insert(credential(T0 + days(1)), None))
                    .is_ok()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|&ok| ok)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(store.len(), 1);
}
