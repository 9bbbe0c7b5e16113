package sqlstore_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/storetest"
)

// The OpenID Provider's part of the conformance suite, on both dialects.

func TestSQLiteOIDC(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) store.Store {
		return openSQLite(t)
	})
}

func TestPostgresOIDC(t *testing.T) {
	cluster := pgtest.Shared(t)
	storetest.RunOIDC(t, func(t *testing.T) store.Store {
		return openAndMigrate(t, "postgres", cluster.NewDatabase(t))
	})
}
