package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// codeHash returns the digest of recovery code i of the set named set.
func codeHash(set string, i int) []byte { return hash(fmt.Sprintf("recovery code %d of %s", i, set)) }

// newCodes returns n unused recovery codes of the set named set, created
// at T0.
func newCodes(accountID, set string, n int) []store.RecoveryCode {
	codes := make([]store.RecoveryCode, n)
	for i := range codes {
		codes[i] = store.RecoveryCode{AccountID: accountID, Hash: codeHash(set, i), CreatedAt: T0}
	}
	return codes
}

func mustReplaceCodes(tb testing.TB, s store.Store, accountID string, codes []store.RecoveryCode) {
	tb.Helper()
	must(tb, "ReplaceRecoveryCodes("+accountID+")", s.ReplaceRecoveryCodes(tb.Context(), accountID, codes))
}

// wantCodes fails the test unless the account has unused codes unused
// out of total.
func wantCodes(tb testing.TB, s store.Store, call, accountID string, unused, total int) {
	tb.Helper()
	u, n, err := s.CountRecoveryCodes(tb.Context(), accountID)
	must(tb, "CountRecoveryCodes("+accountID+") "+call, err)
	if u != unused || n != total {
		tb.Errorf("CountRecoveryCodes(%q) %s = %d unused of %d, want %d of %d", accountID, call, u, n, unused, total)
	}
}

var recoveryCodeTests = []subtest{
	{"a recovery code is used once", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "first", 10))
		wantCodes(t, s, "after ReplaceRecoveryCodes", "acct-1", 10, 10)
		for i, want := range []int{9, 8} {
			left, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash("first", i), T0.Add(time.Minute))
			must(t, fmt.Sprintf("UseRecoveryCode(code %d)", i), err)
			wantEqual(t, fmt.Sprintf("UseRecoveryCode(code %d) remaining", i), left, want)
		}
		_, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash("first", 0), T0.Add(2*time.Minute))
		wantErr(t, "UseRecoveryCode(code 0) again", err, store.ErrNotFound)
		wantCodes(t, s, "after using two codes", "acct-1", 8, 10)
	}},
	{"an unknown recovery code is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "first", 3))
		for name, h := range map[string][]byte{"an unknown code": hash("nothing"), "nil": nil, "[]byte{}": {}} {
			_, err := s.UseRecoveryCode(t.Context(), "acct-1", h, T0)
			wantErr(t, "UseRecoveryCode("+name+")", err, store.ErrNotFound)
		}
		_, err := s.UseRecoveryCode(t.Context(), "nobody", codeHash("first", 0), T0)
		wantErr(t, `UseRecoveryCode("nobody", code 0)`, err, store.ErrNotFound)
		wantCodes(t, s, "after the failed uses", "acct-1", 3, 3)
		wantCodes(t, s, "of an unknown account", "nobody", 0, 0)
	}},
	{"another account's recovery code is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "kari", 3))
		mustReplaceCodes(t, s, "acct-2", newCodes("acct-2", "ola", 3))
		_, err := s.UseRecoveryCode(t.Context(), "acct-2", codeHash("kari", 0), T0)
		wantErr(t, "UseRecoveryCode(acct-2, a code of acct-1)", err, store.ErrNotFound)
		wantCodes(t, s, "after acct-2 tried its code", "acct-1", 3, 3)
		wantCodes(t, s, "after it tried a code of acct-1", "acct-2", 3, 3)
		left, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash("kari", 0), T0)
		must(t, "UseRecoveryCode(acct-1, its own code)", err)
		wantEqual(t, "UseRecoveryCode(acct-1, its own code) remaining", left, 2)
	}},
	{"replacing recovery codes kills the old set", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "old", 10))
		mustReplaceCodes(t, s, "acct-2", newCodes("acct-2", "other", 10))
		_, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash("old", 0), T0)
		must(t, "UseRecoveryCode(old code 0)", err)
		// The new set may repeat a digest of the old one (the old use goes
		// with the old set), and a code without an AccountID is the
		// account's.
		codes := newCodes("", "new", 4)
		codes[3].Hash = codeHash("old", 0)
		mustReplaceCodes(t, s, "acct-1", codes)
		wantCodes(t, s, "after the replacement", "acct-1", 4, 4)
		for i := 1; i < 10; i++ {
			_, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash("old", i), T0)
			wantErr(t, fmt.Sprintf("UseRecoveryCode(old code %d) after the replacement", i), err, store.ErrNotFound)
		}
		for i, want := range []int{3, 2} {
			left, err := s.UseRecoveryCode(t.Context(), "acct-1", codes[3-i].Hash, T0)
			must(t, fmt.Sprintf("UseRecoveryCode(new code %d)", 3-i), err)
			wantEqual(t, fmt.Sprintf("UseRecoveryCode(new code %d) remaining", 3-i), left, want)
		}
		// Replacing with no codes leaves none; the other account keeps its.
		mustReplaceCodes(t, s, "acct-1", nil)
		wantCodes(t, s, "after replacing with none", "acct-1", 0, 0)
		wantCodes(t, s, "after acct-1's replacements", "acct-2", 10, 10)
	}},
	{"recovery codes that repeat a digest are a conflict and replace nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "old", 3))
		_, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash("old", 0), T0)
		must(t, "UseRecoveryCode(old code 0)", err)
		codes := newCodes("acct-1", "new", 3)
		codes[2].Hash = codes[0].Hash
		err = s.ReplaceRecoveryCodes(t.Context(), "acct-1", codes)
		wantErr(t, "ReplaceRecoveryCodes with a digest twice", err, store.ErrConflict)
		wantCodes(t, s, "after the conflict", "acct-1", 2, 3)
		_, err = s.UseRecoveryCode(t.Context(), "acct-1", codeHash("old", 1), T0)
		must(t, "UseRecoveryCode(old code 1) after the conflict", err)
		_, err = s.UseRecoveryCode(t.Context(), "acct-1", codeHash("new", 1), T0)
		wantErr(t, "UseRecoveryCode(new code 1) after the conflict", err, store.ErrNotFound)
	}},
	{"parallel replacements of recovery codes leave one whole set", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "old", 10))
		sets := make([]string, 10)
		parallel(t, len(sets), func(i int) {
			sets[i] = fmt.Sprintf("set %d", i)
			err := s.ReplaceRecoveryCodes(t.Context(), "acct-1", newCodes("acct-1", sets[i], 10))
			if err != nil {
				t.Errorf("ReplaceRecoveryCodes(%s): %v", sets[i], err)
			}
		})
		wantCodes(t, s, "after 10 parallel replacements of 10 codes", "acct-1", 10, 10)
		// The codes left are those of one set: using its first code finds
		// the other nine.
		for _, set := range sets {
			left, err := s.UseRecoveryCode(t.Context(), "acct-1", codeHash(set, 0), T0)
			if err == nil {
				wantEqual(t, "UseRecoveryCode(code 0 of "+set+") remaining", left, 9)
				return
			}
			wantErr(t, "UseRecoveryCode(code 0 of "+set+")", err, store.ErrNotFound)
		}
		t.Errorf("no code 0 of any of the parallel sets is left")
	}},
	{"a recovery code used twenty times in parallel is used exactly once", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "first", 10))
		left := make([]int, 20) // each call writes only its own
		winners, losers := race(t, 20, "UseRecoveryCode(code 0)", func(err error) bool { return errors.Is(err, store.ErrNotFound) }, func(i int) error {
			var err error
			left[i], err = s.UseRecoveryCode(t.Context(), "acct-1", codeHash("first", 0), T0.Add(time.Duration(i)*time.Millisecond))
			return err
		})
		var remaining []int
		for _, i := range winners {
			remaining = append(remaining, left[i])
		}
		if len(winners) != 1 || losers != 19 {
			t.Fatalf("of 20 parallel uses of one code, %d succeeded (%v) and %d found it used; want 1 and 19",
				len(winners), winners, losers)
		}
		wantEqual(t, "the winner's remaining count", remaining, []int{9})
		wantCodes(t, s, "after the parallel uses", "acct-1", 9, 10)
	}},
}
