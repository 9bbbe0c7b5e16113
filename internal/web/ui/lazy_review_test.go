package ui

import (
	"io"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/portvakt/portvakt/internal/i18n"
)

// TestReviewEveryPageFirstUseInParallel: every page's first parse at once
// (layout parse and clones racing), several goroutines per page (-race).
func TestReviewEveryPageFirstUseInParallel(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, name := range Pages {
		for range 3 {
			wg.Go(func() {
				<-start
				if _, err := r.page(name); err != nil {
					t.Errorf("page %s: %v", name, err)
				}
			})
		}
	}
	for range 4 {
		wg.Go(func() {
			<-start
			if err := r.Render(io.Discard, "error", &ErrorPage{Base: Base{Lang: cat.Lang("sv")}, Status: 500}); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, name := range Pages {
		if !r.Parsed(name) {
			t.Errorf("%s not parsed", name)
		}
	}
}

// TestReviewLayoutOverrideApplies: an override of the layout is used by a
// page rendered after New (overrides are parsed eagerly).
func TestReviewLayoutOverrideApplies(t *testing.T) {
	src, err := templateSources(nil)
	if err != nil {
		t.Fatal(err)
	}
	layout := src["layout.html"].read()
	marker := "<p>review-override-marker</p>"
	i := strings.Index(layout, "</body>")
	if i < 0 {
		t.Skip("layout has no </body>")
	}
	over := fstest.MapFS{"layout.html": {Data: []byte(layout[:i] + marker + layout[i:])}}
	r, err := New(over)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.Render(&b, "error", &ErrorPage{Base: Base{Lang: cat.Lang("en")}, Status: 404}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), marker) {
		t.Error("the layout override is not in a rendered page")
	}
	// A broken override fails New.
	if _, err := New(fstest.MapFS{"error.html": {Data: []byte("{{define")}}); err == nil {
		t.Error("New accepted an override that does not parse")
	}
}
