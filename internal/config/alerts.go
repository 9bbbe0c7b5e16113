package config

import (
	"fmt"
	"time"
)

// Alerts are the mails that tell users of what happens to their account
// beyond their own changes (issue 15).
type Alerts struct {
	// NewDevice mails every verified address when the account is signed
	// in to from a browser it has not been used from before, with a "this
	// wasn't me" link (on by default).
	NewDevice bool `yaml:"new_device"`
	// NotMeTTL is how long that link works.
	NotMeTTL Span `yaml:"not_me_ttl"`
}

func defaultAlerts() Alerts { return Alerts{NewDevice: true, NotMeTTL: "7d"} }

// validate reports the alerts' mistakes.
func (a Alerts) validate() Errors {
	d, err := ParseSpan(string(a.NotMeTTL))
	switch {
	case err != nil:
		return Errors{{Path: "alerts.not_me_ttl", Message: err.Error()}}
	case d < time.Hour || d > 30*24*time.Hour:
		return Errors{{Path: "alerts.not_me_ttl", Message: fmt.Sprintf("must be between 1h and 30d, but is %s", a.NotMeTTL)}}
	}
	return nil
}
