package pgtest

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{
			name: "URL keeps user, host and parameters",
			dsn:  "postgres://portvakt@127.0.0.1:5432/postgres?sslmode=disable",
			want: "postgres://portvakt@127.0.0.1:5432/t_1?sslmode=disable",
		},
		{
			name: "URL without a database",
			dsn:  "postgresql://u:pw@db",
			want: "postgresql://u:pw@db/t_1",
		},
		{
			// libpq and pgconn let a later keyword override an earlier one.
			name: "keyword/value form gets a later dbname",
			dsn:  "host=db user=u dbname=postgres ",
			want: "host=db user=u dbname=postgres dbname=t_1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withDatabase(tt.dsn, "t_1")
			if err != nil || got != tt.want {
				t.Errorf("withDatabase(%q, %q) = %q, %v; want %q, nil", tt.dsn, "t_1", got, err, tt.want)
			}
		})
	}
}

func TestSharedDatabasesAreSeparate(t *testing.T) {
	c := Shared(t)
	a := open(t, c.NewDatabase(t))
	b := open(t, c.NewDatabase(t))
	if _, err := a.ExecContext(t.Context(), "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatalf("CREATE TABLE in a: %v", err)
	}
	var n int
	q := "SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_a'"
	if err := b.QueryRowContext(t.Context(), q).Scan(&n); err != nil || n != 0 {
		t.Errorf("%s in b = %d, %v; want 0, nil", q, n, err)
	}
	if Shared(t) != c {
		t.Errorf("second Shared call returned another cluster")
	}
}

func TestStart(t *testing.T) {
	dsn := Start(t)
	db := open(t, dsn)
	var v string
	if err := db.QueryRowContext(t.Context(), "SHOW server_version").Scan(&v); err != nil {
		t.Fatalf("SHOW server_version: %v", err)
	}
	// CreateDatabase works against any running server.
	other := open(t, CreateDatabase(t, dsn))
	if err := other.PingContext(t.Context()); err != nil {
		t.Errorf("Ping of CreateDatabase's database: %v", err)
	}
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("sql.Open(pgx, %q): %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMissingBinariesSayHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := debianBinaries
	debianBinaries = filepath.Join(t.TempDir(), "*", "bin")
	t.Cleanup(func() { debianBinaries = old })

	_, err := findBinaries()
	if err == nil {
		t.Fatal("findBinaries() with no PostgreSQL anywhere = nil error, want one")
	}
	for _, want := range []string{"initdb", "README", "apt-get install", EnvDSN} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("findBinaries() = %q, want it to mention %q", err, want)
		}
	}
}

func TestExistingServerFromEnvironment(t *testing.T) {
	c := Shared(t)
	t.Setenv(EnvDSN, c.DSN())
	dsn := Start(t) // must not start a second cluster
	if dsn == c.DSN() {
		t.Fatalf("Start with %s set = the server's own DSN, want a fresh database", EnvDSN)
	}
	db := open(t, dsn)
	var name string
	if err := db.QueryRowContext(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatalf("SELECT current_database(): %v", err)
	}
	if !strings.HasPrefix(name, "t_") {
		t.Errorf("current_database() = %q, want a t_… test database", name)
	}
}
