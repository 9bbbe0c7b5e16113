package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

// TestSQLiteFilesArePrivate replays issue 10, finding 8: the database
// files were world-readable. A new database is created 0600 (its -wal and
// -shm with it); an existing one readable by others is tightened.
func TestSQLiteFilesArePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portvakt.db")
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	db.Close()

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = sqlstore.OpenAndMigrate(t.Context(), "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("an existing 0644 database was left at %v, want 0600", st.Mode().Perm())
	}
}
