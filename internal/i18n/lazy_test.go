package i18n_test

import (
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/i18n"
)

// A catalog is parsed when its language first translates, not at New nor
// when a request's language is chosen: an idle server holds none, and one
// that serves only English never parses Swedish (issue 12: idle RSS).
func TestCatalogsLoadOnFirstUse(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded := func() (out []string) {
		for _, l := range i18n.Languages {
			if cat.Loaded(l) {
				out = append(out, l)
			}
		}
		return out
	}
	if got := loaded(); len(got) != 0 {
		t.Fatalf("after New, loaded = %v, want none", got)
	}
	sv := cat.Lang(cat.Negotiate("", "", "", "sv-SE,sv;q=0.9", "en"))
	if sv.Tag() != "sv" {
		t.Fatalf("Negotiate(sv-SE) = %q", sv.Tag())
	}
	if got := loaded(); len(got) != 0 {
		t.Fatalf("after choosing Swedish, loaded = %v, want none", got)
	}
	if got, want := cat.Lang("en").T("lang.name"), "English"; got != want {
		t.Errorf(`en T("lang.name") = %q, want %q`, got, want)
	}
	if got := loaded(); len(got) != 1 || got[0] != "en" {
		t.Fatalf("after an English text, loaded = %v, want [en]", got)
	}
	if got, want := sv.T("time.minutes", "count", 5), "5 minuter"; got != want {
		t.Errorf("sv T(time.minutes, 5) = %q, want %q", got, want)
	}
	if got := loaded(); len(got) != 2 || got[1] != "sv" {
		t.Fatalf("after a Swedish text, loaded = %v, want [en sv]", got)
	}
}

// Every embedded catalog parses (New no longer parses them, so this is
// where a broken file is caught before a release).
func TestCatalogsLoad(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Load(); err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Languages {
		if !cat.Loaded(l) {
			t.Errorf("Load() left %s unloaded", l)
		}
	}
}

// The language switcher's names are each catalog's own lang.name.
func TestName(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Languages {
		if got, want := i18n.Name(l), cat.Lang(l).T("lang.name"); got != want {
			t.Errorf("Name(%q) = %q, want the catalog's lang.name %q", l, got, want)
		}
	}
}

// Many requests translating at once in a fresh catalog parse each
// language once and all get the text (run with -race).
func TestFirstUseIsSafeConcurrently(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"en": "5 minutes", "nb": "5 minutter", "sv": "5 minuter"}
	var wg sync.WaitGroup
	for i := range 24 {
		l := i18n.Languages[i%len(i18n.Languages)]
		wg.Go(func() {
			if got := cat.Lang(l).T("time.minutes", "count", 5); got != want[l] {
				t.Errorf("%s T(time.minutes, 5) = %q, want %q", l, got, want[l])
			}
			if !cat.Has("time.minutes") {
				t.Error(`Has("time.minutes") = false`)
			}
		})
	}
	wg.Wait()
}
