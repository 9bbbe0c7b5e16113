package argon2

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	xargon2 "golang.org/x/crypto/argon2"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC9106Vectors checks RFC 9106 §5.2 and §5.3 (t=3, m=32 KiB, p=4,
// with a secret and associated data), in fresh memory and in memory a
// bigger hash used before.
func TestRFC9106Vectors(t *testing.T) {
	pw, salt := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)
	secret, ad := bytes.Repeat([]byte{3}, 8), bytes.Repeat([]byte{4}, 12)
	for _, tc := range []struct {
		name string
		mode int
		want string
	}{
		{"argon2i", argon2i, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"},
		{"argon2id", argon2id, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"},
	} {
		var used Memory
		IDKey(&used, []byte("something else"), salt, 1, 256, 2, 32)
		for _, mem := range []*Memory{nil, {}, &used} {
			got := deriveKey(mem, tc.mode, pw, salt, secret, ad, 3, 32, 4, 32)
			if !bytes.Equal(got, unhex(t, tc.want)) {
				t.Errorf("%s: tag %x, want %s", tc.name, got, tc.want)
			}
		}
	}
}

// TestPHCVectors checks the phc-winner-argon2 reference vectors listed in
// SECURITY.md ("password", "somesalt"), all in one Memory.
func TestPHCVectors(t *testing.T) {
	var mem Memory
	for _, tc := range []struct {
		time, memory uint32
		threads      uint8
		want         string
	}{
		{2, 65536, 1, "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"},
		{2, 256, 1, "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe"},
		{2, 256, 2, "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037"},
		{1, 65536, 1, "f6a5adc1ba723dddef9b5ac1d464e180fcd9dffc9d1cbf76cca2fed795d9ca98"},
		{4, 65536, 1, "9025d48e68ef7395cca9079da4c4ec3affb3c8911fe4f86d1a2520856f63172c"},
	} {
		got := IDKey(&mem, []byte("password"), []byte("somesalt"), tc.time, tc.memory, tc.threads, 32)
		if !bytes.Equal(got, unhex(t, tc.want)) {
			t.Errorf("t=%d m=%d p=%d: %x, want %s", tc.time, tc.memory, tc.threads, got, tc.want)
		}
	}
	if got := Key(&mem, []byte("password"), []byte("somesalt"), 2, 65536, 1, 32); !bytes.Equal(got, unhex(t, "c1628832147d9720c5bd1cfd61367078729f6dfb6f8fea9ff98158e0d7816ed0")) {
		t.Errorf("argon2i t=2 m=65536 p=1: %x", got)
	}
	if mem.Size() != 65536<<10 {
		t.Errorf("the Memory holds %d bytes after a 64 MiB hash, want %d", mem.Size(), 65536<<10)
	}
}

// TestSameAsXCrypto derives keys for random inputs and parameters with
// one Memory that grows and is reused across sizes, and compares each with
// golang.org/x/crypto/argon2, which allocates fresh zeroed memory.
func TestSameAsXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var mem Memory
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		pw := make([]byte, r.IntN(40))
		salt := make([]byte, 8+r.IntN(24))
		for j := range pw {
			pw[j] = byte(r.Uint32())
		}
		for j := range salt {
			salt[j] = byte(r.Uint32())
		}
		time := 1 + r.Uint32N(3)
		threads := uint8(1 + r.IntN(4))
		memory := r.Uint32N(600)
		keyLen := 4 + r.Uint32N(100)
		if got, want := IDKey(&mem, pw, salt, time, memory, threads, keyLen), xargon2.IDKey(pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("#%d IDKey(t=%d m=%d p=%d len=%d) = %x, x/crypto %x", i, time, memory, threads, keyLen, got, want)
		}
		if got, want := Key(&mem, pw, salt, time, memory, threads, keyLen), xargon2.Key(pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("#%d Key(t=%d m=%d p=%d len=%d) = %x, x/crypto %x", i, time, memory, threads, keyLen, got, want)
		}
	}
}

// FuzzSameAsXCrypto: whatever the inputs, one reused Memory gives
// x/crypto's key.
func FuzzSameAsXCrypto(f *testing.F) {
	f.Add([]byte("password"), []byte("somesalt"), uint8(2), uint16(64), uint8(1), uint8(32))
	f.Add([]byte(""), []byte("saltsalt"), uint8(1), uint16(8), uint8(4), uint8(4))
	var mem Memory
	f.Fuzz(func(t *testing.T, pw, salt []byte, time uint8, memory uint16, threads uint8, keyLen uint8) {
		tm := 1 + uint32(time%3)
		m := uint32(memory % 1024)
		p := 1 + threads%4
		k := 4 + uint32(keyLen)
		if got, want := IDKey(&mem, pw, salt, tm, m, p, k), xargon2.IDKey(pw, salt, tm, m, p, k); !bytes.Equal(got, want) {
			t.Fatalf("IDKey(t=%d m=%d p=%d len=%d) = %x, x/crypto %x", tm, m, p, k, got, want)
		}
	})
}

// BenchmarkIDKey compares x/crypto (fresh memory each hash) with a reused
// Memory at the server's default parameters (m=19 MiB, t=2, p=1).
func BenchmarkIDKey(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	b.Run("x-crypto", func(b *testing.B) {
		for b.Loop() {
			xargon2.IDKey(pw, salt, 2, 19456, 1, 32)
		}
	})
	b.Run("reused-memory", func(b *testing.B) {
		var mem Memory
		for b.Loop() {
			IDKey(&mem, pw, salt, 2, 19456, 1, 32)
		}
	})
}
