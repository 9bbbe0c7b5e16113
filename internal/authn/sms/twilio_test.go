package sms_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/portvakt/portvakt/internal/authn/sms"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "f00dfacef00dfacef00dfacef00dface"
)

// twilioRequest is what the fake Twilio saw.
type twilioRequest struct {
	Method, Path, User, Password, ContentType string
	Form                                      map[string][]string
}

// fakeTwilio imitates the parts of Twilio's REST API the sender uses:
// creating a message and fetching the account, with basic auth and
// Twilio's error bodies. Sending to +4799999999 fails like an invalid
// number does; status, when set, is returned for every request.
type fakeTwilio struct {
	*httptest.Server
	mu       sync.Mutex
	requests []twilioRequest
	status   int
}

func newFakeTwilio(tb testing.TB) *fakeTwilio {
	tb.Helper()
	f := &fakeTwilio{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		r.ParseForm()
		f.mu.Lock()
		f.requests = append(f.requests, twilioRequest{r.Method, r.URL.Path, user, pw, r.Header.Get("Content-Type"), r.PostForm})
		status := f.status
		f.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		twilioError := func(status, code int, msg string) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`, code, msg, code, status)
		}
		switch {
		case status == http.StatusServiceUnavailable:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprint(w, "<html>upstream down</html>")
		case user != testSID || pw != testToken:
			twilioError(http.StatusUnauthorized, 20003, "Authenticate")
		case r.Method == http.MethodGet && r.URL.Path == "/2010-04-01/Accounts/"+testSID+".json":
			fmt.Fprintf(w, `{"sid": %q, "status": "active"}`, testSID)
		case r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json":
			twilioError(http.StatusNotFound, 20404, "The requested resource was not found")
		case r.PostForm.Get("To") == "+4799999999":
			twilioError(http.StatusBadRequest, 21211, "The 'To' number +47 99 99 99 99 is not a valid phone number.")
		default:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": %q}`, r.PostForm.Get("To"))
		}
	}))
	tb.Cleanup(f.Close)
	return f
}

func (f *fakeTwilio) got() []twilioRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twilioRequest(nil), f.requests...)
}

func mustTwilio(tb testing.TB, cfg sms.Twilio) *sms.Twilio {
	tb.Helper()
	tw, err := sms.NewTwilio(cfg)
	if err != nil {
		tb.Fatalf("NewTwilio: %v", err)
	}
	return tw
}

func TestTwilio_Send(t *testing.T) {
	f := newFakeTwilio(t)
	text := "Portvakt: koden din er 123456.\nIkke del den med noen. 🔐"

	t.Run("a number as sender", func(t *testing.T) {
		tw := mustTwilio(t, sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: "+4759440000", BaseURL: f.URL + "/"})
		if err := tw.Send(t.Context(), "+4791234567", text); err != nil {
			t.Fatalf("Send: %v", err)
		}
		reqs := f.got()
		r := reqs[len(reqs)-1]
		if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
			t.Errorf("request = %s %s", r.Method, r.Path)
		}
		if r.User != testSID || r.Password != testToken {
			t.Errorf("basic auth = %q, %q; want the SID and token", r.User, r.Password)
		}
		if r.ContentType != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", r.ContentType)
		}
		want := map[string]string{"To": "+4791234567", "From": "+4759440000", "Body": text}
		for k, v := range want {
			if got := r.Form[k]; len(got) != 1 || got[0] != v {
				t.Errorf("form %s = %q, want %q", k, got, v)
			}
		}
		if len(r.Form) != len(want) {
			t.Errorf("form = %v, want only %v", r.Form, want)
		}
	})
	t.Run("a messaging service as sender", func(t *testing.T) {
		const mg = "MG0123456789abcdef0123456789abcdef"
		tw := mustTwilio(t, sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: mg, BaseURL: f.URL})
		if err := tw.Send(t.Context(), "+4791234567", text); err != nil {
			t.Fatalf("Send: %v", err)
		}
		reqs := f.got()
		r := reqs[len(reqs)-1]
		if r.Form["MessagingServiceSid"][0] != mg || r.Form["From"] != nil {
			t.Errorf("form = %v, want MessagingServiceSid and no From", r.Form)
		}
	})
}

func TestTwilio_Errors(t *testing.T) {
	const text = "Your code is 123456"
	tests := []struct {
		name      string
		token     string
		to        string
		status    int // forced on the fake
		wantCode  int
		wantHTTP  int
		wantInMsg string
	}{
		{"an invalid number", testToken, "+4799999999", 0, 21211, 400, "The 'To' number [number] is not a valid phone number. (https://www.twilio.com/docs/errors/21211)"},
		{"a wrong token", "0000000000000000000000000000dead", "+4791234567", 0, 20003, 401, "Authenticate"},
		{"an outage without JSON", testToken, "+4791234567", http.StatusServiceUnavailable, 0, 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			f.status = tt.status
			tw := mustTwilio(t, sms.Twilio{AccountSID: testSID, AuthToken: tt.token, From: "Portvakt", BaseURL: f.URL})
			err := tw.Send(t.Context(), tt.to, text)
			var pe *sms.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("Send = %v, want a *ProviderError", err)
			}
			if pe.Provider != "twilio" || pe.StatusCode != tt.wantHTTP || pe.Code != tt.wantCode || !strings.Contains(pe.Message, tt.wantInMsg) {
				t.Errorf("Send = %+v, want status %d, code %d, message with %q", pe, tt.wantHTTP, tt.wantCode, tt.wantInMsg)
			}
			if pe.Temporary() != (tt.wantHTTP >= 500) {
				t.Errorf("Temporary() = %v for %d", pe.Temporary(), tt.wantHTTP)
			}
			for _, leak := range []string{tt.to, tt.to[3:], "99 99 99", text, "123456", tt.token} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q contains %q", err, leak)
				}
			}
		})
	}
}

func TestTwilio_Check(t *testing.T) {
	f := newFakeTwilio(t)
	good := mustTwilio(t, sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: "+4759440000", BaseURL: f.URL})
	if err := good.Check(t.Context()); err != nil {
		t.Errorf("Check with the right token = %v", err)
	}
	bad := mustTwilio(t, sms.Twilio{AccountSID: testSID, AuthToken: "wrong", From: "+4759440000", BaseURL: f.URL})
	var pe *sms.ProviderError
	if err := bad.Check(t.Context()); !errors.As(err, &pe) || pe.StatusCode != http.StatusUnauthorized || strings.Contains(err.Error(), "wrong") {
		t.Errorf("Check with a wrong token = %v, want a 401 *ProviderError without the token", err)
	}
	for _, r := range f.got() {
		if r.Method != http.MethodGet {
			t.Errorf("Check sent %s %s; it must not send a message", r.Method, r.Path)
		}
	}
}

func TestNewTwilio_Config(t *testing.T) {
	tw, err := sms.NewTwilio(sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: "Portvakt"})
	if err != nil || tw.BaseURL != sms.DefaultTwilioBaseURL || tw.Timeout != sms.DefaultTimeout {
		t.Fatalf("NewTwilio(valid) = %+v, %v; want the defaults", tw, err)
	}
	tests := []struct {
		name string
		cfg  sms.Twilio
		want []string
	}{
		{"every mistake at once", sms.Twilio{BaseURL: "ftp://api.twilio.com", Timeout: -1},
			[]string{"base_url: must be an absolute https URL", "account_sid: is required", "auth_token: is required", "from: is required", "timeout: must not be negative"}},
		{"malformed values", sms.Twilio{AccountSID: "AC123", AuthToken: "tok en\n", From: "Portvakt AS Norge"},
			[]string{"account_sid: must be AC followed by 32 hex digits", "auth_token: contains white space", `from: "Portvakt AS Norge" is not`}},
		{"http to Twilio", sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: "+4759440000", BaseURL: "http://api.twilio.com"},
			[]string{"base_url: must use https"}},
		{"a sender ID of digits only", sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: "12345"},
			[]string{`from: "12345" is not`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sms.NewTwilio(tt.cfg)
			var ce *sms.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("NewTwilio = %v, want a *ConfigError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if len(ce.Fields) != len(tt.want) {
				t.Errorf("got %d mistakes, want %d: %v", len(ce.Fields), len(tt.want), err)
			}
			if tt.cfg.AuthToken != "" && strings.Contains(err.Error(), tt.cfg.AuthToken) {
				t.Errorf("error %q repeats the auth token", err)
			}
		})
	}
	if err := (&sms.Twilio{AccountSID: testSID, AuthToken: testToken, From: "Portvakt"}).Send(t.Context(), "+4791234567", "x"); err == nil {
		t.Error("Send on a literal = nil, want an error")
	}
}
