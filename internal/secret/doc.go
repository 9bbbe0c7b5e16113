// Package secret makes, compares and protects the secret values Portvakt
// handles: session tokens, link tokens, record IDs, and values that must be
// stored encrypted, such as TOTP seeds.
//
// # Random values and digests
//
// Every value comes from crypto/rand; digests are SHA-256, which is right
// for random tokens of 128 bits or more (a slow password hash buys nothing
// against guessing 2^128 values, and would cap throughput). Comparisons of
// secrets are constant-time.
//
// # Encryption at rest
//
// A Sealer encrypts small values before they go into the database, with
// AES-256-GCM under a 32-byte key that is kept outside the database
// (ASVS 13.3.1; SECURITY.md §5.11, "TOTP secret exposure"). A sealed value
// is
//
//	version (1 byte) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// The version byte names the key (and the format): it is 1 today, and lets
// a later keyring open values sealed under an old key while it seals under
// a new one. The byte is authenticated together with the caller's
// associated data, which should name what the value is and whose it is
// ("totp-seed", the account ID), so that a sealed value copied into
// another row or column fails to open.
//
// Nonces are random, so one key should seal fewer than 2^32 values (NIST
// SP 800-38D §8.3); for TOTP seeds and similar per-account secrets that is
// far more than any deployment writes.
//
// # Keys
//
// The key comes from configuration (ParseKey, for a base64 value in the
// config file or an environment variable) or, for a zero-config SQLite
// deployment, from a key file next to the database that LoadOrCreateKey
// makes on first start. Losing the key loses every sealed value: back it up
// with the database, but not in it.
package secret
