package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// Rights, organisations, end-user systems and the sign-in through a
// system (issue 14).

func newSystem(id, owner string) store.System {
	return store.System{
		ID:           id,
		OwnerAccount: owner,
		Name:         "Maestro regnskap",
		SecretHash:   hash("secret of " + id),
		Rights:       []string{"altinn:download", "altinn:submit"},
		CreatedAt:    T0,
		RotatedAt:    T0,
		ExpiresAt:    T0.Add(365 * 24 * time.Hour),
	}
}

func mustCreateSystem(tb testing.TB, s store.Store, sys store.System) store.System {
	tb.Helper()
	must(tb, "CreateSystem("+sys.ID+")", s.CreateSystem(tb.Context(), sys))
	return sys
}

// systemGrant returns a grant through system sys for acct-1 with its
// access token.
func systemGrant(id, sys string) (store.Grant, store.AccessToken) {
	g := newGrant(id, "acct-1")
	g.ClientID, g.SessionID, g.Scopes = sys, "", []string{"altinn:submit"}
	at := newAccessToken("at-"+id, id)
	at.ClientID, at.Scopes, at.Audience = sys, []string{"altinn:submit"}, []string{"altinn-api"}
	return g, at
}

var systemTests = []subtest{
	{"an organisation and its members round-trip", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateAccount(t, s, newAccount("acct-2", ""))
		org := store.Organisation{ID: "912345678", Name: "Fjordkraft Regnskap AS", CreatedAt: T0}
		must(t, "CreateOrg", s.CreateOrg(ctx, org))
		wantErr(t, "CreateOrg(same number)", s.CreateOrg(ctx, org), store.ErrConflict)
		got, err := s.GetOrg(ctx, org.ID)
		must(t, "GetOrg", err)
		wantEqual(t, "GetOrg", got, org)
		_, err = s.GetOrg(ctx, "999999999")
		wantErr(t, "GetOrg(unknown)", err, store.ErrNotFound)

		admin := store.OrgMember{OrgID: org.ID, AccountID: "acct-1", Role: store.RoleAdmin, AddedAt: T0, UpdatedAt: T0}
		m, err := s.PutOrgMember(ctx, admin)
		must(t, "PutOrgMember(admin)", err)
		wantEqual(t, "PutOrgMember(admin)", m, admin)
		member := store.OrgMember{OrgID: org.ID, AccountID: "acct-2", Role: store.RoleMember, Rights: []string{"altinn:submit"}, AddedAt: T0, UpdatedAt: T0}
		_, err = s.PutOrgMember(ctx, member)
		must(t, "PutOrgMember(member)", err)
		// A second put changes role and rights but keeps AddedAt.
		later := member
		later.Rights, later.AddedAt, later.UpdatedAt = []string{"altinn:download", "altinn:submit"}, T0.Add(time.Hour), T0.Add(time.Hour)
		m, err = s.PutOrgMember(ctx, later)
		must(t, "PutOrgMember(again)", err)
		later.AddedAt = T0
		wantEqual(t, "PutOrgMember(again)", m, later)

		list, err := s.ListOrgMembers(ctx, org.ID)
		must(t, "ListOrgMembers", err)
		wantEqual(t, "ListOrgMembers", list, []store.OrgMember{admin, later})
		mine, err := s.ListMemberships(ctx, "acct-2")
		must(t, "ListMemberships", err)
		wantEqual(t, "ListMemberships(acct-2)", mine, []store.OrgMember{later})
		_, err = s.PutOrgMember(ctx, store.OrgMember{OrgID: org.ID, AccountID: "nobody", Role: store.RoleMember})
		wantErr(t, "PutOrgMember(unknown account)", err, store.ErrNotFound)
		_, err = s.PutOrgMember(ctx, store.OrgMember{OrgID: "999999999", AccountID: "acct-1", Role: store.RoleMember})
		wantErr(t, "PutOrgMember(unknown organisation)", err, store.ErrNotFound)

		must(t, "DeleteOrgMember", s.DeleteOrgMember(ctx, org.ID, "acct-2"))
		wantErr(t, "DeleteOrgMember(again)", s.DeleteOrgMember(ctx, org.ID, "acct-2"), store.ErrNotFound)
		_, err = s.GetOrgMember(ctx, org.ID, "acct-2")
		wantErr(t, "GetOrgMember(deleted)", err, store.ErrNotFound)
		orgs, err := s.ListOrgs(ctx)
		must(t, "ListOrgs", err)
		wantEqual(t, "ListOrgs", orgs, []store.Organisation{org})
	}},
	{"deleting an organisation removes its members and systems and revokes their grants", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		must(t, "CreateOrg", s.CreateOrg(ctx, store.Organisation{ID: "912345678", Name: "AS", CreatedAt: T0}))
		_, err := s.PutOrgMember(ctx, store.OrgMember{OrgID: "912345678", AccountID: "acct-1", Role: store.RoleAdmin, AddedAt: T0, UpdatedAt: T0})
		must(t, "PutOrgMember", err)
		sys := newSystem("sys-org", "acct-1")
		sys.OrgID = "912345678"
		mustCreateSystem(t, s, sys)
		g, at := systemGrant("grant-org", "sys-org")
		must(t, "CreateSystemGrant", s.CreateSystemGrant(ctx, g, at, nil))
		must(t, "DeleteOrg", s.DeleteOrg(ctx, "912345678"))
		wantErr(t, "DeleteOrg(again)", s.DeleteOrg(ctx, "912345678"), store.ErrNotFound)
		_, err = s.GetSystem(ctx, "sys-org")
		wantErr(t, "GetSystem(after DeleteOrg)", err, store.ErrNotFound)
		_, _, err = s.GetAccessToken(ctx, at.ID)
		wantErr(t, "GetAccessToken(after DeleteOrg)", err, store.ErrNotFound)
		mine, err := s.ListMemberships(ctx, "acct-1")
		must(t, "ListMemberships", err)
		if len(mine) != 0 {
			t.Errorf("ListMemberships(acct-1) after DeleteOrg = %v, want none", mine)
		}
		sys.ID = "sys-org-2"
		wantErr(t, "CreateSystem(for a deleted organisation)", s.CreateSystem(ctx, sys), store.ErrNotFound)
	}},
	{"an account's own rights are replaced, sorted and unique", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		got, err := s.GetAccountRights(ctx, "acct-1")
		must(t, "GetAccountRights(none)", err)
		wantEqual(t, "GetAccountRights(none)", got, []string{})
		must(t, "SetAccountRights", s.SetAccountRights(ctx, "acct-1", []string{"altinn:submit", "altinn:download", "altinn:submit"}))
		got, err = s.GetAccountRights(ctx, "acct-1")
		must(t, "GetAccountRights", err)
		wantEqual(t, "GetAccountRights", got, []string{"altinn:download", "altinn:submit"})
		must(t, "SetAccountRights(none)", s.SetAccountRights(ctx, "acct-1", nil))
		got, err = s.GetAccountRights(ctx, "acct-1")
		must(t, "GetAccountRights", err)
		wantEqual(t, "GetAccountRights(after clearing)", got, []string{})
		wantErr(t, "SetAccountRights(unknown account)", s.SetAccountRights(ctx, "nobody", []string{"x"}), store.ErrNotFound)
		if err := s.SetAccountRights(ctx, "acct-1", []string{"two words"}); err == nil {
			t.Error("SetAccountRights(a right with a space) = nil, want an error")
		}
	}},
	{"a system round-trips with every field, and its ID is unique", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		want := mustCreateSystem(t, s, newSystem("sys-1", "acct-1"))
		got, err := s.GetSystem(ctx, "sys-1")
		must(t, "GetSystem", err)
		wantEqual(t, "GetSystem(sys-1)", got, want)
		wantErr(t, "CreateSystem(same ID)", s.CreateSystem(ctx, want), store.ErrConflict)
		wantErr(t, "CreateSystem(unknown owner)", s.CreateSystem(ctx, newSystem("sys-2", "nobody")), store.ErrNotFound)

		keyed := newSystem("sys-key", "acct-1")
		keyed.SecretHash, keyed.PublicKey, keyed.ExpiresAt = nil, `{"kty":"EC","crv":"P-256","x":"a","y":"b"}`, time.Time{}
		keyed.CreatedAt = T0.Add(time.Minute)
		mustCreateSystem(t, s, keyed)
		got, err = s.GetSystem(ctx, "sys-key")
		must(t, "GetSystem(sys-key)", err)
		wantEqual(t, "GetSystem(sys-key)", got, keyed)
		if !got.Live(T0.Add(100 * 365 * 24 * time.Hour)) {
			t.Error("a system without an expiry is not live a century later")
		}

		list, err := s.ListSystems(ctx, "acct-1", "")
		must(t, "ListSystems", err)
		wantEqual(t, "ListSystems(acct-1) (newest first)", ids(list, func(x store.System) string { return x.ID }), []string{"sys-key", "sys-1"})
		_, err = s.GetSystem(ctx, "nope")
		wantErr(t, "GetSystem(unknown)", err, store.ErrNotFound)
	}},
	{"a system's secret is rotated by UpdateSystem, and an updater's error writes nothing", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateSystem(t, s, newSystem("sys-1", "acct-1"))
		out, err := s.UpdateSystem(ctx, "sys-1", func(x store.System) (store.System, error) {
			x.SecretHash, x.RotatedAt, x.Name = hash("new secret"), T0.Add(time.Hour), "Maestro 2"
			return x, nil
		})
		must(t, "UpdateSystem", err)
		got, err := s.GetSystem(ctx, "sys-1")
		must(t, "GetSystem", err)
		wantEqual(t, "GetSystem after UpdateSystem", got, out)
		wantEqual(t, "SecretHash after rotation", got.SecretHash, hash("new secret"))
		_, err = s.UpdateSystem(ctx, "sys-1", func(x store.System) (store.System, error) {
			x.Name = "never"
			return x, errBoom
		})
		wantErr(t, "UpdateSystem(failing updater)", err, errBoom)
		got, _ = s.GetSystem(ctx, "sys-1")
		if got.Name != "Maestro 2" {
			t.Errorf("Name after a failed update = %q, want Maestro 2", got.Name)
		}
		_, err = s.UpdateSystem(ctx, "nope", func(x store.System) (store.System, error) { return x, nil })
		wantErr(t, "UpdateSystem(unknown)", err, store.ErrNotFound)
	}},
	{"revoking a system revokes every grant through it and refuses new ones", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		mustCreateSystem(t, s, newSystem("sys-1", "acct-1"))
		mustCreateSystem(t, s, newSystem("sys-2", "acct-1"))
		g1, at1 := systemGrant("grant-1", "sys-1")
		rt := newRefreshToken("of grant-1", "grant-1")
		must(t, "CreateSystemGrant(with a refresh token)", s.CreateSystemGrant(ctx, g1, at1, &rt))
		g2, at2 := systemGrant("grant-2", "sys-2")
		must(t, "CreateSystemGrant(sys-2)", s.CreateSystemGrant(ctx, g2, at2, nil))
		gotAT, gotG, err := s.GetAccessToken(ctx, at1.ID)
		must(t, "GetAccessToken", err)
		wantEqual(t, "GetAccessToken(system token)", gotAT, at1)
		wantEqual(t, "the token's grant is the system's", gotG.ClientID, "sys-1")
		sys, _ := s.GetSystem(ctx, "sys-1")
		wantEqual(t, "LastUsedAt after a grant", sys.LastUsedAt, g1.CreatedAt)

		must(t, "RevokeSystem", s.RevokeSystem(ctx, "sys-1", T0.Add(time.Hour)))
		must(t, "RevokeSystem(again)", s.RevokeSystem(ctx, "sys-1", T0.Add(2*time.Hour)))
		sys, _ = s.GetSystem(ctx, "sys-1")
		wantEqual(t, "RevokedAt (the first revocation's)", sys.RevokedAt, T0.Add(time.Hour))
		_, _, err = s.GetAccessToken(ctx, at1.ID)
		wantErr(t, "GetAccessToken(of a revoked system)", err, store.ErrNotFound)
		wantGrantRevoked(t, s, "grant-1", true)
		wantGrantRevoked(t, s, "grant-2", false)
		g3, at3 := systemGrant("grant-3", "sys-1")
		wantErr(t, "CreateSystemGrant(revoked system)", s.CreateSystemGrant(ctx, g3, at3, nil), store.ErrNotFound)
		g4, at4 := systemGrant("grant-4", "nope")
		wantErr(t, "CreateSystemGrant(unknown system)", s.CreateSystemGrant(ctx, g4, at4, nil), store.ErrNotFound)
		wantErr(t, "RevokeSystem(unknown)", s.RevokeSystem(ctx, "nope", T0), store.ErrNotFound)
	}},
	{"the allow-sign-in-through-systems switch is off until set", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		on, at, err := s.SystemLoginAllowed(ctx, "acct-1")
		must(t, "SystemLoginAllowed(never set)", err)
		if on || !at.IsZero() {
			t.Errorf("SystemLoginAllowed(never set) = %v, %v; want false, zero", on, at)
		}
		must(t, "SetSystemLoginAllowed(true)", s.SetSystemLoginAllowed(ctx, "acct-1", true, T0))
		on, at, err = s.SystemLoginAllowed(ctx, "acct-1")
		must(t, "SystemLoginAllowed", err)
		if !on || !at.Equal(T0) {
			t.Errorf("SystemLoginAllowed = %v, %v; want true, %v", on, at, T0)
		}
		must(t, "SetSystemLoginAllowed(false)", s.SetSystemLoginAllowed(ctx, "acct-1", false, T0.Add(time.Minute)))
		on, _, _ = s.SystemLoginAllowed(ctx, "acct-1")
		if on {
			t.Error("SystemLoginAllowed after turning it off = true")
		}
		wantErr(t, "SetSystemLoginAllowed(unknown account)", s.SetSystemLoginAllowed(ctx, "nobody", true, T0), store.ErrNotFound)
	}},
	{"the code step of a sign-in through a system is consumed exactly once by 20 parallel calls", func(t *testing.T, s store.Store) {
		ctx := t.Context()
		mustCreateAccount(t, s, newAccount("acct-1", ""))
		f := store.Flow{ID: "syslogin-1", Kind: "system_login", AccountID: "acct-1", State: "sys-1",
			CodeHash: hash("123456"), Sends: 1, LastSentAt: T0, CreatedAt: T0, ExpiresAt: T0.Add(10 * time.Minute)}
		must(t, "CreateFlow", s.CreateFlow(ctx, f))
		errUsed := errors.New("used")
		won, lost := race(t, 20, "UpdateFlow(consume)", func(err error) bool { return errors.Is(err, errUsed) }, func(int) error {
			_, err := s.UpdateFlow(ctx, f.ID, func(f store.Flow) (store.Flow, error) {
				if !f.ConsumedAt.IsZero() || f.CodeHash == nil {
					return f, errUsed
				}
				f.CodeHash, f.ConsumedAt = nil, T0.Add(time.Minute)
				return f, nil
			})
			return err
		})
		if len(won) != 1 || lost != 19 {
			t.Errorf("20 parallel consumptions: %d won, %d lost; want 1 and 19", len(won), lost)
		}
	}},
}
