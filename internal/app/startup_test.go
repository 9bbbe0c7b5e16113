package app_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// TestStartupParsesNoCatalogOrPage: a started server has parsed no
// language's catalog and no page, health checks parse none, and a Swedish
// visitor's sign-in page parses the Swedish catalog and that page only
// (issue 12: idle RSS; the three catalogs and 25 pages were about 7 MiB).
func TestStartupParsesNoCatalogOrPage(t *testing.T) {
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "portvakt.db")
	a, err := app.New(t.Context(), cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	parsed := func() (langs, pages []string) {
		for _, l := range i18n.Languages {
			if a.Catalog.Loaded(l) {
				langs = append(langs, l)
			}
		}
		for _, p := range ui.Pages {
			if a.Web.Pages.Parsed(p) {
				pages = append(pages, p)
			}
		}
		return langs, pages
	}
	if langs, pages := parsed(); len(langs)+len(pages) > 0 {
		t.Fatalf("after New, parsed catalogs %v and pages %v; want none", langs, pages)
	}
	get := func(path string, header ...string) int {
		r := httptest.NewRequest(http.MethodGet, "http://localhost:8080"+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, r)
		return w.Code
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code := get(path); code != http.StatusOK {
			t.Fatalf("GET %s = %d", path, code)
		}
	}
	if langs, pages := parsed(); len(langs)+len(pages) > 0 {
		t.Fatalf("after health checks, parsed catalogs %v and pages %v; want none", langs, pages)
	}
	if code := get("/login", "Accept-Language", "sv-SE,sv;q=0.9"); code != http.StatusOK {
		t.Fatalf("GET /login = %d", code)
	}
	if langs, pages := parsed(); !slices.Equal(langs, []string{"sv"}) || !slices.Equal(pages, []string{"login"}) {
		t.Errorf("after a Swedish sign-in page, parsed catalogs %v and pages %v; want [sv] and [login]", langs, pages)
	}
}
