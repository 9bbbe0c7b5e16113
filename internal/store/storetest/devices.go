package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// opsStore is what the devices and lifecycle tests need beyond
// store.Store.
type opsStore interface {
	store.Store
	store.Devices
	store.Lifecycles
}

// ops returns s as an opsStore, failing the test if the backend lacks
// the devices or lifecycle calls.
func ops(tb testing.TB, s store.Store) opsStore {
	tb.Helper()
	o, ok := s.(opsStore)
	if !ok {
		tb.Fatalf("%T does not implement store.Devices and store.Lifecycles", s)
	}
	return o
}

func newDevice(accountID, name string, at time.Time) store.KnownDevice {
	return store.KnownDevice{AccountID: accountID, Hash: hash("device " + name), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", IP: "192.0.2.7", FirstSeenAt: at, LastSeenAt: at}
}

var deviceTests = []subtest{
	{"a device is new once, then known, and the account's count is told", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		known, before, err := o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0))
		must(t, "SeeDevice(laptop)", err)
		wantEqual(t, "SeeDevice(laptop) first: known, before", [2]any{known, before}, [2]any{false, 0})
		later := newDevice("acct-1", "laptop", T0.Add(time.Hour))
		const laterIP = "198.51.100.9"
		later.IP = laterIP
		known, before, err = o.SeeDevice(t.Context(), later)
		must(t, "SeeDevice(laptop) again", err)
		wantEqual(t, "SeeDevice(laptop) again: known, before", [2]any{known, before}, [2]any{true, 1})
		known, before, err = o.SeeDevice(t.Context(), newDevice("acct-1", "phone", T0.Add(2*time.Hour)))
		must(t, "SeeDevice(phone)", err)
		wantEqual(t, "SeeDevice(phone): known, before", [2]any{known, before}, [2]any{false, 1})
		// The same browser is a new device for another account.
		known, before, err = o.SeeDevice(t.Context(), newDevice("acct-2", "laptop", T0))
		must(t, "SeeDevice(acct-2 laptop)", err)
		wantEqual(t, "SeeDevice(acct-2 laptop): known, before", [2]any{known, before}, [2]any{false, 0})

		list, err := o.ListDevices(t.Context(), "acct-1")
		must(t, "ListDevices(acct-1)", err)
		if len(list) != 2 {
			t.Fatalf("ListDevices(acct-1) = %d devices, want 2", len(list))
		}
		wantEqual(t, "ListDevices(acct-1)[0].Hash (last seen first)", list[0].Hash, hash("device phone"))
		wantEqual(t, "laptop's first and last seen, IP", []any{list[1].FirstSeenAt, list[1].LastSeenAt, list[1].IP}, []any{T0, T0.Add(time.Hour), laterIP})
		// An older sighting never moves last seen back.
		_, _, err = o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0.Add(-time.Hour)))
		must(t, "SeeDevice(laptop) earlier", err)
		list, _ = o.ListDevices(t.Context(), "acct-1")
		wantEqual(t, "laptop's last seen after an older sighting", list[1].LastSeenAt, T0.Add(time.Hour))
	}},
	{"a device of an unknown account is refused", func(t *testing.T, s store.Store) {
		_, _, err := ops(t, s).SeeDevice(t.Context(), newDevice("nobody", "laptop", T0))
		wantErr(t, "SeeDevice(nobody)", err, store.ErrNotFound)
	}},
	{"of parallel sightings of a new device exactly one finds it new", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		var wg sync.WaitGroup
		var mu sync.Mutex
		news := 0
		for range 8 {
			wg.Go(func() {
				known, _, err := o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0))
				if err != nil {
					t.Errorf("SeeDevice: %v", err)
					return
				}
				if !known {
					mu.Lock()
					news++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		wantEqual(t, "sightings that found the device new", news, 1)
	}},
	{"a known device's sighting is told the account's count, however it changes the row", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		for i, name := range []string{"laptop", "phone", "tablet"} {
			_, _, err := o.SeeDevice(t.Context(), newDevice("acct-1", name, T0.Add(time.Duration(i)*time.Minute)))
			must(t, "SeeDevice("+name+")", err)
		}
		o.SeeDevice(t.Context(), newDevice("acct-2", "laptop", T0)) // another account's count is not this one's
		same := newDevice("acct-1", "laptop", T0)
		older := newDevice("acct-1", "laptop", T0.Add(-time.Hour))
		older.UserAgent, older.IP = "curl/8.0", "203.0.113.5"
		later := newDevice("acct-1", "laptop", T0.Add(time.Hour))
		for _, c := range []struct {
			name string
			d    store.KnownDevice
			last time.Time
		}{
			{"nothing new", same, T0},
			{"older, from elsewhere", older, T0},
			{"later", later, T0.Add(time.Hour)},
		} {
			known, before, err := o.SeeDevice(t.Context(), c.d)
			must(t, "SeeDevice(laptop) "+c.name, err)
			wantEqual(t, "SeeDevice(laptop) "+c.name+": known, before", [2]any{known, before}, [2]any{true, 3})
			list, err := o.ListDevices(t.Context(), "acct-1")
			must(t, "ListDevices", err)
			for _, d := range list {
				if string(d.Hash) == string(hash("device laptop")) {
					wantEqual(t, "laptop after "+c.name+": user agent, IP, first and last seen",
						[]any{d.UserAgent, d.IP, d.FirstSeenAt, d.LastSeenAt}, []any{c.d.UserAgent, c.d.IP, T0, c.last})
				}
			}
		}
	}},
	{"parallel sightings of a known device are all told it is known, and the count", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0))
		o.SeeDevice(t.Context(), newDevice("acct-1", "phone", T0))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				known, before, err := o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0.Add(time.Duration(i)*time.Second)))
				if err != nil {
					t.Errorf("SeeDevice: %v", err)
					return
				}
				if !known || before != 2 {
					t.Errorf("SeeDevice(laptop) in parallel: known %v, before %d; want true, 2", known, before)
				}
			})
		}
		wg.Wait()
		list, err := o.ListDevices(t.Context(), "acct-1")
		must(t, "ListDevices", err)
		wantEqual(t, "last seen after the parallel sightings (the latest wins)", list[0].LastSeenAt, T0.Add(7*time.Second))
	}},
	{"devices are bounded per account, the longest unseen goes first", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		for i := range store.MaxKnownDevices + 3 {
			_, _, err := o.SeeDevice(t.Context(), newDevice("acct-1", fmt.Sprint(i), T0.Add(time.Duration(i)*time.Minute)))
			must(t, fmt.Sprintf("SeeDevice(%d)", i), err)
		}
		list, err := o.ListDevices(t.Context(), "acct-1")
		must(t, "ListDevices", err)
		wantEqual(t, "devices kept", len(list), store.MaxKnownDevices)
		wantEqual(t, "oldest device kept", list[len(list)-1].Hash, hash("device 3"))
	}},
	{"a forgotten device is new again; stale devices and an account's devices go", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0))
		o.SeeDevice(t.Context(), newDevice("acct-1", "old", T0.Add(-400*24*time.Hour)))
		o.SeeDevice(t.Context(), newDevice("acct-2", "laptop", T0))
		wantErr(t, "ForgetDevice(acct-2, phone)", o.ForgetDevice(t.Context(), "acct-2", hash("device phone")), store.ErrNotFound)
		must(t, "ForgetDevice(acct-1, laptop)", o.ForgetDevice(t.Context(), "acct-1", hash("device laptop")))
		known, _, err := o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0.Add(time.Hour)))
		must(t, "SeeDevice(laptop) after forgetting", err)
		wantEqual(t, "laptop known after forgetting", known, false)
		n, err := o.DeleteStaleDevices(t.Context(), T0.Add(-365*24*time.Hour))
		must(t, "DeleteStaleDevices", err)
		wantEqual(t, "stale devices removed", n, 1)
		must(t, "DeleteAccount(acct-2)", s.DeleteAccount(t.Context(), "acct-2"))
		list, err := o.ListDevices(t.Context(), "acct-2")
		must(t, "ListDevices(acct-2)", err)
		wantEqual(t, "devices of a deleted account", len(list), 0)
	}},
	{"a remembered browser's last use moves forward only, per account", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateBrowser(t, s, newBrowser("browser-1", "acct-1", T0))
		used, err := o.TrustedBrowserLastUsed(t.Context(), "acct-1")
		must(t, "TrustedBrowserLastUsed", err)
		if at, ok := used["browser-1"]; !ok || at.After(T0) {
			t.Errorf("last use before any use = %v (%v), want at most its creation", at, ok)
		}
		must(t, "TouchTrustedBrowser", o.TouchTrustedBrowser(t.Context(), "acct-1", "browser-1", T0.Add(time.Hour)))
		must(t, "TouchTrustedBrowser earlier", o.TouchTrustedBrowser(t.Context(), "acct-1", "browser-1", T0.Add(time.Minute)))
		wantErr(t, "TouchTrustedBrowser(acct-2's view)", o.TouchTrustedBrowser(t.Context(), "acct-2", "browser-1", T0), store.ErrNotFound)
		used, _ = o.TrustedBrowserLastUsed(t.Context(), "acct-1")
		wantEqual(t, "last use", used["browser-1"], T0.Add(time.Hour))
	}},
}

var lifecycleTests = []subtest{
	{"an account's lifecycle starts idle since its creation", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		l, err := o.GetLifecycle(t.Context(), "acct-1")
		must(t, "GetLifecycle", err)
		wantEqual(t, "Active() of a new account", l.Active(), T0.Add(-time.Hour))
		wantEqual(t, "warnings, deletion", []any{l.Warnings, l.DeletionDueAt.IsZero()}, []any{0, true})
		_, err = o.GetLifecycle(t.Context(), "nobody")
		wantErr(t, "GetLifecycle(nobody)", err, store.ErrNotFound)
		_, err = o.MarkActive(t.Context(), "nobody", T0)
		wantErr(t, "MarkActive(nobody)", err, store.ErrNotFound)
		wantErr(t, "ScheduleDeletion(nobody)", o.ScheduleDeletion(t.Context(), "nobody", T0, T0), store.ErrNotFound)
	}},
	{"idle accounts are listed by their last activity, in pages", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		for i := range 5 {
			a := newAccount(fmt.Sprintf("acct-%d", i), "")
			a.CreatedAt = T0.Add(-1000 * 24 * time.Hour)
			mustCreateAccount(t, s, a)
		}
		// acct-1 signed in yesterday; acct-2 800 days ago.
		o.MarkActive(t.Context(), "acct-1", T0.Add(-24*time.Hour))
		o.MarkActive(t.Context(), "acct-2", T0.Add(-800*24*time.Hour))
		young := newAccount("young", "")
		mustCreateAccount(t, s, young)
		cut := T0.Add(-700 * 24 * time.Hour)
		page, err := o.ListIdleAccounts(t.Context(), cut, "", 2)
		must(t, "ListIdleAccounts page 1", err)
		wantEqual(t, "page 1", ids(page, lcID), []string{"acct-0", "acct-2"})
		page, err = o.ListIdleAccounts(t.Context(), cut, "acct-2", 2)
		must(t, "ListIdleAccounts page 2", err)
		wantEqual(t, "page 2", ids(page, lcID), []string{"acct-3", "acct-4"})
		page, _ = o.ListIdleAccounts(t.Context(), cut, "acct-4", 2)
		wantEqual(t, "page 3", ids(page, lcID), []string{})
	}},
	{"a warning is marked once, and a sign-in starts the warnings again", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		was, _ := o.GetLifecycle(t.Context(), "acct-1")
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 6 {
			wg.Go(func() {
				ok, err := o.MarkWarned(t.Context(), was, 1, T0)
				if err != nil {
					t.Errorf("MarkWarned: %v", err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		wantEqual(t, "MarkWarned calls that won", won, 1)
		l, _ := o.GetLifecycle(t.Context(), "acct-1")
		wantEqual(t, "warnings, warned at", []any{l.Warnings, l.WarnedAt}, []any{1, T0})
		before, err := o.MarkActive(t.Context(), "acct-1", T0.Add(time.Hour))
		must(t, "MarkActive", err)
		wantEqual(t, "MarkActive's before.Warnings", before.Warnings, 1)
		l, _ = o.GetLifecycle(t.Context(), "acct-1")
		wantEqual(t, "after sign-in: warnings, active", []any{l.Warnings, l.WarnedAt.IsZero(), l.Active()}, []any{0, true, T0.Add(time.Hour)})
		if ok, _ := o.MarkWarned(t.Context(), was, 1, T0.Add(2*time.Hour)); ok {
			t.Error("MarkWarned with the state before the sign-in succeeded")
		}
		// Activity never moves back.
		o.MarkActive(t.Context(), "acct-1", T0)
		l, _ = o.GetLifecycle(t.Context(), "acct-1")
		wantEqual(t, "active after an older sign-in", l.Active(), T0.Add(time.Hour))
	}},
	{"parallel sign-ins are each recorded once: activity moves to the latest, one of them sees the warning", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		was, _ := o.GetLifecycle(t.Context(), "acct-1")
		if ok, err := o.MarkWarned(t.Context(), was, 1, T0); !ok || err != nil {
			t.Fatalf("MarkWarned = %v, %v", ok, err)
		}
		var mu sync.Mutex
		sawWarning := 0
		parallel(t, 20, func(i int) {
			before, err := o.MarkActive(t.Context(), "acct-1", T0.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				t.Errorf("MarkActive %d: %v", i, err)
				return
			}
			if before.Warnings == 1 {
				mu.Lock()
				sawWarning++
				mu.Unlock()
			}
		})
		wantEqual(t, "MarkActive calls whose before had the warning", sawWarning, 1)
		l, _ := o.GetLifecycle(t.Context(), "acct-1")
		wantEqual(t, "after 20 parallel sign-ins: active, warnings", []any{l.Active(), l.Warnings, l.WarnedAt.IsZero()}, []any{T0.Add(20 * time.Minute), 0, true})
	}},
	{"a scheduled deletion is due at its time and a sign-in cancels it", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		due := T0.Add(14 * 24 * time.Hour)
		must(t, "ScheduleDeletion(acct-1)", o.ScheduleDeletion(t.Context(), "acct-1", T0, due))
		must(t, "ScheduleDeletion(acct-2)", o.ScheduleDeletion(t.Context(), "acct-2", T0, due))
		l, _ := o.GetLifecycle(t.Context(), "acct-1")
		wantEqual(t, "requested, due", []any{l.DeletionRequestedAt, l.DeletionDueAt}, []any{T0, due})
		list, err := o.ListDueDeletions(t.Context(), due.Add(-time.Millisecond), "", 10)
		must(t, "ListDueDeletions before due", err)
		wantEqual(t, "due before the time", ids(list, lcID), []string{})
		before, err := o.MarkActive(t.Context(), "acct-2", T0.Add(time.Hour))
		must(t, "MarkActive(acct-2)", err)
		wantEqual(t, "MarkActive's before.DeletionDueAt", before.DeletionDueAt, due)
		list, err = o.ListDueDeletions(t.Context(), due, "", 10)
		must(t, "ListDueDeletions at due", err)
		wantEqual(t, "due at the time", ids(list, lcID), []string{"acct-1"})
	}},
	{"a conditional delete keeps an account that signed in since, and takes what belongs to it", func(t *testing.T, s store.Store) {
		o := ops(t, s)
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustAddEmail(t, s, newEmail("kari@example.no", "acct-1", true, T0))
		mustCreateSession(t, s, newSession("sess-1", "acct-1", T0))
		o.SeeDevice(t.Context(), newDevice("acct-1", "laptop", T0))
		was2, _ := o.GetLifecycle(t.Context(), "acct-2")
		o.MarkActive(t.Context(), "acct-2", T0)
		ok, err := o.DeleteAccountIf(t.Context(), was2)
		must(t, "DeleteAccountIf(acct-2, stale)", err)
		wantEqual(t, "deleted acct-2 after its sign-in", ok, false)
		if _, err := s.GetAccount(t.Context(), "acct-2"); err != nil {
			t.Errorf("acct-2 after a refused delete: %v", err)
		}
		was1, _ := o.GetLifecycle(t.Context(), "acct-1")
		ok, err = o.DeleteAccountIf(t.Context(), was1)
		must(t, "DeleteAccountIf(acct-1)", err)
		wantEqual(t, "deleted acct-1", ok, true)
		_, err = s.GetAccount(t.Context(), "acct-1")
		wantErr(t, "GetAccount(acct-1) after delete", err, store.ErrNotFound)
		_, err = s.GetEmail(t.Context(), "kari@example.no")
		wantErr(t, "GetEmail after delete", err, store.ErrNotFound)
		_, err = s.GetSession(t.Context(), "sess-1")
		wantErr(t, "GetSession after delete", err, store.ErrNotFound)
		ok, err = o.DeleteAccountIf(t.Context(), was1)
		must(t, "DeleteAccountIf(acct-1) again", err)
		wantEqual(t, "deleted acct-1 twice", ok, false)
	}},
}

func lcID(l store.Lifecycle) string { return l.AccountID }
