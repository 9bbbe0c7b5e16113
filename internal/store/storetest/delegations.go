package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/store"
)

// newChildDelegation returns a guardian's delegation for a child without
// an account, every field set.
func newChildDelegation(id, agent, ref string) store.Delegation {
	return store.Delegation{
		ID:               id,
		AgentID:          agent,
		PrincipalKind:    store.PrincipalPerson,
		PrincipalRef:     ref,
		PrincipalName:    "Ola Nordmann",
		PrincipalMasked:  "010120 •••••",
		PrincipalSealed:  []byte{9, 8, 7, 0, 255},
		Rights:           []string{"udi:apply", "udi:read"},
		CreatedBy:        agent,
		CreatedAt:        T0,
		ExpiresAt:        T0.Add(365 * 24 * time.Hour),
		AcceptedAt:       T0,
		ApprovalRequired: true,
	}
}

// newAccountDelegation returns a pending delegation of agent for the
// account principal, with an accept token digest.
func newAccountDelegation(id, agent, principal string) store.Delegation {
	return store.Delegation{
		ID:                 id,
		AgentID:            agent,
		PrincipalKind:      store.PrincipalAccount,
		PrincipalRef:       "acct:" + principal,
		PrincipalAccountID: principal,
		PrincipalName:      "Kari",
		Rights:             []string{"altinn:submit"},
		CreatedBy:          agent,
		CreatedAt:          T0,
		AcceptHash:         []byte("digest-of-the-accept-token-32-by"),
	}
}

func mustDelegate(tb testing.TB, s store.Store, d store.Delegation) store.Delegation {
	tb.Helper()
	must(tb, "CreateDelegation("+d.ID+")", s.CreateDelegation(tb.Context(), d))
	return d
}

func delegationIDs(tb testing.TB, s store.Store, f store.DelegationFilter) []string {
	tb.Helper()
	list, err := s.ListDelegations(tb.Context(), f)
	must(tb, fmt.Sprintf("ListDelegations(%+v)", f), err)
	return ids(list, func(d store.Delegation) string { return d.ID })
}

var delegationTests = []subtest{
	{"a delegation for a person without an account reads back with every field", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("guardian", ""))
		want := mustDelegate(t, s, newChildDelegation("d1", "guardian", "nid:abc"))
		got, err := s.GetDelegation(t.Context(), "d1")
		must(t, "GetDelegation", err)
		wantEqual(t, "GetDelegation(d1)", got, want)
	}},
	{"a delegation for an account reads back and is listed on both sides", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("agent", ""))
		mustCreateAccount(t, s, newAccount("principal", ""))
		want := mustDelegate(t, s, newAccountDelegation("d1", "agent", "principal"))
		got, err := s.GetDelegation(t.Context(), "d1")
		must(t, "GetDelegation", err)
		wantEqual(t, "GetDelegation(d1)", got, want)
		wantEqual(t, "by agent", delegationIDs(t, s, store.DelegationFilter{AgentID: "agent"}), []string{"d1"})
		wantEqual(t, "by principal", delegationIDs(t, s, store.DelegationFilter{PrincipalAccountID: "principal"}), []string{"d1"})
		wantEqual(t, "principal as agent", delegationIDs(t, s, store.DelegationFilter{AgentID: "principal"}), []string{})
	}},
	{"an unknown agent or principal account is not found", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("agent", ""))
		wantErr(t, "CreateDelegation(unknown agent)", s.CreateDelegation(t.Context(), newChildDelegation("d1", "nobody", "nid:abc")), store.ErrNotFound)
		wantErr(t, "CreateDelegation(unknown principal)", s.CreateDelegation(t.Context(), newAccountDelegation("d2", "agent", "nobody")), store.ErrNotFound)
		_, err := s.GetDelegation(t.Context(), "d1")
		wantErr(t, "GetDelegation(d1)", err, store.ErrNotFound)
	}},
	{"an agent has one standing delegation per principal; after revocation a new one may be made", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("guardian", ""))
		mustCreateAccount(t, s, newAccount("other", ""))
		mustDelegate(t, s, newChildDelegation("d1", "guardian", "nid:abc"))
		wantErr(t, "CreateDelegation(same principal again)", s.CreateDelegation(t.Context(), newChildDelegation("d2", "guardian", "nid:abc")), store.ErrConflict)
		wantErr(t, "CreateDelegation(same ID)", s.CreateDelegation(t.Context(), newChildDelegation("d1", "guardian", "nid:def")), store.ErrConflict)
		// The other parent records the same child: their own delegation.
		mustDelegate(t, s, newChildDelegation("d3", "other", "nid:abc"))
		_, err := s.UpdateDelegation(t.Context(), "d1", func(d store.Delegation) (store.Delegation, error) {
			d.RevokedAt, d.RevokedBy = T0.Add(time.Hour), "guardian"
			return d, nil
		})
		must(t, "UpdateDelegation(revoke d1)", err)
		mustDelegate(t, s, newChildDelegation("d2", "guardian", "nid:abc"))
		wantEqual(t, "standing of guardian", delegationIDs(t, s, store.DelegationFilter{AgentID: "guardian"}), []string{"d2"})
		wantEqual(t, "all of guardian", len(delegationIDs(t, s, store.DelegationFilter{AgentID: "guardian", IncludeRevoked: true})), 2)
		wantEqual(t, "by reference", len(delegationIDs(t, s, store.DelegationFilter{PrincipalRef: "nid:abc"})), 2)
	}},
	{"pending approval lists only unapproved, unrevoked delegations that need it", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("guardian", ""))
		mustCreateAccount(t, s, newAccount("principal", ""))
		mustDelegate(t, s, newChildDelegation("d1", "guardian", "nid:a"))
		d2 := newChildDelegation("d2", "guardian", "nid:b")
		d2.CreatedAt = T0.Add(time.Minute)
		mustDelegate(t, s, d2)
		mustDelegate(t, s, newAccountDelegation("d3", "guardian", "principal")) // needs no approval
		wantEqual(t, "pending", delegationIDs(t, s, store.DelegationFilter{PendingApproval: true}), []string{"d2", "d1"})
		_, err := s.UpdateDelegation(t.Context(), "d1", func(d store.Delegation) (store.Delegation, error) {
			d.ApprovedAt, d.ApprovedBy = T0.Add(time.Hour), "admin"
			return d, nil
		})
		must(t, "approve d1", err)
		_, err = s.UpdateDelegation(t.Context(), "d2", func(d store.Delegation) (store.Delegation, error) {
			d.RevokedAt = T0.Add(time.Hour)
			return d, nil
		})
		must(t, "revoke d2", err)
		wantEqual(t, "pending after", delegationIDs(t, s, store.DelegationFilter{PendingApproval: true}), []string{})
	}},
	{"a filter that selects nothing is refused", func(t *testing.T, s store.Store) {
		if _, err := s.ListDelegations(t.Context(), store.DelegationFilter{}); err == nil {
			t.Error("ListDelegations(empty filter): err = nil, want an error")
		}
	}},
	{"the list limit holds", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("guardian", ""))
		for i := range 5 {
			mustDelegate(t, s, newChildDelegation(fmt.Sprintf("d%d", i), "guardian", fmt.Sprintf("nid:%d", i)))
		}
		wantEqual(t, "limit 3", len(delegationIDs(t, s, store.DelegationFilter{AgentID: "guardian", Limit: 3})), 3)
	}},
	{"an update may not change the agent or principal, and a failing updater writes nothing", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("guardian", ""))
		mustCreateAccount(t, s, newAccount("thief", ""))
		want := mustDelegate(t, s, newChildDelegation("d1", "guardian", "nid:abc"))
		_, err := s.UpdateDelegation(t.Context(), "d1", func(d store.Delegation) (store.Delegation, error) {
			d.AgentID = "thief"
			return d, nil
		})
		if err == nil {
			t.Error("UpdateDelegation(change agent): err = nil, want an error")
		}
		_, err = s.UpdateDelegation(t.Context(), "d1", func(d store.Delegation) (store.Delegation, error) {
			d.Rights = []string{"everything"}
			return d, errBoom
		})
		wantErr(t, "UpdateDelegation(failing)", err, errBoom)
		got, err := s.GetDelegation(t.Context(), "d1")
		must(t, "GetDelegation", err)
		wantEqual(t, "unchanged", got, want)
		_, err = s.UpdateDelegation(t.Context(), "nope", func(d store.Delegation) (store.Delegation, error) { return d, nil })
		wantErr(t, "UpdateDelegation(unknown)", err, store.ErrNotFound)
	}},
	{"accepting is exactly once under 20 parallel calls", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("agent", ""))
		mustCreateAccount(t, s, newAccount("principal", ""))
		mustDelegate(t, s, newAccountDelegation("d1", "agent", "principal"))
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				_, err := s.UpdateDelegation(t.Context(), "d1", func(d store.Delegation) (store.Delegation, error) {
					if d.AcceptHash == nil {
						return d, errBoom
					}
					d.AcceptHash, d.AcceptedAt = nil, T0.Add(time.Duration(i)*time.Second)
					return d, nil
				})
				if err == nil {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		wantEqual(t, "accepted", wins.Load(), int32(1))
		got, err := s.GetDelegation(t.Context(), "d1")
		must(t, "GetDelegation", err)
		if got.AcceptedAt.IsZero() || got.AcceptHash != nil {
			t.Errorf("after the race: AcceptedAt %v, AcceptHash %x; want accepted, token gone", got.AcceptedAt, got.AcceptHash)
		}
	}},
	{"deleting the principal's account deletes the delegation", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("agent", ""))
		mustCreateAccount(t, s, newAccount("principal", ""))
		mustDelegate(t, s, newAccountDelegation("d1", "agent", "principal"))
		must(t, "DeleteAccount", s.DeleteAccount(t.Context(), "principal"))
		_, err := s.GetDelegation(t.Context(), "d1")
		wantErr(t, "GetDelegation after delete", err, store.ErrNotFound)
	}},
	{"a session keeps whom its person acts for", func(t *testing.T, s store.Store) {
		mustCreateAccount(t, s, newAccount("guardian", ""))
		sess := newSession("s1", "guardian", T0)
		must(t, "CreateSession", s.CreateSession(t.Context(), sess))
		got, err := s.GetSession(t.Context(), "s1")
		must(t, "GetSession", err)
		wantEqual(t, "ActingFor at first", got.ActingFor, "")
		_, err = s.UpdateSession(t.Context(), "s1", func(x store.Session) (store.Session, error) {
			x.ActingFor = "d1"
			return x, nil
		})
		must(t, "UpdateSession", err)
		got, err = s.GetSession(t.Context(), "s1")
		must(t, "GetSession", err)
		wantEqual(t, "ActingFor", got.ActingFor, "d1")
	}},
	{"the delegation Active rule", func(t *testing.T, _ store.Store) {
		d := newChildDelegation("d1", "g", "nid:x")
		if d.Active(T0) {
			t.Error("unapproved delegation that needs approval is active")
		}
		d.ApprovedAt = T0
		if !d.Active(T0) {
			t.Error("approved delegation is not active")
		}
		if d.Active(d.ExpiresAt) {
			t.Error("delegation is active at its expiry")
		}
		d.RevokedAt = T0
		if d.Active(T0) {
			t.Error("revoked delegation is active")
		}
		a := newAccountDelegation("d2", "a", "p")
		if a.Active(T0) {
			t.Error("an account delegation not accepted is active")
		}
	}},
}
