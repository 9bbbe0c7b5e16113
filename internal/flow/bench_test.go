package flow_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/flow"
)

// The login benchmarks answer one question: how close does a password
// sign-in come to the cost of its argon2id hash? Run them together:
//
//	go test -run '^$' -bench 'Login|Argon2' -benchtime 3s ./internal/flow/
//
// BenchmarkArgon2idRaw is the ceiling (hashes/s with every core hashing);
// BenchmarkLoginPassword is a whole sign-in at the same parameters
// (throttle check, account and password lookups, the hash, a new session
// row); BenchmarkLoginOverhead is a sign-in with a near-free hash, i.e.
// the CPU a sign-in spends beyond hashing.

func productionHasher(b *testing.B) *password.Hasher {
	h, err := password.Config{}.Hasher()
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func benchLogin(b *testing.B, h *password.Hasher, parallel bool) {
	e := newEnvWith(b, "sqlite", filepath.Join(b.TempDir(), "bench.db"), h)
	if _, err := e.svc.CreateAccount(context.Background(), flow.NewAccount{Username: "bench", Name: "Bench", Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	login := func() {
		if _, err := e.svc.LoginUsername(context.Background(), browserA, "bench", goodPassword); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				login()
			}
		})
	} else {
		for b.Loop() {
			login()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}

func BenchmarkLoginPassword(b *testing.B) { benchLogin(b, productionHasher(b), true) }

func BenchmarkLoginOverhead(b *testing.B) {
	h, err := password.NewHasher(password.Argon2Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	benchLogin(b, h, false)
}

func BenchmarkArgon2idRaw(b *testing.B) {
	p := password.DefaultArgon2Params()
	salt := make([]byte, 16)
	rand.Read(salt)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey([]byte(goodPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
