package flow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/flow"
)

// TestEmailedSecondFactorHasAMailBudget (issue 10, mail budgets): each
// sign-in may send its emailed code, but one address gets at most five
// such mails an hour, whatever the number of flows and client addresses;
// the sixth is refused as the budget, not sent; an hour later it goes.
func TestEmailedSecondFactorHasAMailBudget(t *testing.T) {
	e, _ := emailFactorEnv(t, 10*time.Minute)
	send := func(i int) error {
		c := from(fmt.Sprintf("198.51.100.%d", i))
		p, err := e.svc.LoginUsername(t.Context(), c, "10042", goodPassword)
		if err != nil || p.Pending == "" {
			t.Fatalf("LoginUsername = %+v, %v", p, err)
		}
		return e.svc.SendFactorCode(t.Context(), c, p.Pending, keyOf(t, e, c, p.Pending, authn.Email))
	}
	for i := range 5 {
		if err := send(i); err != nil {
			t.Fatalf("code mail %d: %v", i+1, err)
		}
	}
	wantProblem(t, send(5), "mail.budget")
	if n := countMails(e, "mariage@scb.se", "mfa_email"); n != 5 {
		t.Errorf("%d code mails sent, want 5", n)
	}
	e.clock.Advance(time.Hour + time.Minute)
	if err := send(6); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

// TestEnrolEmailHasAMailBudget: proving the registered address at the
// first sign-in (email_verify) is budgeted the same way.
func TestEnrolEmailHasAMailBudget(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, flow.MFARequired, 0)
	e.svc.MFA.Methods = []authn.Method{authn.TOTP, authn.Recovery}
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: "4711", Name: "Kari", Email: "owner@example.no", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	enrol := func(i int) error {
		c := from(fmt.Sprintf("198.51.100.%d", i))
		p, err := e.svc.LoginUsername(t.Context(), c, "4711", goodPassword)
		if err != nil || p.Pending == "" {
			t.Fatalf("LoginUsername = %+v, %v", p, err)
		}
		return e.svc.EnrolEmail(t.Context(), c, p.Pending, "")
	}
	for i := range 5 {
		if err := enrol(i); err != nil {
			t.Fatalf("email_verify %d: %v", i+1, err)
		}
	}
	wantProblem(t, enrol(5), "mail.budget")
	if n := countMails(e, "owner@example.no", "email_verify"); n != 5 {
		t.Errorf("%d email_verify mails sent, want 5", n)
	}
}
