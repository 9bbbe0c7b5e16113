package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
)

// sqliteFile returns the file a SQLite DSN names ("portvakt.db",
// "file:/var/lib/portvakt/x.db?_pragma=…"), and false for an in-memory
// database.
func sqliteFile(dsn string) (string, bool) {
	if strings.HasPrefix(dsn, ":memory:") || strings.HasPrefix(dsn, "file::memory:") || strings.Contains(dsn, "mode=memory") {
		return "", false
	}
	dsn = strings.TrimPrefix(dsn, "file:")
	dsn, _, _ = strings.Cut(dsn, "?")
	return dsn, dsn != ""
}

// checkDatabaseDir says, for SQLite, which directory is missing or not
// writable, before the driver can answer with "unable to open database
// file (14)". It creates nothing.
func checkDatabaseDir(c config.Database) error {
	if c.Driver != "sqlite" {
		return nil
	}
	file, ok := sqliteFile(c.DSN)
	if !ok {
		return nil
	}
	dir := filepath.Dir(file)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("database.dsn: the directory %s does not exist, so the database %s cannot be made there; create it (mkdir -p %s) or choose another database.dsn", dir, file, dir)
	case err != nil:
		return fmt.Errorf("database.dsn: %v", err)
	case !st.IsDir():
		return fmt.Errorf("database.dsn: %s is not a directory", dir)
	}
	// SQLite writes a journal beside the file: the directory itself must
	// take new files, not only the database file.
	probe, err := os.CreateTemp(dir, ".portvakt-check-*")
	if err != nil {
		return fmt.Errorf("database.dsn: cannot write in the directory %s: %v", dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// checkDatabase opens the configured database as serve would and returns
// a line saying what it found. A SQLite file that does not exist yet is
// not made: only its directory is checked.
func checkDatabase(ctx context.Context, c config.Database) (string, error) {
	if err := checkDatabaseDir(c); err != nil {
		return "", err
	}
	if c.Driver == "sqlite" {
		file, ok := sqliteFile(c.DSN)
		if !ok {
			return "database: in memory (gone when the process ends)", nil
		}
		abs, _ := filepath.Abs(file)
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("database: %s will be created at the first start", abs), nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db, err := app.OpenDB(ctx, c)
	if err != nil {
		return "", fmt.Errorf("database: %v", err)
	}
	defer db.Close()
	if c.Driver == "sqlite" {
		file, _ := sqliteFile(c.DSN)
		abs, _ := filepath.Abs(file)
		return "database: " + abs + " opens", nil
	}
	return "database: the PostgreSQL server answers", nil
}
