package account_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/account"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

type sentMail struct{ to, template, event string }

type mailbox struct{ sent []sentMail }

func (m *mailbox) Send(_ context.Context, to, _, template string, data map[string]any) error {
	m.sent = append(m.sent, sentMail{to, template, data["event"].(string)})
	return nil
}

func newDelegations(t *testing.T, cfg account.DelegationConfig) (*account.Delegations, *sqlstore.DB, *mailbox) {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(t.Context(), "sqlite", filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	sealer, _ := secret.NewSealer(key)
	mb := &mailbox{}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	return &account.Delegations{Store: db, Mailer: mb, Sealer: sealer, Key: []byte("lookup-key"), Config: cfg,
		PublicURL: "https://id.example.no", Now: func() time.Time { return now }}, db, mb
}

func mkAccount(t *testing.T, db *sqlstore.DB, id, email string) store.Account {
	t.Helper()
	now := time.Now()
	a := store.Account{ID: id, Name: "Name " + id, CreatedAt: now, UpdatedAt: now}
	if err := db.Register(t.Context(), a, []store.Email{{Address: email, AccountID: id, Primary: true, VerifiedAt: now, CreatedAt: now}}, nil); err != nil {
		t.Fatal(err)
	}
	return a
}

func keys(err error) []string {
	p, ok := problem.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, d := range p.Details {
		out = append(out, d.Field+":"+d.Key)
	}
	return out
}

// A child recorded by both parents is the same principal (a keyed hash
// of the number), the number is sealed and never stored in clear, every
// mistake on the form is named at once, and a second record by the same
// parent is refused.
func TestAddPerson(t *testing.T) {
	s, db, mb := newDelegations(t, account.DelegationConfig{Rights: []string{"udi:apply"}, MaxDuration: 365 * 24 * time.Hour})
	mor := mkAccount(t, db, "mor", "mor@example.no")
	far := mkAccount(t, db, "far", "far@example.no")

	_, err := s.AddPerson(t.Context(), mor, account.DelegationRequest{Name: "", NationalID: "1503185", Rights: []string{"x"}, Expires: "2020-01-01"})
	if got := strings.Join(keys(err), " "); got != "name:represent.name_required national_id:nationalid.no.length rights:represent.right_unknown expires:represent.expires_past" {
		t.Errorf("every mistake at once: %q", got)
	}
	_, err = s.AddPerson(t.Context(), mor, account.DelegationRequest{Name: "Ola", BirthDate: "2019-03-14", Expires: "2029-01-01"})
	if got := strings.Join(keys(err), " "); got != "expires:represent.expires_too_late" {
		t.Errorf("an end beyond max_days: %q", got)
	}

	const nid = "15031850026"
	if _, err := account.ParseNationalID("x", account.NationalIDNorway, nid); err != nil {
		t.Fatalf("test number %s is not valid: %v", nid, err)
	}
	d1, err := s.AddPerson(t.Context(), mor, account.DelegationRequest{Name: "Ola Nordmann", NationalID: nid, Rights: []string{"udi:apply"}})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.AddPerson(t.Context(), far, account.DelegationRequest{Name: "Ola Nordmann", NationalID: "150318 50026"})
	if err != nil {
		t.Fatal(err)
	}
	if d1.PrincipalRef != d2.PrincipalRef || !strings.HasPrefix(d1.PrincipalRef, "nid:") || strings.Contains(d1.PrincipalRef, nid) {
		t.Errorf("refs %q and %q: want the same keyed hash, without the number", d1.PrincipalRef, d2.PrincipalRef)
	}
	if d1.PrincipalMasked != "150318 •••••" || strings.Contains(string(d1.PrincipalSealed), nid) {
		t.Errorf("masked %q sealed %q", d1.PrincipalMasked, d1.PrincipalSealed)
	}
	if got := s.NationalID(d1); got != nid {
		t.Errorf("NationalID = %q, want the number back", got)
	}
	// The sealed number is bound to its delegation.
	swapped := d2
	swapped.PrincipalSealed = d1.PrincipalSealed
	if got := s.NationalID(swapped); got != "" {
		t.Errorf("a sealed number moved to another delegation opens to %q", got)
	}
	if _, err := s.AddPerson(t.Context(), mor, account.DelegationRequest{Name: "Ola N.", NationalID: nid}); strings.Join(keys(err), " ") != "national_id:represent.exists" {
		t.Errorf("the same child twice: %v", err)
	}
	if len(mb.sent) != 2 || mb.sent[0].event != "mail.representation.agent.added" {
		t.Errorf("mails %+v, want one to each parent", mb.sent)
	}
	if !d1.Active(time.Now()) || !d1.ExpiresAt.Equal(time.Date(2027, 11, 21, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("no end given with max_days: ExpiresAt %v, want a year on", d1.ExpiresAt)
	}
}

// A request addressed to one account is answered only by it; the agent's
// and a stranger's answers find nothing; a revoked one stays revoked.
func TestAnswerAndRevoke(t *testing.T) {
	s, db, _ := newDelegations(t, account.DelegationConfig{})
	per := mkAccount(t, db, "per", "per@example.no")
	kari := mkAccount(t, db, "kari", "kari@example.no")
	eve := mkAccount(t, db, "eve", "eve@example.no")
	if d, err := s.RequestAccount(t.Context(), per, account.DelegationRequest{Account: "PER@example.no"}); err == nil || d != nil {
		t.Errorf("asking for oneself: %v %v, want represent.self", d, err)
	}
	d, err := s.RequestAccount(t.Context(), per, account.DelegationRequest{Account: "kari@example.no"})
	if err != nil || d == nil {
		t.Fatalf("RequestAccount: %v %v", d, err)
	}
	for _, who := range []store.Account{per, eve} {
		if _, err := s.Accept(t.Context(), who, d.ID); strings.Join(keys(err), " ") != ":represent.gone" {
			t.Errorf("%s accepts Kari's request: %v", who.ID, err)
		}
	}
	if list, _ := s.Offerable(t.Context(), per.ID); len(list) != 0 {
		t.Errorf("a request not accepted is offered: %v", list)
	}
	if _, err := s.Accept(t.Context(), kari, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveFor(t.Context(), per.ID, d.ID); err != nil {
		t.Errorf("ActiveFor after acceptance: %v", err)
	}
	if _, err := s.ActiveFor(t.Context(), eve.ID, d.ID); err == nil {
		t.Errorf("Eve may act under Per's delegation")
	}
	if _, err := s.Revoke(t.Context(), eve, d.ID); err == nil {
		t.Errorf("Eve revoked a delegation between others")
	}
	if _, err := s.Revoke(t.Context(), kari, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveFor(t.Context(), per.ID, d.ID); err == nil {
		t.Errorf("ActiveFor after Kari took it back: nil, want gone")
	}
	if _, err := s.Revoke(t.Context(), per, d.ID); err == nil {
		t.Errorf("revoking twice succeeded")
	}
}
