package main

import (
	"os"
	"runtime/debug"
	"time"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/config"
)

// serverMemoryHeadroom is what the server needs beside password hashing:
// catalogs, templates, keys, the database pool and requests in flight
// (the Go heap of an idle server is about 10 MiB).
const serverMemoryHeadroom = 40 << 20

// tuneMemory sets the Go runtime's soft memory limit for serve, unless
// GOMEMLIMIT says otherwise: the hash budget plus serverMemoryHeadroom
// (78 MiB on 2 cores at the defaults). The hasher keeps its hash memory
// for the next hash (internal/argon2), so that memory is live heap, and
// with only GOGC=100 the collector would let as much garbage again pile
// up beside it before a collection; the limit keeps a login storm's RSS
// under the 120 MiB issue 12 asks for on 2 cores (91–102 MiB measured).
// Before the memory was kept, the limit made the runtime return each
// hash's 19 MiB to the system and fault it in again, which doubled a
// sign-in's CPU. It returns the limit, or -1 when GOMEMLIMIT is set.
func tuneMemory(cfg config.Config) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return -1
	}
	budget := cfg.Password.HashMemoryLimitBytes()
	if budget == 0 {
		budget = password.DefaultHashMemoryLimit(cfg.Password.Argon2Params())
	}
	limit := int64(budget) + serverMemoryHeadroom
	debug.SetMemoryLimit(limit)
	return limit
}

// releaseStartupMemory returns the garbage of a heavy start-up (the first
// start's migrations and keys) to the system once the server has settled,
// so that an idle server's RSS is what it uses. A start-up that made too
// little garbage for the runtime to collect even once (a restart: the
// catalogs and templates are parsed on first use) is left alone: a forced
// collection then frees almost nothing, while it reads the binary's data
// and unwinds every stack, which maps about 1.5 MiB more of the binary
// (issue 12: idle RSS 28.3 → 26.8 MiB three seconds after start, 29.9 →
// 28.4 MiB after two minutes).
func releaseStartupMemory() {
	time.AfterFunc(2*time.Second, func() {
		var s debug.GCStats
		debug.ReadGCStats(&s)
		if s.NumGC > 0 {
			debug.FreeOSMemory()
		}
	})
}
