package sqlstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// prepareSQLiteFile makes a new database file private before SQLite
// opens it (issue 10, finding 8: the files were world-readable): the file
// is created 0600, empty (an empty file is a new database to SQLite, which
// then creates the -wal and -shm files with the database's own mode). An
// existing database whose files are readable by others is tightened to
// 0600. Directories are neither created (a missing one is a mistake in the
// DSN, reported at once) nor changed (it may be the current directory);
// put the database in a directory of its own, mode 0700. In-memory
// databases have no file.
func prepareSQLiteFile(dsn string) error {
	if isSQLiteMemory(dsn) {
		return nil
	}
	path := dsn
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		path = rest
	}
	path, _, _ = strings.Cut(path, "?")
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Stat(filepath.Dir(path)); err != nil {
			return nil // SQLite reports the missing directory
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return nil // another process created it first
		}
		if err != nil {
			return err
		}
		return f.Close()
	case err != nil:
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if p != path {
			if st, err = os.Stat(p); err != nil {
				continue
			}
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
