package argon2

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

// poison fills every block the Memory holds (up to its capacity) with a
// pattern, as a previous hash could have left it.
func poison(m *Memory, v uint64) {
	b := m.blocks[:cap(m.blocks)]
	for i := range b {
		for j := range b[i] {
			b[i][j] = v ^ uint64(i*131+j)
		}
	}
}

// TestReviewPoisonedMemory: whatever a reused Memory holds, the key is
// x/crypto's: p up to 16 (lanes reading each other's segments), m at and
// just above 8p, odd m, m not a multiple of 4p, t up to 3.
func TestReviewPoisonedMemory(t *testing.T) {
	var mem Memory
	mem.take(4096) // room for every case below
	r := rand.New(rand.NewPCG(7, 9))
	for _, p := range []uint8{1, 2, 3, 5, 7, 8, 16} {
		for _, m := range []uint32{8 * uint32(p), 8*uint32(p) + 1, 8*uint32(p) + 3, 8*uint32(p)*2 - 1, 257, 1023, 2049} {
			if m < 8*uint32(p) {
				continue
			}
			for tm := uint32(1); tm <= 3; tm++ {
				pw := make([]byte, r.IntN(40))
				salt := make([]byte, 8+r.IntN(24))
				for i := range pw {
					pw[i] = byte(r.Uint32())
				}
				for i := range salt {
					salt[i] = byte(r.Uint32())
				}
				for _, pv := range []uint64{0, ^uint64(0), r.Uint64()} {
					poison(&mem, pv)
					got := IDKey(&mem, pw, salt, tm, m, p, 32)
					want := xargon2.IDKey(pw, salt, tm, m, p, 32)
					if !bytes.Equal(got, want) {
						t.Fatalf("IDKey t=%d m=%d p=%d poison=%x: %x, want %x", tm, m, p, pv, got, want)
					}
					poison(&mem, pv)
					if got, want := Key(&mem, pw, salt, tm, m, p, 16), xargon2.Key(pw, salt, tm, m, p, 16); !bytes.Equal(got, want) {
						t.Fatalf("Key t=%d m=%d p=%d poison=%x: %x, want %x", tm, m, p, pv, got, want)
					}
				}
			}
		}
	}
}

// TestReviewDistinctMemoriesInParallel: hashes in parallel, each in its own
// reused Memory, agree with x/crypto (run with -race).
func TestReviewDistinctMemoriesInParallel(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mem Memory
			for i := range 6 {
				p := uint8(1 + (g+i)%4)
				m := uint32(64 + 37*i + g)
				pw := []byte{byte(g), byte(i)}
				salt := []byte("saltsaltsalt")
				if !bytes.Equal(IDKey(&mem, pw, salt, 2, m, p, 32), xargon2.IDKey(pw, salt, 2, m, p, 32)) {
					errs <- "mismatch"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
