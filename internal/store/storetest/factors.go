package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newTOTP returns a confirmed authenticator-app factor with every field
// set, created at created.
func newTOTP(id, accountID string, created time.Time) store.Factor {
	return store.Factor{
		ID:          id,
		AccountID:   accountID,
		Kind:        store.FactorTOTP,
		Name:        "Authenticator " + id,
		Secret:      append([]byte{0, 0xff}, hash("sealed seed of "+id)...),
		LastStep:    59_000_000,
		ConfirmedAt: created.Add(time.Minute),
		CreatedAt:   created,
		LastUsedAt:  created.Add(2 * time.Minute),
	}
}

// newSMS returns an SMS factor for phone, created at created and confirmed
// a minute later if confirmed is set.
func newSMS(id, accountID, phone string, created time.Time, confirmed bool) store.Factor {
	f := store.Factor{
		ID:        id,
		AccountID: accountID,
		Kind:      store.FactorSMS,
		Name:      "Phone " + id,
		Phone:     phone,
		CreatedAt: created,
	}
	if confirmed {
		f.ConfirmedAt = created.Add(time.Minute)
	}
	return f
}

func mustCreateFactor(tb testing.TB, s store.Store, f store.Factor) store.Factor {
	tb.Helper()
	must(tb, "CreateFactor("+f.ID+")", s.CreateFactor(tb.Context(), f))
	return f
}

func factorID(f store.Factor) string { return f.ID }

// listFactors returns the IDs of the account's factors in order, failing
// the test on error.
func listFactors(tb testing.TB, s store.Store, accountID string) []string {
	tb.Helper()
	list, err := s.ListFactors(tb.Context(), accountID)
	must(tb, "ListFactors("+accountID+")", err)
	return ids(list, factorID)
}

// confirm returns an updater that confirms a factor at T0.
func confirm(f store.Factor) (store.Factor, error) {
	f.ConfirmedAt = T0
	return f, nil
}

const (
	phoneKari = "+4791234567"
	phoneOla  = "+4798765432"
)

var factorTests = []subtest{
	{"a factor's step advances by compare and set, once of parallel calls", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		f := mustCreateFactor(t, s, newTOTP("totp-1", "acct-1", T0))
		ok, err := s.AdvanceFactorStep(t.Context(), "totp-1", f.LastStep-1, f.LastStep+1, T0.Add(time.Hour))
		must(t, "AdvanceFactorStep from a stale step", err)
		wantEqual(t, "AdvanceFactorStep from a stale step", ok, false)
		_, err = s.AdvanceFactorStep(t.Context(), "nothing", 0, 1, T0)
		wantErr(t, `AdvanceFactorStep("nothing")`, err, store.ErrNotFound)
		winners, losers := race(t, 20, "AdvanceFactorStep", func(err error) bool { return errors.Is(err, errBoom) }, func(i int) error {
			ok, err := s.AdvanceFactorStep(t.Context(), "totp-1", f.LastStep, f.LastStep+1+int64(i), T0.Add(time.Duration(i)*time.Minute))
			if err == nil && !ok {
				return errBoom
			}
			return err
		})
		if len(winners) != 1 || losers != 19 {
			t.Fatalf("of 20 parallel calls, %d advanced the step (%v) and %d did not; want 1 and 19", len(winners), winners, losers)
		}
		got, err := s.GetFactor(t.Context(), "totp-1")
		must(t, `GetFactor("totp-1")`, err)
		i := winners[0]
		want := f
		want.LastStep, want.LastUsedAt = f.LastStep+1+int64(i), T0.Add(time.Duration(i)*time.Minute)
		wantEqual(t, "the factor after AdvanceFactorStep", got, want)
	}},
	{"the enrolled kinds are the confirmed factors' and a key's, each once", func(t *testing.T, s store.Store) {
		kinds := func(id string) []string {
			t.Helper()
			k, err := s.EnrolledKinds(t.Context(), id)
			must(t, "EnrolledKinds("+id+")", err)
			slices.Sort(k)
			return append([]string{}, k...)
		}
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		wantEqual(t, "EnrolledKinds of an account without factors", kinds("acct-1"), []string{})
		wantEqual(t, "EnrolledKinds of an unknown account", kinds("nobody"), []string{})
		mustCreateFactor(t, s, newSMS("sms-unconfirmed", "acct-1", "+4791234567", T0, false))
		wantEqual(t, "EnrolledKinds with an unconfirmed phone", kinds("acct-1"), []string{})
		mustCreateFactor(t, s, newTOTP("totp-1", "acct-1", T0))
		mustCreateFactor(t, s, newTOTP("totp-2", "acct-1", T0.Add(time.Second)))
		mustCreateFactor(t, s, newSMS("sms-1", "acct-1", "+4791234568", T0, true))
		wantEqual(t, "EnrolledKinds with two authenticators and a phone", kinds("acct-1"), []string{store.FactorSMS, store.FactorTOTP})
		mustCreateWebAuthn(t, s, newWebAuthnCredential("key-1", "acct-1", T0))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("key-2", "acct-1", T0))
		wantEqual(t, "EnrolledKinds with keys too", kinds("acct-1"), []string{store.FactorSMS, store.FactorTOTP, store.EnrolledWebAuthn})
		mustCreateWebAuthn(t, s, newWebAuthnCredential("key-3", "acct-2", T0))
		wantEqual(t, "EnrolledKinds of an account with a key only", kinds("acct-2"), []string{store.EnrolledWebAuthn})
	}},
	{"a created factor reads back with every field", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		totp := mustCreateFactor(t, s, newTOTP("factor-1", "acct-1", T0))
		// An SMS factor has no secret, and an unconfirmed one a zero
		// ConfirmedAt.
		sms := mustCreateFactor(t, s, newSMS("factor-2", "acct-1", phoneKari, T0.Add(time.Minute), false))
		for _, want := range []store.Factor{totp, sms} {
			got, err := s.GetFactor(t.Context(), want.ID)
			must(t, "GetFactor("+want.ID+")", err)
			wantEqual(t, "GetFactor("+want.ID+")", got, want)
		}
		got, err := s.GetFactor(t.Context(), "factor-2")
		must(t, `GetFactor("factor-2")`, err)
		if got.Secret != nil || !got.ConfirmedAt.IsZero() || !got.LastUsedAt.IsZero() {
			t.Errorf(`GetFactor("factor-2") = Secret %#v, ConfirmedAt %v, LastUsedAt %v; want nil and zero times`,
				got.Secret, got.ConfirmedAt, got.LastUsedAt)
		}
		list, err := s.ListFactors(t.Context(), "acct-1")
		must(t, `ListFactors("acct-1")`, err)
		wantEqual(t, `ListFactors("acct-1")`, list, []store.Factor{totp, sms})
	}},
	{"factors are listed oldest first", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateFactor(t, s, newTOTP("middle", "acct-1", T0.Add(time.Minute)))
		mustCreateFactor(t, s, newSMS("newest", "acct-1", phoneKari, T0.Add(time.Hour), true))
		mustCreateFactor(t, s, newSMS("oldest", "acct-1", phoneOla, T0, false))
		mustCreateFactor(t, s, newTOTP("other", "acct-2", T0))
		wantEqual(t, `ListFactors("acct-1")`, listFactors(t, s, "acct-1"), []string{"oldest", "middle", "newest"})
		wantEqual(t, `ListFactors("acct-2")`, listFactors(t, s, "acct-2"), []string{"other"})
		wantEqual(t, `ListFactors("nobody")`, listFactors(t, s, "nobody"), []string{})
	}},
	{"a second factor with the same ID is a conflict", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustCreateFactor(t, s, newTOTP("factor-1", "acct-1", T0))
		err := s.CreateFactor(t.Context(), newSMS("factor-1", "acct-2", phoneOla, T0, true))
		wantErr(t, `CreateFactor("factor-1") again`, err, store.ErrConflict)
		got, err := s.GetFactor(t.Context(), "factor-1")
		must(t, `GetFactor("factor-1")`, err)
		wantEqual(t, `GetFactor("factor-1") after the conflict`, got, want)
		wantEqual(t, `ListFactors("acct-2") after the conflict`, listFactors(t, s, "acct-2"), []string{})
	}},
	{"a phone is confirmed as an SMS factor once per account", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateFactor(t, s, newSMS("sms-1", "acct-1", phoneKari, T0, true))
		err := s.CreateFactor(t.Context(), newSMS("sms-2", "acct-1", phoneKari, T0, true))
		wantErr(t, "CreateFactor(sms-2) with the confirmed phone of sms-1", err, store.ErrConflict)
		// An enrolment in progress may repeat the phone, another account
		// may confirm it, and TOTP factors have no phone to repeat.
		mustCreateFactor(t, s, newSMS("sms-3", "acct-1", phoneKari, T0.Add(time.Minute), false))
		mustCreateFactor(t, s, newSMS("sms-4", "acct-1", phoneKari, T0.Add(2*time.Minute), false))
		mustCreateFactor(t, s, newSMS("sms-5", "acct-2", phoneKari, T0, true))
		mustCreateFactor(t, s, newTOTP("totp-1", "acct-1", T0.Add(3*time.Minute)))
		mustCreateFactor(t, s, newTOTP("totp-2", "acct-1", T0.Add(4*time.Minute)))
		wantEqual(t, `ListFactors("acct-1")`, listFactors(t, s, "acct-1"),
			[]string{"sms-1", "sms-3", "sms-4", "totp-1", "totp-2"})

		// Confirming a repeat is a conflict too, and writes nothing.
		_, err = s.UpdateFactor(t.Context(), "sms-3", confirm)
		wantErr(t, `UpdateFactor("sms-3") confirming the phone of sms-1`, err, store.ErrConflict)
		got, err := s.GetFactor(t.Context(), "sms-3")
		must(t, `GetFactor("sms-3")`, err)
		if !got.ConfirmedAt.IsZero() {
			t.Errorf(`GetFactor("sms-3").ConfirmedAt = %v after the conflict, want zero`, got.ConfirmedAt)
		}
		// So is moving a confirmed factor to a confirmed phone.
		mustCreateFactor(t, s, newSMS("sms-6", "acct-1", phoneOla, T0, true))
		_, err = s.UpdateFactor(t.Context(), "sms-6", func(f store.Factor) (store.Factor, error) {
			f.Phone = phoneKari
			return f, nil
		})
		wantErr(t, `UpdateFactor("sms-6") to the confirmed phone of sms-1`, err, store.ErrConflict)

		// Once the confirmed one is gone, a repeat can be confirmed.
		must(t, `DeleteFactor("sms-1")`, s.DeleteFactor(t.Context(), "sms-1"))
		_, err = s.UpdateFactor(t.Context(), "sms-3", confirm)
		must(t, `UpdateFactor("sms-3") confirming it after sms-1 went`, err)
	}},
	{"a missing factor is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateFactor(t, s, newTOTP("factor-1", "acct-1", T0))
		_, err := s.GetFactor(t.Context(), "nothing")
		wantErr(t, `GetFactor("nothing")`, err, store.ErrNotFound)
		_, err = s.UpdateFactor(t.Context(), "nothing", func(f store.Factor) (store.Factor, error) {
			t.Errorf(`UpdateFactor("nothing") called the updater with %+v`, f)
			return f, nil
		})
		wantErr(t, `UpdateFactor("nothing")`, err, store.ErrNotFound)
		wantErr(t, `DeleteFactor("nothing")`, s.DeleteFactor(t.Context(), "nothing"), store.ErrNotFound)
	}},
	{"a factor update writes what the updater returns", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		old := newTOTP("factor-1", "acct-1", T0)
		old.ConfirmedAt = time.Time{}
		mustCreateFactor(t, s, old)
		var seen store.Factor
		got, err := s.UpdateFactor(t.Context(), "factor-1", func(f store.Factor) (store.Factor, error) {
			seen = f
			f.Name, f.Secret, f.LastStep = "Phone app", hash("another seed"), 59_000_042
			f.ConfirmedAt = T0.Add(time.Minute + 1500*time.Microsecond)
			f.LastUsedAt = T0.Add(time.Minute)
			return f, nil
		})
		must(t, `UpdateFactor("factor-1")`, err)
		wantEqual(t, "the updater's argument", seen, old)
		want := old
		want.Name, want.Secret, want.LastStep = "Phone app", hash("another seed"), 59_000_042
		want.ConfirmedAt = T0.Add(time.Minute + time.Millisecond)
		want.LastUsedAt = T0.Add(time.Minute)
		wantEqual(t, `UpdateFactor("factor-1") result`, got, want)
		got, err = s.GetFactor(t.Context(), "factor-1")
		must(t, `GetFactor("factor-1")`, err)
		wantEqual(t, `GetFactor("factor-1") after the update`, got, want)
	}},
	{"an updater error aborts the factor update and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustCreateFactor(t, s, newTOTP("factor-1", "acct-1", T0))
		_, err := s.UpdateFactor(t.Context(), "factor-1", func(f store.Factor) (store.Factor, error) {
			f.LastStep, f.Name = f.LastStep+1, "changed"
			return f, errBoom
		})
		wantErr(t, `UpdateFactor("factor-1") with a failing updater`, err, errBoom)
		got, err := s.GetFactor(t.Context(), "factor-1")
		must(t, `GetFactor("factor-1")`, err)
		wantEqual(t, `GetFactor("factor-1") after the failed update`, got, want)
	}},
	{"a TOTP step offered twenty times in parallel is accepted exactly once", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		f := newTOTP("factor-1", "acct-1", T0)
		f.LastStep = 100
		mustCreateFactor(t, s, f)
		const step = 101
		errReplay := errors.New("TOTP step already accepted")
		winners, losers := race(t, 20, `UpdateFactor("factor-1")`, func(err error) bool { return errors.Is(err, errReplay) }, func(i int) error {
			_, err := s.UpdateFactor(t.Context(), "factor-1", func(f store.Factor) (store.Factor, error) {
				if step <= f.LastStep {
					return f, errReplay
				}
				f.LastStep = step
				f.LastUsedAt = T0.Add(time.Duration(i+1) * time.Millisecond)
				// Hold the factor a little, so that an implementation that
				// lets another call read it meanwhile is caught.
				time.Sleep(5 * time.Millisecond)
				return f, nil
			})
			return err
		})
		if len(winners) != 1 || losers != 19 {
			t.Fatalf("of 20 parallel calls offering step %d, %d accepted it (%v) and %d found it used; want 1 and 19",
				step, len(winners), winners, losers)
		}
		got, err := s.GetFactor(t.Context(), "factor-1")
		must(t, `GetFactor("factor-1")`, err)
		i := winners[0]
		if got.LastStep != step || !got.LastUsedAt.Equal(T0.Add(time.Duration(i+1)*time.Millisecond)) {
			t.Errorf(`GetFactor("factor-1") = LastStep %d, LastUsedAt %v; want what call %d wrote`, got.LastStep, got.LastUsedAt, i)
		}
	}},
	{"deleting a factor removes it", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateFactor(t, s, newTOTP("factor-1", "acct-1", T0))
		mustCreateFactor(t, s, newSMS("factor-2", "acct-1", phoneKari, T0.Add(time.Minute), true))
		must(t, `DeleteFactor("factor-1")`, s.DeleteFactor(t.Context(), "factor-1"))
		_, err := s.GetFactor(t.Context(), "factor-1")
		wantErr(t, `GetFactor("factor-1") after DeleteFactor`, err, store.ErrNotFound)
		wantEqual(t, `ListFactors("acct-1") after DeleteFactor`, listFactors(t, s, "acct-1"), []string{"factor-2"})
		wantErr(t, `DeleteFactor("factor-1") again`, s.DeleteFactor(t.Context(), "factor-1"), store.ErrNotFound)
	}},
}

// secondFactorTests are about factors, recovery codes and trusted browsers
// together.
var secondFactorTests = []subtest{
	{"factors, recovery codes and trusted browsers for an unknown account are not found", func(t *testing.T, s store.Store) {
		err := s.CreateFactor(t.Context(), newTOTP("factor-1", "nobody", T0))
		wantErr(t, `CreateFactor("factor-1") for account "nobody"`, err, store.ErrNotFound)
		_, err = s.GetFactor(t.Context(), "factor-1")
		wantErr(t, `GetFactor("factor-1") after the failed create`, err, store.ErrNotFound)
		err = s.ReplaceRecoveryCodes(t.Context(), "nobody", newCodes("nobody", "first", 3))
		wantErr(t, `ReplaceRecoveryCodes("nobody")`, err, store.ErrNotFound)
		wantCodes(t, s, "after the failed replacement", "nobody", 0, 0)
		b := newBrowser("browser-1", "nobody", T0)
		err = s.CreateTrustedBrowser(t.Context(), b)
		wantErr(t, `CreateTrustedBrowser("browser-1") for account "nobody"`, err, store.ErrNotFound)
		_, err = s.GetTrustedBrowser(t.Context(), b.TokenHash)
		wantErr(t, "GetTrustedBrowser(token of browser-1) after the failed create", err, store.ErrNotFound)
	}},
	{"deleting an account removes its factors, recovery codes and trusted browsers", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateFactor(t, s, newTOTP("totp-1", "acct-1", T0))
		mustCreateFactor(t, s, newSMS("sms-1", "acct-1", phoneKari, T0.Add(time.Minute), true))
		mustCreateFactor(t, s, newTOTP("totp-2", "acct-2", T0))
		mustReplaceCodes(t, s, "acct-1", newCodes("acct-1", "kari", 10))
		mustReplaceCodes(t, s, "acct-2", newCodes("acct-2", "ola", 10))
		b1 := mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		mustCreateBrowser(t, s, newBrowser("browser-2", "acct-2", T0))

		must(t, `DeleteAccount("acct-1")`, s.DeleteAccount(t.Context(), "acct-1"))
		for _, id := range []string{"totp-1", "sms-1"} {
			_, err := s.GetFactor(t.Context(), id)
			wantErr(t, "GetFactor("+id+") after deleting its account", err, store.ErrNotFound)
		}
		wantEqual(t, `ListFactors("acct-1") after DeleteAccount`, listFactors(t, s, "acct-1"), []string{})
		wantCodes(t, s, "after DeleteAccount", "acct-1", 0, 0)
		_, err := s.GetTrustedBrowser(t.Context(), b1.TokenHash)
		wantErr(t, "GetTrustedBrowser(token of browser-1) after deleting its account", err, store.ErrNotFound)
		wantEqual(t, `ListTrustedBrowsers("acct-1") after DeleteAccount`, listBrowsers(t, s, "acct-1"), []string{})

		// The other account keeps everything.
		wantEqual(t, `ListFactors("acct-2")`, listFactors(t, s, "acct-2"), []string{"totp-2"})
		wantCodes(t, s, "of the other account", "acct-2", 10, 10)
		wantEqual(t, `ListTrustedBrowsers("acct-2")`, listBrowsers(t, s, "acct-2"), []string{"browser-2"})
	}},
}
