package flow_test

import (
	"fmt"
	"testing"

	"github.com/portvakt/portvakt/internal/problem"
)

// TestTenThousandSignInsFromOneAddress: one address sends 10,000 password
// sign-ins, each for another address (so no per-identifier limit stops
// them) with a wrong password, and time does not move. What reaches the
// hash is bounded by the address's failure budget before its first wait
// (docs/security/abuse.md): the rest is refused as throttled without a
// hash and without counting, since the lookup of issue 12 reads the
// address's counter with the account. A person from another address
// signs in meanwhile, and the sign-in costs one hash.
func TestTenThousandSignInsFromOneAddress(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "kari@example.no")
	attacker := browserA
	attacker.IP = "198.51.100.7"
	before := e.svc.Hasher.Stats().Verifications
	got := map[string]int{}
	const n = 10_000
	for i := range n {
		f, err := e.svc.StartLogin(t.Context(), attacker, fmt.Sprintf("guess%05d@example.no", i), false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.LoginPassword(t.Context(), attacker, f.ID, "not the password at all")
		p, ok := problem.As(err)
		if !ok {
			t.Fatalf("sign-in %d: %v, want a problem", i, err)
		}
		got[p.Details[0].Key]++
	}
	hashed := e.svc.Hasher.Stats().Verifications - before
	t.Logf("%d sign-ins from one address: %v; %d hashes", n, got, hashed)
	if got["login.wrong_credentials"]+got["login.throttled"] != n {
		t.Errorf("outcomes %v; want only login.wrong_credentials and login.throttled", got)
	}
	if hashed != int64(got["login.wrong_credentials"]) || hashed > 30 {
		t.Errorf("%d hashes for %d wrong answers; want one per wrong answer and at most 30 (the address's budget)", hashed, got["login.wrong_credentials"])
	}
	before = e.svc.Hasher.Stats().Verifications
	res, err := e.svc.LoginPassword(t.Context(), browserB, mustStartLogin(t, e, browserB, "kari@example.no"), goodPassword)
	if err != nil || res.Token == "" {
		t.Fatalf("kari from another address after the flood: %+v, %v", res, err)
	}
	if d := e.svc.Hasher.Stats().Verifications - before; d != 1 {
		t.Errorf("kari's sign-in cost %d hashes, want 1", d)
	}
}
