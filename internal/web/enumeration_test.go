package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/flow"
)

// volatile matches what differs between any two responses (flow IDs,
// nonces, request IDs), so that the rest can be compared byte for byte.
var volatile = regexp.MustCompile(`flow=[a-z0-9]+|name="flow" value="[a-z0-9]+"|nonce="[^"]+"|[a-z0-9]{20}</code>`)

func normalize(s string) string { return volatile.ReplaceAllString(s, "…") }

type browser struct {
	t      *testing.T
	e      *env
	client *http.Client
}

func newBrowser(t *testing.T, e *env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, client: &http.Client{Jar: jar}}
}

// post submits a form like a browser (following the redirect) and returns
// the final status, body and how long the POST itself took.
func (b *browser) post(path string, form url.Values) (int, string, time.Duration) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "en")
	start := time.Now()
	resp, err := b.client.Do(req)
	elapsed := time.Since(start)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), elapsed
}

// order alternates which of the two addresses goes first, so that
// neither always pays for the other's garbage.
func order(i int) []int {
	if i%2 == 0 {
		return []int{0, 1}
	}
	return []int{1, 0}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// sameTiming fails if the medians differ by more than the larger of
// floor and half of the slower one. The samples are interleaved, so
// the machine's load affects both alike.
func sameTiming(t *testing.T, what string, known, unknown []time.Duration, floor time.Duration) {
	t.Helper()
	mk, mu := median(known), median(unknown)
	diff := mk - mu
	if diff < 0 {
		diff = -diff
	}
	// Half the slower median: wide enough for a loaded CI machine, and
	// still far below what a skipped hash (30 ms against 1 ms) would show.
	limit := max(floor, max(mk, mu)/2)
	t.Logf("%s: median %v for a known address, %v for an unknown one", what, mk, mu)
	if diff > limit {
		t.Errorf("%s: medians %v (known) and %v (unknown) differ by %v, more than %v", what, mk, mu, diff, limit)
	}
}

// Neither sign-in nor password recovery tells a stranger whether an
// address has an account: not by the page, not by the status, not by the
// time it takes.
func TestNoAccountEnumeration(t *testing.T) {
	e := newEnv(t)
	// A real account, made through the flows at the production hashing
	// parameters.
	if _, err := e.app.Flows.CreateAccount(t.Context(), flow.NewAccount{Name: "Kari", Email: "known@example.no", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}

	t.Run("sign-in", func(t *testing.T) {
		var known, unknown []time.Duration
		var bodies [2]string
		var statuses [2]int
		for i := range 14 {
			for _, j := range order(i) {
				addr := []string{"known@example.no", "unknown@example.no"}[j]
				b := newBrowser(t, e)
				status, body, _ := b.post("/login", url.Values{"email": {addr}})
				if status != 200 || !strings.Contains(body, `name="password"`) {
					t.Fatalf("email step for %s = %d, want the password page", addr, status)
				}
				flowID := regexp.MustCompile(`name="flow" value="([a-z0-9]+)"`).FindStringSubmatch(body)[1]
				status, body, took := b.post("/login/password", url.Values{"flow": {flowID}, "password": {"wrong horse battery staple"}})
				body = strings.ReplaceAll(strings.ReplaceAll(body, addr, "ADDRESS"), url.QueryEscape(addr), "ADDRESS")
				if i < 2 {
					bodies[j], statuses[j] = normalize(body), status
				}
				if j == 0 {
					known = append(known, took)
				} else {
					unknown = append(unknown, took)
				}
			}
			if i == 4 {
				e.clock.Advance(time.Hour) // stay clear of the failure throttle
			}
		}
		if statuses[0] != statuses[1] || statuses[0] != http.StatusUnauthorized {
			t.Errorf("statuses: known %d, unknown %d; want both 401", statuses[0], statuses[1])
		}
		if bodies[0] != bodies[1] {
			t.Errorf("the pages differ:\nknown:   %s\nunknown: %s", bodies[0], bodies[1])
		}
		sameTiming(t, "wrong password", known, unknown, 8*time.Millisecond)
	})

	t.Run("recovery", func(t *testing.T) {
		for _, method := range []string{flow.MethodCode, flow.MethodLink, flow.MethodMagic} {
			var known, unknown []time.Duration
			var bodies [2]string
			var statuses [2]int
			for i := range 14 {
				for _, j := range order(i) {
					addr := []string{"known@example.no", "unknown@example.no"}[j]
					b := newBrowser(t, e)
					status, body, took := b.post("/recover", url.Values{"email": {addr}, "method": {method}})
					body = strings.ReplaceAll(body, addr, "ADDRESS")
					if i < 2 {
						bodies[j], statuses[j] = normalize(body), status
					}
					if j == 0 {
						known = append(known, took)
					} else {
						unknown = append(unknown, took)
					}
				}
			}
			if statuses[0] != statuses[1] || statuses[0] != 200 {
				t.Errorf("%s: statuses known %d, unknown %d; want both 200", method, statuses[0], statuses[1])
			}
			if bodies[0] != bodies[1] {
				t.Errorf("%s: the pages differ:\nknown:   %s\nunknown: %s", method, bodies[0], bodies[1])
			}
			sameTiming(t, "recovery by "+method, known, unknown, 5*time.Millisecond)
		}
	})
}
