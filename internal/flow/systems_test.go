package flow_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	acct "github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
)

// Signing a person in through an end-user system (issue 14), as an
// attacker would try it: guessing a system's secret, using a valid system
// credential as a password oracle, telling known national IDs from
// unknown ones, and codes.

const (
	sysFnr   = "01017012343"
	sysOther = "15038512363"
	sysPW    = "Hemmeligordetmitt42"
)

type sysEnv struct {
	*env
	x     *flow.Systems
	phone *phone
	kari  store.Account
	sys   store.System
	sec   string
}

func newSysEnv(t *testing.T) *sysEnv {
	t.Helper()
	e := newEnv(t)
	p := withMFA(t, e, "optional", 0)
	e.svc.Config.NationalID = acct.NationalIDNorway
	e.svc.SMSLimits = flow.SMSLimits{PerNumber: 100, PerAccount: 100, PerIP: 100, Global: 1000}
	x := &flow.Systems{S: e.svc, Store: e.db, Config: flow.SystemsConfig{
		Rights:   []flow.RightDef{{Name: "altinn:submit", Description: "Submit"}, {Name: "altinn:download", Description: "Download"}},
		Personal: []string{"altinn:submit", "altinn:download"},
	}}
	kari, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: sysFnr, Password: sysPW, Phone: "912 34 567"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateAccount(t.Context(), flow.NewAccount{Username: sysOther, Password: sysPW, Phone: "913 45 678"}); err != nil {
		t.Fatal(err)
	}
	sec := secret.Token()
	sys := store.System{ID: "sys-testtesttesttest", OwnerAccount: kari.ID, Name: "Maestro", SecretHash: secret.Hash(sec),
		Rights: []string{"altinn:submit"}, CreatedAt: e.clock.Now(), RotatedAt: e.clock.Now()}
	if err := e.db.CreateSystem(t.Context(), sys); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetSystemLoginAllowed(t.Context(), kari.ID, true, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return &sysEnv{env: e, x: x, phone: p, kari: kari, sys: sys, sec: sec}
}

func (e *sysEnv) smsCount() int {
	e.phone.mu.Lock()
	defer e.phone.mu.Unlock()
	n := 0
	for _, texts := range e.phone.sent {
		n += len(texts)
	}
	return n
}

// unknownFnr returns valid fødselsnumre that name no account.
func unknownFnr(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for i := 0; len(out) < n && i < 100000; i++ {
		c := fmt.Sprintf("0202805%04d", i)
		if _, err := acct.ParseNationalID("username", acct.NationalIDNorway, c); err == nil {
			out = append(out, c)
		}
	}
	if len(out) < n {
		t.Fatal("not enough valid numbers")
	}
	return out
}

// Guessing a system's secret: after the identifier budget (10) every try
// waits, the right secret too, from any address.
func TestSystemSecretGuessingIsThrottled(t *testing.T) {
	e := newSysEnv(t)
	for i := range 10 {
		_, err := e.x.AuthenticateSystem(t.Context(), from(fmt.Sprintf("198.51.%d.1", i)), flow.SystemCredentials{ID: e.sys.ID, Secret: "guess"})
		if problemKey(err) != "system.credentials_invalid" {
			t.Fatalf("wrong secret %d = %v", i, err)
		}
	}
	_, err := e.x.AuthenticateSystem(t.Context(), from("203.0.113.9"), flow.SystemCredentials{ID: e.sys.ID, Secret: e.sec})
	if problemKey(err) != "login.throttled" {
		t.Errorf("the right secret after 10 wrong ones = %v, want login.throttled", err)
	}
	// An unknown system ID is answered like a wrong secret.
	_, err = e.x.AuthenticateSystem(t.Context(), from("203.0.113.10"), flow.SystemCredentials{ID: "sys-doesnotexist0000", Secret: "x"})
	if problemKey(err) != "system.credentials_invalid" {
		t.Errorf("unknown system = %v", err)
	}
	// Later the right one works again.
	e.clock.Advance(time.Hour)
	if _, err := e.x.AuthenticateSystem(t.Context(), from("203.0.113.9"), flow.SystemCredentials{ID: e.sys.ID, Secret: e.sec}); err != nil {
		t.Errorf("the right secret an hour later = %v", err)
	}
}

// A valid system credential is no password oracle: wrong passwords of
// different people, from different networks, count on the system, and
// after its budget (20) every try through it waits, Kari's right password
// too; no SMS goes to anyone.
func TestSystemIsNoPasswordOracle(t *testing.T) {
	e := newSysEnv(t)
	people := unknownFnr(t, 19)
	people = append(people, sysOther)
	for i, fnr := range people {
		_, err := e.x.StartSystemLogin(t.Context(), from(fmt.Sprintf("10.%d.0.1", i)), e.sys, fnr, "Sommer2024")
		if problemKey(err) != "person.credentials_invalid" {
			t.Fatalf("try %d (%s) = %v", i, fnr, err)
		}
	}
	_, err := e.x.StartSystemLogin(t.Context(), from("10.200.0.1"), e.sys, sysFnr, sysPW)
	if problemKey(err) != "login.throttled" {
		t.Errorf("Kari's right password through the system after 20 wrong ones = %v, want login.throttled", err)
	}
	if n := e.smsCount(); n != 0 {
		t.Errorf("%d SMS were sent", n)
	}
}

// An unknown national ID and a known one with a wrong password get the
// same answer for the same work (one hash each; the unknown one's a
// dummy), and no SMS.
func TestSystemLoginDoesNotTellWhoExists(t *testing.T) {
	e := newSysEnv(t)
	h := e.svc.Hasher
	cost := func(user string) (string, int64, int64) {
		before := h.Stats()
		_, err := e.x.StartSystemLogin(t.Context(), from("192.0.2.50"), e.sys, user, "Feilpassord1234")
		after := h.Stats()
		return problemKey(err), after.Verifications - before.Verifications, after.Dummies - before.Dummies
	}
	k1, v1, d1 := cost(unknownFnr(t, 1)[0])
	k2, v2, d2 := cost(sysFnr)
	k3, v3, d3 := cost("12345") // not a national ID at all
	if k1 != "person.credentials_invalid" || k2 != k1 || k3 != k1 {
		t.Errorf("answers: unknown %s, known %s, malformed %s; want person.credentials_invalid for each", k1, k2, k3)
	}
	if v1 != 1 || d1 != 1 || v2 != 1 || d2 != 0 || v3 != 1 || d3 != 1 {
		t.Errorf("hashes: unknown %d (%d dummy), known %d (%d dummy), malformed %d (%d dummy); want 1 each", v1, d1, v2, d2, v3, d3)
	}
	if n := e.smsCount(); n != 0 {
		t.Errorf("%d SMS were sent", n)
	}
}

// After the right password each refusal has its key, and only a person
// who allows it, may use the system, holds a right of it and has a phone
// gets a code.
func TestSystemLoginRefusals(t *testing.T) {
	e := newSysEnv(t)
	ctx := t.Context()
	// Ola's right password through Kari's system: he has not allowed it.
	if _, err := e.x.StartSystemLogin(ctx, browserA, e.sys, sysOther, sysPW); problemKey(err) != "person.not_allowed" {
		t.Errorf("Ola, not allowed = %v", err)
	}
	ola, _ := e.db.GetAccountByUsername(ctx, sysOther)
	e.db.SetSystemLoginAllowed(ctx, ola.ID, true, e.clock.Now())
	if _, err := e.x.StartSystemLogin(ctx, browserA, e.sys, sysOther, sysPW); problemKey(err) != "system.not_yours" {
		t.Errorf("Ola through Kari's system = %v", err)
	}
	// Kari without the system's right.
	e.x.Config.Personal = []string{"altinn:download"}
	if _, err := e.x.StartSystemLogin(ctx, browserA, e.sys, sysFnr, sysPW); problemKey(err) != "rights.missing" {
		t.Errorf("Kari without altinn:submit = %v", err)
	}
	e.x.Config.Personal = []string{"altinn:submit", "altinn:download"}
	// Kari without a phone.
	fs, _ := e.db.ListFactors(ctx, e.kari.ID)
	for _, f := range fs {
		e.db.DeleteFactor(ctx, f.ID)
	}
	if _, err := e.x.StartSystemLogin(ctx, browserA, e.sys, sysFnr, sysPW); problemKey(err) != "person.no_phone" {
		t.Errorf("Kari without a phone = %v", err)
	}
	if n := e.smsCount(); n != 0 {
		t.Errorf("%d SMS were sent before any sign-in could succeed", n)
	}
	// A revoked system is inactive even with the right secret.
	e.db.RevokeSystem(ctx, e.sys.ID, e.clock.Now())
	if _, err := e.x.AuthenticateSystem(ctx, browserA, flow.SystemCredentials{ID: e.sys.ID, Secret: e.sec}); problemKey(err) != "system.inactive" {
		t.Errorf("revoked system = %v", err)
	}
}

// The code: five wrong ones end the handle; a handle works only for the
// system that started it; the right code once, with the rights granted.
func TestSystemLoginCode(t *testing.T) {
	e := newSysEnv(t)
	ctx := t.Context()
	start, err := e.x.StartSystemLogin(ctx, browserA, e.sys, sysFnr, sysPW)
	if err != nil {
		t.Fatal(err)
	}
	if start.Phone != "+47 ••• •• 567" || strings.Contains(start.Handle, start.Phone) {
		t.Errorf("started = %+v", start)
	}
	code := e.phone.lastCode(t, "+4791234567")
	other := store.System{ID: "sys-otherotherother0", OwnerAccount: e.kari.ID, Name: "Other", SecretHash: secret.Hash("s"), Rights: []string{"altinn:submit"}, CreatedAt: e.clock.Now()}
	e.db.CreateSystem(ctx, other)
	if _, err := e.x.FinishSystemLogin(ctx, browserA, other, start.Handle, code); problemKey(err) != "code.expired" {
		t.Errorf("the handle through another system = %v", err)
	}
	done, err := e.x.FinishSystemLogin(ctx, browserA, e.sys, start.Handle, code)
	if err != nil || done.AccountID != e.kari.ID || strings.Join(done.Rights, " ") != "altinn:submit" {
		t.Fatalf("finish = %+v, %v", done, err)
	}
	if _, err := e.x.FinishSystemLogin(ctx, browserA, e.sys, start.Handle, code); problemKey(err) != "code.expired" {
		t.Errorf("the code again = %v", err)
	}

	e.clock.Advance(2 * time.Minute)
	start, err = e.x.StartSystemLogin(ctx, browserA, e.sys, sysFnr, sysPW)
	if err != nil {
		t.Fatal(err)
	}
	code = e.phone.lastCode(t, "+4791234567")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	var keys []string
	for range 6 {
		_, err := e.x.FinishSystemLogin(ctx, browserA, e.sys, start.Handle, wrong)
		keys = append(keys, problemKey(err))
	}
	if _, err := e.x.FinishSystemLogin(ctx, browserA, e.sys, start.Handle, code); err == nil {
		t.Errorf("the right code after 6 wrong ones worked; answers were %v", keys)
	}
	if keys[0] != "code.invalid" || keys[5] != "code.too_many" {
		t.Errorf("wrong codes answered %v", keys)
	}
	// The handle dies with its lifetime.
	e.clock.Advance(2 * time.Minute)
	start, _ = e.x.StartSystemLogin(ctx, browserA, e.sys, sysFnr, sysPW)
	code = e.phone.lastCode(t, "+4791234567")
	e.clock.Advance(6 * time.Minute)
	if _, err := e.x.FinishSystemLogin(ctx, browserA, e.sys, start.Handle, code); problemKey(err) != "code.expired" {
		t.Errorf("after the handle's lifetime = %v", err)
	}
}

// An organisation's system signs in its members with the rights they
// hold for it (an administrator holds all), and nobody else.
func TestOrgSystemSignsInMembersWithTheirRights(t *testing.T) {
	e := newSysEnv(t)
	ctx := t.Context()
	if _, err := e.x.CreateOrg(ctx, "912 345 678", "Fjordkraft Regnskap AS"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.x.PutMember(ctx, "912345678", sysFnr, store.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	orgSys := store.System{ID: "sys-orgorgorgorgorg00", OwnerAccount: e.kari.ID, OrgID: "912345678", Name: "Org", SecretHash: secret.Hash("s"),
		Rights: []string{"altinn:submit", "altinn:download"}, CreatedAt: e.clock.Now()}
	if err := e.db.CreateSystem(ctx, orgSys); err != nil {
		t.Fatal(err)
	}
	ola, _ := e.db.GetAccountByUsername(ctx, sysOther)
	e.db.SetSystemLoginAllowed(ctx, ola.ID, true, e.clock.Now())
	// Ola is no member: the system is not his to use.
	if _, err := e.x.StartSystemLogin(ctx, browserA, orgSys, sysOther, sysPW); problemKey(err) != "system.not_yours" {
		t.Errorf("a non-member = %v", err)
	}
	// A member without rights: rights.missing.
	if _, err := e.x.PutMember(ctx, "912345678", ola.ID, store.RoleMember, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.x.StartSystemLogin(ctx, browserA, orgSys, sysOther, sysPW); problemKey(err) != "rights.missing" {
		t.Errorf("a member without rights = %v", err)
	}
	// With one right, the token carries that one.
	if _, err := e.x.PutMember(ctx, "912345678", sysOther, store.RoleMember, []string{"altinn:download"}); err != nil {
		t.Fatal(err)
	}
	start, err := e.x.StartSystemLogin(ctx, browserA, orgSys, sysOther, sysPW)
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.x.FinishSystemLogin(ctx, browserA, orgSys, start.Handle, e.phone.lastCode(t, "+4791345678"))
	if err != nil || strings.Join(done.Rights, " ") != "altinn:download" {
		t.Errorf("member's sign-in = %+v, %v; want altinn:download only", done.Rights, err)
	}
	// The administrator holds every right for the organisation.
	e.clock.Advance(2 * time.Minute)
	start, err = e.x.StartSystemLogin(ctx, browserA, orgSys, sysFnr, sysPW)
	if err != nil {
		t.Fatal(err)
	}
	done, err = e.x.FinishSystemLogin(ctx, browserA, orgSys, start.Handle, e.phone.lastCode(t, "+4791234567"))
	if err != nil || strings.Join(done.Rights, " ") != "altinn:submit altinn:download" {
		t.Errorf("admin's sign-in = %+v, %v; want both rights", done.Rights, err)
	}
	// Rights that are not defined are refused for a membership.
	if _, err := e.x.PutMember(ctx, "912345678", sysOther, store.RoleMember, []string{"altinn:everything"}); problemKey(err) != "rights.unknown" {
		t.Errorf("an unknown right = %v", err)
	}
}
