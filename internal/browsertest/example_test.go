package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/portvakt/portvakt/internal/browsertest"
)

// testGreeting is what a browser test looks like. (Examples cannot take a
// *testing.T, so this one is not run.)
func testGreeting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Hi</title>
<form method="post"><label for="name">Name</label> <input id="name" name="name"><button>Send</button></form>
<p id="greeting">%s</p>`, r.PostFormValue("name"))
	}))
	t.Cleanup(srv.Close)

	p := browsertest.Start(t).NewPage(t, browsertest.AcceptLanguage("nb-NO,nb;q=0.9"))
	p.Open(srv.URL)
	p.Fill("#name", "Kari")
	p.Submit("button")
	if got, want := p.Text("#greeting"), "Kari"; got != want {
		t.Errorf("Text(%q) = %q, want %q", "#greeting", got, want)
	}
}

func Example() {
	_ = testGreeting
}
