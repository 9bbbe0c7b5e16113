package password_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/portvakt/portvakt/internal/authn/password"
)

// fast are parameters that cost microseconds, for tests about behaviour
// rather than cost.
var fast = password.Argon2Params{Memory: 64, Time: 1, Threads: 1}

func newHasher(tb testing.TB, p password.Argon2Params, limit uint64) *password.Hasher {
	tb.Helper()
	h, err := password.NewHasher(p, limit)
	if err != nil {
		tb.Fatalf("NewHasher(%+v, %d) = %v", p, limit, err)
	}
	return h
}

// TestHasher_KnownAnswers checks SECURITY.md §4.6: the phc-winner-argon2
// reference vectors (password "password", salt "somesalt") reproduce with
// x/crypto/argon2, and Verify accepts their PHC strings with the right
// password only. The m=64 MiB rows are skipped with -short.
func TestHasher_KnownAnswers(t *testing.T) {
	tests := []struct {
		t, m uint32
		p    uint8
		tag  string
		phc  string
	}{
		{2, 65536, 1, "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
		{2, 256, 1, "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
		{2, 256, 2, "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
		{1, 65536, 1, "f6a5adc1ba723dddef9b5ac1d464e180fcd9dffc9d1cbf76cca2fed795d9ca98", "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"},
		{4, 65536, 1, "9025d48e68ef7395cca9079da4c4ec3affb3c8911fe4f86d1a2520856f63172c", "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$kCXUjmjvc5XMqQedpMTsOv+zyJEf5PhtGiUghW9jFyw"},
	}
	h := newHasher(t, password.DefaultArgon2Params(), 0)
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(fmt.Sprintf("t=%d m=%d p=%d", tt.t, tt.m, tt.p), func(t *testing.T) {
			if tt.m > 256 && testing.Short() {
				t.Skip("64 MiB vector skipped in -short mode")
			}
			tag, _ := hex.DecodeString(tt.tag)
			if want := "$" + base64.RawStdEncoding.EncodeToString(tag); !strings.HasSuffix(tt.phc, want) {
				t.Fatalf("the PHC string does not hold the tag %s", tt.tag)
			}
			ok, rehash, err := h.Verify(ctx, "password", tt.phc)
			if err != nil || !ok || !rehash {
				t.Errorf("Verify(password, %s) = %v, %v, %v; want true, true (other parameters), nil", tt.phc, ok, rehash, err)
			}
			if tt.m > 256 {
				return // the wrong-password checks below cost 64 MiB each
			}
			if got := argon2.IDKey([]byte("password"), []byte("somesalt"), tt.t, tt.m, tt.p, 32); hex.EncodeToString(got) != tt.tag {
				t.Errorf("argon2.IDKey = %x, want %s", got, tt.tag)
			}
			if ok, _, err := h.Verify(ctx, "Password", tt.phc); ok || err != nil {
				t.Errorf("Verify(Password) = %v, %v; want false, nil", ok, err)
			}
			tag[len(tag)-1] ^= 1
			flipped := tt.phc[:strings.LastIndexByte(tt.phc, '$')+1] + base64.RawStdEncoding.EncodeToString(tag)
			if ok, _, err := h.Verify(ctx, "password", flipped); ok || err != nil {
				t.Errorf("Verify(a flipped tag) = %v, %v; want false, nil", ok, err)
			}
		})
	}
	t.Run("argon2i t=2 m=65536 p=1", func(t *testing.T) {
		if testing.Short() {
			t.Skip("64 MiB vector skipped in -short mode")
		}
		tag, _ := hex.DecodeString("c1628832147d9720c5bd1cfd61367078729f6dfb6f8fea9ff98158e0d7816ed0")
		phc := "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$" + base64.RawStdEncoding.EncodeToString(tag)
		ok, rehash, err := h.Verify(ctx, "password", phc)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(password, %s) = %v, %v, %v; want true, true (Argon2i), nil", phc, ok, rehash, err)
		}
	})
}

func TestHasher_DefaultParameters(t *testing.T) {
	h := newHasher(t, password.Argon2Params{}, 0)
	if got, want := h.Params(), (password.Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}); got != want {
		t.Errorf("Params() = %+v, want %+v", got, want)
	}
	if got, want := h.Concurrency(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("Concurrency() = %d, want %d (one hash per core)", got, want)
	}
	if got, want := h.Stats().Limit, int64(runtime.GOMAXPROCS(0))*19456*1024; got != want {
		t.Errorf("Stats().Limit = %d, want cores × m = %d", got, want)
	}
	enc, err := h.Hash(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") || len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Errorf("Hash() = %q, want $argon2id$v=19$m=19456,t=2,p=1$<22 base64>$<43 base64>", enc)
	}
	ok, rehash, err := h.Verify(t.Context(), "correct horse battery staple", enc)
	if !ok || rehash || err != nil {
		t.Errorf("Verify(own hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	if err := h.VerifyDummy(t.Context(), "anything"); err != nil {
		t.Errorf("VerifyDummy() = %v", err)
	}
}

func TestHasher_Rehash(t *testing.T) {
	ctx := t.Context()
	old := newHasher(t, fast, 0)
	enc, err := old.Hash(ctx, "hemmelig")
	if err != nil {
		t.Fatal(err)
	}
	if enc2, _ := old.Hash(ctx, "hemmelig"); enc2 == enc {
		t.Error("two hashes of the same password are equal; the salt is not random")
	}
	stronger := fast
	stronger.Time = 2
	tests := []struct {
		name               string
		h                  *password.Hasher
		pw                 string
		wantOK, wantRehash bool
	}{
		{"same parameters", old, "hemmelig", true, false},
		{"wrong password", old, "Hemmelig", false, false},
		{"raised parameters", newHasher(t, stronger, 0), "hemmelig", true, true},
		{"raised parameters, wrong password", newHasher(t, stronger, 0), "hemmelig!", false, false},
		{"longer salt", newHasher(t, password.Argon2Params{Memory: 64, Time: 1, SaltLen: 32}, 0), "hemmelig", true, true},
	}
	for _, tt := range tests {
		ok, rehash, err := tt.h.Verify(ctx, tt.pw, enc)
		if ok != tt.wantOK || rehash != tt.wantRehash || err != nil {
			t.Errorf("%s: Verify = %v, %v, %v; want %v, %v, nil", tt.name, ok, rehash, err, tt.wantOK, tt.wantRehash)
		}
	}
	if need, err := newHasher(t, stronger, 0).NeedsRehash(enc); !need || err != nil {
		t.Errorf("NeedsRehash(old) = %v, %v; want true, nil", need, err)
	}
	if need, err := old.NeedsRehash(enc); need || err != nil {
		t.Errorf("NeedsRehash(current) = %v, %v; want false, nil", need, err)
	}
}

func TestHasher_ImportsBcrypt(t *testing.T) {
	h := newHasher(t, fast, 0)
	b, err := bcrypt.GenerateFromPassword([]byte("Passord123"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + string(b[4:])
		ok, rehash, err := h.Verify(t.Context(), "Passord123", enc)
		if !ok || !rehash || err != nil {
			t.Errorf("Verify(%s…) = %v, %v, %v; want true, true, nil", prefix, ok, rehash, err)
		}
		if ok, rehash, err := h.Verify(t.Context(), "Passord124", enc); ok || rehash || err != nil {
			t.Errorf("Verify(%s…, wrong password) = %v, %v, %v; want false, false, nil", prefix, ok, rehash, err)
		}
		if need, err := h.NeedsRehash(enc); !need || err != nil {
			t.Errorf("NeedsRehash(%s…) = %v, %v; want true, nil", prefix, need, err)
		}
	}
}

func TestHasher_RefusesBadHashes(t *testing.T) {
	const salt, tag = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	phc := func(head, params string) string { return head + "$" + params + "$" + salt + "$" + tag }
	bc, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	bcryptWith := func(prefix, cost string) string { return prefix + cost + string(bc[6:]) }
	malformed, unsupported := password.ErrMalformedHash, password.ErrUnsupportedHash
	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", malformed},
		{"plain text", "hunter2", malformed},
		{"only a scheme", "$argon2id", malformed},
		{"unknown scheme", "$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA", unsupported},
		{"argon2d", phc("$argon2d$v=19", "m=256,t=2,p=1"), unsupported},
		{"no version (v=16)", "$argon2id$m=256,t=2,p=1$" + salt + "$" + tag, unsupported},
		{"version 16", phc("$argon2id$v=16", "m=256,t=2,p=1"), unsupported},
		{"bad version field", phc("$argon2id$x=19", "m=256,t=2,p=1"), malformed},
		{"parameters out of order", phc("$argon2id$v=19", "t=2,m=256,p=1"), malformed},
		{"missing p", phc("$argon2id$v=19", "m=256,t=2"), malformed},
		{"extra parameter", phc("$argon2id$v=19", "m=256,t=2,p=1,keyid=x"), malformed},
		{"negative m", phc("$argon2id$v=19", "m=-256,t=2,p=1"), malformed},
		{"leading zero", phc("$argon2id$v=19", "m=0256,t=2,p=1"), malformed},
		{"m overflows 32 bits", phc("$argon2id$v=19", "m=99999999999,t=2,p=1"), malformed},
		{"empty m", phc("$argon2id$v=19", "m=,t=2,p=1"), malformed},
		{"m of 4 GiB", phc("$argon2id$v=19", "m=4194304,t=2,p=1"), unsupported},
		{"m just above 1 GiB", phc("$argon2id$v=19", "m=1048577,t=2,p=1"), unsupported},
		{"m below 8 per lane", phc("$argon2id$v=19", "m=8,t=2,p=2"), unsupported},
		{"t of zero", phc("$argon2id$v=19", "m=256,t=0,p=1"), unsupported},
		{"t of 1000", phc("$argon2id$v=19", "m=256,t=1000,p=1"), unsupported},
		{"p of zero", phc("$argon2id$v=19", "m=256,t=2,p=0"), unsupported},
		{"p above 255", phc("$argon2id$v=19", "m=4096,t=2,p=256"), unsupported},
		{"padded salt", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$" + tag, malformed},
		{"salt not base64", "$argon2id$v=19$m=256,t=2,p=1$!!!!$" + tag, malformed},
		{"salt of 4 bytes", "$argon2id$v=19$m=256,t=2,p=1$c2FsdA$" + tag, unsupported},
		{"tag of 8 bytes", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$c2hvcnR0YWc", unsupported},
		{"missing tag", "$argon2id$v=19$m=256,t=2,p=1$" + salt, malformed},
		{"trailing field", phc("$argon2id$v=19", "m=256,t=2,p=1") + "$x", malformed},
		{"huge string", phc("$argon2id$v=19", "m=256,t=2,p=1") + strings.Repeat("A", 600), malformed},
		{"bcrypt too short", "$2a$10$abc", malformed},
		{"bcrypt $2x$", bcryptWith("$2x$", "04"), unsupported},
		{"bcrypt cost 17", bcryptWith("$2a$", "17"), unsupported},
		{"bcrypt cost 31", bcryptWith("$2b$", "31"), unsupported},
		{"bcrypt cost 3", bcryptWith("$2a$", "03"), malformed},
		{"bcrypt cost not digits", bcryptWith("$2a$", "x4"), malformed},
		{"bcrypt salt not base64", "$2a$04$" + strings.Repeat("!", 53), malformed},
	}
	h := newHasher(t, fast, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(t.Context(), "password", tt.encoded)
			if ok || rehash || !errors.Is(err, tt.want) {
				t.Errorf("Verify(%.60q) = %v, %v, %v; want false, false, %v", tt.encoded, ok, rehash, err, tt.want)
			}
			if err != nil && len(tt.encoded) > 12 && strings.Contains(err.Error(), tt.encoded[len(tt.encoded)-12:]) {
				t.Errorf("Verify's error %q quotes the hash", err)
			}
			if _, err := h.NeedsRehash(tt.encoded); err == nil && tt.name != "bcrypt salt not base64" {
				t.Errorf("NeedsRehash(%.60q) = nil error, want %v", tt.encoded, tt.want)
			}
		})
	}
}

func TestNewHasher(t *testing.T) {
	tests := []struct {
		name string
		p    password.Argon2Params
	}{
		{"m below 8 per lane", password.Argon2Params{Memory: 4}},
		{"m above 1 GiB", password.Argon2Params{Memory: 2 << 20}},
		{"t above 100", password.Argon2Params{Time: 101}},
		{"salt of 4 bytes", password.Argon2Params{SaltLen: 4}},
		{"tag of 8 bytes", password.Argon2Params{KeyLen: 8}},
	}
	for _, tt := range tests {
		if _, err := password.NewHasher(tt.p, 0); err == nil {
			t.Errorf("%s: NewHasher(%+v) = nil error", tt.name, tt.p)
		}
	}
}

// TestHasher_PoolBoundsMemory runs many hashes at once through a pool with
// room for two and checks that no more than two ever held memory, also
// when an imported hash is bigger than the whole pool.
func TestHasher_PoolBoundsMemory(t *testing.T) {
	p := password.Argon2Params{Memory: 256, Time: 1}
	const per = 256 << 10
	h := newHasher(t, p, 2*per+per/2)
	if got := h.Concurrency(); got != 2 {
		t.Fatalf("Concurrency() = %d, want 2", got)
	}
	big := "$argon2id$v=19$m=2048,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" // 2 MiB > the pool
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%4 == 0 {
				if _, _, err := h.Verify(t.Context(), "x", big); err != nil {
					t.Error(err)
				}
				return
			}
			if _, err := h.Hash(t.Context(), "x"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s := h.Stats()
	if s.Peak > s.Limit || s.Peak < per {
		t.Errorf("Stats() = %+v, want a peak between one hash (%d) and the limit", s, per)
	}
	if s.InUse != 0 || s.Waiting != 0 {
		t.Errorf("Stats() after the storm = %+v, want nothing in use or waiting", s)
	}
	// The memory kept for the next hashes is at most one per hash that can
	// run at once, each the size of one hash at the current m: the 2 MiB
	// imported hash's memory is not kept.
	if s.KeptN < 1 || s.KeptN > 2 || s.Kept != s.KeptN*per {
		t.Errorf("Stats() after the storm keeps %d bytes in %d, want 1 or 2 of %d", s.Kept, s.KeptN, per)
	}
}

func TestHasher_WaitRespectsContext(t *testing.T) {
	h := newHasher(t, fast, 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(canceled) = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, "x", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(canceled) = %v, want context.Canceled", err)
	}
	if err := h.VerifyDummy(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy(canceled) = %v, want context.Canceled", err)
	}

	t.Run("a caller waiting for a full pool gives up at its deadline", func(t *testing.T) {
		slow := password.Argon2Params{Memory: 4096, Time: 40}
		h := newHasher(t, slow, 4096<<10) // room for one
		for try := 0; ; try++ {
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.Hash(t.Context(), "holder")
			}()
			for h.Stats().InUse == 0 && !isDone(done) {
				runtime.Gosched()
			}
			if isDone(done) {
				if try == 5 {
					t.Skip("the holder never stayed in the pool long enough to observe")
				}
				continue
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
			_, err := h.Hash(ctx, "waiter")
			cancel()
			stillHeld := !isDone(done)
			<-done
			if stillHeld && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Hash while the pool is full = %v, want context.DeadlineExceeded", err)
			}
			if s := h.Stats(); s.Waiting != 0 || s.InUse != 0 {
				t.Errorf("Stats() = %+v, want nothing waiting or in use", s)
			}
			return
		}
	})
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

const benchPassword = "correct horse battery staple"

// BenchmarkArgon2idRaw is the machine's raw Argon2id rate at the default
// parameters on one goroutine, without the Hasher.
func BenchmarkArgon2idRaw(b *testing.B) {
	p := password.DefaultArgon2Params()
	salt := make([]byte, p.SaltLen)
	for range b.N {
		argon2.IDKey([]byte(benchPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkHasherHash is Hash at the default parameters on one goroutine:
// the raw rate plus salt, PHC encoding and the pool.
func BenchmarkHasherHash(b *testing.B) {
	h := newHasher(b, password.DefaultArgon2Params(), 0)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := h.Hash(ctx, benchPassword); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkHasherVerifyParallel is the login rate: Verify at the default
// parameters from GOMAXPROCS goroutines through the default pool.
func BenchmarkHasherVerifyParallel(b *testing.B) {
	h := newHasher(b, password.DefaultArgon2Params(), 0)
	enc, err := h.Hash(context.Background(), benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, err := h.Verify(context.Background(), benchPassword, enc); !ok || err != nil {
				b.Error("Verify failed", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
