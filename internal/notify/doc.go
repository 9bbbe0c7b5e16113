// Package notify sends Portvakt's mail: it renders localized messages,
// keeps them in the outbox, and delivers them from there with retries.
//
// # How a message travels
//
// A request that decides to send mail calls Mailer.Send. Send renders the
// template in the recipient's language and writes the result to the
// outbox (store.Outbox) as a store.Message; it never talks to a mail
// server. A request therefore neither fails nor slows down when SMTP is
// down, and the time a send takes does not reveal whether an account
// exists.
//
//	request ──Send──▶ outbox ◀──claim/mark── Worker ──Deliver──▶ Transport (SMTP, Dev)
//	           │                                ▲
//	           └──────── Config.Enqueued ──Kick─┘
//
// A Worker claims due messages (store.Outbox.ClaimMessages leases them,
// so workers on several nodes never take the same one), hands each to a
// Transport, and marks it sent, or failed with the next attempt pushed
// back by Backoff: 10s, 20s, 40s, … up to 15 minutes. Messages are never
// dropped. Run polls every Interval; Kick, wired to Config.Enqueued, makes
// it start at once.
//
// The lease is short (DefaultLease, 20 s) and renewed while the worker
// sends, so a node that dies holding mail hands it over within about 30 s:
// when the lease ends, another node's next pass sends it. SMTP connects
// within DialTimeout and the conversation is bounded by Timeout, so a
// silent server never holds the worker.
//
// # Transports
//
// SMTP submits to a mail server through github.com/wneessen/go-mail. The
// TLS mode is explicit: "starttls" (the default, STARTTLS required),
// "implicit" (SMTPS), "opportunistic" (no password allowed) or "none"
// (loopback only). A password is sent only over TLS or to loopback. Each
// message goes out as multipart/alternative text and HTML with a
// Message-ID made from the outbox ID, Date, Content-Language and
// "Auto-Submitted: auto-generated".
//
// Dev delivers nowhere: messages are marked sent and stay in the outbox,
// where the development mailbox page shows them. ByChannel routes email
// and SMS to different transports behind one Worker.
//
// Logs carry message IDs and attempt counts, never recipients, subjects
// or bodies, which may hold sign-in codes and links.
//
// # Templates
//
// Templates are embedded from templates/ and parsed once per language, on
// the first mail in that language (an idle server holds none, issue 12);
// TestMailer_Send renders every one in every language. New fails, naming
// each, if a template or the layout is missing, or if a template file is
// not in the list of names (and, for templates passed in Config, if a
// subject key is missing or a template does not parse). A template is
// two files:
//
//	templates/<name>.txt   text/template, the plain-text body
//	templates/<name>.html  html/template, the HTML body
//
// Each is the "content" of the shared layout (layout.txt adds a footer,
// layout.html the page with lang set, inline styles and the footer).
// Templates see TemplateData as dot and two functions:
//
//	{{t "mail.reset.body" "minutes" .Data.minutes}}   translate into the recipient's language
//	{{url "/reset" "token" .Data.token}}              absolute link under the configured BaseURL
//
// The subject is the catalog key mail.<name>.subject, given the Send data
// (except "count", which would ask the catalog for a plural form) and
// "service" as arguments. Texts live only in the i18n catalogs (never
// in the template files), so a template is translated once for all
// languages. Links are built only from Config.BaseURL, never from the
// request, so a forged Host header cannot redirect a reset link.
//
// # Adding a template
//
//  1. Add a constant TemplateFoo = "foo" beside TemplateTest in render.go
//     and append it to templateNames.
//  2. Write templates/foo.txt and templates/foo.html.
//  3. Add mail.foo.subject and the body keys to locales/mail.en.json, mail.nb.json
//     and mail.sv.json, with the same placeholders in each.
//  4. If it needs data, give it a row in sampleData in mailer_test.go. Run
//     go test ./internal/notify -update and read the new
//     testdata/foo.{en,nb,sv}.golden before committing them.
//
// Callers then send it with
//
//	err := mailer.Send(ctx, addr, lang, notify.TemplateFoo, map[string]any{"minutes": 10})
//
// # Testing
//
// The notifytest package runs a real SMTP server on loopback (STARTTLS,
// implicit TLS, AUTH, and a failing mode for retries). Workers take an
// injected clock, so retries and backoff are tested by moving time, and
// DeliverDue does one pass without goroutines.
package notify
