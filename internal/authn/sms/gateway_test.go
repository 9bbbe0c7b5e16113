package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/authn/sms"
	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/store"
)

// gatewayRequest is what the fake gateway saw.
type gatewayRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

// fakeGateway is an SMS provider on loopback: it records each request and
// answers with status (200 if zero).
type fakeGateway struct {
	*httptest.Server
	mu       sync.Mutex
	requests []gatewayRequest
	status   int
	// hang, when set, makes the handler wait for the client to give up.
	hang bool
}

func newFakeGateway(tb testing.TB) *fakeGateway {
	tb.Helper()
	g := &fakeGateway{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.requests = append(g.requests, gatewayRequest{r.Method, r.URL.RequestURI(), r.Header.Clone(), string(body)})
		status, hang := g.status, g.hang
		g.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		if status == 0 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		// A gateway that echoes what it got, as real ones do in errors.
		io.WriteString(w, `{"error": "could not send to +4791234567", "text": "Your code is 123456"}`)
	}))
	tb.Cleanup(g.Close)
	return g
}

func (g *fakeGateway) set(status int, hang bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status, g.hang = status, hang
}

func (g *fakeGateway) got(tb testing.TB) []gatewayRequest {
	tb.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.requests...)
}

func mustGateway(tb testing.TB, cfg sms.HTTPGateway) *sms.HTTPGateway {
	tb.Helper()
	gw, err := sms.NewHTTPGateway(cfg)
	if err != nil {
		tb.Fatalf("NewHTTPGateway: %v", err)
	}
	return gw
}

const jsonBody = `{"to": {{json .To}}, "message": {{json .Text}}}`

func TestHTTPGateway_Send(t *testing.T) {
	fg := newFakeGateway(t)
	gw := mustGateway(t, sms.HTTPGateway{
		URL:          fg.URL + "/v1/messages?account=portvakt",
		Header:       map[string]string{"Authorization": "Bearer s3cret", "X-Api-Version": "2"},
		BodyTemplate: jsonBody,
	})
	texts := map[string]string{
		"plain":                         "Your Portvakt code is 123456",
		"quotes, backslash and newline": "Say \"hi\"\\ then\nnext line\r\n\ttab",
		"Nordic letters and emoji":      "Koden din er 123456. Hilsen Portvakt æøå ÆØÅ 🔐",
		"HTML and a line separator":     "<b>&amp;</b> \u2028 end",
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			if err := gw.Send(t.Context(), "+4791234567", text); err != nil {
				t.Fatalf("Send: %v", err)
			}
			reqs := fg.got(t)
			r := reqs[len(reqs)-1]
			if r.Method != http.MethodPost || r.Path != "/v1/messages?account=portvakt" {
				t.Errorf("request = %s %s, want POST /v1/messages?account=portvakt", r.Method, r.Path)
			}
			for k, want := range map[string]string{
				"Authorization": "Bearer s3cret", "X-Api-Version": "2", "Content-Type": "application/json",
			} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", r.Body, err)
			}
			if body["to"] != "+4791234567" || body["message"] != text || len(body) != 2 {
				t.Errorf("body = %q, want to +4791234567 and message %q", body, text)
			}
		})
	}
}

func TestHTTPGateway_FormBodyAndMethod(t *testing.T) {
	fg := newFakeGateway(t)
	gw := mustGateway(t, sms.HTTPGateway{
		URL:          fg.URL + "/send",
		Method:       "put",
		BodyTemplate: "to={{urlquery .To}}&text={{urlquery .Text}}",
		ContentType:  "application/x-www-form-urlencoded",
	})
	text := "Kode: 123 456 & mer=ja\n"
	if err := gw.Send(t.Context(), "+4520123456", text); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := fg.got(t)[0]
	if r.Method != http.MethodPut || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("request = %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	form, err := url.ParseQuery(r.Body)
	if err != nil || form.Get("to") != "+4520123456" || form.Get("text") != text {
		t.Errorf("body %q parsed = %v, %v", r.Body, form, err)
	}
}

func TestHTTPGateway_Errors(t *testing.T) {
	const to, text = "+4791234567", "Your code is 123456"
	// noLeak checks that an error names neither the number nor the text
	// nor the secrets in the URL and headers.
	noLeak := func(t *testing.T, err error) {
		t.Helper()
		for _, s := range []string{to, "91234567", "123456", text, "s3cret", "key=topsecret"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains %q", err, s)
			}
		}
	}
	newGW := func(t *testing.T, fg *fakeGateway, timeout time.Duration) *sms.HTTPGateway {
		return mustGateway(t, sms.HTTPGateway{
			URL:          fg.URL + "/send?key=topsecret",
			Header:       map[string]string{"Authorization": "Bearer s3cret"},
			BodyTemplate: jsonBody,
			Timeout:      timeout,
		})
	}

	t.Run("a 2xx other than 200 is success", func(t *testing.T) {
		fg := newFakeGateway(t)
		fg.set(http.StatusAccepted, false)
		if err := newGW(t, fg, 0).Send(t.Context(), to, text); err != nil {
			t.Errorf("Send with 202 = %v, want nil", err)
		}
	})
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusFound} {
		t.Run("status "+http.StatusText(status)+" is an error", func(t *testing.T) {
			fg := newFakeGateway(t)
			fg.set(status, false)
			err := newGW(t, fg, 0).Send(t.Context(), to, text)
			var pe *sms.ProviderError
			if !errors.As(err, &pe) || pe.StatusCode != status {
				t.Fatalf("Send = %v, want a *ProviderError with status %d", err, status)
			}
			if want := status == 429 || status >= 500; pe.Temporary() != want {
				t.Errorf("Temporary() = %v, want %v", pe.Temporary(), want)
			}
			if !strings.Contains(err.Error(), http.StatusText(status)) {
				t.Errorf("error %q does not name the status", err)
			}
			noLeak(t, err)
		})
	}
	t.Run("a timeout is an error", func(t *testing.T) {
		fg := newFakeGateway(t)
		fg.set(0, true)
		start := time.Now()
		err := newGW(t, fg, 100*time.Millisecond).Send(t.Context(), to, text)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send took %s with a 100ms timeout", d)
		}
		noLeak(t, err)
	})
	t.Run("a cancelled context is an error", func(t *testing.T) {
		fg := newFakeGateway(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := newGW(t, fg, 0).Send(ctx, to, text); !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want context.Canceled", err)
		}
	})
	t.Run("a closed server is an error", func(t *testing.T) {
		fg := newFakeGateway(t)
		gw := newGW(t, fg, 0)
		fg.Close()
		err := gw.Send(t.Context(), to, text)
		if err == nil {
			t.Fatal("Send to a closed server = nil")
		}
		noLeak(t, err)
	})
	t.Run("bad messages are refused before the request", func(t *testing.T) {
		fg := newFakeGateway(t)
		gw := newGW(t, fg, 0)
		for _, m := range []struct{ to, text string }{
			{"91234567", text}, {"+47 912 34 567", text}, {"", text},
			{to, ""}, {to, strings.Repeat("å", sms.MaxTextLength+1)},
		} {
			if err := gw.Send(t.Context(), m.to, m.text); err == nil {
				t.Errorf("Send(%q, %d characters) = nil, want an error", m.to, len([]rune(m.text)))
			}
		}
		if n := len(fg.got(t)); n != 0 {
			t.Errorf("the gateway got %d requests, want 0", n)
		}
	})
	t.Run("a gateway not made by NewHTTPGateway does not send", func(t *testing.T) {
		fg := newFakeGateway(t)
		gw := &sms.HTTPGateway{URL: fg.URL, BodyTemplate: jsonBody}
		if err := gw.Send(t.Context(), to, text); err == nil {
			t.Error("Send on a literal = nil, want an error")
		}
	})
}

func TestNewHTTPGateway_Config(t *testing.T) {
	valid := sms.HTTPGateway{URL: "https://sms.example.com/send", BodyTemplate: jsonBody}
	tests := []struct {
		name   string
		modify func(*sms.HTTPGateway)
		want   []string // "path: message fragment", in order
	}{
		{"valid", func(*sms.HTTPGateway) {}, nil},
		{"loopback http is allowed", func(g *sms.HTTPGateway) { g.URL = "http://127.0.0.1:8080/send" }, nil},
		{"every mistake at once", func(g *sms.HTTPGateway) {
			*g = sms.HTTPGateway{Method: "DELETE", Timeout: -time.Second, ContentType: "json please"}
		}, []string{"url: is required", "method: must be one of POST, PUT, PATCH", "timeout: must not be negative",
			"content_type: ", "body_template: is required"}},
		{"http to a remote host", func(g *sms.HTTPGateway) { g.URL = "http://sms.example.com/send" }, []string{"url: must use https"}},
		{"relative URL", func(g *sms.HTTPGateway) { g.URL = "/send" }, []string{"url: must be an absolute https URL"}},
		{"credentials in the URL", func(g *sms.HTTPGateway) { g.URL = "https://user:pw@sms.example.com/" }, []string{"url: must not contain a user name"}},
		{"bad headers", func(g *sms.HTTPGateway) {
			g.Header = map[string]string{"Bad Name": "x", "Content-Type": "text/plain", "X-Key": "a\r\nInjected: yes"}
		}, []string{"header.Bad Name: is not a valid header name", "header.Content-Type: cannot be set here", "header.X-Key: contains a control character"}},
		{"template syntax", func(g *sms.HTTPGateway) { g.BodyTemplate = `{"to": {{json .To}` }, []string{"body_template: template: body"}},
		{"unknown function", func(g *sms.HTTPGateway) { g.BodyTemplate = `{{jsonify .To}}` }, []string{"body_template: ", "jsonify"}},
		{"unknown field", func(g *sms.HTTPGateway) { g.BodyTemplate = `{"to": {{json .Phone}}}` }, []string{"body_template: ", "Phone"}},
		// The classic mistake: quotes around {{.Text}} break on a quote in the text.
		{"JSON without json", func(g *sms.HTTPGateway) { g.BodyTemplate = `{"to": "{{.To}}", "message": "{{.Text}}"}` },
			[]string{"body_template: does not make valid JSON"}},
		{"form body is not checked as JSON", func(g *sms.HTTPGateway) {
			g.BodyTemplate = "to={{.To}}&text={{.Text}}"
			g.ContentType = "application/x-www-form-urlencoded"
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.modify(&cfg)
			gw, err := sms.NewHTTPGateway(cfg)
			if tt.want == nil {
				if err != nil || gw == nil {
					t.Fatalf("NewHTTPGateway = %v, %v; want a gateway", gw, err)
				}
				return
			}
			var ce *sms.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("NewHTTPGateway = %v, %v; want a *ConfigError", gw, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Injected") || strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q repeats a secret", err)
			}
		})
	}
}

func TestNewHTTPGateway_Defaults(t *testing.T) {
	gw := mustGateway(t, sms.HTTPGateway{URL: "https://sms.example.com/send", BodyTemplate: jsonBody})
	if gw.Method != http.MethodPost || gw.ContentType != "application/json" || gw.Timeout != sms.DefaultTimeout {
		t.Errorf("defaults = %s, %s, %s; want POST, application/json, %s", gw.Method, gw.ContentType, gw.Timeout, sms.DefaultTimeout)
	}
}

func TestTransport(t *testing.T) {
	var _ notify.Transport = sms.Transport{}
	fg := newFakeGateway(t)
	tr := sms.Transport{Sender: mustGateway(t, sms.HTTPGateway{URL: fg.URL, BodyTemplate: jsonBody})}
	m := store.Message{ID: "m1", Channel: store.ChannelSMS, To: "+4791234567", Text: "Your code is 123456"}
	if err := tr.Deliver(t.Context(), m); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if got := fg.got(t); len(got) != 1 || !strings.Contains(got[0].Body, "123456") {
		t.Errorf("gateway got %+v, want one request with the text", got)
	}
	m.Channel = store.ChannelEmail
	if err := tr.Deliver(t.Context(), m); err == nil {
		t.Error("Deliver of an email = nil, want an error")
	}
	if n := len(fg.got(t)); n != 1 {
		t.Errorf("gateway got %d requests, want still 1", n)
	}
}
