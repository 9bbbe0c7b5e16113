package flow_test

import (
	"testing"
)

// TestReviewRightAndWrongPasswordsTogether: right and wrong passwords for
// one account at once. A right one clears the identifier's and account's
// counters (throttle.Accept: one DELETE of two rows) while wrong ones
// count on five keys (throttle.Failed: one multi-row upsert). Every call
// must end in a problem or a sign-in, never a database error (on
// PostgreSQL a deadlock between the two multi-row statements would be
// one, and a wrong password it aborts is not counted).
func TestReviewRightAndWrongPasswordsTogether(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		signUp(t, e, "mixed@example.no")
		for round := range 10 {
			// A wrong password first, so the counters exist for Accept to clear.
			f0, err := e.svc.StartLogin(t.Context(), browserA, "mixed@example.no", false)
			if err != nil {
				t.Fatal(err)
			}
			e.svc.LoginPassword(t.Context(), browserA, f0.ID, "wrong wrong wrong")
			var flows []string
			for range 16 {
				f, err := e.svc.StartLogin(t.Context(), browserA, "mixed@example.no", false)
				if err != nil {
					t.Fatal(err)
				}
				flows = append(flows, f.ID)
			}
			got := parallelKeys(t, len(flows), func(i int) error {
				pw := goodPassword
				if i%2 == 1 {
					pw = "not the password at all"
				}
				_, err := e.svc.LoginPassword(t.Context(), browserA, flows[i], pw)
				return err
			})
			t.Logf("round %d: %v", round, got)
		}
	})
}
