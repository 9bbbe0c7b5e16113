package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// Review of issue 12's benchmark client transport (conn.go).

// TestReviewConnTransportOnlyDialsItsServer: whatever host a request
// names (a redirect's Location, an absolute URL), connTransport sends it
// to the one address it was made for, the loopback server the benchmark
// started: it cannot be pointed anywhere else.
func TestReviewConnTransportOnlyDialsItsServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hosts := make(chan string, 4)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
		io.WriteString(w, "here")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	c := newClient("http://" + ln.Addr().String())
	for _, u := range []string{"http://example.com/elsewhere", "https://203.0.113.7:8443/x"} {
		resp, err := c.http.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "here" {
			t.Errorf("GET %s answered %q, want the loopback server's", u, b)
		}
		if h := <-hosts; !strings.Contains(u, h) {
			t.Errorf("GET %s arrived with Host %q", u, h)
		}
	}
}

// TestReviewConnTransportResendsOnceOnAClosedConnection: a kept
// connection the server closed is noticed and the request (with a body)
// sent again on a new one, once; a server that closes every connection
// at once is an error, not a loop.
func TestReviewConnTransportResendsOnceOnAClosedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})}
	go srv.Serve(ln)
	c := newClient("http://" + ln.Addr().String())
	post := func() (string, error) {
		resp, err := c.http.Post(c.base+"/echo", "text/plain", strings.NewReader("body"))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if got, err := post(); err != nil || got != "body" {
		t.Fatalf("first POST = %q, %v", got, err)
	}
	srv.SetKeepAlivesEnabled(false) // idle connections are closed
	srv.Close()
	ln2, err := net.Listen("tcp", ln.Addr().String())
	if err != nil {
		t.Skipf("could not listen again on %s: %v", ln.Addr(), err)
	}
	srv2 := &http.Server{Handler: srv.Handler}
	go srv2.Serve(ln2)
	if got, err := post(); err != nil || got != "body" {
		t.Errorf("POST after the server closed the kept connection = %q, %v; want it sent again", got, err)
	}
	srv2.Close()

	// A server that accepts and closes at once: an error after one resend.
	ln3, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln3.Close()
	go func() {
		for {
			cn, err := ln3.Accept()
			if err != nil {
				return
			}
			cn.Close()
		}
	}()
	c3 := newClient("http://" + ln3.Addr().String())
	if _, err := c3.http.Get(c3.base + "/"); err == nil {
		t.Errorf("GET from a server that closes every connection succeeded")
	}
}
