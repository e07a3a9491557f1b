//! The diesel user repository against real PostgreSQL and SQLite databases.
//! Every test body runs once on each backend.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::{TimeZone, Utc};
use platform_auth_adapters::db::run_migrations;
use platform_auth_adapters::testing::{Backend, TestDatabase};
use platform_auth_adapters::{on_both_backends, DieselUserRepo};
use platform_auth_domain::{
    DisplayName, Email, InsertUserError, PasswordHash, User, UserId, UserRepo,
};

on_both_backends!(
    inserted_user_reads_back_unchanged,
    credentials_lookup_returns_hash,
    password_hash_update_replaces_only_that_user,
    lookup_of_unknown_user_is_none,
    email_taken_in_other_case,
    names_may_repeat,
    concurrent_inserts_of_one_email,
    migrations_run_twice,
    password_hash_update_reads_back,
    disabled_user_is_kept_but_refused,
    list_and_delete_users,
);

fn user(email: &str, name: &str) -> User {
    User {
        id: UserId::new_random(),
        email: Email::from_stored(email.to_string()),
        name: DisplayName::parse(name).unwrap(),
        created_at: Utc.with_ymd_and_hms(2025, 1, 1, 12, 30, 45).unwrap()
            + chrono::TimeDelta::microseconds(123_456),
    }
}

fn hash() -> PasswordHash {
    PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string())
}

fn repo(database: &TestDatabase) -> DieselUserRepo {
    DieselUserRepo::new(database.open_pool())
}

fn inserted_user_reads_back_unchanged(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    let original = user("jane@example.com", "Jane Doe – 東京");

    repo.insert(&original, &hash()).unwrap();
    let found = repo.find_by_id(original.id).unwrap();

    assert_eq!(found, Some(original));
}

fn credentials_lookup_returns_hash(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    let original = user("jane@example.com", "Jane");
    repo.insert(&original, &hash()).unwrap();

    let found = repo
        .find_credentials_by_email(&Email::parse("Jane@Example.com").unwrap())
        .unwrap()
        .expect("user is found");

    assert_eq!(found.user, original);
    assert_eq!(found.password_hash, hash());
}

fn password_hash_update_replaces_only_that_user(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    let jane = user("jane@example.com", "Jane");
    let john = user("john@example.com", "John");
    repo.insert(&jane, &hash()).unwrap();
    repo.insert(&john, &hash()).unwrap();
    let upgraded = PasswordHash::new("$argon2id$v=19$m=19456,t=3,p=1$bmV3$bmV3".to_string());

    repo.update_password_hash(jane.id, &upgraded).unwrap();

    let stored = |email: &str| {
        repo.find_credentials_by_email(&Email::parse(email).unwrap())
            .unwrap()
            .expect("user is found")
            .password_hash
    };
    assert_eq!(stored("jane@example.com"), upgraded);
    assert_eq!(stored("john@example.com"), hash());
}

fn lookup_of_unknown_user_is_none(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    repo.insert(&user("jane@example.com", "Jane"), &hash())
        .unwrap();

    let by_email = repo
        .find_credentials_by_email(&Email::parse("john@example.com").unwrap())
        .unwrap();
    let by_id = repo.find_by_id(UserId::new_random()).unwrap();

    assert!(by_email.is_none());
    assert!(by_id.is_none());
}

fn email_taken_in_other_case(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    repo.insert(&user("jane@example.com", "Jane"), &hash())
        .unwrap();

    // Bypasses normalisation to prove the database itself compares
    // case-insensitively.
    let result = repo.insert(&user("JANE@example.COM", "Other Jane"), &hash());

    assert!(matches!(result, Err(InsertUserError::EmailTaken)));
}

fn names_may_repeat(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);

    repo.insert(&user("one@example.com", "John Doe"), &hash())
        .unwrap();
    let second = repo.insert(&user("two@example.com", "John Doe"), &hash());

    assert!(second.is_ok());
}

fn concurrent_inserts_of_one_email(backend: Backend) {
    const WRITERS: usize = 8;
    let database = TestDatabase::create(backend);
    let repo = Arc::new(repo(&database));
    let barrier = Arc::new(Barrier::new(WRITERS));

    let handles: Vec<_> = (0..WRITERS)
        .map(|_| {
            let repo = Arc::clone(&repo);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                repo.insert(&user("race@example.com", "Racer"), &hash())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let inserted = results.iter().filter(|r| r.is_ok()).count();
    let taken = results
        .iter()
        .filter(|r| matches!(r, Err(InsertUserError::EmailTaken)))
        .count();
    assert_eq!(inserted, 1);
    assert_eq!(taken, WRITERS - 1);
}

fn migrations_run_twice(backend: Backend) {
    let database = TestDatabase::create(backend);
    let pool = database.open_pool();

    let again = run_migrations(&pool);

    assert!(again.is_ok(), "second run failed: {again:?}");
}

fn password_hash_update_reads_back(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    let original = user("jane@example.com", "Jane");
    repo.insert(&original, &hash()).unwrap();
    let replacement = PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3".to_string());

    repo.update_password_hash(original.id, &replacement)
        .unwrap();
    let found = repo.find_credentials_by_id(original.id).unwrap().unwrap();

    assert_eq!(found.password_hash, replacement);
    assert_eq!(found.user, original);
}

fn disabled_user_is_kept_but_refused(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    let original = user("jane@example.com", "Jane");
    repo.insert(&original, &hash()).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();

    assert!(repo.set_disabled(original.id, Some(at)).unwrap());

    let record = repo.find_record(original.id).unwrap().unwrap();
    assert_eq!(record.disabled_at, Some(at));
    let credentials = repo
        .find_credentials_by_email(&original.email)
        .unwrap()
        .unwrap();
    assert_eq!(credentials.disabled_at, Some(at));
    let sessionless = repo.find_for_sessionless_token(original.id, None).unwrap();
    assert_eq!(sessionless, None);
    assert!(repo.set_disabled(original.id, None).unwrap());
    assert!(repo
        .find_for_sessionless_token(original.id, None)
        .unwrap()
        .is_some());
    assert!(!repo.set_disabled(UserId::new_random(), None).unwrap());
}

fn list_and_delete_users(backend: Backend) {
    let database = TestDatabase::create(backend);
    let repo = repo(&database);
    let mut first = user("first@example.com", "First");
    first.created_at -= chrono::TimeDelta::hours(1);
    let second = user("second@example.com", "Second");
    repo.insert(&second, &hash()).unwrap();
    repo.insert(&first, &hash()).unwrap();

    let listed = repo.list(10, 0).unwrap();
    let paged = repo.list(1, 1).unwrap();
    let by_email = repo
        .find_record_by_email(&Email::parse("SECOND@example.com").unwrap())
        .unwrap()
        .unwrap();

    let ids: Vec<UserId> = listed.iter().map(|record| record.user.id).collect();
    assert_eq!(ids, [first.id, second.id]);
    assert_eq!(paged.len(), 1);
    assert_eq!(paged[0].user.id, second.id);
    assert_eq!(by_email.user, second);
    assert!(repo.delete(first.id).unwrap());
    assert!(!repo.delete(first.id).unwrap());
    assert_eq!(repo.list(10, 0).unwrap().len(), 1);
}
