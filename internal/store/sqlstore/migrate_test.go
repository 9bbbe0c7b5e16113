package sqlstore

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/pgtest"
)

// TestMigrate applies the migrations of each dialect twice and checks that
// both dialects end up with the same schema.
func TestMigrate(t *testing.T) {
	newDSN := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "portvakt.db") },
		"postgres": func(t *testing.T) string { return pgtest.Shared(t).NewDatabase(t) },
	}
	files := migrationFiles(t, "sqlite")
	schemas := map[string][]string{}
	for _, driver := range Drivers() {
		t.Run(driver, func(t *testing.T) {
			db, err := Open(t.Context(), driver, newDSN[driver](t))
			if err != nil {
				t.Fatalf("Open(%q): %v", driver, err)
			}
			defer db.Close()

			applied, err := db.Migrate(t.Context())
			if err != nil || !slices.Equal(applied, files) {
				t.Fatalf("first Migrate() = %q, %v; want %q, nil", applied, err, files)
			}
			applied, err = db.Migrate(t.Context())
			if err != nil || len(applied) != 0 {
				t.Errorf("second Migrate() = %q, %v; want nothing applied", applied, err)
			}
			status, err := db.MigrationStatus(t.Context())
			if err != nil {
				t.Fatalf("MigrationStatus(): %v", err)
			}
			for _, m := range status {
				if !m.Applied || m.AppliedAt.IsZero() {
					t.Errorf("MigrationStatus() has %+v, want it applied", m)
				}
			}
			schemas[driver] = schema(t, db)
		})
	}
	t.Run("both dialects have the same migration files", func(t *testing.T) {
		if got := migrationFiles(t, "postgres"); !slices.Equal(got, files) {
			t.Errorf("migrations/postgres = %q, migrations/sqlite = %q; want the same", got, files)
		}
	})
	t.Run("both dialects have the same tables, columns and indexes", func(t *testing.T) {
		sq, pg := schemas["sqlite"], schemas["postgres"]
		if len(sq) == 0 || !slices.Equal(sq, pg) {
			t.Errorf("schemas differ\nsqlite:   %s\npostgres: %s", strings.Join(sq, " "), strings.Join(pg, " "))
		}
	})
}

// schema lists the database's "table.column" and "index:name" entries,
// sorted, leaving out goose's table and the indexes databases create for
// primary keys and UNIQUE on their own.
func schema(t *testing.T, db *DB) []string {
	t.Helper()
	queries := map[string][]string{
		"sqlite": {
			`SELECT m.name || '.' || p.name FROM sqlite_schema m, pragma_table_info(m.name) p
			 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`,
			`SELECT 'index:' || name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL`,
		},
		"postgres": {
			`SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'`,
			`SELECT 'index:' || i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			 JOIN pg_namespace n ON n.oid = i.relnamespace
			 WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
		},
	}
	var list []string
	for _, q := range queries[db.d.name] {
		rows, err := db.read.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if !strings.HasPrefix(s, "goose_db_version") {
				list = append(list, s)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	slices.Sort(list)
	return list
}

func migrationFiles(t *testing.T, dialect string) []string {
	t.Helper()
	files, err := fs.Glob(migrations, "migrations/"+dialect+"/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}
