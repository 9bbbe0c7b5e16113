package sqlstore_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/storetest"
)

// TestMain lets the PostgreSQL tests share one throwaway cluster, started
// by the first test that needs it and stopped after the last.
func TestMain(m *testing.M) { pgtest.Main(m) }

func TestPostgres(t *testing.T) {
	cluster := pgtest.Shared(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAndMigrate(t, "postgres", cluster.NewDatabase(t))
	})
}
