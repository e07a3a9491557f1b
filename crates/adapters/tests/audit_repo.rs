//! The diesel audit log against real PostgreSQL and SQLite databases.

use chrono::{DurationRound, TimeDelta, Utc};
use platform_auth_adapters::testing::{Backend, TestDatabase};
use platform_auth_adapters::{on_both_backends, DieselAuditLog};
use platform_auth_domain::{AuditEvent, AuditKind, AuditLog, SessionId, UserId};

on_both_backends!(records_read_back_newest_first);

fn event(kind: AuditKind, user_id: Option<UserId>) -> AuditEvent {
    AuditEvent {
        kind,
        user_id,
        session_id: Some(SessionId::new_random()),
        ip: Some("192.0.2.10".to_string()),
        at: Utc::now()
            .duration_trunc(TimeDelta::microseconds(1))
            .unwrap(),
    }
}

fn records_read_back_newest_first(backend: Backend) {
    let database = TestDatabase::create(backend);
    let log = DieselAuditLog::new(database.open_pool());
    let alice = UserId::new_random();
    let bob = UserId::new_random();
    let events = [
        event(AuditKind::Registered, Some(alice)),
        event(AuditKind::LoginFailed, None),
        event(AuditKind::LoginSucceeded, Some(bob)),
        event(AuditKind::LoggedOut, Some(alice)),
    ];
    for event in &events {
        log.record(event).unwrap();
    }

    let all = log.recent(None, 10).unwrap();
    let alices = log.recent(Some(alice), 10).unwrap();
    let newest = log.recent(None, 1).unwrap();

    let kinds: Vec<AuditKind> = all.iter().map(|record| record.event.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::LoggedOut,
            AuditKind::LoginSucceeded,
            AuditKind::LoginFailed,
            AuditKind::Registered
        ]
    );
    assert_eq!(all[3].event, events[0]);
    assert_eq!(alices.len(), 2);
    assert!(alices
        .iter()
        .all(|record| record.event.user_id == Some(alice)));
    assert_eq!(newest.len(), 1);
    assert!(newest[0].id > all[1].id);
}
