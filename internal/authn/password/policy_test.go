package password_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
)

func catalog(tb testing.TB) *i18n.Catalog {
	tb.Helper()
	cat, err := i18n.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}

func mustPolicy(tb testing.TB, c password.Config) password.Policy {
	tb.Helper()
	p, err := c.Policy()
	if err != nil {
		tb.Fatalf("Config%+v.Policy() = %v", c, err)
	}
	return p
}

// details returns the problem's details, failing if err is anything but a
// *problem.Problem of kind Invalid.
func details(tb testing.TB, err error) []problem.Detail {
	tb.Helper()
	if err == nil {
		return nil
	}
	p, ok := problem.As(err)
	if !ok {
		tb.Fatalf("Check returned %T %v, want a *problem.Problem", err, err)
	}
	if p.Kind != problem.Invalid {
		tb.Errorf("Check returned kind %v, want invalid", p.Kind)
	}
	return p.Details
}

func keys(ds []problem.Detail) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Key)
	}
	return out
}

// checkRendered renders key with args in every language and checks that
// each message is a real translation that shows its arguments.
func checkRendered(t *testing.T, cat *i18n.Catalog, key string, args problem.Args) {
	t.Helper()
	en := cat.Lang("en").T(key, args)
	for _, lang := range i18n.Languages {
		l := cat.Lang(lang)
		msg := l.T(key, args)
		switch {
		case strings.TrimSpace(msg) == "" || msg == key:
			t.Errorf("%s: T(%q) = %q, want a message", lang, key, msg)
			continue
		case strings.Contains(msg, "<no value>"):
			t.Errorf("%s: T(%q, %v) = %q, which lacks an argument", lang, key, args, msg)
		case lang != "en" && msg == en:
			t.Errorf("%s: T(%q) = %q, the English text", lang, key, msg)
		}
		for name, v := range args {
			var want string
			switch v := v.(type) {
			case string:
				want = v
			case int:
				// count only picks the plural form, except where the
				// message says how many passwords are remembered.
				if name == "count" && v == 1 || name == "count" && !strings.Contains(key, "reused") && !strings.Contains(key, "history") {
					continue
				}
				want = strconv.Itoa(v)
			case problem.Ref:
				want = l.T(string(v))
			default:
				t.Errorf("%s: argument %s is a %T", key, name, v)
				continue
			}
			if !strings.Contains(msg, want) {
				t.Errorf("%s: T(%q) = %q, want it to contain %s %q", lang, key, msg, name, want)
			}
		}
	}
}

var kari = password.Context{
	Email: "kari.nordmann@example.no", Username: "karin", Name: "Kari Nordmann", ServiceName: "Portvakt",
}

// TestPolicy_Presets is the seed table: every preset against passwords
// that break each of its rules, and passwords it must accept. want lists
// the violated keys in the order Check reports them; every violated rule's
// message is rendered in en, nb and sv.
func TestPolicy_Presets(t *testing.T) {
	cat := catalog(t)
	long := strings.Repeat("lang passfrase ", 20)[:257]
	tests := []struct {
		name  string
		cfg   password.Config
		pw    string
		ctx   password.Context
		want  []string
		chars string // the chars argument of the character rule, if any
	}{
		// nist: length, blocklist, context words, Unicode.
		{name: "nist refuses an empty password", cfg: password.Config{}, pw: "", want: []string{"password.required"}},
		{name: "nist refuses password as short and common", pw: "password", want: []string{"password.too_short", "password.blocklisted"}},
		{name: "nist refuses a common password even with MFA", pw: "iloveyou", ctx: password.Context{HasMFA: true}, want: []string{"password.blocklisted"}},
		{name: "nist refuses a common password of 16 characters", pw: "1qaz2wsx3edc4rfv", want: []string{"password.blocklisted"}},
		{name: "nist compares the blocklist regardless of case", pw: "QWERTYUIOP", ctx: password.Context{HasMFA: true}, want: []string{"password.blocklisted"}},
		{name: "nist accepts a passphrase", pw: "correct horse battery staple"},
		{name: "nist refuses 14 characters as the only factor", pw: "blue whale sky", want: []string{"password.too_short"}},
		{name: "nist accepts 14 characters with MFA", pw: "blue whale sky", ctx: password.Context{HasMFA: true}},
		{name: "nist refuses 7 characters with MFA", pw: "blue sk", ctx: password.Context{HasMFA: true}, want: []string{"password.too_short"}},
		{name: "nist accepts 64 characters", pw: "Fjord og fjell, elv og bre, sol over Lofoten i juni og juli, ja!"[:64]},
		{name: "nist refuses 257 characters", pw: long, want: []string{"password.too_long", "password.pattern.repeated"}},
		{name: "nist accepts Cyrillic", pw: "пароль для почты 2024"},
		{name: "nist accepts symbols and emoji", pw: "@%&?# ærlig talt 🦊"},
		{name: "nist refuses invalid UTF-8", pw: "correct horse\xffbattery", want: []string{"password.control_char"}, chars: "U+FFFD"},
		{name: "nist refuses a tab", pw: "correct horse\tbattery", want: []string{"password.control_char"}, chars: "U+0009"},
		{name: "nist refuses a password built on the email address", pw: "kari.nordmann2024!", ctx: kari,
			want: []string{"password.contains_context", "password.contains_context"}},
		{name: "nist refuses a password built on the service name", pw: "Portvakt Portvakt 1", ctx: kari, want: []string{"password.contains_context"}},
		{name: "nist accepts a passphrase that mentions a name", pw: "kari har en hest som heter blakken", ctx: kari},
		{name: "nist with history refuses a reused password", cfg: password.Config{History: 5}, pw: "correct horse battery staple",
			ctx: password.Context{Reused: func(string) bool { return true }}, want: []string{"password.reused"}},
		{name: "nist with history accepts a new password", cfg: password.Config{History: 5}, pw: "correct horse battery staple",
			ctx: password.Context{Reused: func(string) bool { return false }}},
		{name: "nist with min_score refuses a weak password", cfg: password.Config{MinScore: 3}, pw: "aaaaaaaaaaaaaaaa", want: []string{"password.pattern.repeated_char", "password.too_weak"}},
		{name: "nist with min_score accepts a passphrase", cfg: password.Config{MinScore: 3}, pw: "correct horse battery staple"},

		// altinn: letters and digits only.
		{name: "altinn refuses ?", cfg: password.Config{Preset: "altinn"}, pw: "?", want: []string{"password.too_short", "password.chars_not_allowed"}, chars: "?"},
		{name: "altinn refuses ? in a long password", cfg: password.Config{Preset: "altinn"}, pw: "Sommerferie?paa?hytta#", want: []string{"password.chars_not_allowed"}, chars: "? #"},
		{name: "altinn refuses spaces", cfg: password.Config{Preset: "altinn"}, pw: "correct horse battery staple", want: []string{"password.no_spaces"}},
		{name: "altinn accepts Norwegian letters", cfg: password.Config{Preset: "altinn"}, pw: "blåbærsyltetøy2024"},
		{name: "altinn refuses a common password", cfg: password.Config{Preset: "altinn"}, pw: "123456789qwerty", want: []string{"password.blocklisted"}},

		// visma: 8, upper, lower, digit, special.
		{name: "visma accepts all four classes", cfg: password.Config{Preset: "visma"}, pw: "Kattepus7!"},
		{name: "visma requires a special character", cfg: password.Config{Preset: "visma"}, pw: "Kattepus7", want: []string{"password.need_special"}},
		{name: "visma requires a capital letter", cfg: password.Config{Preset: "visma"}, pw: "kattepus7!", want: []string{"password.need_upper"}},
		{name: "visma requires a lowercase letter", cfg: password.Config{Preset: "visma"}, pw: "KATTEPUS7!", want: []string{"password.need_lower"}},
		{name: "visma requires a digit", cfg: password.Config{Preset: "visma"}, pw: "Kattepus!!", want: []string{"password.need_digit"}},
		{name: "visma requires 8 characters", cfg: password.Config{Preset: "visma"}, pw: "Kp7!", want: []string{"password.too_short"}},
		{name: "visma reports every broken rule", cfg: password.Config{Preset: "visma"}, pw: "abc123",
			want: []string{"password.too_short", "password.need_upper", "password.need_special", "password.blocklisted"}},
		{name: "visma refuses Password1", cfg: password.Config{Preset: "visma"}, pw: "Password1", want: []string{"password.need_special", "password.blocklisted"}},

		// udi: 8, upper, lower, digit; no @ % &; no æ ø å; Latin only.
		{name: "udi accepts Fjellvann42", cfg: password.Config{Preset: "udi"}, pw: "Fjellvann42"},
		{name: "udi refuses @", cfg: password.Config{Preset: "udi"}, pw: "Pass@word1", want: []string{"password.forbidden_char"}, chars: "@"},
		{name: "udi refuses æ", cfg: password.Config{Preset: "udi"}, pw: "Passord1æ", want: []string{"password.letters_not_allowed"}, chars: "æ"},
		{name: "udi refuses capital Æ Ø Å and % &", cfg: password.Config{Preset: "udi"}, pw: "Æsj%Øl&Å1a",
			// Æ Ø Å do not count as capitals, since they are refused.
			want: []string{"password.forbidden_char", "password.letters_not_allowed", "password.need_upper"}},
		{name: "udi refuses Cyrillic letters and names five", cfg: password.Config{Preset: "udi"}, pw: "Пароль123Ab",
			want: []string{"password.chars_not_allowed"}, chars: "П а р о л …"},
		{name: "udi refuses €", cfg: password.Config{Preset: "udi"}, pw: "Pass€word1", want: []string{"password.chars_not_allowed"}, chars: "€"},
		{name: "udi accepts é", cfg: password.Config{Preset: "udi"}, pw: "Passé1234"},
		{name: "udi requires a capital letter", cfg: password.Config{Preset: "udi"}, pw: "fjellvann42", want: []string{"password.need_upper"}},
		{name: "udi requires a lowercase letter", cfg: password.Config{Preset: "udi"}, pw: "FJELLVANN42", want: []string{"password.need_lower"}},
		{name: "udi requires a digit", cfg: password.Config{Preset: "udi"}, pw: "Passordet", want: []string{"password.need_digit"}},
		{name: "udi requires 8 characters", cfg: password.Config{Preset: "udi"}, pw: "Hest1", want: []string{"password.too_short"}},
		{name: "udi refuses Password1", cfg: password.Config{Preset: "udi"}, pw: "Password1", want: []string{"password.blocklisted"}},
		{name: "udi refuses a password built on the name", cfg: password.Config{Preset: "udi"}, pw: "Nordmann1", ctx: kari,
			// "nordmann" is part of both the email address and the name.
			want: []string{"password.contains_context", "password.contains_context"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, tt.cfg)
			ds := details(t, p.Check(tt.pw, tt.ctx))
			if got := keys(ds); !slices.Equal(got, append([]string{}, tt.want...)) {
				t.Fatalf("Check(%q) = %v, want %v", tt.pw, got, tt.want)
			}
			for _, d := range ds {
				if d.Field != "password" {
					t.Errorf("Check(%q): %s is on field %q, want password", tt.pw, d.Key, d.Field)
				}
				if tt.chars != "" && d.Args["chars"] != nil && d.Args["chars"] != tt.chars {
					t.Errorf("Check(%q): %s names %q, want %q", tt.pw, d.Key, d.Args["chars"], tt.chars)
				}
				checkRendered(t, cat, d.Key, d.Args)
			}
		})
	}
}

func TestPolicy_UDISeed(t *testing.T) {
	cat := catalog(t)
	p, err := password.Preset("udi")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pw, key string
		want    map[string]string // language → the message
	}{
		{"Pass@word1", "password.forbidden_char", map[string]string{
			"en": "The password can't contain @. This service doesn't allow @ % &. Choose another character.",
			"nb": "Passordet kan ikke inneholde @. Denne tjenesten tillater ikke @ % &. Velg et annet tegn.",
			"sv": "Lösenordet får inte innehålla @. Den här tjänsten tillåter inte @ % &. Välj ett annat tecken.",
		}},
		{"Passord1æ", "password.letters_not_allowed", map[string]string{
			"en": "The password can't contain the letter æ. This service doesn't allow the letters æ ø å. Choose another letter.",
			"nb": "Passordet kan ikke inneholde bokstaven æ. Denne tjenesten tillater ikke bokstavene æ ø å. Velg en annen bokstav.",
			"sv": "Lösenordet får inte innehålla bokstaven æ. Den här tjänsten tillåter inte bokstäverna æ ø å. Välj en annan bokstav.",
		}},
	}
	for _, tt := range tests {
		ds := details(t, p.Check(tt.pw, password.Context{}))
		if len(ds) != 1 || ds[0].Key != tt.key {
			t.Fatalf("Check(%q) = %v, want [%s]", tt.pw, keys(ds), tt.key)
		}
		for lang, want := range tt.want {
			if got := cat.Lang(lang).T(ds[0].Key, ds[0].Args); got != want {
				t.Errorf("%s: Check(%q) says %q, want %q", lang, tt.pw, got, want)
			}
		}
	}
	if err := p.Check("Fjellvann42", password.Context{}); err != nil {
		t.Errorf("Check(%q) = %v, want nil", "Fjellvann42", err)
	}
	// The seed's own example is "Passord123": the Norwegian for
	// "password" with digits appended, refused at every length now.
	if got := keys(details(t, p.Check("Passord123", password.Context{}))); !slices.Equal(got, []string{"password.blocklisted"}) {
		t.Errorf("Check(%q) = %v, want [password.blocklisted]", "Passord123", got)
	}
}

func TestPolicy_NormalizesBeforeCounting(t *testing.T) {
	p, _ := password.Preset("nist")
	composed := "crème brûlée à"                           // 14 code points
	decomposed := "cre\u0300me bru\u0302le\u0301e a\u0300" // 18 code points, the same text
	if p.Prepare(decomposed) != composed {
		t.Fatalf("Prepare(%q) = %q, want %q", decomposed, p.Prepare(decomposed), composed)
	}
	for _, pw := range []string{composed, decomposed} {
		ds := details(t, p.Check(pw, password.Context{}))
		if len(ds) != 1 || ds[0].Key != "password.too_short" || ds[0].Args["length"] != 14 {
			t.Errorf("Check(%+q) = %v, want too_short with length 14", pw, ds)
		}
		if err := p.Check(pw+"!", password.Context{}); err != nil {
			t.Errorf("Check(%+q) = %v, want nil for 15 characters", pw+"!", err)
		}
	}
	if got := p.Prepare("Ｐａｓｓ"); got != "Pass" {
		t.Errorf("Prepare(full-width) = %q, want Pass", got)
	}
}

func TestPolicy_ContextWords(t *testing.T) {
	p, _ := password.Preset("nist")
	tests := []struct {
		name string
		pw   string
		want []problem.Ref
	}{
		{"the email address's local part", "kari.nordmann2024!", []problem.Ref{"password.context.email", "password.context.name"}},
		// "karin" contains "kari", part of the email address and the name.
		{"the username with digits", "karin1234567890123", []problem.Ref{"password.context.email", "password.context.username", "password.context.name"}},
		{"the username alone", "KARIN!!!!!!!!!!!!!!!!", []problem.Ref{"password.context.email", "password.context.username", "password.context.name"}},
		{"the name reversed", "Nordmann-Kari!!!!!!", []problem.Ref{"password.context.email", "password.context.name"}},
		{"the service name", "portvakt portvakt", []problem.Ref{"password.context.service"}},
		{"the email domain", "Example.Example.2024", []problem.Ref{"password.context.email"}},
		{"a long passphrase that mentions a name", "kari har en hest som heter blakken", nil},
		{"nothing to do with the user", "correct horse battery staple", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []problem.Ref
			for _, d := range details(t, p.Check(tt.pw, kari)) {
				if d.Key == "password.contains_context" {
					got = append(got, d.Args["what"].(problem.Ref))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check(%q) context = %v, want %v", tt.pw, got, tt.want)
			}
		})
	}
	t.Run("off turns it off", func(t *testing.T) {
		p := mustPolicy(t, password.Config{ContextWords: "off"})
		if err := p.Check("kari.nordmann2024!", kari); err != nil {
			t.Errorf("Check = %v, want nil", err)
		}
	})
}

func TestPolicy_History(t *testing.T) {
	p := mustPolicy(t, password.Config{Preset: "visma", History: 3})
	var asked []string
	ctx := password.Context{Reused: func(pw string) bool { asked = append(asked, pw); return pw == "Gammel1!pass" }}
	ds := details(t, p.Check("Gammel1!pass", ctx))
	if got := keys(ds); !slices.Equal(got, []string{"password.reused"}) || ds[0].Args["count"] != 3 {
		t.Errorf("Check(reused) = %v, want [password.reused] with count 3", ds)
	}
	if err := p.Check("Ny1!passord", ctx); err != nil {
		t.Errorf("Check(new) = %v, want nil", err)
	}
	if len(asked) != 2 {
		t.Errorf("Reused was called %d times, want 2", len(asked))
	}
	checkRendered(t, catalog(t), "password.reused", problem.Args{"count": 1})
}

func TestPolicy_OperatorBlocklist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blocklist.txt")
	if err := os.WriteFile(path, []byte("  Sommer2024!Sommer  \r\n\nPortvakt-er-best\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, password.Config{BlocklistFile: path})
	for _, pw := range []string{"sommer2024!sommer", "SOMMER2024!SOMMER", "portvakt-er-best"} {
		if got := keys(details(t, p.Check(pw, password.Context{}))); !slices.Equal(got, []string{"password.blocklisted"}) {
			t.Errorf("Check(%q) = %v, want [password.blocklisted]", pw, got)
		}
	}
	if got := keys(details(t, p.Check("!sommer2024!sommer!!", password.Context{}))); !slices.Equal(got, []string{"password.blocklisted"}) {
		t.Errorf("Check(an entry with punctuation around it) = %v, want [password.blocklisted]", got)
	}
	if err := p.Check("sommer2024!sommerfugl", password.Context{}); err != nil {
		t.Errorf("Check(a longer password) = %v, want nil: the list compares the password without what surrounds it, not its parts", err)
	}

	missing := filepath.Join(t.TempDir(), "nope.txt")
	_, err := password.Config{BlocklistFile: missing}.Policy()
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Policy() with a missing file = %v, want an error naming %s", err, missing)
	}
}

func TestPolicy_FieldName(t *testing.T) {
	p, _ := password.Preset("nist")
	ds := details(t, p.Check("kort", password.Context{Field: "new_password"}))
	if len(ds) == 0 || ds[0].Field != "new_password" {
		t.Errorf("Check with Field new_password = %v, want details on new_password", ds)
	}
}

func TestPolicy_Rules(t *testing.T) {
	cat := catalog(t)
	tests := []struct {
		cfg  password.Config
		want []string
	}{
		{password.Config{}, []string{"password.rule.min_length_mfa", "password.rule.blocklist", "password.rule.patterns", "password.rule.context", "password.rule.passphrase"}},
		{password.Config{Preset: "altinn"}, []string{"password.rule.min_length_mfa", "password.rule.alphabet", "password.rule.blocklist", "password.rule.patterns", "password.rule.context", "password.rule.passphrase"}},
		{password.Config{Preset: "visma"}, []string{"password.rule.min_length", "password.rule.upper", "password.rule.lower", "password.rule.digit", "password.rule.special", "password.rule.blocklist", "password.rule.patterns", "password.rule.context"}},
		{password.Config{Preset: "udi"}, []string{"password.rule.min_length", "password.rule.alphabet", "password.rule.forbidden", "password.rule.forbidden_letters",
			"password.rule.upper", "password.rule.lower", "password.rule.digit", "password.rule.blocklist", "password.rule.patterns", "password.rule.context"}},
		{password.Config{MaxLength: 64, History: 5, MinScore: 3}, []string{"password.rule.min_length_mfa", "password.rule.max_length", "password.rule.blocklist", "password.rule.patterns",
			"password.rule.context", "password.rule.history", "password.rule.min_score", "password.rule.passphrase"}},
	}
	for _, tt := range tests {
		rules := mustPolicy(t, tt.cfg).Rules()
		var got []string
		for _, r := range rules {
			got = append(got, r.Key)
			checkRendered(t, cat, r.Key, r.Args)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Config%+v Rules() = %v, want %v", tt.cfg, got, tt.want)
		}
	}
	nist, _ := password.Preset("nist")
	if r := nist.Rules()[0]; r.Args["min"] != 15 || r.Args["min_mfa"] != 8 {
		t.Errorf("nist's first rule = %+v, want min 15 and min_mfa 8", r)
	}
	if got := cat.Lang("en").T("password.rule.forbidden", mustPolicy(t, password.Config{Preset: "udi"}).Rules()[2].Args); got != "None of these characters: @ % &" {
		t.Errorf("udi's forbidden rule says %q", got)
	}
}

func TestPreset(t *testing.T) {
	if got := password.Presets(); !slices.Equal(got, []string{"nist", "altinn", "visma", "udi"}) {
		t.Errorf("Presets() = %v", got)
	}
	for _, name := range password.Presets() {
		p, err := password.Preset(name)
		if err != nil || p.Name != name {
			t.Errorf("Preset(%q) = %+v, %v", name, p, err)
		}
	}
	if p, err := password.Preset(""); err != nil || p.Name != "nist" {
		t.Errorf(`Preset("") = %q, %v; want nist`, p.Name, err)
	}
	if _, err := password.Preset("nsm"); err == nil || !strings.Contains(err.Error(), "nist, altinn, visma, udi") {
		t.Errorf(`Preset("nsm") = %v, want an error listing the presets`, err)
	}
	p, _ := password.Preset("nist")
	if p.MinLengthFor(false) != 15 || p.MinLengthFor(true) != 8 {
		t.Errorf("nist MinLengthFor = %d, %d; want 15, 8", p.MinLengthFor(false), p.MinLengthFor(true))
	}
}

// TestPolicy_NISTAcceptsRandomPasswords is SECURITY.md §2.1's property: the
// default policy accepts any printable ASCII or Unicode password of 15–64
// characters unless it is on the blocklist.
func TestPolicy_NISTAcceptsRandomPasswords(t *testing.T) {
	p, _ := password.Preset("nist")
	rng := rand.New(rand.NewPCG(1, 2))
	randomRune := func() rune {
		if rng.IntN(2) == 0 {
			return rune(0x20 + rng.IntN(0x5f)) // printable ASCII with space
		}
		for {
			r := rune(0xa0 + rng.IntN(0x2ff60))
			if unicode.IsGraphic(r) && !unicode.IsMark(r) && utf8.ValidRune(r) {
				return r
			}
		}
	}
	for i := range 500 {
		n := 15 + rng.IntN(50)
		var b strings.Builder
		for range n {
			b.WriteRune(randomRune())
		}
		pw := b.String()
		// NFKC may change the length (ﬀ → ff, ① → 1, ¼ → 1⁄4); the rule is
		// about the normalized password.
		if l := utf8.RuneCountInString(p.Prepare(pw)); l < 15 || l > 256 {
			continue
		}
		if err := p.Check(pw, password.Context{}); err != nil {
			t.Fatalf("#%d: Check(%+q) = %v, want nil", i, pw, err)
		}
	}
}

func BenchmarkPolicyCheck(b *testing.B) {
	for _, name := range password.Presets() {
		p, _ := password.Preset(name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = p.Check("correct horse battery staple", kari)
			}
		})
	}
}

func ExamplePolicy_Check() {
	cat, _ := i18n.New(nil)
	p, _ := password.Preset("udi")
	err := p.Check("Pass@word1", password.Context{})
	prob, _ := problem.As(err)
	for _, d := range prob.Details {
		fmt.Println(cat.Lang("nb").T(d.Key, d.Args))
	}
	// Output: Passordet kan ikke inneholde @. Denne tjenesten tillater ikke @ % &. Velg et annet tegn.
}
