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
// (idle RSS is about 25 MiB).
const serverMemoryHeadroom = 40 << 20

// tuneMemory sets the Go runtime's soft memory limit for serve, unless
// GOMEMLIMIT says otherwise: the hash budget plus serverMemoryHeadroom
// (78 MiB on 2 cores at the defaults). Argon2's 19 MiB blocks are
// garbage after each hash, and with only GOGC=100 the heap would grow to
// twice the live hash memory before a collection, so a login storm held
// 150 MiB and more (issue 12 asks for under 120 MiB on 2 cores). The
// blocks hold no pointers, so the collections the limit brings on are
// cheap. It returns the limit, or -1 when GOMEMLIMIT is set.
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

// releaseStartupMemory returns the garbage of start-up (migrations,
// catalogs, templates, first keys) to the system once the server has
// settled, so that an idle server's RSS is what it uses.
func releaseStartupMemory() {
	time.AfterFunc(2*time.Second, debug.FreeOSMemory)
}
