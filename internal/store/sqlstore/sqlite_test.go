package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
	"github.com/portvakt/portvakt/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openSQLite(t)
	})
}

// openSQLite returns a migrated store on a new SQLite file in t.TempDir().
func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	return openAndMigrate(t, "sqlite", filepath.Join(t.TempDir(), "portvakt.db"))
}

// openAndMigrate opens and migrates a store, closed in t.Cleanup.
func openAndMigrate(t *testing.T, driver, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(t.Context(), driver, dsn)
	if err != nil {
		t.Fatalf("OpenAndMigrate(%q, %q): %v", driver, dsn, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close(): %v", err)
		}
	})
	return db
}
