package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// DefaultTwilioBaseURL is Twilio's REST API.
const DefaultTwilioBaseURL = "https://api.twilio.com"

// Twilio sends messages through Twilio's Programmable Messaging API: a
// form-encoded POST to /2010-04-01/Accounts/{AccountSID}/Messages.json
// with HTTP basic authentication. Twilio answers 201 Created when it has
// queued the message; any other answer is a *ProviderError carrying
// Twilio's error code and message, with phone numbers in the message
// replaced by "[number]".
//
// Make one with NewTwilio; a struct literal does not send. A Twilio is
// safe for concurrent use.
type Twilio struct {
	// AccountSID is "AC" and 32 hex digits. Required.
	AccountSID string
	// AuthToken is the account's auth token. Required; never logged or
	// put in an error.
	AuthToken string
	// From is the sender: an E.164 number of the account, an alphanumeric
	// sender ID of up to 11 letters, digits and spaces (where the country
	// allows one), or a Messaging Service SID ("MG…", sent as
	// MessagingServiceSid). Required.
	From string
	// BaseURL defaults to DefaultTwilioBaseURL; tests point it at a
	// loopback server.
	BaseURL string
	// Client defaults to one that does not follow redirects.
	Client *http.Client
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration

	base string // BaseURL without a trailing slash; set by NewTwilio
}

// NewTwilio checks cfg and returns a sender with its defaults filled in.
// The error is a *ConfigError listing every mistake; the auth token is
// never repeated in it.
func NewTwilio(cfg Twilio) (*Twilio, error) {
	t := cfg
	c := configErrors{sender: "twilio"}
	if t.BaseURL == "" {
		t.BaseURL = DefaultTwilioBaseURL
	}
	if u := checkEndpoint(&c, "base_url", t.BaseURL, "account_sid and auth_token"); u != nil {
		if u.RawQuery != "" || u.Fragment != "" {
			c.add("base_url", "must not have a query or fragment")
		}
		t.base = strings.TrimSuffix(t.BaseURL, "/")
	}
	switch {
	case t.AccountSID == "":
		c.add("account_sid", "is required")
	case !isSID(t.AccountSID, "AC"):
		c.add("account_sid", "must be AC followed by 32 hex digits, as on the Twilio console")
	}
	if t.AuthToken == "" {
		c.add("auth_token", "is required")
	} else if strings.ContainsFunc(t.AuthToken, unicode.IsSpace) {
		c.add("auth_token", "contains white space (copied with a line break?)")
	}
	if t.From == "" {
		c.add("from", "is required: a number such as +4791234567, an alphanumeric sender ID, or a Messaging Service SID (MG…)")
	} else if !validFrom(t.From) {
		c.add("from", "%q is not an E.164 number, an alphanumeric sender ID (1-11 letters, digits and spaces, at least one letter) or a Messaging Service SID (MG and 32 hex digits)", t.From)
	}
	if t.Timeout < 0 {
		c.add("timeout", "must not be negative, but is %s", t.Timeout)
	}
	t.Timeout = orDefault(t.Timeout)
	if err := c.err(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Send implements Sender.
func (t *Twilio) Send(ctx context.Context, to, text string) error {
	if t.base == "" {
		return errors.New("sms: Twilio must be made by NewTwilio")
	}
	if err := checkMessage(to, text); err != nil {
		return err
	}
	form := url.Values{"To": {to}, "Body": {text}}
	if isSID(t.From, "MG") {
		form.Set("MessagingServiceSid", t.From)
	} else {
		form.Set("From", t.From)
	}
	req, err := t.request(ctx, http.MethodPost, "/Messages.json", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return t.do(req, http.StatusCreated)
}

// Check asks Twilio for the account (GET /2010-04-01/Accounts/{sid}.json),
// which tests the base URL and the credentials without sending a message.
// It is meant for the startup check; a wrong token is a *ProviderError
// with status 401.
func (t *Twilio) Check(ctx context.Context) error {
	if t.base == "" {
		return errors.New("sms: Twilio must be made by NewTwilio")
	}
	req, err := t.request(ctx, http.MethodGet, ".json", nil)
	if err != nil {
		return err
	}
	return t.do(req, http.StatusOK)
}

func (t *Twilio) request(ctx context.Context, method, suffix string, body io.Reader) (*http.Request, error) {
	u := t.base + "/2010-04-01/Accounts/" + url.PathEscape(t.AccountSID) + suffix
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("sms twilio: %w", err)
	}
	req.SetBasicAuth(t.AccountSID, t.AuthToken)
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// do sends req and turns any status but want into a *ProviderError.
func (t *Twilio) do(req *http.Request, want int) error {
	status, body, err := roundTrip(req.Context(), t.Client, t.Timeout, "twilio", req)
	if err != nil {
		return err
	}
	if status == want {
		return nil
	}
	pe := &ProviderError{Provider: "twilio", StatusCode: status}
	// Twilio's error body: {"code": 21211, "message": "The 'To' number
	// +1… is not a valid phone number.", "more_info": "https://…", "status": 400}
	var e struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal(body, &e) == nil {
		pe.Code = e.Code
		pe.Message = redact(e.Message)
		if strings.HasPrefix(e.MoreInfo, "https://www.twilio.com/") && !strings.ContainsAny(e.MoreInfo, " \n") {
			pe.Message = strings.TrimSpace(pe.Message + " (" + redact(e.MoreInfo) + ")")
		}
	}
	return pe
}

// isSID reports whether s is prefix followed by 32 hex digits.
func isSID(s, prefix string) bool {
	hex, ok := strings.CutPrefix(s, prefix)
	if !ok || len(hex) != 32 {
		return false
	}
	for i := range len(hex) {
		c := hex[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// validFrom reports whether s can be Twilio's sender.
func validFrom(s string) bool {
	if _, ok := e164Digits(s); ok {
		return true
	}
	if isSID(s, "MG") {
		return true
	}
	// An alphanumeric sender ID: 1–11 of A–Z, a–z, 0–9 and space, with
	// at least one letter (so it cannot pass for a number).
	if len(s) > 11 || strings.TrimSpace(s) != s {
		return false
	}
	letter := false
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9' || c == ' ':
		default:
			return false
		}
	}
	return letter
}
