// Package storetest is the conformance suite for implementations of
// store.Store. Every backend runs the same suite, so SQLite and PostgreSQL
// behave alike wherever the contract in package store speaks:
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			// a fresh, empty, migrated store, closed in t.Cleanup
//		})
//	}
//
// Each subtest gets a store of its own and says what it checks in a short
// sentence ("a second account with the same username is a conflict"). The
// suite covers the CRUD of every aggregate, the sentinel errors, the
// updater semantics (an updater's error writes nothing), parallel updates
// of one row, time zones, millisecond precision and the zero time, session
// expiry, the outbox's claim, lease and retry rules, including two
// claimers racing for the same messages, case-insensitive email addresses
// and the one primary address, password history, flows (including twenty
// parallel submissions of one code consuming it exactly once), failure
// counters and their window, the all-or-nothing Register, second factors
// (one confirmed SMS factor per phone and account, twenty parallel
// updates offering one TOTP step accepting it exactly once), recovery
// codes (replaced as a set, twenty parallel uses of one code succeeding
// exactly once), trusted browsers, and security keys and passkeys (a
// credential ID registered to one account only, every field round-tripped
// including nil against empty bytes, twenty parallel counter updates
// losing none), and linked upstream identities (keyed by provider and
// subject, one account each, moved between accounts in one transaction,
// twenty parallel moves of one identity succeeding exactly once).
//
// Times are fixed (see T0) rather than read from the clock, so a failure
// reproduces.
//
// The package is imported only by tests.
package storetest
