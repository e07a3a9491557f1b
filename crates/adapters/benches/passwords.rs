//! Hashing and verifying one password with argon2id at the default
//! parameters (m = 19456 KiB, t = 2, p = 1), the CPU cost of every
//! registration and login.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use platform_auth_adapters::{Argon2Hasher, Argon2Settings};
use platform_auth_domain::{Password, PasswordHasher};

fn passwords(criterion: &mut Criterion) {
    let hasher =
        Argon2Hasher::new(Argon2Settings::default()).expect("default parameters are valid");
    let password = Password::new("correct horse battery staple".to_string());
    let hash = hasher.hash(&password).expect("password hashes");

    let mut group = criterion.benchmark_group("passwords");
    // One hash takes about 15 ms on the machine of docs/performance.md, so
    // criterion's default of 100 samples would need over a minute.
    group.sample_size(10);
    group.bench_function("hash", |bencher| {
        bencher.iter(|| hasher.hash(black_box(&password)).expect("password hashes"))
    });
    group.bench_function("verify", |bencher| {
        bencher.iter(|| {
            hasher
                .verify(black_box(&password), &hash)
                .expect("verification runs")
        })
    });
    group.finish();
}

criterion_group!(benches, passwords);
criterion_main!(benches);
