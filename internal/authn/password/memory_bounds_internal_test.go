// Tests from the issue 12 review: kept hash memory stays within the
// pool's limit whatever mix of parameters is hashed.

package password

import (
	"context"
	"fmt"
	"sync"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"

	"github.com/portvakt/portvakt/internal/argon2"
)

// TestKeptMemory_KeptMemoryRatchetsPastTheLimit: the pool books a hash by its
// own m, but get hands a hash smaller than the current parameters (an
// older or imported hash) whatever kept Memory is on top, grown to the
// current m. While such small hashes hold the grown Memories, each hash at
// the current m finds none free and grows a new one; all come back and are
// kept. The pool admits limit/m_small hashes at once, so the memory held
// and kept is not bounded by the limit (only by limit/m_small × m_current).
//
// The interleaving below is one the pool admits: limit 4 MiB, current
// m = 1 MiB, small hashes m = 64 KiB; at no point do the booked weights
// exceed the limit (at most 1 MiB + 40×64 KiB = 3.5 MiB).
func TestKeptMemory_KeptMemoryRatchetsPastTheLimit(t *testing.T) {
	const (
		limit   = 4 << 20
		current = 1024 // KiB
		small   = 64   // KiB
		n       = 40
	)
	h, err := NewHasher(Argon2Params{Memory: current, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, limit)
	if err != nil {
		t.Fatal(err)
	}
	ms := &h.mem
	booked := int64(0)
	var held []*argon2.Memory
	for range n {
		// A hash at the current m: books 1 MiB, takes a kept Memory (or a
		// new one) and grows it to 1 MiB, puts it back.
		booked += argon2Weight(current)
		if booked > limit {
			t.Fatalf("the interleaving books %d > %d", booked, limit)
		}
		m := ms.get(argon2Weight(current))
		argon2.IDKey(m, []byte("pw"), []byte("saltsaltsaltsalt"), 1, current, 1, 32)
		ms.put(m)
		booked -= argon2Weight(current)
		// A small (older or imported) hash starts: books 64 KiB and takes
		// the grown Memory on top, and is still running.
		booked += argon2Weight(small)
		held = append(held, ms.get(argon2Weight(small)))
	}
	heldBytes := int64(0)
	for _, m := range held {
		heldBytes += m.Size()
	}
	t.Logf("booked by the pool: %d KiB; held by %d small hashes: %d KiB", booked>>10, n, heldBytes>>10)
	for _, m := range held {
		ms.put(m)
	}
	keptN, kept := ms.kept()
	t.Logf("kept after they finish: %d Memories, %d KiB (limit %d KiB)", keptN, kept>>10, limit>>10)
	if heldBytes > limit || kept > limit {
		t.Errorf("hash memory held %d bytes and kept %d bytes, past the %d-byte limit", heldBytes, kept, limit)
	}
}

// TestReviewHasherConcurrentMixed: hashes at the current and at older
// parameters (p>1, odd m, m=8p) verified in parallel through one Hasher
// (kept Memories passed between them) all verify, and a wrong password
// never does (run with -race).
func TestKeptMemory_HasherConcurrentMixed(t *testing.T) {
	h, err := NewHasher(Argon2Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	type imported struct {
		m, tm uint32
		p     uint8
	}
	var hashes []string
	var pws []string
	for i, im := range []imported{{256, 1, 1}, {8, 1, 1}, {16, 2, 2}, {257, 1, 3}, {1023, 2, 4}, {24, 3, 3}, {512, 1, 1}} {
		pw := fmt.Sprintf("password %d", i)
		salt := []byte(fmt.Sprintf("salt-%011d", i))
		key := xargon2.IDKey([]byte(pw), salt, im.tm, im.m, im.p, 32)
		enc := encodeArgon2id(Argon2Params{Memory: im.m, Time: im.tm, Threads: im.p, SaltLen: 16, KeyLen: 32}, salt, key)
		hashes, pws = append(hashes, enc), append(pws, pw)
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for j := range 20 {
				i := (g + j) % len(hashes)
				ok, _, err := h.Verify(context.Background(), pws[i], hashes[i])
				if err != nil || !ok {
					t.Errorf("Verify(#%d) = %v, %v", i, ok, err)
				}
				ok, _, err = h.Verify(context.Background(), pws[i]+"x", hashes[i])
				if err != nil || ok {
					t.Errorf("Verify(#%d, wrong) = %v, %v", i, ok, err)
				}
			}
		})
	}
	wg.Wait()
	if _, b := h.mem.kept(); b > 8<<20 {
		t.Errorf("kept %d bytes, more than the limit", b)
	}
}

// TestReviewRoundedDownHashGrowsTheKeptList: a stored hash whose m is a
// little above the current m but rounds down (to a multiple of 4p) to at
// most the current m is weighed above keepBytes, so get gives it a fresh
// Memory, but the Memory it fills is not above keepBytes, so put keeps it.
// Every verification of such a hash (a wrong password suffices) adds one
// current-size Memory to the kept list, one after the other, with no
// concurrency; the list is dropped only after a minute without any hash.
// At the defaults (m=19456, p=1) a hash with m=19459, p=4 (rounds to
// 19456) adds 19 MiB per sign-in attempt.
func TestKeptMemory_RoundedDownHashGrowsTheKeptList(t *testing.T) {
	const current = 1024
	h, err := NewHasher(Argon2Params{Memory: current, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("saltsaltsaltsalt")
	key := xargon2.IDKey([]byte("right"), salt, 1, current+3, 4, 32)
	enc := encodeArgon2id(Argon2Params{Memory: current + 3, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}, salt, key)
	if err := h.CheckImported(enc); err != nil {
		t.Fatalf("CheckImported: %v", err)
	}
	for range 30 {
		if ok, _, err := h.Verify(context.Background(), "wrong", enc); err != nil || ok {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
	}
	n, b := h.mem.kept()
	t.Logf("after 30 sequential wrong passwords: %d Memories kept, %d KiB (limit 4096 KiB)", n, b>>10)
	if n > 1 || b > 4<<20 {
		t.Errorf("kept %d Memories (%d bytes) after 30 sequential verifications", n, b)
	}
}

// TestReviewRatchetThroughTheHasher: the same as
// TestKeptMemory_KeptMemoryRatchetsPastTheLimit, through Hasher.Verify only:
// hashes at the current m and older, smaller hashes (no rounding) in
// parallel. The kept memory ends far above the pool's limit.
func TestKeptMemory_RatchetThroughTheHasher(t *testing.T) {
	const limit = 4 << 20
	h, err := NewHasher(Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, limit)
	if err != nil {
		t.Fatal(err)
	}
	h.SetMaxWait(1 << 40) // never ErrBusy: the test is about memory
	cur, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("saltsaltsaltsalt")
	old := encodeArgon2id(Argon2Params{Memory: 128, Time: 40, Threads: 1, SaltLen: 16, KeyLen: 32}, salt,
		xargon2.IDKey([]byte("pw"), salt, 40, 128, 1, 32))
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for range 10 {
				enc := old
				if g < 4 {
					enc = cur
				}
				if _, _, err := h.Verify(context.Background(), "wrong", enc); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	n, b := h.mem.kept()
	t.Logf("kept: %d Memories, %d KiB; pool limit %d KiB; peak booked %d KiB", n, b>>10, limit>>10, h.Stats().Peak>>10)
	if b > limit {
		t.Errorf("kept %d bytes of hash memory, past the %d-byte limit", b, limit)
	}
}
