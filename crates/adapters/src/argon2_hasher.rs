//! Argon2id password hashing, stored as PHC strings.

use anyhow::Context;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use platform_auth_domain::{Password, PasswordHash, PasswordHasher};

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes computed per hash.
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    /// Returns the OWASP Password Storage Cheat Sheet's argon2id baseline
    /// (m=19456 KiB, t=2, p=1).
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl Argon2Settings {
    /// Checks the parameters against argon2's bounds, for example at least
    /// 8 KiB of memory per lane and one iteration.
    pub fn validate(&self) -> Result<(), String> {
        self.params().map(|_| ()).map_err(|error| error.to_string())
    }

    fn params(&self) -> Result<Params, argon2::Error> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
    }
}

/// Hashes with argon2id at the configured cost. Verification reads the cost
/// from the stored hash, so hashes made with older settings still verify.
pub struct Argon2Hasher {
    argon2: Argon2<'static>,
    /// A hash of a random, discarded password. Logins for an unknown email
    /// verify against it.
    dummy_hash: String,
}

impl Argon2Hasher {
    pub fn new(settings: Argon2Settings) -> anyhow::Result<Self> {
        let params = settings
            .params()
            .map_err(|error| anyhow::anyhow!("invalid argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);

        let mut unknown_password = [0u8; 32];
        OsRng.fill_bytes(&mut unknown_password);
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2
            .hash_password(&unknown_password, &salt)
            .map_err(|error| anyhow::anyhow!("failed to compute the dummy hash: {error}"))?
            .to_string();

        Ok(Self { argon2, dummy_hash })
    }

    fn verify_phc(&self, password: &Password, phc: &str) -> anyhow::Result<bool> {
        let parsed = password_hash::PasswordHash::new(phc)
            .map_err(|error| anyhow::anyhow!("stored password hash is malformed: {error}"))?;

        match self
            .argon2
            .verify_password(password.expose().as_bytes(), &parsed)
        {
            Ok(()) => Ok(true),
            Err(password_hash::Error::Password) => Ok(false),
            Err(error) => Err(anyhow::anyhow!("password verification failed: {error}")),
        }
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = self
            .argon2
            .hash_password(password.expose().as_bytes(), &salt)
            .map_err(|error| anyhow::anyhow!("{error}"))
            .context("failed to hash a password")?;
        Ok(PasswordHash::new(phc.to_string()))
    }

    fn verify(&self, password: &Password, hash: &PasswordHash) -> anyhow::Result<bool> {
        self.verify_phc(password, hash.expose())
    }

    fn verify_dummy(&self, password: &Password) {
        // The result is always false; only the time spent matters.
        let _ = self.verify_phc(password, &self.dummy_hash);
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        // A hash that does not parse cannot have verified, so there is
        // nothing to upgrade.
        let Ok(parsed) = password_hash::PasswordHash::new(hash.expose()) else {
            return false;
        };
        if parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
        {
            return true;
        }
        let Ok(stored) = Params::try_from(&parsed) else {
            return true;
        };

        let current = self.argon2.params();
        stored.m_cost() < current.m_cost()
            || stored.t_cost() < current.t_cost()
            || stored.p_cost() < current.p_cost()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2Hasher {
        Argon2Hasher::new(Argon2Settings {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    fn password(raw: &str) -> Password {
        Password::new(raw.to_string())
    }

    #[test]
    fn hash_is_argon2id_phc_string() {
        let hash = Argon2Hasher::new(Argon2Settings::default())
            .unwrap()
            .hash(&password("mypassword"))
            .unwrap();

        assert!(
            hash.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected hash prefix"
        );
    }

    #[test]
    fn verify_accepts_only_the_right_password() {
        let hasher = cheap();
        let hash = hasher.hash(&password("mypassword")).unwrap();

        assert!(hasher.verify(&password("mypassword"), &hash).unwrap());
        assert!(!hasher.verify(&password("mypassword "), &hash).unwrap());
        assert!(!hasher.verify(&password("MYPASSWORD"), &hash).unwrap());
    }

    #[test]
    fn same_password_gets_distinct_salts() {
        let hasher = cheap();

        let first = hasher.hash(&password("mypassword")).unwrap();
        let second = hasher.hash(&password("mypassword")).unwrap();

        assert_ne!(first, second);
    }

    #[test]
    fn verify_reads_cost_from_stored_hash() {
        let old = cheap().hash(&password("mypassword")).unwrap();
        let current = Argon2Hasher::new(Argon2Settings::default()).unwrap();

        assert!(current.verify(&password("mypassword"), &old).unwrap());
    }

    #[test]
    fn malformed_stored_hash_is_an_error() {
        let result = cheap().verify(
            &password("mypassword"),
            &PasswordHash::new("not-a-hash".into()),
        );

        assert!(result.is_err());
    }

    #[test]
    fn weaker_hash_needs_rehash() {
        let current = Argon2Hasher::new(Argon2Settings {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        let weaker_memory = cheap().hash(&password("mypassword")).unwrap();
        let fewer_iterations = Argon2Hasher::new(Argon2Settings {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
        .hash(&password("mypassword"))
        .unwrap();
        let argon2i = PasswordHash::new(
            "$argon2i$v=19$m=128,t=2,p=1$c2FsdHNhbHQ$X4uZQRqwQ6TtkQ8EFr6xdA".to_string(),
        );

        assert!(current.needs_rehash(&weaker_memory));
        assert!(current.needs_rehash(&fewer_iterations));
        assert!(current.needs_rehash(&argon2i));
    }

    #[test]
    fn current_or_stronger_hash_is_kept() {
        let current = cheap();
        let same = current.hash(&password("mypassword")).unwrap();
        let stronger = Argon2Hasher::new(Argon2Settings {
            memory_kib: 256,
            iterations: 3,
            parallelism: 1,
        })
        .unwrap()
        .hash(&password("mypassword"))
        .unwrap();

        assert!(!current.needs_rehash(&same));
        assert!(!current.needs_rehash(&stronger));
        assert!(!current.needs_rehash(&PasswordHash::new("not-a-hash".into())));
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let result = Argon2Hasher::new(Argon2Settings {
            memory_kib: 1,
            iterations: 0,
            parallelism: 1,
        });

        assert!(result.is_err());
    }
}
