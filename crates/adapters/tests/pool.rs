//! The connection pool against a real PostgreSQL server: connections the
//! server closes are replaced without a query on every checkout.

use platform_auth_adapters::testing::TestDatabase;
use platform_auth_adapters::{DieselUserRepo, PoolSettings};
use platform_auth_domain::{UserId, UserRepo};

#[test]
fn pool_replaces_connections_server_closed() {
    let database = TestDatabase::postgres();
    let pool = database.open_pool();
    let repo = DieselUserRepo::new(pool);
    let unknown = UserId::new_random();
    assert!(repo.find_by_id(unknown).unwrap().is_none());

    database.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );

    // Each closed connection fails the one lookup that finds it closed and
    // is then dropped, so at most a pool's worth of lookups fail.
    let pool_size = PoolSettings::default().max_size as usize;
    let failures = (0..pool_size * 3)
        .filter(|_| repo.find_by_id(unknown).is_err())
        .count();
    assert!(
        failures <= pool_size,
        "{failures} lookups failed after the server closed the pool's connections"
    );
    for _ in 0..pool_size {
        assert!(repo.find_by_id(unknown).unwrap().is_none());
    }
}
