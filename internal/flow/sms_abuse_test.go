package flow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/secret"
)

// TestOneAccountCannotStopSMSForOthers replays issue 10, finding 6: one
// self-registered account stopped SMS for every user with 520 requests,
// because refused sends counted against the global breaker; every country
// was allowed; there was no budget per number prefix.
func TestOneAccountCannotStopSMSForOthers(t *testing.T) {
	e := newEnv(t)
	ph := withMFA(t, e, flow.MFAOptional, 0)
	e.svc.SMSLimits = flow.SMSLimits{PerNumber: 5, PerAccount: 100, PerIP: 100, Global: 30, DefaultRegion: "NO"}
	e.svc.MFA.ReauthAfter = 3 * time.Hour
	var whos []flow.Who
	for i := range 5 {
		r := signUp(t, e, fmt.Sprintf("sms%d@example.no", i))
		whos = append(whos, flow.Who{Account: r.Account, Session: r.Session})
	}
	sent := func() int {
		n := 0
		for _, texts := range ph.sent {
			n += len(texts)
		}
		return n
	}

	// One account asks for its number 100 times: 5 go, 95 are refused
	// and spend nothing of the global budget.
	refused := 0
	for range 100 {
		if _, err := e.svc.StartAddPhone(t.Context(), browserA, whos[0], "+47 912 34 567"); err != nil {
			wantProblem(t, err, "sms.limit_number")
			refused++
		}
	}
	if sent() != 5 || refused != 95 {
		t.Fatalf("one account, 100 requests: %d texts sent, %d refused; want 5 and 95", sent(), refused)
	}
	// Others are still served.
	if _, err := e.svc.StartAddPhone(t.Context(), browserB, whos[1], "+47 923 45 678"); err != nil {
		t.Errorf("another user's SMS after the flood: %v", err)
	}

	// Only the region's country by default: a Swedish number is refused
	// before anything is sent.
	before := sent()
	_, err := e.svc.StartAddPhone(t.Context(), browserB, whos[1], "+46 70 123 45 67")
	wantProblem(t, err, "sms.country_not_allowed")
	if sent() != before {
		t.Error("a refused country was texted")
	}

	// Adjacent numbers share a budget: 24 numbers +47 955 5xx xx that
	// differ only in their last four digits, from three accounts and 24
	// addresses, get 20 texts.
	before = sent()
	for i := range 24 {
		c := flow.Client{Browser: secret.Hash(fmt.Sprintf("pump %d", i)), IP: fmt.Sprintf("203.0.113.%d", i), Lang: "nb"}
		e.svc.StartAddPhone(t.Context(), c, whos[2+i%3], fmt.Sprintf("+47955%05d", 50000+i))
	}
	if n := sent() - before; n != 20 {
		t.Errorf("24 adjacent numbers got %d texts, want 20 (the prefix budget)", n)
	}
}
