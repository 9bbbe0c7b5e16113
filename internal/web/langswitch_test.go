package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSwitchBack(t *testing.T) {
	tests := []struct {
		name, method, target, body, want string
	}{
		{"a GET page keeps its query", "GET", "/signup/code?flow=f1", "", "/signup/code?flow=f1"},
		{"a one-time notice is dropped", "GET", "/?notice=signed-out", "", "/"},
		{"an authorization request is kept", "GET", "/login/password?auth=a1&flow=f2", "", "/login/password?auth=a1&flow=f2"},
		{"a POST re-render returns to its GET step with the form's flow", "POST", "/login/password", "flow=f3&password=secret", "/login/password?flow=f3"},
		// The code and the token the form carried stay out of the URL.
		{"a resend returns to the code step", "POST", "/signup/resend", "flow=f4&code=123456&token=t", "/signup/code?flow=f4"},
		{"sending the second step returns to the second step", "POST", "/login/factor/send", "flow=f5&method=sms&return_to=%2Fpay", "/login/factor?flow=f5&method=sms&return_to=%2Fpay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if got := switchBack(r); got != tt.want {
				t.Errorf("switchBack(%s %s %s) = %q, want %q", tt.method, tt.target, tt.body, got, tt.want)
			}
		})
	}
}
