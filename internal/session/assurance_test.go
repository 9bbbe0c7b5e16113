package session_test

import (
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store"
)

// A step-up (Partial) refreshes AuthTime but not FullAuthTime, so it
// never makes the session recent for a sensitive change; a full
// re-authentication refreshes both, and what an upstream proved is
// dropped unless the re-authentication came through an upstream again.
func TestRotatePartialAndVia(t *testing.T) {
	e := newEnv(t)
	via := store.Via{Upstream: "idporten", ACR: "idporten-loa-high", AMR: []string{"BankID"}}
	_, s, err := e.m.Create(t.Context(), e.acct, session.Auth{AMR: []string{"fed"}, Level: 1, Methods: []string{"upstream"}, Via: via}, session.Client{})
	if err != nil {
		t.Fatal(err)
	}
	start := e.clock.Now()

	e.clock.Advance(time.Minute)
	_, got, err := e.m.Rotate(t.Context(), s.ID, &session.Auth{AMR: []string{"fed", "otp", "mfa"}, Level: 3, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if !got.AuthTime.Equal(e.clock.Now()) || !got.FullAuthTime.Equal(start) {
		t.Errorf("partial Rotate: auth time %v, full auth time %v; want %v and %v", got.AuthTime, got.FullAuthTime, e.clock.Now(), start)
	}
	if got.Via.Upstream != "idporten" || got.Via.ACR != via.ACR {
		t.Errorf("partial Rotate changed via to %+v", got.Via)
	}

	e.clock.Advance(time.Minute)
	_, got, err = e.m.Rotate(t.Context(), s.ID, &session.Auth{AMR: []string{"pwd", "otp", "mfa"}, Level: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !got.FullAuthTime.Equal(e.clock.Now()) {
		t.Errorf("full Rotate: full auth time %v, want %v", got.FullAuthTime, e.clock.Now())
	}
	if got.Via.Upstream != "idporten" || got.Via.ACR != "" || got.Via.AMR != nil {
		t.Errorf("full local Rotate: via %+v, want the upstream kept and its acr and amr dropped", got.Via)
	}

	e.clock.Advance(time.Minute)
	again := store.Via{Upstream: "idporten", ACR: "idporten-loa-substantial"}
	_, got, err = e.m.Rotate(t.Context(), s.ID, &session.Auth{AMR: []string{"fed"}, Level: 1, Via: again})
	if err != nil {
		t.Fatal(err)
	}
	if got.Via.ACR != again.ACR {
		t.Errorf("full Rotate through the upstream: via %+v, want %+v", got.Via, again)
	}
}
