package password

import (
	"sync"
	"time"

	"github.com/portvakt/portvakt/internal/argon2"
)

// memoryIdle is how long kept hash memory outlives the last hash: a server
// between storms goes back to its idle footprint.
const memoryIdle = time.Minute

// memories keeps the working memory of finished hashes for the next ones
// (internal/argon2 explains why). Only hashes at the current parameters'
// memory use kept Memories, and only their Memories are kept, at most
// maxKept (the hashes at the current parameters the pool lets run at
// once). Any other hash (older parameters, an imported hash) works in
// fresh memory of its own size that is not kept: the pool books each hash
// by its own m, so a small hash holding a big kept Memory, or a list that
// grows with each odd hash, would let hash memory pass the pool's limit
// (both found by the issue 12 review). So kept memory is at most
// maxKept × keepBytes ≤ the limit. After memoryIdle without a hash it is
// dropped, for the runtime to return to the system.
type memories struct {
	keepBytes int64         // argon2.MemoryFor the current parameters
	maxKept   int           // the Hasher's Concurrency
	idle      time.Duration // memoryIdle, or less in tests

	mu    sync.Mutex
	free  []*argon2.Memory
	timer *time.Timer
}

// get returns memory for a hash that works in need bytes
// (argon2.MemoryFor): a kept Memory, or a new one that put will keep, if
// need is the current parameters'; nil (fresh memory, not kept) otherwise.
func (ms *memories) get(need int64) *argon2.Memory {
	if need != ms.keepBytes {
		return nil
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if n := len(ms.free); n > 0 {
		m := ms.free[n-1]
		ms.free[n-1] = nil
		ms.free = ms.free[:n-1]
		return m
	}
	return new(argon2.Memory)
}

func (ms *memories) put(m *argon2.Memory) {
	if m == nil || m.Size() != ms.keepBytes {
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.free) >= ms.maxKept {
		return
	}
	ms.free = append(ms.free, m)
	if ms.timer == nil {
		ms.timer = time.AfterFunc(ms.idle, ms.drop)
	} else {
		ms.timer.Reset(ms.idle)
	}
}

// drop forgets the kept memory.
func (ms *memories) drop() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	clear(ms.free)
	ms.free = ms.free[:0]
}

// kept returns how many bytes of memory are kept, for tests.
func (ms *memories) kept() (n int, bytes int64) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, m := range ms.free {
		bytes += m.Size()
	}
	return len(ms.free), bytes
}
