package flow_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

// Faults are not read as answers (issue 11): a store error, a mail that
// cannot be queued or a flow that does not parse either fails the step or
// is logged, never taken for "nothing there".

// failingEmails is a store whose address list fails, as a database fault
// would.
type failingEmails struct{ flow.Store }

var errDBDown = errors.New("test: database down")

func (failingEmails) ListEmails(context.Context, string) ([]store.Email, error) {
	return nil, errDBDown
}

// logBuffer collects log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestAddressFaultFailsTheChange: when the account's addresses cannot be
// read, a password change, a primary address change and a TOTP
// enrolment fail with the fault instead of going ahead as if the account
// had no address.
func TestAddressFaultFailsTheChange(t *testing.T) {
	e := newEnv(t)
	withMFA(t, e, "optional", 0)
	res := signUp(t, e, "siri@example.no")
	who := flow.Who{Account: res.Account, Session: res.Session}
	e.svc.Store = failingEmails{e.db}
	if _, err := e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "a brand new long passphrase"); !errors.Is(err, errDBDown) {
		t.Errorf("ChangePassword with the addresses unreadable: err = %v, want the fault", err)
	}
	if err := e.svc.SetPrimaryEmail(t.Context(), browserA, who, "siri@example.no"); !errors.Is(err, errDBDown) {
		t.Errorf("SetPrimaryEmail with the addresses unreadable: err = %v, want the fault", err)
	}
	if _, err := e.svc.StartTOTP(t.Context(), who); !errors.Is(err, errDBDown) {
		t.Errorf("StartTOTP with the addresses unreadable: err = %v, want the fault", err)
	}
	e.svc.Store = e.db
	lf, _ := e.svc.StartLogin(t.Context(), browserB, "siri@example.no", false)
	if _, err := e.svc.LoginPassword(t.Context(), browserB, lf.ID, goodPassword); err != nil {
		t.Errorf("the password changed although the change failed: %v", err)
	}
}

// TestCorruptFlowIsRefused: a flow whose stored data does not parse is
// refused (flow.gone, logged), not read as zero values.
func TestCorruptFlowIsRefused(t *testing.T) {
	e := newEnv(t)
	logs := &logBuffer{}
	e.svc.Logger = slog.New(slog.NewTextHandler(logs, nil))
	signUp(t, e, "eva@example.no")
	f, err := e.svc.StartRecovery(t.Context(), browserB, "eva@example.no", flow.MethodCode)
	if err != nil {
		t.Fatal(err)
	}
	code := e.mail.last(t, "eva@example.no").Data["code"].(string)
	if _, err := e.db.UpdateFlow(t.Context(), f.ID, func(f store.Flow) (store.Flow, error) {
		f.Data = f.Data[:len(f.Data)/2]
		return f, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifyRecoveryCode(t.Context(), browserB, f.ID, code)
	wantProblem(t, err, "flow.gone")
	if !strings.Contains(logs.String(), "flow data does not parse") {
		t.Errorf("the corrupt flow was not logged: %s", logs.String())
	}
}

// failingMailer fails every mail of one template.
type failingMailer struct {
	*mailbox
	template string
}

func (m failingMailer) Send(ctx context.Context, to, lang, template string, data map[string]any) error {
	if template == m.template {
		return errors.New("test: outbox full")
	}
	return m.mailbox.Send(ctx, to, lang, template, data)
}

// TestWelcomeMailFailureIsLogged: the account exists whether or not its
// welcome mail could be queued, but a failure is logged, not dropped.
func TestWelcomeMailFailureIsLogged(t *testing.T) {
	e := newEnv(t)
	logs := &logBuffer{}
	e.svc.Logger = slog.New(slog.NewTextHandler(logs, nil))
	e.svc.Mailer = failingMailer{e.mail, "welcome"}
	res := signUp(t, e, "ola@example.no")
	if res.Account.ID == "" {
		t.Fatal("no account")
	}
	if got := logs.String(); !strings.Contains(got, "welcome mail not queued") || !strings.Contains(got, "outbox full") {
		t.Errorf("log = %q, want the failed welcome mail", got)
	}
}
