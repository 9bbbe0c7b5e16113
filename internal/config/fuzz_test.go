package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

// FuzzLoad: any config file and any PORTVAKT_* variable either load or
// are refused with an error; neither panics, and what loads can be
// validated (an invalid configuration is a list of errors, not a panic).
func FuzzLoad(f *testing.F) {
	for _, s := range [][3]string{
		{"server:\n  listen: 127.0.0.1:8080\ndatabase:\n  dsn: x.db\n  max_open_conns: 4\n", "PORTVAKT_DATABASE_QUERY_TIMEOUT", "3s"},
		{"oidc:\n  clients:\n    - id: a\n      redirect_uris: [http://x]\n", "PORTVAKT_SERVER_DRAIN_TIMEOUT", "-1s"},
		{"password: {min_length: 99999999999999999999}\n", "PORTVAKT_PASSWORD_MIN_LENGTH", "x"},
		{"a: &a [*a]\n", "PORTVAKT_DATABASE_MAX_IDLE_CONNS", "1e9"},
		{"- - -\n", "PORTVAKT_", ""},
		{"{", "PORTVAKT_OIDC_ENABLED", "maybe"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, yaml, key, value string) {
		path := filepath.Join(dir, "portvakt.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, []string{key + "=" + value})
		if err != nil {
			return
		}
		cfg.Validate()
	})
}
