//! The throwaway cluster starts, answers SQL, and hands out isolated databases.

use idunox_test_support::postgres;

#[test]
fn cluster_starts_and_databases_are_isolated() {
    let Some(admin) = postgres::admin_url() else {
        return;
    };
    let a = postgres::fresh_database(&admin);
    let b = postgres::fresh_database(&admin);
    assert_ne!(a, b);
    postgres::psql(&a, "CREATE TABLE t (x int); INSERT INTO t VALUES (42)").unwrap();
    assert_eq!(postgres::psql(&a, "SELECT x FROM t").unwrap(), "42");
    assert!(
        postgres::psql(&b, "SELECT x FROM t").is_err(),
        "b must not see a's table"
    );
}

#[test]
fn an_owned_cluster_stops_and_starts_again_on_the_same_url() {
    let Some(cluster) = postgres::OwnedCluster::start() else {
        return;
    };
    let db = postgres::fresh_database(cluster.admin_url());
    postgres::psql(&db, "CREATE TABLE t (x INT); INSERT INTO t VALUES (7)").unwrap();
    cluster.stop();
    assert!(postgres::psql(&db, "SELECT 1").is_err(), "down after stop");
    cluster.start_again();
    assert_eq!(
        postgres::psql(&db, "SELECT x FROM t").unwrap(),
        "7",
        "same data after start"
    );
}
