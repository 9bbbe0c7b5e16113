package i18n_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/problem"
)

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders returns the sorted placeholder names of a message, which
// is either a string or a map of plural forms.
func placeholders(v any) []string {
	set := map[string]bool{}
	var add func(any)
	add = func(v any) {
		switch m := v.(type) {
		case string:
			for _, g := range placeholder.FindAllStringSubmatch(m, -1) {
				set[g[1]] = true
			}
		case map[string]any:
			for _, x := range m {
				add(x)
			}
		}
	}
	add(v)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func readCatalog(t *testing.T, lang string) map[string]any {
	t.Helper()
	files, err := i18n.CatalogFiles()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for _, f := range files[lang] {
		b, err := fs.ReadFile(i18n.FS(), f)
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range part {
			if _, dup := m[k]; dup {
				t.Errorf("%s: key %q is also defined in another %s file", f, k, lang)
			}
			m[k] = v
		}
	}
	return m
}

func TestCatalogsHaveTheSameKeysAndPlaceholders(t *testing.T) {
	en := readCatalog(t, "en")
	for _, lang := range i18n.Languages[1:] {
		other := readCatalog(t, lang)
		for k, v := range en {
			ov, ok := other[k]
			if !ok {
				t.Errorf("%s.json lacks key %q", lang, k)
				continue
			}
			if a, b := strings.Join(placeholders(v), ","), strings.Join(placeholders(ov), ","); a != b {
				t.Errorf("%s: placeholders in %s are [%s], in en [%s]", k, lang, b, a)
			}
			if s, ok := ov.(string); ok && strings.TrimSpace(s) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
		}
		for k := range other {
			if _, ok := en[k]; !ok {
				t.Errorf("%s.json has key %q that en.json lacks", lang, k)
			}
		}
	}
}

// keyUse finds message keys used in templates ({{.T "key"}}, {{$.T "key"}})
// and in Go code (problem.New(…, "key", …), .Add(field, "key", …),
// problem.Ref("key"), .T("key")).
var keyUse = regexp.MustCompile(`(?:\.T|problem\.Ref|i18nKey)\(?\s*"([a-z0-9_.-]+\.[a-z0-9_.-]+)"|problem\.New\([^,]+,\s*[^,]+,\s*"([a-z0-9_.-]+)"|\.Add\([^,]+,\s*"([a-z0-9_.-]+\.[a-z0-9_.-]+)"`)

func TestEveryUsedKeyExists(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	root := "../.."
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html") || strings.HasSuffix(path, ".txt")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue // examples in doc comments
			}
			for _, m := range keyUse.FindAllStringSubmatch(line, -1) {
				key := m[1] + m[2] + m[3]
				if strings.HasSuffix(key, ".") {
					continue // a prefix completed at run time
				}
				n++
				if !cat.Has(key) {
					t.Errorf("%s uses message key %q, which en.json lacks", path, key)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("found only %d key uses; the scanner is broken", n)
	}
}

func TestNegotiate(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                                         string
		uiLocales, account, cookie, accept, fallback string
		want                                         string
	}{
		{name: "nothing gives English", want: "en"},
		{name: "nothing gives the configured default", fallback: "sv", want: "sv"},
		{name: "Norwegian browser", accept: "nb-NO,nb;q=0.9,en;q=0.5", want: "nb"},
		{name: "generic Norwegian maps to Bokmål", accept: "no", want: "nb"},
		{name: "Nynorsk maps to Bokmål", accept: "nn-NO", want: "nb"},
		{name: "Finland Swedish maps to Swedish", accept: "sv-FI", want: "sv"},
		{name: "German falls back to the default", accept: "de-DE", fallback: "nb", want: "nb"},
		{name: "German then Swedish picks Swedish", accept: "de-DE,sv;q=0.8", want: "sv"},
		{name: "cookie beats the browser", cookie: "sv", accept: "nb", want: "sv"},
		{name: "account beats the cookie", account: "nb", cookie: "sv", want: "nb"},
		{name: "ui_locales beats everything", uiLocales: "fr sv", account: "nb", cookie: "en", accept: "nb", want: "sv"},
		{name: "garbage is skipped", uiLocales: "!!", cookie: "xx-yy-zz", accept: ";;;", want: "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cat.Negotiate(tt.uiLocales, tt.account, tt.cookie, tt.accept, tt.fallback)
			if got != tt.want {
				t.Errorf("Negotiate(%q, %q, %q, %q, %q) = %q, want %q", tt.uiLocales, tt.account, tt.cookie, tt.accept, tt.fallback, got, tt.want)
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	nb := cat.Lang("nb")
	if got, want := nb.T("home.signed_in", "name", "Kari"), "Du er logget inn som Kari."; got != want {
		t.Errorf(`T("home.signed_in") = %q, want %q`, got, want)
	}
	if got, want := cat.Lang("sv").T("time.minutes", "count", 1), "1 minut"; got != want {
		t.Errorf("T(time.minutes, 1) = %q, want %q", got, want)
	}
	if got, want := cat.Lang("sv").T("time.minutes", "count", 5), "5 minuter"; got != want {
		t.Errorf("T(time.minutes, 5) = %q, want %q", got, want)
	}
	args := problem.Args{"value": "a", "missing": problem.Ref("email.missing_at")}
	got := nb.T("email.invalid_missing", args)
	if !strings.Contains(got, "mangler tegnet @") {
		t.Errorf("T with a Ref argument = %q, want the reference translated", got)
	}
	if _, ok := args["missing"].(problem.Ref); !ok {
		t.Error("T changed the caller's arguments")
	}
	if got := nb.T("no.such.key"); got != "no.such.key" {
		t.Errorf("T(missing key) = %q, want the key", got)
	}
}
