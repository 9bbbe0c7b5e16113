package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/portvakt/portvakt/internal/config"
)

// serve sets a soft memory limit of the hash budget plus headroom, unless
// GOMEMLIMIT is set; a raised hash_memory_limit_mib raises it too.
func TestTuneMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	cfg := config.Default()
	want := int64(runtime.GOMAXPROCS(0))*19456*1024 + serverMemoryHeadroom
	if got := tuneMemory(cfg); got != want || debug.SetMemoryLimit(-1) != want {
		t.Errorf("tuneMemory(defaults) = %d, want cores × m + headroom = %d", got, want)
	}
	cfg.Password.HashMemoryLimit = 256
	if got := tuneMemory(cfg); got != 256<<20+serverMemoryHeadroom {
		t.Errorf("tuneMemory(hash_memory_limit_mib: 256) = %d", got)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := tuneMemory(cfg); got != -1 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("tuneMemory with GOMEMLIMIT set = %d and changed the limit", got)
	}
}
