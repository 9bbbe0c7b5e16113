package sqlstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// TestStatementCacheKeepsNoFilterShapes (from the issue 12 review): the
// statement cache kept every distinct text of a statement made outside a
// transaction for the life of the DB, and ListAuditEvents (the support
// console and admin API) builds its text from the filter: each number of
// kinds (1–100) and each combination of the optional clauses was one more
// kept statement, about 54 KB of SQLite memory each. Filter-built queries
// now run unprepared, and the cache is bounded (maxCachedStmts).
func TestStatementCacheKeepsNoFilterShapes(t *testing.T) {
	db, err := OpenAndMigrate(t.Context(), "sqlite", filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func() int {
		n := 0
		db.stmts.m.Range(func(any, any) bool { n++; return true })
		return n
	}
	heap := func() uint64 { // resident set (modernc's SQLite allocates outside the Go heap)
		runtime.GC()
		b, err := os.ReadFile("/proc/self/statm")
		if err != nil {
			return 0
		}
		var size, rss uint64
		fmt.Sscan(string(b), &size, &rss)
		return rss * uint64(os.Getpagesize())
	}
	before, h0 := count(), heap()
	kinds := make([]string, 100)
	for i := range kinds {
		kinds[i] = fmt.Sprintf("kind.%d", i)
	}
	for n := 1; n <= 100; n++ {
		for combo := range 8 {
			f := store.AuditFilter{Kinds: kinds[:n]}
			if combo&1 != 0 {
				f.Subject = "s"
			}
			if combo&2 != 0 {
				f.ActorID = "a"
			}
			if combo&4 != 0 {
				f.Since = time.Unix(1, 0)
			}
			if _, _, err := db.ListAuditEvents(t.Context(), f); err != nil {
				t.Fatal(err)
			}
		}
	}
	after, h1 := count(), heap()
	t.Logf("statements kept: %d → %d; RSS %d KiB → %d KiB (+%d KiB)", before, after, h0>>10, h1>>10, (int64(h1)-int64(h0))>>10)
	if after > before+1 || after > maxCachedStmts {
		t.Errorf("%d statements kept after 800 audit listings, %d before", after, before)
	}
}
