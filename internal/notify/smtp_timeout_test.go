package notify_test

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/notify"
	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/testwait"
)

// stallingServer accepts SMTP connections on loopback and answers until
// stallAt (a command such as "DATA", or "" for the greeting), and from
// then on says nothing. It returns the port.
func stallingServer(t *testing.T, stallAt string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				stall := func() { <-done }
				if stallAt == "" {
					stall()
					return
				}
				w := bufio.NewWriter(c)
				say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
				say("220 stall.test ESMTP")
				r := bufio.NewReader(c)
				for range 100 { // a bounded conversation
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					verb := strings.ToUpper(strings.Fields(line + " x")[0])
					if verb == stallAt {
						stall()
						return
					}
					switch verb {
					case "EHLO", "HELO":
						say("250 stall.test")
					case "DATA":
						say("354 go ahead")
					case "QUIT":
						say("221 bye")
						return
					default:
						say("250 ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestSMTPServerThatStopsAnsweringFailsTheDelivery: a server that accepts
// the connection and then goes quiet (at the greeting, or after the
// message's DATA) fails the delivery once the timeout passes, so the
// outbox worker moves on and retries later.
func TestSMTPServerThatStopsAnsweringFailsTheDelivery(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, stallAt := range []string{"", "DATA", "RCPT"} {
		name := "at " + stallAt
		if stallAt == "" {
			name = "before the greeting"
		}
		t.Run(name, func(t *testing.T) {
			port := stallingServer(t, stallAt)
			tr := newSMTP(t, notify.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: notify.TLSNone,
				From: "Portvakt <no-reply@example.org>", Timeout: timeout})
			m := store.Message{ID: "msg-" + strconv.Itoa(port), Channel: store.ChannelEmail, To: "kari@example.no",
				Subject: "Kode", Text: "123456", CreatedAt: time.Now()}
			start := time.Now()
			err := tr.Deliver(t.Context(), m)
			took := time.Since(start)
			if err == nil {
				t.Fatal("Deliver to a silent server succeeded")
			}
			if took < timeout {
				t.Errorf("Deliver failed after %s, before the %s timeout: %v", took, timeout, err)
			}
			// Dial, then the conversation: at most two timeouts, and far
			// more slack than that for a loaded machine.
			if bound := 2*timeout + testwait.D(20*time.Second); took > bound {
				t.Errorf("Deliver took %s, want it bounded by the timeout", took)
			}
		})
	}
}
