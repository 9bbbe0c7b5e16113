package flow_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/clocktest"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/secret"
	"github.com/portvakt/portvakt/internal/session"
	"github.com/portvakt/portvakt/internal/store/sqlstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mail is one message the flows asked to send.
type mail struct {
	To, Lang, Template string
	Data               map[string]any
}

// mailbox records mails (a hand-written fake: the real mailer is tested in
// package notify; here we need the codes and links it was given).
type mailbox struct {
	mu   sync.Mutex
	sent []mail
}

func (m *mailbox) Send(_ context.Context, to, lang, template string, data map[string]any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := map[string]any{}
	for k, v := range data {
		cp[k] = v
	}
	m.sent = append(m.sent, mail{to, lang, template, cp})
	return nil
}

func (m *mailbox) last(t *testing.T, to string) mail {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.sent) - 1; i >= 0; i-- {
		if m.sent[i].To == to {
			return m.sent[i]
		}
	}
	t.Fatalf("no mail to %s", to)
	return mail{}
}

type clock = clocktest.Clock

type env struct {
	svc   *flow.Service
	db    *sqlstore.DB
	mail  *mailbox
	clock *clock
}

// fastHasher keeps unit tests quick; the parameters are not what
// production uses (see the benchmark for those).
func fastHasher(t testing.TB) *password.Hasher {
	h, err := password.NewHasher(password.Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newEnvWith(t testing.TB, driver, dsn string, h *password.Hasher) *env {
	t.Helper()
	db, err := sqlstore.OpenAndMigrate(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, db, h)
}

// newEnvOn is newEnvWith on a database already opened and migrated; it
// closes db at the end of the test.
func newEnvOn(t testing.TB, db *sqlstore.DB, h *password.Hasher) *env {
	t.Helper()
	t.Cleanup(func() { db.Close() })
	c := clocktest.New(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	policy, err := password.Preset("nist")
	if err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{}
	svc := &flow.Service{
		Store:       db,
		Sessions:    &session.Manager{Store: db, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, Now: c.Now},
		Mailer:      mb,
		Policy:      policy,
		Hasher:      h,
		Config:      flow.Config{MagicLinks: true},
		ServiceName: "Portvakt",
		PublicURL:   "https://id.example.org",
		Now:         c.Now,
		Texts:       testCatalog(t),
	}
	return &env{svc: svc, db: db, mail: mb, clock: c}
}

func newEnv(t testing.TB) *env {
	return newEnvWith(t, "sqlite", filepath.Join(t.TempDir(), "flow.db"), fastHasher(t))
}

// dialects runs a test on SQLite and on PostgreSQL.
func dialects(t *testing.T, run func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { run(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) {
		run(t, newEnvWith(t, "postgres", pgtest.Shared(t).NewDatabase(t), fastHasher(t)))
	})
}

var browserA = flow.Client{Browser: secret.Hash("browser A"), IP: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", Lang: "nb"}
var browserB = flow.Client{Browser: secret.Hash("browser B"), IP: "192.0.2.2", Lang: "en"}

const goodPassword = "correct horse battery staple"

func wantProblem(t *testing.T, err error, key string) *problem.Problem {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error = %v, want a problem with key %s", err, key)
	}
	for _, d := range p.Details {
		if d.Key == key {
			return p
		}
	}
	t.Fatalf("problem = %v, want key %s", p, key)
	return nil
}

// signUp walks the sign-up and returns the result.
func signUp(t *testing.T, e *env, email string) flow.Result {
	t.Helper()
	f, err := e.svc.StartSignup(t.Context(), browserA, email)
	if err != nil {
		t.Fatal(err)
	}
	code := e.mail.last(t, email).Data["code"].(string)
	if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, code); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari Nordmann", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSignup(t *testing.T) {
	e := newEnv(t)
	f, err := e.svc.StartSignup(t.Context(), browserA, " Kari@Example.NO ")
	if err != nil {
		t.Fatal(err)
	}
	m := e.mail.last(t, "Kari@example.no")
	if m.Template != "signup_code" || m.Lang != "nb" || len(m.Data["code"].(string)) != 6 || m.Data["ip"] != "192.0.2.1" || m.Data["browser"] != "Firefox / Linux" {
		t.Errorf("sign-up mail = %+v", m)
	}
	// The code works only in the browser that asked for it.
	_, err = e.svc.VerifySignupCode(t.Context(), browserB, f.ID, m.Data["code"].(string))
	wantProblem(t, err, "flow.other_browser")
	// Completing before the code is refused.
	_, err = e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari", goodPassword)
	wantProblem(t, err, "signup.not_verified")
	if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, "12 34 5x6"); err == nil {
		t.Fatal("a wrong code was accepted")
	}
	code := m.Data["code"].(string)
	if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, code[:3]+" "+code[3:]); err != nil {
		t.Fatalf("the right code with a space: %v", err)
	}
	// Every mistake at once: no name, a short common password.
	_, err = e.svc.CompleteSignup(t.Context(), browserA, f.ID, " ", "password")
	p := wantProblem(t, err, "signup.name_required")
	wantProblem(t, p, "password.too_short")
	wantProblem(t, p, "password.blocklisted")

	res, err := e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari Nordmann", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if res.Token == "" || res.Account.Name != "Kari Nordmann" || res.Account.Locale != "nb" {
		t.Errorf("CompleteSignup = %+v", res)
	}
	emails, _ := e.db.ListEmails(t.Context(), res.Account.ID)
	if len(emails) != 1 || !emails[0].Primary || emails[0].Address != "Kari@example.no" {
		t.Errorf("emails = %+v", emails)
	}
	// The flow is used up.
	_, err = e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Kari Nordmann", goodPassword)
	wantProblem(t, err, "flow.gone")
}

func TestSignupWithARegisteredAddressRevealsNothing(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "ola@example.no")
	f, err := e.svc.StartSignup(t.Context(), browserB, "OLA@example.no")
	if err != nil {
		t.Fatalf("StartSignup(registered) = %v; want the same answer as for a new address", err)
	}
	m := e.mail.last(t, "OLA@example.no")
	if m.Template != "signup_existing" || m.Data["code"] != nil {
		t.Errorf("mail to a registered address = %+v; want signup_existing without a code", m)
	}
	for _, code := range []string{"000000", "123456"} {
		_, err = e.svc.VerifySignupCode(t.Context(), browserB, f.ID, code)
		wantProblem(t, err, "code.wrong")
	}
}

func TestCodeLimits(t *testing.T) {
	e := newEnv(t)
	f, err := e.svc.StartSignup(t.Context(), browserA, "per@example.no")
	if err != nil {
		t.Fatal(err)
	}
	first := e.mail.last(t, "per@example.no").Data["code"].(string)
	wrong := "000000"
	if first == wrong {
		wrong = "111111"
	}
	// A resend during the cool-down says how long to wait.
	err = e.svc.ResendSignupCode(t.Context(), browserA, f.ID)
	if p := wantProblem(t, err, "code.resend_wait"); p.Details[0].Args["count"] != 60 {
		t.Errorf("cool-down args = %v, want 60 seconds", p.Details[0].Args)
	}
	// Four wrong codes count down the tries …
	for i := 4; i >= 1; i-- {
		_, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, wrong)
		if p := wantProblem(t, err, "code.wrong"); p.Details[0].Args["count"] != i {
			t.Errorf("tries left = %v, want %d", p.Details[0].Args["count"], i)
		}
	}
	// … a resend makes a new code and the old one stop working, but does
	// not give more tries.
	e.clock.Advance(61 * time.Second)
	if err := e.svc.ResendSignupCode(t.Context(), browserA, f.ID); err != nil {
		t.Fatal(err)
	}
	second := e.mail.last(t, "per@example.no").Data["code"].(string)
	if second == first {
		t.Skip("the random codes collided; nothing to see") // one in a million
	}
	_, err = e.svc.VerifySignupCode(t.Context(), browserA, f.ID, first)
	wantProblem(t, err, "code.too_many")
	_, err = e.svc.VerifySignupCode(t.Context(), browserA, f.ID, second)
	wantProblem(t, err, "code.too_many")
}

func TestCodeExpires(t *testing.T) {
	e := newEnv(t)
	f, _ := e.svc.StartSignup(t.Context(), browserA, "liv@example.no")
	code := e.mail.last(t, "liv@example.no").Data["code"].(string)
	e.clock.Advance(10*time.Minute + time.Second)
	_, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, code)
	if p := wantProblem(t, err, "code.expired"); p.Details[0].Args["count"] != 10 {
		t.Errorf("expired args = %v", p.Details[0].Args)
	}
	if err := e.svc.ResendSignupCode(t.Context(), browserA, f.ID); err != nil {
		t.Fatal(err)
	}
	code = e.mail.last(t, "liv@example.no").Data["code"].(string)
	if _, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, code); err != nil {
		t.Errorf("a fresh code after expiry: %v", err)
	}
}

// Twenty parallel submissions of the right code, the same link, or the
// same sign-up completion: exactly one succeeds.
func TestOneTimeSecretsWorkExactlyOnce(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		parallel := func(n int, fn func() error) int {
			return parallelKeys(t, n, func(int) error { return fn() })[""]
		}

		// A sign-up code, then the completion.
		f, err := e.svc.StartSignup(t.Context(), browserA, "anna@example.no")
		if err != nil {
			t.Fatal(err)
		}
		code := e.mail.last(t, "anna@example.no").Data["code"].(string)
		var verified atomic.Int32
		n := parallel(20, func() error {
			g, err := e.svc.VerifySignupCode(t.Context(), browserA, f.ID, code)
			if err == nil && g.State == "verified" {
				verified.Add(1)
			}
			return err
		})
		if n < 1 {
			t.Fatalf("no parallel code submission succeeded")
		}
		n = parallel(20, func() error {
			_, err := e.svc.CompleteSignup(t.Context(), browserA, f.ID, "Anna", goodPassword)
			return err
		})
		if n != 1 {
			t.Errorf("%d of 20 parallel sign-up completions succeeded, want exactly 1", n)
		}
		acct, _ := e.db.GetEmail(t.Context(), "anna@example.no")

		// A recovery code: exactly one of twenty verifies it. (Verifying
		// clears the code, so the rest see a wrong code.)
		r, err := e.svc.StartRecovery(t.Context(), browserA, "anna@example.no", flow.MethodCode)
		if err != nil {
			t.Fatal(err)
		}
		rcode := e.mail.last(t, "anna@example.no").Data["code"].(string)
		if n := parallel(20, func() error {
			_, err := e.svc.VerifyRecoveryCode(t.Context(), browserA, r.ID, rcode)
			return err
		}); n != 1 {
			t.Errorf("%d of 20 parallel recovery-code submissions succeeded, want exactly 1", n)
		}

		// A magic link: exactly one of twenty signs in.
		if _, err := e.svc.StartRecovery(t.Context(), browserA, "anna@example.no", flow.MethodMagic); err != nil {
			t.Fatal(err)
		}
		link := e.mail.last(t, "anna@example.no").Data["link"].(string)
		token, _ := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
		before, _ := e.db.ListSessions(t.Context(), acct.AccountID)
		if n := parallel(20, func() error {
			_, _, err := e.svc.UseLink(t.Context(), browserA, token)
			return err
		}); n != 1 {
			t.Errorf("%d of 20 parallel magic-link uses succeeded, want exactly 1", n)
		}
		after, _ := e.db.ListSessions(t.Context(), acct.AccountID)
		if len(after) != len(before)+1 {
			t.Errorf("sessions went from %d to %d, want exactly one more", len(before), len(after))
		}
	})
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "kari@example.no")
	f, err := e.svc.StartLogin(t.Context(), browserA, "KARI@example.no", true)
	if err != nil {
		t.Fatal(err)
	}
	if !flow.Remembered(f) {
		t.Error("remember choice lost")
	}
	_, err = e.svc.LoginPassword(t.Context(), browserA, f.ID, "wrong horse battery staple")
	wantProblem(t, err, "login.wrong_credentials")
	res, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if res.Session.AMR[0] != "pwd" || res.Account.Name != "Kari Nordmann" {
		t.Errorf("LoginPassword = %+v", res)
	}
	// The flow is used up.
	_, err = e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
	wantProblem(t, err, "flow.gone")
}

func TestLoginThrottleTreatsUnknownAndKnownAlike(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "known@example.no")
	for _, addr := range []string{"known@example.no", "unknown@example.no"} {
		for i := range 11 {
			f, err := e.svc.StartLogin(t.Context(), browserA, addr, false)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.LoginPassword(t.Context(), browserA, f.ID, "not the password at all")
			want := "login.wrong_credentials"
			if i == 10 {
				want = "login.throttled"
			}
			wantProblem(t, err, want)
		}
	}
	// The right password is refused too while throttled, then works once
	// the window has passed.
	f, _ := e.svc.StartLogin(t.Context(), browserA, "known@example.no", false)
	_, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
	wantProblem(t, err, "login.throttled")
	e.clock.Advance(16 * time.Minute)
	f, _ = e.svc.StartLogin(t.Context(), browserA, "known@example.no", false)
	if _, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t)
	res := signUp(t, e, "old@example.no")
	// Stronger parameters from now on.
	strong, err := password.NewHasher(password.Argon2Params{Memory: 2048, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Hasher = strong
	f, _ := e.svc.StartLogin(t.Context(), browserA, "old@example.no", false)
	if _, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword); err != nil {
		t.Fatal(err)
	}
	pw, _ := e.db.GetPassword(t.Context(), res.Account.ID)
	if !strings.Contains(pw.Hash, "m=2048,t=2,p=1") {
		t.Errorf("hash after login = %s, want the new parameters", pw.Hash)
	}
}

func TestRecoveryByCodeEndsEverySession(t *testing.T) {
	e := newEnv(t)
	res := signUp(t, e, "eva@example.no")
	f, err := e.svc.StartRecovery(t.Context(), browserB, "eva@example.no", flow.MethodCode)
	if err != nil {
		t.Fatal(err)
	}
	m := e.mail.last(t, "eva@example.no")
	if m.Template != "recovery_code" || !strings.Contains(m.Data["cancel_url"].(string), "/recover/cancel?flow="+f.ID) {
		t.Errorf("recovery mail = %+v", m)
	}
	if _, err := e.svc.VerifyRecoveryCode(t.Context(), browserB, f.ID, m.Data["code"].(string)); err != nil {
		t.Fatal(err)
	}
	// The new password must differ from the old one.
	_, err = e.svc.CompleteRecovery(t.Context(), browserB, f.ID, "password")
	wantProblem(t, err, "password.blocklisted")
	out, err := e.svc.CompleteRecovery(t.Context(), browserB, f.ID, "a brand new long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Sessions.Load(t.Context(), res.Token); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("the session from before the reset still works: %v", err)
	}
	if _, err := e.svc.Sessions.Load(t.Context(), out.Token); err != nil {
		t.Errorf("the new session: %v", err)
	}
	if got := e.mail.last(t, "eva@example.no").Template; got != "password_changed" {
		t.Errorf("last mail = %s, want password_changed", got)
	}
	lf, _ := e.svc.StartLogin(t.Context(), browserA, "eva@example.no", false)
	_, err = e.svc.LoginPassword(t.Context(), browserA, lf.ID, goodPassword)
	wantProblem(t, err, "login.wrong_credentials")
}

func TestRecoveryForAnUnknownAddress(t *testing.T) {
	e := newEnv(t)
	for _, method := range []string{flow.MethodCode, flow.MethodLink, flow.MethodMagic} {
		f, err := e.svc.StartRecovery(t.Context(), browserA, "nobody@example.no", method)
		if err != nil {
			t.Fatalf("StartRecovery(unknown, %s) = %v", method, err)
		}
		if m := e.mail.last(t, "nobody@example.no"); m.Template != "recovery_unknown" {
			t.Errorf("mail for an unknown address = %s", m.Template)
		}
		if method == flow.MethodCode {
			_, err := e.svc.VerifyRecoveryCode(t.Context(), browserA, f.ID, "123456")
			wantProblem(t, err, "code.wrong")
		}
	}
}

func TestRecoveryLink(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "nils@example.no")
	if _, err := e.svc.StartRecovery(t.Context(), browserA, "nils@example.no", flow.MethodLink); err != nil {
		t.Fatal(err)
	}
	link := e.mail.last(t, "nils@example.no").Data["link"].(string)
	token, _ := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
	// Looking does not use it up, however often.
	for range 3 {
		if info, err := e.svc.InspectLink(t.Context(), flow.Client{}, token); err != nil || info.Method != flow.MethodLink {
			t.Fatalf("InspectLink = %+v, %v", info, err)
		}
	}
	// Opened in another browser, it changes nothing: that browser can only
	// show a code to type in the browser that asked.
	_, _, err := e.svc.UseLink(t.Context(), browserB, token)
	wantProblem(t, err, "link.other_browser")
	if info, err := e.svc.InspectLink(t.Context(), browserB, token); err != nil || info.SameBrowser {
		t.Fatalf("InspectLink from browser B = %+v, %v, want another browser", info, err)
	}
	// Used in the browser that asked, it verifies the flow.
	f, res, err := e.svc.UseLink(t.Context(), browserA, token)
	if err != nil || res != nil {
		t.Fatalf("UseLink = %v, %v", res, err)
	}
	_, _, err = e.svc.UseLink(t.Context(), browserA, token)
	wantProblem(t, err, "link.used")
	_, err = e.svc.CompleteRecovery(t.Context(), browserB, f.ID, "a brand new long passphrase")
	wantProblem(t, err, "flow.other_browser")
	if _, err := e.svc.CompleteRecovery(t.Context(), browserA, f.ID, "a brand new long passphrase"); err != nil {
		t.Fatal(err)
	}
	// An expired link says so.
	e.svc.StartRecovery(t.Context(), browserA, "nils@example.no", flow.MethodLink)
	link = e.mail.last(t, "nils@example.no").Data["link"].(string)
	token, _ = url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
	e.clock.Advance(31 * time.Minute)
	_, err = e.svc.InspectLink(t.Context(), flow.Client{}, token)
	wantProblem(t, err, "link.expired")
	_, err = e.svc.InspectLink(t.Context(), flow.Client{}, "garbage")
	wantProblem(t, err, "link.invalid")
}

func TestRecoveryCancel(t *testing.T) {
	e := newEnv(t)
	signUp(t, e, "tor@example.no")
	e.svc.StartRecovery(t.Context(), browserA, "tor@example.no", flow.MethodLink)
	m := e.mail.last(t, "tor@example.no")
	u, _ := url.Parse(m.Data["cancel_url"].(string))
	if err := e.svc.CancelRecovery(t.Context(), u.Query().Get("flow"), "wrong"); err == nil {
		t.Error("a wrong cancel token was accepted")
	}
	if err := e.svc.CancelRecovery(t.Context(), u.Query().Get("flow"), u.Query().Get("token")); err != nil {
		t.Fatal(err)
	}
	link := m.Data["link"].(string)
	token, _ := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
	_, _, err := e.svc.UseLink(t.Context(), browserA, token)
	wantProblem(t, err, "link.cancelled")
}

func TestChangePasswordAndEmails(t *testing.T) {
	e := newEnv(t)
	res := signUp(t, e, "siri@example.no")
	other := signInAgain(t, e, "siri@example.no")
	who := flow.Who{Account: res.Account, Session: res.Session}

	_, err := e.svc.ChangePassword(t.Context(), browserA, who, "wrong", "a brand new long passphrase")
	wantProblem(t, err, "settings.current_password_wrong")
	_, err = e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "siri kari nordmann siri")
	wantProblem(t, err, "password.contains_context")
	token, err := e.svc.ChangePassword(t.Context(), browserA, who, goodPassword, "a brand new long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Sessions.Load(t.Context(), other); !errors.Is(err, session.ErrNoSession) {
		t.Error("the other session survived the password change")
	}
	if _, err := e.svc.Sessions.Load(t.Context(), res.Token); !errors.Is(err, session.ErrNoSession) {
		t.Error("this session's old token survived the rotation")
	}
	if _, err := e.svc.Sessions.Load(t.Context(), token); err != nil {
		t.Errorf("the rotated token: %v", err)
	}
	if got := e.mail.last(t, "siri@example.no").Template; got != "password_changed" {
		t.Errorf("mail = %s, want password_changed", got)
	}

	// A second address, made primary; the old one is told.
	f, err := e.svc.StartAddEmail(t.Context(), browserA, who, "siri@work.example", "a brand new long passphrase", true)
	if err != nil {
		t.Fatal(err)
	}
	code := e.mail.last(t, "siri@work.example").Data["code"].(string)
	if _, err := e.svc.VerifyAddEmail(t.Context(), browserA, who, f.ID, code); err != nil {
		t.Fatal(err)
	}
	emails, _ := e.svc.Emails(t.Context(), res.Account.ID)
	if len(emails) != 2 || emails[0].Address != "siri@work.example" || !emails[0].Primary {
		t.Errorf("emails = %+v", emails)
	}
	if m := e.mail.last(t, "siri@example.no"); m.Template != "email_primary_changed" || m.Data["new_email"] != "siri@work.example" {
		t.Errorf("old address told %+v", m)
	}
	err = e.svc.RemoveEmail(t.Context(), browserA, who, "siri@work.example", "a brand new long passphrase")
	wantProblem(t, err, "email.remove_primary")
	if err := e.svc.RemoveEmail(t.Context(), browserA, who, "siri@example.no", "a brand new long passphrase"); err != nil {
		t.Fatal(err)
	}
	if m := e.mail.last(t, "siri@example.no"); m.Template != "email_removed" {
		t.Errorf("removed address told %s", m.Template)
	}

	// Another account's address cannot be taken.
	signUp(t, e, "taken@example.no")
	f, err = e.svc.StartAddEmail(t.Context(), browserA, who, "taken@example.no", "a brand new long passphrase", false)
	if err != nil {
		t.Fatal(err)
	}
	code = e.mail.last(t, "taken@example.no").Data["code"].(string)
	_, err = e.svc.VerifyAddEmail(t.Context(), browserA, who, f.ID, code)
	wantProblem(t, err, "email.taken")
}

func signInAgain(t *testing.T, e *env, email string) string {
	t.Helper()
	f, err := e.svc.StartLogin(t.Context(), browserB, email, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.LoginPassword(t.Context(), browserB, f.ID, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	return res.Token
}

// Parallel wrong passwords cannot run past the limit while they wait for
// the hasher: of twenty at once, ten are checked and ten wait; then the
// right password waits too.
func TestParallelPasswordGuessesAreCapped(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		signUp(t, e, "parallel@example.no")
		var flows []string
		for range 20 {
			f, err := e.svc.StartLogin(t.Context(), browserA, "parallel@example.no", false)
			if err != nil {
				t.Fatal(err)
			}
			flows = append(flows, f.ID)
		}
		got := parallelKeys(t, len(flows), func(i int) error {
			_, err := e.svc.LoginPassword(t.Context(), browserA, flows[i], "not the password at all")
			return err
		})
		if got["login.wrong_credentials"] != 10 || got["login.throttled"] != 10 {
			t.Errorf("outcomes by problem key: %v; want 10 login.wrong_credentials and 10 login.throttled", got)
		}
		f, _ := e.svc.StartLogin(t.Context(), browserA, "parallel@example.no", false)
		_, err := e.svc.LoginPassword(t.Context(), browserA, f.ID, goodPassword)
		wantProblem(t, err, "login.throttled")
	})
}

// parallelKeys runs fn(0) … fn(n-1) in goroutines that start together and
// counts their outcomes by problem key, "" for success. An error that is
// not a problem fails the test.
func parallelKeys(t *testing.T, n int, fn func(i int) error) map[string]int {
	t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		got   = map[string]int{}
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			err := fn(i)
			key := ""
			if err != nil {
				p, ok := problem.As(err)
				if !ok {
					t.Errorf("call %d: %v, want a problem", i, err)
					return
				}
				key = p.Details[0].Key
			}
			mu.Lock()
			got[key]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

func testCatalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestLinkAcrossBrowsers: a reset or magic link opened in a browser other
// than the one that asked signs nothing in there; that browser shows a
// code, and typed in the first browser the code does what the link would.
func TestLinkAcrossBrowsers(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		acct := signUp(t, e, "lena@example.no")
		for _, method := range []string{flow.MethodLink, flow.MethodMagic} {
			r, err := e.svc.StartRecovery(t.Context(), browserA, "lena@example.no", method)
			if err != nil {
				t.Fatal(err)
			}
			link := e.mail.last(t, "lena@example.no").Data["link"].(string)
			token, _ := url.PathUnescape(link[strings.LastIndex(link, "/")+1:])
			before, _ := e.db.ListSessions(t.Context(), acct.Account.ID)
			_, res, err := e.svc.UseLink(t.Context(), browserB, token)
			wantProblem(t, err, "link.other_browser")
			if res != nil {
				t.Fatalf("%s: browser B got a sign-in", method)
			}
			// A code shown in B cannot be used in B.
			code, _, err := e.svc.LinkCode(t.Context(), browserB, token)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.svc.VerifyLinkCode(t.Context(), browserB, r.ID, code)
			wantProblem(t, err, "flow.other_browser")
			// A wrong code in A counts as a try.
			_, _, err = e.svc.VerifyLinkCode(t.Context(), browserA, r.ID, "000000")
			if code != "000000" {
				wantProblem(t, err, "code.wrong")
			}
			f, res, err := e.svc.VerifyLinkCode(t.Context(), browserA, r.ID, code)
			if err != nil {
				t.Fatalf("%s: VerifyLinkCode in A: %v", method, err)
			}
			after, _ := e.db.ListSessions(t.Context(), acct.Account.ID)
			switch method {
			case flow.MethodMagic:
				if res == nil || res.Token == "" || len(after) != len(before)+1 {
					t.Errorf("magic: the code in A did not sign A in (result %+v, sessions %d→%d)", res, len(before), len(after))
				}
			default:
				if res != nil || f.State != "verified" || len(after) != len(before) {
					t.Errorf("link: after the code, state %q, result %+v, sessions %d→%d; want verified and no session", f.State, res, len(before), len(after))
				}
			}
			// The link is spent either way.
			_, _, err = e.svc.UseLink(t.Context(), browserA, token)
			wantProblem(t, err, "link.used")
		}
	})
}
