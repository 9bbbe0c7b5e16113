// Package e2e walks Portvakt's user journeys in a real browser (Debian's
// headless Chromium through internal/browsertest) against the whole
// application, started in-process on a free loopback port with its own
// SQLite database, exactly as `portvakt serve` builds it.
//
// Journeys check what the user sees: the language of the page, the text
// of an error, which field it is attached to, that their input is kept.
package e2e
