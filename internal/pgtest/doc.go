// Package pgtest gives tests a real PostgreSQL server: a throwaway cluster
// built with Debian's initdb and pg_ctl in a temporary directory, listening
// on a free port on 127.0.0.1, and removed when the tests are done.
//
// Tests never skip for want of PostgreSQL. If the server binaries are missing
// the test fails and says how to install them (the test command in the
// README installs Debian's postgresql package), because a suite that quietly
// skips on a laptop is a suite that quietly stops testing PostgreSQL.
//
// # One cluster per test binary
//
// Starting a cluster takes about a second, creating a database a few
// milliseconds, so a package starts one cluster and gives every test its own
// database:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.Shared(t).NewDatabase(t)
//		…
//	}
//
// The shared cluster is started lazily by the first Shared call, so running
// only the tests that do not need PostgreSQL costs nothing, and Main stops it
// after m.Run. A test that wants a cluster of its own calls Start instead.
//
// # Running as root
//
// initdb refuses to run as root, and CI runs as root. When the effective user
// is root, the data directory is owned by the postgres system user and initdb
// and pg_ctl run through "runuser -u postgres --"; otherwise they run as the
// current user.
//
// If the test binary dies without running its cleanups (a panic, a test
// timeout), a small watcher process that pgtest starts with each cluster
// notices that its stdin pipe closed and stops the server and removes its
// directory, so no stray postgres keeps running on a shared machine.
//
// # An existing server
//
// When PORTVAKT_TEST_POSTGRES_DSN is set (for example
// "postgres://user:pw@db:5432/postgres?sslmode=disable") no cluster is
// started. Tests get fresh databases on that server instead, created with
// CREATE DATABASE and dropped again afterwards, so the role needs the
// CREATEDB privilege.
//
// The server version is logged once, so a CI log shows that PostgreSQL ran.
package pgtest
