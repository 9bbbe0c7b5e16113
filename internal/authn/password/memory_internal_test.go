package password

import (
	"context"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/testwait"
)

// TestKeptMemoryIsDroppedWhenIdle: after a hash the memory is kept for the
// next, and dropped once no hash has run for the idle time.
func TestKeptMemoryIsDroppedWhenIdle(t *testing.T) {
	h, err := NewHasher(Argon2Params{Memory: 64, Time: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.mem.idle = 50 * time.Millisecond
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if n, b := h.mem.kept(); n != 1 || b != 64<<10 {
		t.Fatalf("after one hash %d memories of %d bytes are kept, want 1 of %d", n, b, 64<<10)
	}
	testwait.For(t, 10*time.Second, "the kept memory to be dropped", func() bool {
		n, _ := h.mem.kept()
		return n == 0
	})
}
