package web_test

import (
	"fmt"
	"testing"
)

// Someone holding only the password signs in again and again, each time
// as a new browser (no cookies kept): every sign-in is a "new device",
// but the owner's mailbox is not flooded (which would bury the alerts
// and the mails that matter among thousands): the new-device mails to
// one account are budgeted like every other mail kind.
func TestNewDeviceMail_floodIsBudgeted(t *testing.T) {
	e := newEnv(t)
	newAccountWithPassword(t, e, "Kari Nordmann", "kari@example.no")
	newUABrowser(t, e, uaFirefox, "192.0.2.7").signIn("kari@example.no")
	for i := 0; i < 25; i++ {
		newUABrowser(t, e, fmt.Sprintf("%s x%d", uaChrome, i), "198.51.100.66").signIn("kari@example.no")
	}
	if n := len(mails(t, e, "kari@example.no", "New sign-in")); n == 0 || n > 10 {
		t.Errorf("%d new-device mails for 25 sign-ins from one address in minutes, want between 1 and 10", n)
	}
}
