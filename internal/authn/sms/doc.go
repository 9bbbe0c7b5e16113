// Package sms reads phone numbers and sends text messages: the parts of
// the SMS sign-in method that talk to the outside world. Deciding when a
// code may be sent, rendering it in the user's language and checking it
// belong to the caller.
//
// SMS is a RESTRICTED authenticator (NIST SP 800-63B-4 §3.1.3.3,
// SECURITY.md §2.4): it is never the only second factor on offer, and a
// new number is bound like any new authenticator. Sending costs money,
// which makes the send path a target of SMS pumping (SECURITY.md §5.8);
// the checks against it live in the caller, and this package gives it
// what it needs (Country for the allowlist, MaxTextLength as a cap).
//
// # Phone numbers
//
// ParsePhone turns what a person types into E.164, the only form stored,
// compared and sent:
//
//	sms.ParsePhone("912 34 567", "NO")        // "+4791234567"
//	sms.ParsePhone("0047 912 34 567", "NO")   // "+4791234567"
//	sms.ParsePhone("070-123 45 67", "SE")     // "+46701234567"
//	sms.ParsePhone("+44 (0)7911 123456", "")  // "+447911123456"
//	sms.ParsePhone("+372 5123 4567", "NO")    // problem phone.unknown_country {code: "+372"}
//
// The numbering table is small on purpose, one row per country served
// (NO, SE, DK, FI, IS, DE, GB, US; see Regions): calling code, trunk
// prefix, international prefix and the lengths of the national number. A
// number from another country is refused with phone.unknown_country
// rather than accepted unchecked. The checks are about shape (country,
// length, no leading 0); whether a number can receive SMS is learned by
// sending the code.
//
// Mistakes are a *problem.Problem of kind Invalid on field "phone"; the
// keys and their arguments are listed on ParsePhone. The user's input is
// kept in the form, and the message states the rule ("A number starting
// with +47 has 8 digits").
//
// Country returns a number's region for the allowlist, treating the +1
// area codes of Canada and the Caribbean as the countries they are:
//
//	if !slices.Contains(cfg.Countries, sms.Country(phone)) {
//		… refuse before any provider is called; "" is never allowed …
//	}
//
// Mask shows a number without giving it away, "+47 ••• •• 567", on the
// "we sent a code to" page and in the account's list of factors.
//
// # Senders
//
// Sender has one method, Send(ctx, to, text). Three implementations:
//
//	Outbox       development: the message is kept in the outbox, marked
//	             sent, and the dev mailbox (/dev/mail) shows it with
//	             channel "sms"
//	HTTPGateway  any provider with an HTTP API: URL, method, headers and
//	             a body template
//	Twilio       Twilio's Messages API
//
// A Sender either is called directly by the flow or, through Transport,
// by the notify Worker from the outbox (for retries while a provider is
// down):
//
//	notify.ByChannel{store.ChannelEmail: smtp, store.ChannelSMS: sms.Transport{Sender: gw}}
//
// NewHTTPGateway and NewTwilio check their configuration and return a
// *ConfigError listing every mistake at once, each with its key ("url",
// "body_template", "account_sid") so the config package can prefix its
// section. A gateway for a JSON API:
//
//	gw, err := sms.NewHTTPGateway(sms.HTTPGateway{
//		URL:          "https://sms.example.com/v1/messages",
//		Header:       map[string]string{"Authorization": "Bearer " + key},
//		BodyTemplate: `{"to": {{json .To}}, "message": {{json .Text}}}`,
//	})
//
// and for a form API, ContentType "application/x-www-form-urlencoded" with
// `to={{urlquery .To}}&text={{urlquery .Text}}`. With a JSON content type,
// NewHTTPGateway renders the template once with a text full of quotes and
// line breaks and refuses it unless the result is valid JSON, which
// catches "{{.Text}}" written without json.
//
// # Security
//
//   - No error from this package contains a phone number or a message
//     text (a text holds a sign-in code): errors name the provider, the
//     host and the HTTP status. Twilio's error messages are kept, with
//     anything that looks like a number replaced by "[number]"; a generic
//     gateway's response body is never read into an error.
//   - Every Send checks that the recipient is E.164 and that the text is
//     not empty and at most MaxTextLength characters before calling a
//     provider.
//   - Endpoints must be https; http is allowed only to a loopback host.
//     URLs are never repeated in errors, as gateways put keys in them.
//   - The default HTTP client does not follow redirects, so credentials
//     are never sent to another host and a moved API is an error.
//   - Each request is bounded by Timeout (DefaultTimeout, 10 seconds).
//     ProviderError.Temporary tells a 429 or 5xx (try later) from a
//     refusal.
//
// # Testing
//
// The tests run real HTTP servers on 127.0.0.1 (httptest) standing in for
// the gateway and Twilio, and the Outbox sender writes to SQLite in a
// temporary directory. Tests of the flows above this package use the
// Outbox sender and read the outbox, as a person would read the dev
// mailbox.
package sms
