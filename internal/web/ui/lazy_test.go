package ui

import (
	"io"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/i18n"
)

// Every embedded page parses (New parses none of them; this is where a
// broken template is caught before a release).
func TestEmbeddedPagesParse(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ParseAll(); err != nil {
		t.Fatal(err)
	}
	for _, name := range Pages {
		if !r.Parsed(name) {
			t.Errorf("ParseAll left %s unparsed", name)
		}
	}
}

// A page is parsed at its first render, and only that page (issue 12:
// idle RSS): many requests rendering it at once parse it once and all get
// it (run with -race).
func TestPagesParseOnFirstRender(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Pages {
		if r.Parsed(name) {
			t.Fatalf("New parsed %s", name)
		}
	}
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := r.Render(io.Discard, "error", &ErrorPage{Base: Base{Lang: cat.Lang("en")}, Status: 404}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, name := range Pages {
		if got, want := r.Parsed(name), name == "error"; got != want {
			t.Errorf("after rendering error, Parsed(%s) = %v, want %v", name, got, want)
		}
	}
	if err := r.Render(io.Discard, "nosuchpage", nil); err == nil {
		t.Error("Render(nosuchpage) succeeded")
	}
}
