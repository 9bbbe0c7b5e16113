package password

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// TestReviewDummyUsesKeptMemoryLikeAKnownAccount: VerifyDummy and a
// known account's Verify at the current parameters take the same path
// (a kept Memory, no fresh 1 MiB), so neither allocates the hash memory
// when the other has run.
func TestReviewDummyUsesKeptMemoryLikeAKnownAccount(t *testing.T) {
	h, err := NewHasher(Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	known := testing.AllocsPerRun(5, func() { h.Verify(context.Background(), "wrong", enc) })
	dummy := testing.AllocsPerRun(5, func() { h.VerifyDummy(context.Background(), "wrong") })
	if d := known - dummy; d > 2 || d < -2 {
		t.Errorf("allocations: known %v, dummy %v", known, dummy)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "known %v dummy %v", known, dummy)
	t.Log(buf.String())
}
