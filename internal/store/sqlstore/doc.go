// Package sqlstore implements store.Store on SQL databases: SQLite through
// modernc.org/sqlite (pure Go, no cgo) and PostgreSQL through pgx. It is
// one implementation with two dialects, not two packages; the conformance
// suite in store/storetest runs against both (sqlite_test.go,
// postgres_test.go).
//
//	db, err := sqlstore.OpenAndMigrate(ctx, "sqlite", "/var/lib/portvakt/portvakt.db")
//	db, err := sqlstore.OpenAndMigrate(ctx, "postgres", "postgres://portvakt@db/portvakt")
//
// # Dialects
//
// Every difference between the two databases lives in one place, the
// dialect struct in dialect.go: how placeholders are written, the locking
// clauses (FOR UPDATE, FOR UPDATE SKIP LOCKED), how a driver error is
// recognized as a uniqueness or foreign key violation, and how the
// connection pools are opened. Queries are written once, in SQL both
// databases accept, with ? placeholders; for PostgreSQL, rebind numbers
// them $1, $2, … and does nothing else (TestRebind). There is no other
// rewriting of SQL.
//
// # Schema and migrations
//
// Migrations are goose SQL files, embedded, one directory per dialect:
// migrations/sqlite and migrations/postgres. The two directories hold the
// same file names and produce the same tables, columns and indexes, which
// TestMigrate checks; a schema change adds a file with the next number to
// both. Open never migrates: the server calls Migrate (or OpenAndMigrate)
// at startup and the CLI can report MigrationStatus. On PostgreSQL,
// migrations run under an advisory lock, so nodes that start at the same
// time take turns.
//
// Column types are kept portable:
//
//   - Times are integer milliseconds since the Unix epoch, UTC. A time's
//     zone is dropped and anything below a millisecond is truncated; the
//     zero time.Time is stored as its own Unix value (-62135596800000), so
//     it reads back as the zero time and SQL comparisons order it like
//     time.Time does. Nothing is stored as local time.
//   - An empty Account.Username is stored as NULL, so the unique index on
//     username lets any number of accounts go without one.
//   - Session.AMR is stored space-separated; the values are RFC 8176
//     tokens, and values containing spaces are refused.
//   - Session.TokenHash is BLOB / BYTEA. Deleting an account deletes its
//     sessions, emails, password, flows, factors, recovery codes,
//     trusted browsers and WebAuthn credentials through ON DELETE CASCADE.
//   - An email address is unique through an address_key column holding it
//     lower-cased by Go (strings.ToLower), the same for both dialects,
//     whose lower() functions differ outside ASCII; lookups go through the
//     key and Address keeps what was given. A partial unique index allows
//     one primary address per account.
//   - Password.History is a JSON array of strings; nil and empty both read
//     back as nil.
//   - Flow.BrowserHash, CodeHash and LinkHash are stored as NULL when nil
//     or empty and read back as nil, so the unique index on link_hash lets
//     any number of flows go without a link. An empty Flow.AccountID is
//     NULL; a set one must name an account (else ErrNotFound).
//   - Factor.Secret is NULL when nil or empty and reads back as nil. A
//     partial unique index on (account_id, phone) where kind = 'sms' and
//     confirmed_at is not the zero time lets an account confirm a phone
//     as an SMS factor once, while unconfirmed factors (enrolments in
//     progress) may repeat it.
//   - A recovery code's key is (account_id, hash); used_at holds the zero
//     time while it is unused.
//   - A WebAuthn credential's key is its credential ID (BLOB / BYTEA), so
//     an ID is registered to one account at most. PublicKey and AAGUID are
//     NULL when nil or empty and read back as nil; Transports is stored
//     space-separated like Session.AMR (nil and empty read back as nil);
//     SignCount, a uint32, is an INTEGER / BIGINT with a CHECK on its range.
//
// # Transactions and concurrency
//
// Update methods read the row, call the updater and write the result in
// one transaction. On PostgreSQL the read is SELECT … FOR UPDATE, so
// concurrent updates of one row (from any node) queue up on the row lock
// and none is lost; that is also what makes a flow consumed through
// UpdateFlow consumed exactly once, a TOTP step accepted through
// UpdateFactor accepted once, and a signature counter advanced through
// UpdateWebAuthnCredential never set back by a concurrent login.
// ClaimMessages selects FOR UPDATE SKIP LOCKED, so workers on several
// nodes claim disjoint batches without waiting for one another. SetPrimaryEmail locks all of the account's
// addresses, in address order, before it moves the primary flag.
// UseRecoveryCode is one UPDATE … WHERE used_at is unused, checked by its
// row count: parallel uses of one code queue on the row, and the first to
// commit leaves the others nothing to update. ReplaceRecoveryCodes locks
// the account's row first, so concurrent replacements never leave a mix
// of two sets. AddFailure is a single INSERT … ON CONFLICT DO UPDATE …
// RETURNING (SQLite 3.35 or newer), so parallel failures each get a count
// of their own.
//
// SQLite allows one writer at a time. A DB on SQLite therefore keeps two
// pools: a writer pool with exactly one connection, which runs every write
// and every transaction, and a pool of read-only connections for plain
// reads, which WAL lets run while the writer writes. Writers of this
// process queue for the one connection in Go, fairly and without polling.
// Measured with 20 goroutines each running 25 read-then-write
// transactions on one row: the single writer did the 500 in about 27 ms
// with single waits of at most 6 ms; eight connections with BEGIN
// IMMEDIATE also lost nothing but took 31 to 80 ms with single waits up
// to 58 ms (SQLite's busy handler sleeps and retries); eight connections
// with the default
// deferred BEGIN failed 15 to 25 of the 500 with SQLITE_BUSY, because a
// reader cannot upgrade to a writer while another holds the lock, and the
// busy timeout does not help there. The writer still begins its
// transactions IMMEDIATE and waits up to 5 s for a lock, which matters
// when another process (the admin CLI) writes the same file.
//
// A consequence for this package's own code: inside a transaction, every
// statement must go through the transaction (the conn handed to the
// function), never through the pools, or SQLite would wait forever for the
// one writer connection that the transaction itself holds.
//
// # Errors
//
// Methods return errors wrapping store.ErrNotFound or store.ErrConflict
// where the store contract says so; a uniqueness violation becomes
// ErrConflict and a foreign key violation (a session for an unknown
// account) becomes ErrNotFound, with the database's message kept in the
// text for the operator. An updater's own error is returned unwrapped.
// Every other error is an operational failure, prefixed "sqlstore:".
package sqlstore
