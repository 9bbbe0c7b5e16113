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
// (internal/argon2 explains why). The pool bounds how many hashes run at
// once, so at most that many Memories are ever out; a Memory bigger than
// one hash at the current parameters (an imported hash at a higher m) is
// not kept. After memoryIdle without a hash the kept memory is dropped,
// for the runtime to return to the system.
type memories struct {
	keepBytes int64         // the largest Memory kept: one hash at the current m
	idle      time.Duration // memoryIdle, or less in tests

	mu    sync.Mutex
	free  []*argon2.Memory
	timer *time.Timer
}

// get returns memory for a hash of weight bytes: a kept Memory, unless
// the hash is bigger than those kept (it would grow one past keeping).
func (ms *memories) get(weight int64) *argon2.Memory {
	if weight > ms.keepBytes {
		return new(argon2.Memory)
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
	if m.Size() > ms.keepBytes {
		return
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
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
