package config

import (
	"strings"
	"time"
)

// The database section.
func (c Config) validateDatabase(k *checker) {
	k.oneOf("database.driver", c.Database.Driver, "sqlite", "postgres")
	if c.Database.DSN == "" {
		k.add("database.dsn", "must be set: a file path for sqlite, a postgres:// URL for postgres")
	} else if c.Database.Driver == "postgres" && !strings.HasPrefix(c.Database.DSN, "postgres://") && !strings.HasPrefix(c.Database.DSN, "postgresql://") && !strings.Contains(c.Database.DSN, "host=") {
		k.add("database.dsn", "must be a postgres:// URL or a key=value connection string for driver postgres")
	}

	if c.Database.MaxOpenConns < 0 || c.Database.MaxOpenConns > 1000 {
		k.add("database.max_open_conns", "must be between 0 (4 per core, 8 to 32) and 1000, but is %d", c.Database.MaxOpenConns)
	}
	if c.Database.MaxIdleConns < 0 {
		k.add("database.max_idle_conns", "must be 0 (as many as max_open_conns) or more, but is %d", c.Database.MaxIdleConns)
	} else if c.Database.MaxOpenConns > 0 && c.Database.MaxIdleConns > c.Database.MaxOpenConns {
		k.add("database.max_idle_conns", "must not exceed database.max_open_conns (%d), but is %d", c.Database.MaxOpenConns, c.Database.MaxIdleConns)
	}
	if c.Database.ConnMaxIdleTime.D() < 0 {
		k.add("database.conn_max_idle_time", "must be 0s (keep idle connections) or more, but is %s", c.Database.ConnMaxIdleTime)
	}
	if c.Database.ConnMaxLifetime.D() < 0 {
		k.add("database.conn_max_lifetime", "must be 0s (keep connections) or more, but is %s", c.Database.ConnMaxLifetime)
	} else if l := c.Database.ConnMaxLifetime.D(); l > 0 && l < time.Minute {
		k.add("database.conn_max_lifetime", "must be 0s or at least 1m (shorter reconnects all the time), but is %s", c.Database.ConnMaxLifetime)
	}
	if q := c.Database.QueryTimeout.D(); q < 100*time.Millisecond || q > 5*time.Minute {
		k.add("database.query_timeout", "must be between 100ms and 5m, but is %s", c.Database.QueryTimeout)
	}
}
