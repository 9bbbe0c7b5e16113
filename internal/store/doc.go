// Package store holds the records Portvakt persists and the contract every
// storage implementation fulfils.
//
// The contract is a set of small per-area interfaces (Accounts, Sessions,
// Outbox, …) composed into Store. Consumers take the narrowest one they need:
// the session manager takes Sessions, the mail worker takes Outbox.
//
// # Errors
//
// Only two sentinel errors cross the boundary: ErrNotFound and ErrConflict.
// Anything else is an operational failure (the database is down) and is
// never shown to a user as their mistake.
//
// # Updates
//
// Writes that depend on the current value go through an updater function,
// Update…(ctx, id, func(old T) (T, error)). The implementation reads, calls
// the function and writes in one transaction, so callers never hold a
// transaction handle. The function may be called more than once (a
// serialization retry) and must not have side effects.
//
// # Time
//
// Times are stored as UTC instants with millisecond precision; the zone of
// a value handed in does not survive a round trip, the instant does.
//
// The only implementation is store/sqlstore (SQLite and PostgreSQL); the
// conformance suite in store/storetest runs against both dialects.
package store
