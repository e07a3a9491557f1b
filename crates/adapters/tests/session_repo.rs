//! The diesel session repository against real PostgreSQL and SQLite
//! databases. Every test body runs once on each backend.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use platform_auth_adapters::testing::{Backend, TestDatabase};
use platform_auth_adapters::{on_both_backends, DieselSessionRepo, DieselUserRepo};
use platform_auth_domain::{
    ClientInfo, DisplayName, Email, NewSession, PasswordHash, Rotation, SessionId, SessionRepo,
    User, UserId, UserRepo,
};

on_both_backends!(
    created_session_reads_back,
    rotation_swaps_digest_once,
    concurrent_rotations_succeed_once,
    session_user_requires_live_session,
    revoke_is_scoped_to_owner,
    revoke_all_cuts_off_sessionless_tokens,
    live_list_skips_ended_sessions,
    prune_removes_finished_sessions,
    deleting_user_deletes_sessions,
);

struct Fixture {
    database: TestDatabase,
    users: DieselUserRepo,
    sessions: DieselSessionRepo,
    user: User,
}

fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .unwrap()
}

fn fixture(backend: Backend) -> Fixture {
    let database = TestDatabase::create(backend);
    let pool = database.open_pool();
    let users = DieselUserRepo::new(pool.clone());
    let sessions = DieselSessionRepo::new(pool);
    let user = add_user(&users, "jane@example.com");
    Fixture {
        database,
        users,
        sessions,
        user,
    }
}

fn add_user(users: &DieselUserRepo, email: &str) -> User {
    let user = User {
        id: UserId::new_random(),
        email: Email::parse(email).unwrap(),
        name: DisplayName::parse("Jane").unwrap(),
        created_at: now(),
    };
    users
        .insert(&user, &PasswordHash::new("$argon2id$x".into()))
        .unwrap();
    user
}

fn new_session(user: &User, digest: &str, started_at: DateTime<Utc>) -> NewSession {
    NewSession {
        id: SessionId::new_random(),
        user_id: user.id,
        refresh_digest: digest.to_string(),
        started_at,
        expires_at: started_at + TimeDelta::days(30),
        client: ClientInfo::new(Some("Mozilla/5.0"), Some("192.0.2.7".into())),
    }
}

fn start(fixture: &Fixture, digest: &str) -> SessionId {
    let session = new_session(&fixture.user, digest, now());
    fixture.sessions.create(&session).unwrap();
    session.id
}

fn rotation(session_id: SessionId, from: &str, to: &str) -> Rotation {
    Rotation {
        session_id,
        retired_digest: from.to_string(),
        new_digest: to.to_string(),
        at: now(),
        client: ClientInfo::new(Some("curl/8"), Some("198.51.100.4".into())),
    }
}

fn created_session_reads_back(backend: Backend) {
    let fixture = fixture(backend);
    let started = new_session(&fixture.user, "d1", now());
    fixture.sessions.create(&started).unwrap();

    let by_id = fixture.sessions.find(started.id).unwrap().unwrap();
    let by_digest = fixture
        .sessions
        .find_by_refresh_digest("d1")
        .unwrap()
        .unwrap();

    assert_eq!(by_id, by_digest);
    assert_eq!(by_id.user_id, fixture.user.id);
    assert_eq!(by_id.created_at, started.started_at);
    assert_eq!(by_id.last_used_at, started.started_at);
    assert_eq!(by_id.expires_at, started.expires_at);
    assert_eq!(by_id.revoked_at, None);
    assert_eq!(by_id.client, started.client);
    assert_eq!(by_id.refresh_digest, "d1");
}

fn rotation_swaps_digest_once(backend: Backend) {
    let fixture = fixture(backend);
    let id = start(&fixture, "d1");

    let first = fixture.sessions.rotate(&rotation(id, "d1", "d2")).unwrap();
    let replay = fixture
        .sessions
        .rotate(&rotation(id, "d1", "d2-other"))
        .unwrap();

    assert!(first);
    assert!(!replay);
    let session = fixture.sessions.find(id).unwrap().unwrap();
    assert_eq!(session.refresh_digest, "d2");
    assert_eq!(session.client.user_agent.as_deref(), Some("curl/8"));
    let retired = fixture.sessions.find_retired("d1").unwrap().unwrap();
    assert_eq!(retired.session_id, id);
    assert!(fixture.sessions.find_retired("d2").unwrap().is_none());
}

fn concurrent_rotations_succeed_once(backend: Backend) {
    const CALLERS: usize = 8;
    let fixture = fixture(backend);
    let id = start(&fixture, "d1");
    let sessions = Arc::new(fixture.sessions.clone());
    let barrier = Arc::new(Barrier::new(CALLERS));

    let handles: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let sessions = Arc::clone(&sessions);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                sessions.rotate(&rotation(id, "d1", &format!("d2-{caller}")))
            })
        })
        .collect();
    let results: Vec<bool> = handles
        .into_iter()
        .map(|handle| handle.join().unwrap().expect("rotation does not fail"))
        .collect();

    assert_eq!(results.iter().filter(|rotated| **rotated).count(), 1);
}

fn session_user_requires_live_session(backend: Backend) {
    let fixture = fixture(backend);
    let id = start(&fixture, "d1");
    let other = add_user(&fixture.users, "other@example.com");

    let live = fixture
        .sessions
        .find_session_user(fixture.user.id, id, now())
        .unwrap();
    let wrong_user = fixture
        .sessions
        .find_session_user(other.id, id, now())
        .unwrap();
    let after_end = fixture
        .sessions
        .find_session_user(fixture.user.id, id, now() + TimeDelta::days(31))
        .unwrap();
    fixture.sessions.revoke(fixture.user.id, id, now()).unwrap();
    let revoked = fixture
        .sessions
        .find_session_user(fixture.user.id, id, now())
        .unwrap();

    assert_eq!(live, Some(fixture.user.clone()));
    assert_eq!(wrong_user, None);
    assert_eq!(after_end, None);
    assert_eq!(revoked, None);
}

fn revoke_is_scoped_to_owner(backend: Backend) {
    let fixture = fixture(backend);
    let id = start(&fixture, "d1");
    let other = add_user(&fixture.users, "other@example.com");

    let by_other = fixture.sessions.revoke(other.id, id, now()).unwrap();
    let by_owner = fixture.sessions.revoke(fixture.user.id, id, now()).unwrap();
    let again = fixture.sessions.revoke(fixture.user.id, id, now()).unwrap();
    let unknown = fixture
        .sessions
        .revoke(fixture.user.id, SessionId::new_random(), now())
        .unwrap();

    assert!(!by_other);
    assert!(by_owner);
    assert!(!again);
    assert!(!unknown);
}

fn revoke_all_cuts_off_sessionless_tokens(backend: Backend) {
    let fixture = fixture(backend);
    let first = start(&fixture, "d1");
    let second = start(&fixture, "d2");
    let before = now() - TimeDelta::seconds(5);
    let id = fixture.user.id;

    let accepted_before = fixture
        .users
        .find_for_sessionless_token(id, Some(before))
        .unwrap();
    let no_iat_before = fixture.users.find_for_sessionless_token(id, None).unwrap();
    fixture.sessions.revoke_all(id, now()).unwrap();

    assert!(accepted_before.is_some());
    assert!(no_iat_before.is_some());
    assert_eq!(
        fixture
            .users
            .find_for_sessionless_token(id, Some(before))
            .unwrap(),
        None
    );
    assert_eq!(
        fixture.users.find_for_sessionless_token(id, None).unwrap(),
        None
    );
    let later = now() + TimeDelta::seconds(5);
    assert!(fixture
        .users
        .find_for_sessionless_token(id, Some(later))
        .unwrap()
        .is_some());
    for session in [first, second] {
        assert!(fixture
            .sessions
            .find(session)
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
    }
}

fn live_list_skips_ended_sessions(backend: Backend) {
    let fixture = fixture(backend);
    let t0 = now() - TimeDelta::hours(3);
    let older = new_session(&fixture.user, "d1", t0);
    let newer = new_session(&fixture.user, "d2", t0 + TimeDelta::hours(1));
    let ended = new_session(&fixture.user, "d3", t0 + TimeDelta::hours(2));
    for session in [&older, &newer, &ended] {
        fixture.sessions.create(session).unwrap();
    }
    fixture
        .sessions
        .revoke(fixture.user.id, ended.id, now())
        .unwrap();
    let other = add_user(&fixture.users, "other@example.com");
    fixture
        .sessions
        .create(&new_session(&other, "d4", now()))
        .unwrap();

    let listed = fixture
        .sessions
        .list_live(fixture.user.id, now(), t0 - TimeDelta::hours(1))
        .unwrap();
    let ids: Vec<SessionId> = listed.iter().map(|session| session.id).collect();
    let idle_cut = fixture
        .sessions
        .list_live(fixture.user.id, now(), t0 + TimeDelta::minutes(30))
        .unwrap();

    assert_eq!(ids, [newer.id, older.id]);
    assert_eq!(idle_cut.len(), 1);
    assert_eq!(idle_cut[0].id, newer.id);
}

fn prune_removes_finished_sessions(backend: Backend) {
    let fixture = fixture(backend);
    let live = start(&fixture, "live");
    let recently_ended = start(&fixture, "recent");
    let long_ended = start(&fixture, "long");
    fixture
        .sessions
        .rotate(&rotation(long_ended, "long", "long-2"))
        .unwrap();
    let mut expired = new_session(&fixture.user, "expired", now() - TimeDelta::days(40));
    expired.expires_at = now() - TimeDelta::days(10);
    fixture.sessions.create(&expired).unwrap();
    let idle = new_session(&fixture.user, "idle", now() - TimeDelta::days(20));
    fixture.sessions.create(&idle).unwrap();
    fixture
        .sessions
        .revoke(fixture.user.id, recently_ended, now())
        .unwrap();
    fixture
        .sessions
        .revoke(fixture.user.id, long_ended, now() - TimeDelta::days(2))
        .unwrap();

    let pruned = fixture
        .sessions
        .prune(
            now(),
            now() - TimeDelta::days(14),
            now() - TimeDelta::days(1),
        )
        .unwrap();

    assert_eq!(pruned, 3);
    assert!(fixture.sessions.find(live).unwrap().is_some());
    assert!(fixture.sessions.find(recently_ended).unwrap().is_some());
    assert!(fixture.sessions.find(long_ended).unwrap().is_none());
    assert!(fixture.sessions.find(expired.id).unwrap().is_none());
    assert!(fixture.sessions.find(idle.id).unwrap().is_none());
    assert!(fixture.sessions.find_retired("long").unwrap().is_none());
}

fn deleting_user_deletes_sessions(backend: Backend) {
    let fixture = fixture(backend);
    let id = start(&fixture, "d1");
    fixture.sessions.rotate(&rotation(id, "d1", "d2")).unwrap();

    fixture.database.execute("DELETE FROM users");

    assert!(fixture.sessions.find(id).unwrap().is_none());
    assert!(fixture.sessions.find_retired("d1").unwrap().is_none());
}
