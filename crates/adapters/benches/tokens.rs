//! Signing and verifying one HS256 access token, the per-request cost of
//! every authenticated call.

use std::hint::black_box;
use std::time::Duration;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use platform_auth_adapters::JwtIssuer;
use platform_auth_domain::{DisplayName, Email, Secret, SessionId, TokenIssuer, User, UserId};

fn bench_user() -> User {
    User {
        id: UserId::new_random(),
        email: Email::parse("bench@example.com").expect("valid email"),
        name: DisplayName::parse("Bench User").expect("valid name"),
        created_at: Utc::now(),
    }
}

fn tokens(criterion: &mut Criterion) {
    let secret = Secret::new("bench-secret-0123456789abcdef-0123456789".to_string());
    let issuer = JwtIssuer::new(&secret, Duration::from_secs(900)).expect("valid issuer");
    let user = bench_user();
    let session = SessionId::new_random();
    let token = issuer
        .issue(&user, session, Utc::now())
        .expect("token is issued");

    let mut group = criterion.benchmark_group("tokens");
    group.bench_function("issue", |bencher| {
        bencher.iter(|| issuer.issue(black_box(&user), session, Utc::now()))
    });
    group.bench_function("verify", |bencher| {
        bencher.iter(|| {
            issuer
                .verify(black_box(token.token.expose()))
                .expect("token verifies")
        })
    });
    group.finish();
}

criterion_group!(benches, tokens);
criterion_main!(benches);
