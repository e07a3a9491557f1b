//! Argon2id password hashing, stored as PHC strings.

use std::sync::{Mutex, PoisonError};

use anyhow::Context;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{self, Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    memory: MemoryPool,
    /// A hash of a random, discarded password. Logins for an unknown email
    /// verify against it.
    dummy_hash: String,
}

impl Argon2Hasher {
    pub fn new(settings: Argon2Settings) -> anyhow::Result<Self> {
        let params = settings
            .params()
            .map_err(|error| anyhow::anyhow!("invalid argon2 parameters: {error}"))?;
        let memory = MemoryPool::new(params.block_count());
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Self {
            argon2,
            memory,
            dummy_hash: String::new(),
        };

        let mut unknown_password = [0u8; 32];
        OsRng.fill_bytes(&mut unknown_password);
        hasher.dummy_hash = hasher
            .hash_phc(&unknown_password)
            .map_err(|error| anyhow::anyhow!("failed to compute the dummy hash: {error}"))?;
        Ok(hasher)
    }

    /// Hashes `password` with a new random salt into a PHC string, with the
    /// same fields as argon2's own `hash_password`.
    fn hash_phc(&self, password: &[u8]) -> password_hash::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_buffer = [0u8; 64];
        let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer)?;
        let params = self.argon2.params();
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);

        let output = self.compute(&self.argon2, password, salt_bytes, output_len)?;

        let phc = password_hash::PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params)?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// Runs `argon2` over pooled memory and returns an output of
    /// `output_len` bytes.
    fn compute(
        &self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        output_len: usize,
    ) -> password_hash::Result<Output> {
        let block_count = argon2.params().block_count();
        Output::init_with(output_len, |out| {
            self.memory.with_blocks(block_count, |blocks| {
                argon2
                    .hash_password_into_with_memory(password, salt, out, blocks)
                    .map_err(password_hash::Error::from)
            })
        })
    }

    /// Verifies `password` against a PHC string, at the algorithm, version
    /// and cost the string names. The comparison takes constant time.
    fn verify_phc(&self, password: &Password, phc: &str) -> anyhow::Result<bool> {
        let malformed = |error: password_hash::Error| {
            anyhow::anyhow!("stored password hash is malformed: {error}")
        };
        let parsed = password_hash::PasswordHash::new(phc).map_err(malformed)?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(malformed)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|error| malformed(error.into()))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(malformed)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(anyhow::anyhow!(
                "stored password hash is malformed: it has no salt or no hash"
            ));
        };
        let mut salt_buffer = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(malformed)?;

        let argon2 = Argon2::new(algorithm, version, params);
        let computed = self
            .compute(
                &argon2,
                password.expose().as_bytes(),
                salt_bytes,
                expected.len(),
            )
            .map_err(|error| anyhow::anyhow!("password verification failed: {error}"))?;
        // `Output` compares in constant time.
        Ok(computed == expected)
    }
}

/// Argon2 working memory, kept for reuse. After the first free of a 19 MiB
/// block, glibc's malloc (2.36, Debian 12) raises its mmap threshold and
/// serves later blocks from its heaps, which kept growing: with a new
/// allocation per hash, `make flood` measured the server growing by about
/// 1.1 GiB over 70 hashes on 2 CPUs. Reused buffers bound the memory to one
/// buffer per hash running at once, which the API's hash gate bounds.
struct MemoryPool {
    /// Buffers of `buffer_blocks` blocks each.
    buffers: Mutex<Vec<Vec<Block>>>,
    /// The blocks of one hash at the configured cost.
    buffer_blocks: usize,
}

impl MemoryPool {
    fn new(buffer_blocks: usize) -> Self {
        Self {
            buffers: Mutex::new(Vec::new()),
            buffer_blocks,
        }
    }

    /// Runs `work` on `count` blocks of a pooled buffer. A hash made at a
    /// higher cost than the configured one gets a buffer of its own, freed
    /// after use.
    fn with_blocks<T>(&self, count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > self.buffer_blocks {
            return work(&mut vec![Block::default(); count]);
        }

        let pooled = self
            .buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut buffer = pooled.unwrap_or_else(|| vec![Block::default(); self.buffer_blocks]);

        let result = work(&mut buffer[..count]);

        self.buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buffer);
        result
    }
}

impl PasswordHasher for Argon2Hasher {
    fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let phc = self
            .hash_phc(password.expose().as_bytes())
            .map_err(|error| anyhow::anyhow!("{error}"))
            .context("failed to hash a password")?;
        Ok(PasswordHash::new(phc))
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
    fn hashes_interoperate_with_argon2_crate() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = cheap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = reference
            .hash_password(b"mypassword", &salt)
            .unwrap()
            .to_string();
        let ours = hasher.hash(&password("mypassword")).unwrap();

        assert!(hasher
            .verify(&password("mypassword"), &PasswordHash::new(theirs))
            .unwrap());
        let parsed = password_hash::PasswordHash::new(ours.expose()).unwrap();
        assert!(reference.verify_password(b"mypassword", &parsed).is_ok());
        assert!(reference.verify_password(b"wrong", &parsed).is_err());
    }

    #[test]
    fn sequential_hashes_reuse_one_buffer() {
        let hasher = cheap();
        let stronger = Argon2Hasher::new(Argon2Settings {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
        .hash(&password("mypassword"))
        .unwrap();

        for _ in 0..3 {
            hasher.hash(&password("mypassword")).unwrap();
        }
        assert!(hasher.verify(&password("mypassword"), &stronger).unwrap());

        let buffers = hasher.memory.buffers.lock().unwrap();
        assert_eq!(buffers.len(), 1, "one buffer; the larger one was freed");
        assert_eq!(buffers[0].len(), 64);
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
