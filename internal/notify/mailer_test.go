package notify_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// newCatalog loads the real catalogs; anything they log (a missing key, a
// fallback to English) fails the test.
func newCatalog(tb testing.TB) *i18n.Catalog {
	tb.Helper()
	var logs bytes.Buffer
	cat, err := i18n.New(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if logs.Len() > 0 {
			tb.Errorf("i18n logged:\n%s", logs.String())
		}
	})
	return cat
}

func newMailer(tb testing.TB, out store.Outbox, c *clock, mod ...func(*notify.Config)) *notify.Mailer {
	tb.Helper()
	cfg := notify.Config{
		Outbox:      out,
		Catalog:     newCatalog(tb),
		ServiceName: "Portvakt",
		BaseURL:     "https://id.example.com/",
		Now:         c.Now,
	}
	for _, f := range mod {
		f(&cfg)
	}
	m, err := notify.New(cfg)
	if err != nil {
		tb.Fatalf("notify.New: %v", err)
	}
	return m
}

func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the rendered message (run go test -update and review the diff)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// sampleData holds the Send data of each template for the golden test. A
// new template that needs data gets its row here.
var sampleData = map[string]map[string]any{
	notify.TemplateTest: nil,
	notify.TemplateRepresentation: {
		"name": "Kari Nordmann", "event": "mail.representation.agent.added", "agent": "Kari Nordmann",
		"principal": "Ola Nordmann", "link": "https://id.example.com/account/representation",
	},
	notify.TemplateSystemChanged: {
		"name": "Kari Nordmann", "event": "mail.system_changed.created", "system": "Maestro", "system_id": "sys-abcdefghijklmnop",
		"rights": "altinn:submit, altinn:download", "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover", "systems_url": "https://id.example.com/account/systems",
	},
	notify.TemplateAccountLocked: {
		"name": "Ada Lovelace", "failures": 100,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover",
	},
	notify.TemplateSignupCode: {
		"code": "482913", "minutes": 10,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
	},
	notify.TemplateSignupExisting: {
		"minutes": 10, "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"login_url":   "https://id.example.com/login",
		"recover_url": "https://id.example.com/recover",
	},
	notify.TemplateWelcome: {
		"name": "Ada Lovelace", "login_url": "https://id.example.com/login",
	},
	notify.TemplateRecoveryCode: {
		"code": "730215", "minutes": 15,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"cancel_url": "https://id.example.com/recover/cancel?token=c4nc3l",
		"signup_url": "https://id.example.com/signup",
	},
	notify.TemplateRecoveryLink: {
		"link": "https://id.example.com/recover/link?token=l1nk&flow=f7", "minutes": 30,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"cancel_url": "https://id.example.com/recover/cancel?token=c4nc3l",
	},
	notify.TemplateRecoveryMagic: {
		// One minute checks the singular form.
		"link": "https://id.example.com/recover/magic?token=m4g1c", "minutes": 1,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"cancel_url": "https://id.example.com/recover/cancel?token=c4nc3l",
	},
	notify.TemplateRecoveryUnknown: {
		"minutes": 15, "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"signup_url": "https://id.example.com/signup",
		"cancel_url": "https://id.example.com/recover/cancel?token=c4nc3l",
	},
	notify.TemplatePasswordChanged: {
		"name": "Ada Lovelace", "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover",
		// After a reset: every way into the account.
		"methods":      []string{"A password", "The email address ada@example.com", "An authenticator app (Phone)"},
		"security_url": "https://id.example.com/account/security",
	},
	notify.TemplateEmailVerify: {
		"name": "Ada Lovelace", "code": "591046", "minutes": 10,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
	},
	notify.TemplateEmailPrimaryChanged: {
		"name": "Ada Lovelace", "new_email": "ada.lovelace@example.org",
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover",
	},
	notify.TemplateEmailRemoved: {
		// No name: the greeting falls back to a plain one.
		"name": "", "when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover",
	},
	notify.TemplateInvite: {
		"name": "Ada Lovelace", "username": "ada", "days": 7,
		"link": "https://id.example.com/invite?token=1nv1t3",
	},
	notify.TemplateMFAEmail: {
		"name": "Ada Lovelace", "code": "264901", "count": 10,
		"link": "https://id.example.com/login/factor/link/f4ct0r",
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url": "https://id.example.com/recover",
	},
	notify.TemplateRecoveryCodeUsed: {
		// No codes left: the mail says so in words, not "0 codes";
		// TestRecoveryCodeUsed_count checks the other counts.
		"name": "Ada Lovelace", "count": 0,
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url":  "https://id.example.com/recover",
		"security_url": "https://id.example.com/account/security",
	},
	notify.TemplateFactorAdded: {
		"name": "Ada Lovelace", "factor": "+47 ••• •• 567",
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url":  "https://id.example.com/recover",
		"security_url": "https://id.example.com/account/security",
	},
	notify.TemplateFactorRemoved: {
		"name": "Ada Lovelace", "factor": "Authenticator app",
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url":  "https://id.example.com/recover",
		"security_url": "https://id.example.com/account/security",
	},
	notify.TemplateRecoveryCodesNew: {
		"name": "Ada Lovelace",
		"when": "2026-11-21 14:05 UTC", "ip": "203.0.113.7", "browser": "Firefox / Linux",
		"recover_url":  "https://id.example.com/recover",
		"security_url": "https://id.example.com/account/security",
	},
	notify.TemplateSupportCode: {
		"name": "", "code": "k7q4-9xm2-pd3f-h8wa", "count": 24,
	},
}

// TestMailer_Send renders every template in every language into the
// outbox and compares subject, text and HTML with testdata/<name>.<lang>.golden.
func TestMailer_Send(t *testing.T) {
	for _, name := range notify.TemplateNames() {
		for _, lang := range i18n.Languages {
			t.Run(name+"."+lang, func(t *testing.T) {
				out, c := newOutbox(), newClock()
				kicks := 0
				m := newMailer(t, out, c, func(cfg *notify.Config) { cfg.Enqueued = func() { kicks++ } })

				if err := m.Send(t.Context(), "ada@example.com", lang, name, sampleData[name]); err != nil {
					t.Fatalf("Send: %v", err)
				}
				msgs := out.all(t)
				if len(msgs) != 1 {
					t.Fatalf("outbox holds %d messages, want 1", len(msgs))
				}
				got := msgs[0]
				if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(got.ID) {
					t.Errorf("ID = %q, want 26 base32 characters", got.ID)
				}
				if got.Channel != store.ChannelEmail || got.To != "ada@example.com" || got.Locale != lang {
					t.Errorf("Channel, To, Locale = %q, %q, %q; want email, ada@example.com, %s", got.Channel, got.To, got.Locale, lang)
				}
				if !got.CreatedAt.Equal(c.Now()) || !got.NextAttemptAt.Equal(c.Now()) {
					t.Errorf("CreatedAt, NextAttemptAt = %v, %v; want both %v", got.CreatedAt, got.NextAttemptAt, c.Now())
				}
				if got.Attempts != 0 || !got.SentAt.IsZero() {
					t.Errorf("Attempts, SentAt = %d, %v; want a fresh message", got.Attempts, got.SentAt)
				}
				if kicks != 1 {
					t.Errorf("Enqueued called %d times, want 1", kicks)
				}
				if !strings.Contains(got.HTML, `<html lang="`+lang+`"`) {
					t.Errorf("HTML lacks lang=%q", lang)
				}
				golden(t, name+"."+lang, "Subject: "+got.Subject+"\n\n"+
					"----- text/plain -----\n"+got.Text+
					"----- text/html -----\n"+got.HTML)
			})
		}
	}
}

func TestMailer_Send_unsupportedLanguageFallsBackToEnglish(t *testing.T) {
	out := newOutbox()
	m := newMailer(t, out, newClock())
	if err := m.Send(t.Context(), "ada@example.com", "de-DE", notify.TemplateTest, nil); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := out.all(t)[0]
	if got.Locale != "en" || got.Subject != "Test message from Portvakt" {
		t.Errorf("Locale, Subject = %q, %q; want en, Test message from Portvakt", got.Locale, got.Subject)
	}
}

func TestMailer_Send_rejects(t *testing.T) {
	tests := []struct {
		name     string
		to, tmpl string
		want     error
	}{
		{"an unknown template", "ada@example.com", "nope", notify.ErrUnknownTemplate},
		{"an empty address", "", notify.TemplateTest, notify.ErrBadRecipient},
		{"an address without a domain", "ada", notify.TemplateTest, notify.ErrBadRecipient},
		{"a display name", "Ada <ada@example.com>", notify.TemplateTest, notify.ErrBadRecipient},
		{"two addresses", "ada@example.com, eve@example.com", notify.TemplateTest, notify.ErrBadRecipient},
		// A line break could add headers if it ever reached one unencoded.
		{"a line break", "ada@example.com\r\nBcc: eve@example.com", notify.TemplateTest, notify.ErrBadRecipient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := newOutbox()
			m := newMailer(t, out, newClock())
			err := m.Send(t.Context(), tt.to, "en", tt.tmpl, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("Send(%q, %q) = %v, want %v", tt.to, tt.tmpl, err, tt.want)
			}
			if n := len(out.all(t)); n != 0 {
				t.Errorf("outbox holds %d messages after a rejected Send, want 0", n)
			}
		})
	}
}

func TestMailer_Send_outboxFailure(t *testing.T) {
	out := newOutbox()
	out.failEnqueue = errors.New("database is down")
	kicked := false
	m := newMailer(t, out, newClock(), func(cfg *notify.Config) { cfg.Enqueued = func() { kicked = true } })
	err := m.Send(t.Context(), "ada@example.com", "en", notify.TemplateTest, nil)
	if err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("Send = %v, want the outbox error", err)
	}
	if kicked {
		t.Error("Enqueued was called although nothing was enqueued")
	}
}

// templateFS returns the embedded templates with some files replaced
// (or, for a nil value, removed).
func templateFS(tb testing.TB, files map[string]string) fs.FS {
	tb.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir("templates")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("templates", e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	for name, src := range files {
		if src == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

func TestNew_missingTemplatesFail(t *testing.T) {
	_, err := notify.New(notify.Config{
		Outbox:    newOutbox(),
		Catalog:   newCatalog(t),
		BaseURL:   "https://id.example.com",
		Templates: templateFS(t, map[string]string{"test.html": "", "layout.txt": ""}),
	})
	if err == nil {
		t.Fatal("New succeeded without test.html and layout.txt")
	}
	for _, want := range []string{"templates/test.html", "templates/layout.txt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not name %s", err, want)
		}
	}
}

func TestNew_unlistedTemplateFails(t *testing.T) {
	_, err := notify.New(notify.Config{
		Outbox:    newOutbox(),
		Catalog:   newCatalog(t),
		BaseURL:   "https://id.example.com",
		Templates: templateFS(t, map[string]string{"farewell.txt": "Hi\n"}),
	})
	if err == nil || !strings.Contains(err.Error(), "templates/farewell.txt") {
		t.Errorf("New = %v, want an error naming the unlisted templates/farewell.txt", err)
	}
}

func TestNew_brokenTemplateFails(t *testing.T) {
	_, err := notify.New(notify.Config{
		Outbox:    newOutbox(),
		Catalog:   newCatalog(t),
		BaseURL:   "https://id.example.com",
		Templates: templateFS(t, map[string]string{"test.txt": "{{t \"mail.test.body\""}),
	})
	if err == nil || !strings.Contains(err.Error(), "templates/test.txt") {
		t.Errorf("New = %v, want a parse error naming templates/test.txt", err)
	}
}

func TestNew_invalidConfigListsEveryProblem(t *testing.T) {
	_, err := notify.New(notify.Config{BaseURL: "id.example.com/login?x=1"})
	if err == nil {
		t.Fatal("New succeeded with an empty config")
	}
	for _, want := range []string{"outbox is required", "catalog is required", "base URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not say %q", err, want)
		}
	}
	for _, base := range []string{"", "ftp://id.example.com", "https://id.example.com/?next=x", "https://user@id.example.com", "/relative"} {
		_, err := notify.New(notify.Config{Outbox: newOutbox(), Catalog: newCatalog(t), BaseURL: base})
		if err == nil {
			t.Errorf("New with BaseURL %q succeeded, want an error", base)
		}
	}
}

// A template sees the caller's data escaped for HTML, and builds links only
// from the configured base URL.
func TestMailer_Render_dataAndLinks(t *testing.T) {
	m := newMailer(t, newOutbox(), newClock(), func(cfg *notify.Config) {
		cfg.Templates = templateFS(t, map[string]string{
			"test.txt":  "Hi {{.Data.name}}: {{url \"/reset\" \"token\" .Data.token}}\n",
			"test.html": "<p>Hi {{.Data.name}}: <a href=\"{{url \"/reset\" \"token\" .Data.token}}\">reset</a></p>\n",
		})
	})
	c, err := m.Render("nb", notify.TemplateTest, map[string]any{"name": "<b>Ada</b>", "token": "a b&c"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if want := "Hi <b>Ada</b>: https://id.example.com/reset?token=a+b%26c\n"; !strings.HasPrefix(c.Text, want) {
		t.Errorf("Text = %q, want it to start with %q", c.Text, want)
	}
	if want := `<p>Hi &lt;b&gt;Ada&lt;/b&gt;: <a href="https://id.example.com/reset?token=a&#43;b%26c">reset</a></p>`; !strings.Contains(c.HTML, want) {
		t.Errorf("HTML does not contain %s:\n%s", want, c.HTML)
	}
	if !strings.Contains(c.HTML, `<html lang="nb"`) {
		t.Errorf("HTML lacks lang=\"nb\":\n%s", c.HTML)
	}

	// Data the template needs but the caller forgot is an error, not a
	// mail with "<no value>" in it.
	if _, err := m.Render("en", notify.TemplateTest, nil); err == nil {
		t.Error("Render without .Data.name succeeded, want an error")
	}
}

// A subject never spans lines, whatever the data holds.
func TestMailer_Render_subjectIsOneLine(t *testing.T) {
	m := newMailer(t, newOutbox(), newClock(), func(cfg *notify.Config) { cfg.ServiceName = "Port\r\nBcc: eve@example.com" })
	c, err := m.Render("en", notify.TemplateTest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(c.Subject, "\r\n") {
		t.Errorf("Subject = %q, want one line", c.Subject)
	}
}

func TestMailer_Send_concurrent(t *testing.T) {
	out := newOutbox()
	m := newMailer(t, out, newClock())
	ctx := context.Background()
	errs := make(chan error, 20)
	for i := range 20 {
		go func() { errs <- m.Send(ctx, "ada@example.com", i18n.Languages[i%3], notify.TemplateTest, nil) }()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(out.all(t)); n != 20 {
		t.Errorf("outbox holds %d messages, want 20 with distinct IDs", n)
	}
}

// Every key a template translates exists in the catalog, so no language
// shows a raw key (the i18n tests keep the three catalogs in step).
func TestTemplates_keysExist(t *testing.T) {
	cat := newCatalog(t)
	files, err := filepath.Glob(filepath.Join("templates", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	key := regexp.MustCompile(`\{\{-?\s*t\s+"([^"]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			if !cat.Has(m[1]) {
				t.Errorf("%s uses %q, which is not in the catalog", f, m[1])
			}
		}
	}
}

// The recovery-code mail words the codes left as a count (1 in the
// singular form) and none as "no codes left", in every language; only
// with codes left does it ask to replace them after a stranger's use.
func TestRecoveryCodeUsed_count(t *testing.T) {
	cat := newCatalog(t)
	m := newMailer(t, newOutbox(), newClock())
	for _, lang := range i18n.Languages {
		l := cat.Lang(lang)
		for _, n := range []int{0, 1, 7} {
			data := map[string]any{}
			for k, v := range sampleData[notify.TemplateRecoveryCodeUsed] {
				data[k] = v
			}
			data["count"] = n
			c, err := m.Render(lang, notify.TemplateRecoveryCodeUsed, data)
			if err != nil {
				t.Fatalf("Render(%s, count %d): %v", lang, n, err)
			}
			want, notWant := l.T("mail.recovery_code_used.remaining", "count", n), l.T("mail.recovery_code_used.none")
			if n == 0 {
				want, notWant = notWant, want
			}
			then := l.T("mail.recovery_code_used.then_codes")
			for _, body := range []string{c.Text, c.HTML} {
				if !strings.Contains(body, want) || strings.Contains(body, notWant) {
					t.Errorf("%s, count %d: the message does not say %q (or also says %q):\n%s", lang, n, want, notWant, body)
				}
				if strings.Contains(body, then) != (n > 0) {
					t.Errorf("%s, count %d: the message says %q: %v, want %v", lang, n, then, !(n > 0), n > 0)
				}
			}
		}
	}
}

// A count of 1 picks the singular form of every plural message a template
// uses, and must not reach the subject, which has no plural forms (the
// catalog would log an error and newCatalog fails the test).
func TestTemplates_countOfOne(t *testing.T) {
	m := newMailer(t, newOutbox(), newClock())
	for _, name := range notify.TemplateNames() {
		if _, ok := sampleData[name]["count"]; !ok {
			continue
		}
		data := map[string]any{}
		for k, v := range sampleData[name] {
			data[k] = v
		}
		data["count"] = 1
		for _, lang := range i18n.Languages {
			if _, err := m.Render(lang, name, data); err != nil {
				t.Errorf("Render(%s, %s, count 1): %v", lang, name, err)
			}
		}
	}
}
