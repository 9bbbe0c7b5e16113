package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// credID returns the credential ID the suite uses for name: binary, with a
// zero byte and a byte that is not UTF-8, as authenticators' IDs are.
func credID(name string) []byte {
	return append([]byte{0x00, 0xff}, name...)
}

// credIDName is the inverse of credID.
func credIDName(c store.WebAuthnCredential) string {
	return string(bytes.TrimPrefix(c.ID, []byte{0x00, 0xff}))
}

// newWebAuthnCredential returns a passkey with every field set and every
// flag true, created at created.
func newWebAuthnCredential(name, accountID string, created time.Time) store.WebAuthnCredential {
	return store.WebAuthnCredential{
		ID:              credID(name),
		AccountID:       accountID,
		Name:            "Key " + name,
		PublicKey:       append([]byte{0xa5, 0x01, 0x02, 0x03, 0x26}, hash("public key of "+name)...),
		AttestationType: "self",
		AAGUID:          hash("aaguid of " + name)[:16],
		SignCount:       4_000_000_000, // above 2^31: the column must hold a uint32
		Transports:      []string{"hybrid", "internal", "usb"},
		Discoverable:    true,
		BackupEligible:  true,
		BackupState:     true,
		CloneWarning:    true,
		CreatedAt:       created,
		LastUsedAt:      created.Add(time.Minute),
	}
}

func mustCreateWebAuthn(tb testing.TB, s store.Store, c store.WebAuthnCredential) store.WebAuthnCredential {
	tb.Helper()
	must(tb, "CreateWebAuthnCredential("+credIDName(c)+")", s.CreateWebAuthnCredential(tb.Context(), c))
	return c
}

// listWebAuthn returns the names (see credID) of the account's credentials
// in order, failing the test on error.
func listWebAuthn(tb testing.TB, s store.Store, accountID string) []string {
	tb.Helper()
	list, err := s.ListWebAuthnCredentials(tb.Context(), accountID)
	must(tb, "ListWebAuthnCredentials("+accountID+")", err)
	return ids(list, credIDName)
}

var webAuthnTests = []subtest{
	{"a created webauthn credential reads back with every field", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		full := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		// A security key: every flag false, no AAGUID (given as empty, not
		// nil), no transports and a zero counter and last use.
		bare := store.WebAuthnCredential{
			ID:              credID("cred-2"),
			AccountID:       "acct-1",
			Name:            "YubiKey",
			PublicKey:       hash("public key of cred-2"),
			AttestationType: "none",
			AAGUID:          []byte{},
			Transports:      []string{},
			CreatedAt:       T0.Add(time.Minute),
		}
		mustCreateWebAuthn(t, s, bare)
		wantBare := bare
		wantBare.AAGUID, wantBare.Transports = nil, nil

		for _, want := range []store.WebAuthnCredential{full, wantBare} {
			got, err := s.GetWebAuthnCredential(t.Context(), want.ID)
			must(t, "GetWebAuthnCredential("+credIDName(want)+")", err)
			wantEqual(t, "GetWebAuthnCredential("+credIDName(want)+")", got, want)
		}
		got, err := s.GetWebAuthnCredential(t.Context(), bare.ID)
		must(t, "GetWebAuthnCredential(cred-2)", err)
		if got.AAGUID != nil || got.Transports != nil || !got.LastUsedAt.IsZero() {
			t.Errorf("GetWebAuthnCredential(cred-2) = AAGUID %#v, Transports %#v, LastUsedAt %v; want nil, nil and zero",
				got.AAGUID, got.Transports, got.LastUsedAt)
		}
		list, err := s.ListWebAuthnCredentials(t.Context(), "acct-1")
		must(t, `ListWebAuthnCredentials("acct-1")`, err)
		wantEqual(t, `ListWebAuthnCredentials("acct-1")`, list, []store.WebAuthnCredential{full, wantBare})
	}},
	{"nil and empty webauthn byte fields both read back as nil", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		for name, b := range map[string][]byte{"nil": nil, "empty": {}} {
			c := newWebAuthnCredential(name, "acct-1", T0)
			c.PublicKey, c.AAGUID = b, b
			mustCreateWebAuthn(t, s, c)
			got, err := s.GetWebAuthnCredential(t.Context(), c.ID)
			must(t, "GetWebAuthnCredential("+name+")", err)
			if got.PublicKey != nil || got.AAGUID != nil {
				t.Errorf("GetWebAuthnCredential(%s) = PublicKey %#v, AAGUID %#v; want nil, nil", name, got.PublicKey, got.AAGUID)
			}
			// An update hands them back as a read does.
			upd, err := s.UpdateWebAuthnCredential(t.Context(), c.ID, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
				c.PublicKey, c.AAGUID, c.Transports = b, b, []string{}
				return c, nil
			})
			must(t, "UpdateWebAuthnCredential("+name+")", err)
			if upd.PublicKey != nil || upd.AAGUID != nil || upd.Transports != nil {
				t.Errorf("UpdateWebAuthnCredential(%s) = PublicKey %#v, AAGUID %#v, Transports %#v; want nil, nil, nil",
					name, upd.PublicKey, upd.AAGUID, upd.Transports)
			}
			got, err = s.GetWebAuthnCredential(t.Context(), c.ID)
			must(t, "GetWebAuthnCredential("+name+")", err)
			wantEqual(t, "GetWebAuthnCredential("+name+") after the update", got, upd)
		}
	}},
	{"webauthn credentials are listed oldest first", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("middle", "acct-1", T0.Add(time.Minute)))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("newest", "acct-1", T0.Add(time.Hour)))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("oldest", "acct-1", T0))
		// Created at the same millisecond: ordered by ID.
		mustCreateWebAuthn(t, s, newWebAuthnCredential("tie-b", "acct-1", T0.Add(2*time.Hour)))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("tie-a", "acct-1", T0.Add(2*time.Hour)))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("other", "acct-2", T0))
		wantEqual(t, `ListWebAuthnCredentials("acct-1")`, listWebAuthn(t, s, "acct-1"),
			[]string{"oldest", "middle", "newest", "tie-a", "tie-b"})
		wantEqual(t, `ListWebAuthnCredentials("acct-2")`, listWebAuthn(t, s, "acct-2"), []string{"other"})
		wantEqual(t, `ListWebAuthnCredentials("nobody")`, listWebAuthn(t, s, "nobody"), []string{})
	}},
	{"a credential ID registered already is a conflict, also for another account", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		for _, acct := range []string{"acct-1", "acct-2"} {
			again := newWebAuthnCredential("cred-1", acct, T0.Add(time.Hour))
			again.Name, again.PublicKey = "Copy", hash("another key")
			err := s.CreateWebAuthnCredential(t.Context(), again)
			wantErr(t, fmt.Sprintf("CreateWebAuthnCredential(cred-1) again for %q", acct), err, store.ErrConflict)
		}
		got, err := s.GetWebAuthnCredential(t.Context(), want.ID)
		must(t, "GetWebAuthnCredential(cred-1)", err)
		wantEqual(t, "GetWebAuthnCredential(cred-1) after the conflicts", got, want)
		wantEqual(t, `ListWebAuthnCredentials("acct-2") after the conflict`, listWebAuthn(t, s, "acct-2"), []string{})
		// IDs are compared as bytes: one that differs in a byte is another.
		near := newWebAuthnCredential("cred-1", "acct-2", T0)
		near.ID = append(credID("cred-1"), 0x00)
		mustCreateWebAuthn(t, s, near)
	}},
	{"a webauthn credential for an unknown account is not found", func(t *testing.T, s store.Store) {
		c := newWebAuthnCredential("cred-1", "nobody", T0)
		err := s.CreateWebAuthnCredential(t.Context(), c)
		wantErr(t, `CreateWebAuthnCredential(cred-1) for account "nobody"`, err, store.ErrNotFound)
		_, err = s.GetWebAuthnCredential(t.Context(), c.ID)
		wantErr(t, "GetWebAuthnCredential(cred-1) after the failed create", err, store.ErrNotFound)
	}},
	{"a webauthn credential without an ID or with a spaced transport is refused", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		noID := newWebAuthnCredential("cred-1", "acct-1", T0)
		noID.ID = nil
		badTransport := newWebAuthnCredential("cred-2", "acct-1", T0)
		badTransport.Transports = []string{"usb", "smart card"}
		emptyTransport := newWebAuthnCredential("cred-3", "acct-1", T0)
		emptyTransport.Transports = []string{""}
		for name, c := range map[string]store.WebAuthnCredential{
			"without an ID": noID, `with transport "smart card"`: badTransport, `with transport ""`: emptyTransport,
		} {
			err := s.CreateWebAuthnCredential(t.Context(), c)
			if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("CreateWebAuthnCredential(%s) = %v, want a plain error", name, err)
			}
		}
		wantEqual(t, `ListWebAuthnCredentials("acct-1")`, listWebAuthn(t, s, "acct-1"), []string{})

		want := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-4", "acct-1", T0))
		_, err := s.UpdateWebAuthnCredential(t.Context(), want.ID, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
			c.Transports, c.Name = []string{"smart card"}, "changed"
			return c, nil
		})
		if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			t.Errorf(`UpdateWebAuthnCredential(cred-4) to transport "smart card" = %v, want a plain error`, err)
		}
		got, err := s.GetWebAuthnCredential(t.Context(), want.ID)
		must(t, "GetWebAuthnCredential(cred-4)", err)
		wantEqual(t, "GetWebAuthnCredential(cred-4) after the refused update", got, want)
	}},
	{"a missing webauthn credential is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		for name, id := range map[string][]byte{`credID("nothing")`: credID("nothing"), "nil": nil, "[]byte{}": {},
			// The ID of cred-1 without its last byte, and as text.
			"a prefix of cred-1": credID("cred-"), `"cred-1"`: []byte("cred-1")} {
			_, err := s.GetWebAuthnCredential(t.Context(), id)
			wantErr(t, "GetWebAuthnCredential("+name+")", err, store.ErrNotFound)
			_, err = s.UpdateWebAuthnCredential(t.Context(), id, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
				t.Errorf("UpdateWebAuthnCredential(%s) called the updater with %+v", name, c)
				return c, nil
			})
			wantErr(t, "UpdateWebAuthnCredential("+name+")", err, store.ErrNotFound)
			err = s.DeleteWebAuthnCredential(t.Context(), "acct-1", id)
			wantErr(t, `DeleteWebAuthnCredential("acct-1", `+name+")", err, store.ErrNotFound)
		}
		wantEqual(t, `ListWebAuthnCredentials("acct-1")`, listWebAuthn(t, s, "acct-1"), []string{"cred-1"})
	}},
	{"a webauthn credential update writes what the updater returns", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		old := newWebAuthnCredential("cred-1", "acct-1", T0)
		old.SignCount, old.BackupState, old.CloneWarning = 7, false, false
		mustCreateWebAuthn(t, s, old)
		var seen store.WebAuthnCredential
		got, err := s.UpdateWebAuthnCredential(t.Context(), old.ID, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
			seen = c
			c.Name, c.SignCount, c.Transports = "Laptop", 8, []string{"internal"}
			c.BackupState, c.CloneWarning, c.Discoverable = true, true, false
			c.LastUsedAt = T0.Add(time.Hour + 1500*time.Microsecond)
			return c, nil
		})
		must(t, "UpdateWebAuthnCredential(cred-1)", err)
		wantEqual(t, "the updater's argument", seen, old)
		want := old
		want.Name, want.SignCount, want.Transports = "Laptop", 8, []string{"internal"}
		want.BackupState, want.CloneWarning, want.Discoverable = true, true, false
		want.LastUsedAt = T0.Add(time.Hour + time.Millisecond)
		wantEqual(t, "UpdateWebAuthnCredential(cred-1) result", got, want)
		got, err = s.GetWebAuthnCredential(t.Context(), old.ID)
		must(t, "GetWebAuthnCredential(cred-1)", err)
		wantEqual(t, "GetWebAuthnCredential(cred-1) after the update", got, want)
	}},
	{"an updater error aborts the webauthn credential update and writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		_, err := s.UpdateWebAuthnCredential(t.Context(), want.ID, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
			c.SignCount, c.Name = c.SignCount+1, "changed"
			return c, errBoom
		})
		wantErr(t, "UpdateWebAuthnCredential(cred-1) with a failing updater", err, errBoom)
		got, err := s.GetWebAuthnCredential(t.Context(), want.ID)
		must(t, "GetWebAuthnCredential(cred-1)", err)
		wantEqual(t, "GetWebAuthnCredential(cred-1) after the failed update", got, want)
	}},
	{"a webauthn credential update cannot move the credential", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		for name, move := range map[string]func(*store.WebAuthnCredential){
			"to another ID":      func(c *store.WebAuthnCredential) { c.ID = credID("cred-2") },
			"to another account": func(c *store.WebAuthnCredential) { c.AccountID = "acct-2" },
		} {
			_, err := s.UpdateWebAuthnCredential(t.Context(), want.ID, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
				move(&c)
				c.Name = "moved"
				return c, nil
			})
			if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				t.Errorf("UpdateWebAuthnCredential(cred-1) %s = %v, want a plain error", name, err)
			}
		}
		got, err := s.GetWebAuthnCredential(t.Context(), want.ID)
		must(t, "GetWebAuthnCredential(cred-1)", err)
		wantEqual(t, "GetWebAuthnCredential(cred-1) after the refused moves", got, want)
		wantEqual(t, `ListWebAuthnCredentials("acct-2")`, listWebAuthn(t, s, "acct-2"), []string{})
	}},
	{"twenty parallel counter updates of a webauthn credential lose none", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		c := newWebAuthnCredential("cred-1", "acct-1", T0)
		c.SignCount, c.CloneWarning = 0, false
		mustCreateWebAuthn(t, s, c)
		parallel(t, 20, func(i int) {
			_, err := s.UpdateWebAuthnCredential(t.Context(), c.ID, func(c store.WebAuthnCredential) (store.WebAuthnCredential, error) {
				c.SignCount++
				c.LastUsedAt = T0.Add(time.Duration(c.SignCount) * time.Millisecond)
				// Hold the credential a little, so that an implementation
				// that lets another call read it meanwhile is caught.
				time.Sleep(5 * time.Millisecond)
				return c, nil
			})
			if err != nil {
				t.Errorf("UpdateWebAuthnCredential(cred-1) by call %d: %v", i, err)
			}
		})
		got, err := s.GetWebAuthnCredential(t.Context(), c.ID)
		must(t, "GetWebAuthnCredential(cred-1)", err)
		if got.SignCount != 20 || !got.LastUsedAt.Equal(T0.Add(20*time.Millisecond)) {
			t.Errorf("GetWebAuthnCredential(cred-1) after 20 parallel increments = SignCount %d, LastUsedAt %v; want 20, %v",
				got.SignCount, got.LastUsedAt, T0.Add(20*time.Millisecond))
		}
	}},
	{"deleting a webauthn credential removes it", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		c := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-2", "acct-1", T0.Add(time.Minute)))
		must(t, `DeleteWebAuthnCredential("acct-1", cred-1)`, s.DeleteWebAuthnCredential(t.Context(), "acct-1", c.ID))
		_, err := s.GetWebAuthnCredential(t.Context(), c.ID)
		wantErr(t, "GetWebAuthnCredential(cred-1) after DeleteWebAuthnCredential", err, store.ErrNotFound)
		wantEqual(t, `ListWebAuthnCredentials("acct-1") after DeleteWebAuthnCredential`, listWebAuthn(t, s, "acct-1"),
			[]string{"cred-2"})
		err = s.DeleteWebAuthnCredential(t.Context(), "acct-1", c.ID)
		wantErr(t, `DeleteWebAuthnCredential("acct-1", cred-1) again`, err, store.ErrNotFound)
		// The ID is free again.
		mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0.Add(time.Hour)))
	}},
	{"deleting another account's webauthn credential is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		want := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		for _, acct := range []string{"acct-2", "nobody", ""} {
			err := s.DeleteWebAuthnCredential(t.Context(), acct, want.ID)
			wantErr(t, fmt.Sprintf("DeleteWebAuthnCredential(%q, cred-1)", acct), err, store.ErrNotFound)
		}
		got, err := s.GetWebAuthnCredential(t.Context(), want.ID)
		must(t, "GetWebAuthnCredential(cred-1)", err)
		wantEqual(t, "GetWebAuthnCredential(cred-1) after the failed deletes", got, want)
	}},
	{"deleting an account removes its webauthn credentials", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		c1 := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-1", T0))
		c2 := mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-2", "acct-1", T0.Add(time.Minute)))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-3", "acct-2", T0))
		must(t, `DeleteAccount("acct-1")`, s.DeleteAccount(t.Context(), "acct-1"))
		for _, c := range []store.WebAuthnCredential{c1, c2} {
			_, err := s.GetWebAuthnCredential(t.Context(), c.ID)
			wantErr(t, "GetWebAuthnCredential("+credIDName(c)+") after deleting its account", err, store.ErrNotFound)
		}
		wantEqual(t, `ListWebAuthnCredentials("acct-1") after DeleteAccount`, listWebAuthn(t, s, "acct-1"), []string{})
		wantEqual(t, `ListWebAuthnCredentials("acct-2")`, listWebAuthn(t, s, "acct-2"), []string{"cred-3"})
		// A new account can register the credential IDs that went.
		mustCreateAccount(t, s, newAccount("acct-3", ""))
		mustCreateWebAuthn(t, s, newWebAuthnCredential("cred-1", "acct-3", T0))
	}},
}
