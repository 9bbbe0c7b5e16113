package config

import (
	"slices"
)

// The sms section.
func (c Config) validateSMS(k *checker) {
	k.oneOf("sms.sender", c.SMS.Sender, "off", "dev", "http", "twilio")
	switch c.SMS.Sender {
	case "http":
		if c.SMS.HTTP.URL == "" {
			k.add("sms.http.url", "must be set when sms.sender is http")
		}
	case "twilio":
		if c.SMS.Twilio.AccountSID == "" {
			k.add("sms.twilio.account_sid", "must be set when sms.sender is twilio")
		}
		if c.SMS.Twilio.AuthToken == "" {
			k.add("sms.twilio.auth_token", "must be set when sms.sender is twilio")
		}
		if c.SMS.Twilio.From == "" {
			k.add("sms.twilio.from", "must be set when sms.sender is twilio (an E.164 number or a messaging service)")
		}
	case "dev":
		// Only where SMS codes are a method: IDEP's profile sends none.
		if !c.PublicIsLoopback() && slices.Contains(c.MFA.Methods, "sms") {
			k.warn("sms.sender: dev keeps SMS codes in the development mailbox; nobody receives them on a public server")
		}
	}
	for name, n := range map[string]int{"per_number_hour": c.SMS.PerNumber, "per_account_hour": c.SMS.PerAccount, "per_ip_hour": c.SMS.PerIP, "global_hour": c.SMS.Global} {
		if n < 1 {
			k.add("sms."+name, "must be at least 1, but is %d", n)
		}
	}
}
