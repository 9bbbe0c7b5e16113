package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		name, dialect, query, want string
	}{
		{"SQLite keeps question marks", "sqlite",
			"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{"PostgreSQL numbers placeholders in order", "postgres",
			"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"a query without placeholders is unchanged", "postgres",
			"DELETE FROM t", "DELETE FROM t"},
		{"placeholders past nine get two digits", "postgres",
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
		{"an IN list", "postgres",
			"UPDATE t SET a = ? WHERE id IN (?, ?)", "UPDATE t SET a = $1 WHERE id IN ($2, $3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialects[tt.dialect].rebind(tt.query); got != tt.want {
				t.Errorf("%s rebind(%q) = %q, want %q", tt.dialect, tt.query, got, tt.want)
			}
		})
	}
}

func TestIsSQLiteMemory(t *testing.T) {
	for dsn, want := range map[string]bool{
		":memory:":                        true,
		"file::memory:?cache=shared":      true,
		"file:portvakt?mode=memory":       true,
		"/var/lib/portvakt/portvakt.db":   false,
		"file:/var/lib/portvakt/p.db?x=1": false,
	} {
		if got := isSQLiteMemory(dsn); got != want {
			t.Errorf("isSQLiteMemory(%q) = %v, want %v", dsn, got, want)
		}
	}
}
