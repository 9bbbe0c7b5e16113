package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
)

// migrations holds one directory of goose SQL files per dialect. The two
// directories describe the same tables and columns (TestMigrate checks);
// a schema change adds a file with the same number to both.
//
//go:embed migrations
var migrations embed.FS

// Migration is one schema migration and whether the database has it.
type Migration struct {
	Version   int64
	Name      string    // file name, such as "00001_init.sql"
	Applied   bool      // whether the database has it
	AppliedAt time.Time // when it was applied, if Applied
}

// Migrate applies the pending migrations, each in its own transaction, and
// returns the names of those it applied (none if the database was up to
// date). On PostgreSQL it holds an advisory lock meanwhile, so nodes that
// start together migrate one after the other. Then it brings email keys
// stored in an older form to the current one (rekeyEmails).
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			applied = append(applied, path.Base(r.Source.Path))
		}
	}
	if err != nil {
		return applied, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if _, err := db.rekeyEmails(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// MigrationStatus lists every migration this build knows, oldest first,
// with whether the database has it.
func (db *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	status, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migration status: %w", err)
	}
	list := make([]Migration, len(status))
	for i, s := range status {
		list[i] = Migration{
			Version:   s.Source.Version,
			Name:      path.Base(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		}
	}
	return list, nil
}

// migrator returns a goose provider for the dialect's migrations. It runs
// on the writer pool; on SQLite that is the single writer connection.
func (db *DB) migrator() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.d.locker != nil {
		l, err := db.d.locker()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	p, err := goose.NewProvider(db.d.goose, db.write, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return p, nil
}
