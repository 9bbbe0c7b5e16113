package config_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/config"
)

func TestDatabasePoolDefaults(t *testing.T) {
	cfg := config.Default()
	open, idle := cfg.Database.Pool()
	want := min(32, max(8, 4*runtime.GOMAXPROCS(0)))
	if open != want || idle != open {
		t.Errorf("Pool() = %d, %d; want %d open and as many idle", open, idle, want)
	}
	if got := cfg.Database.QueryTimeout.D(); got != 5*time.Second {
		t.Errorf("query_timeout = %s, want 5s", got)
	}
	if got := cfg.Server.DrainTimeout.D(); got != 30*time.Second {
		t.Errorf("server.drain_timeout = %s, want 30s", got)
	}
}

func TestDatabasePoolFromEnvironment(t *testing.T) {
	cfg, err := config.Load("", []string{
		"PORTVAKT_DATABASE_MAX_OPEN_CONNS=12",
		"PORTVAKT_DATABASE_MAX_IDLE_CONNS=4",
		"PORTVAKT_DATABASE_CONN_MAX_IDLE_TIME=1m",
		"PORTVAKT_DATABASE_CONN_MAX_LIFETIME=20m",
		"PORTVAKT_DATABASE_QUERY_TIMEOUT=2s",
		"PORTVAKT_SERVER_DRAIN_TIMEOUT=45s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	if open, idle := cfg.Database.Pool(); open != 12 || idle != 4 {
		t.Errorf("Pool() = %d, %d; want 12, 4", open, idle)
	}
	d := cfg.Database
	if d.ConnMaxIdleTime.D() != time.Minute || d.ConnMaxLifetime.D() != 20*time.Minute || d.QueryTimeout.D() != 2*time.Second {
		t.Errorf("durations = %s, %s, %s; want 1m, 20m, 2s", d.ConnMaxIdleTime, d.ConnMaxLifetime, d.QueryTimeout)
	}
	if cfg.Server.DrainTimeout.D() != 45*time.Second {
		t.Errorf("server.drain_timeout = %s, want 45s", cfg.Server.DrainTimeout)
	}
}

func TestDatabasePoolValidation(t *testing.T) {
	tests := []struct {
		name string
		set  func(*config.Config)
		path string
		frag string
	}{
		{"negative pool", func(c *config.Config) { c.Database.MaxOpenConns = -1 }, "database.max_open_conns", "between 0"},
		{"more idle than open", func(c *config.Config) { c.Database.MaxOpenConns, c.Database.MaxIdleConns = 4, 8 }, "database.max_idle_conns", "must not exceed"},
		{"negative idle", func(c *config.Config) { c.Database.MaxIdleConns = -2 }, "database.max_idle_conns", "or more"},
		{"negative idle time", func(c *config.Config) { c.Database.ConnMaxIdleTime = config.Duration(-time.Second) }, "database.conn_max_idle_time", "or more"},
		// A lifetime of seconds would reconnect continually, which is
		// the very cost the pool is there to avoid.
		{"lifetime too short", func(c *config.Config) { c.Database.ConnMaxLifetime = config.Duration(10 * time.Second) }, "database.conn_max_lifetime", "at least 1m"},
		{"no query timeout", func(c *config.Config) { c.Database.QueryTimeout = 0 }, "database.query_timeout", "between 100ms and 5m"},
		{"query timeout too long", func(c *config.Config) { c.Database.QueryTimeout = config.Duration(time.Hour) }, "database.query_timeout", "between 100ms and 5m"},
		{"negative drain", func(c *config.Config) { c.Server.DrainTimeout = config.Duration(-time.Second) }, "server.drain_timeout", "between 0s and 10m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.set(&cfg)
			_, err := cfg.Validate()
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("Validate() = %v, want config.Errors", err)
			}
			for _, e := range es {
				if e.Path == tt.path && strings.Contains(e.Message, tt.frag) {
					return
				}
			}
			t.Errorf("Validate() = %v, want an error for %s containing %q", err, tt.path, tt.frag)
		})
	}
}
