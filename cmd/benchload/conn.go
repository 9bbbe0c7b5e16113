package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// connTransport is one simulated client's connection to the server: a
// request is written and its response read in the goroutine that sends
// it, on one kept-alive connection, as a browser or a proxy in front of
// the server keeps one.
//
// Why not net/http's Transport. It serves each connection with a reader
// and a writer goroutine of its own and hands every request and response
// between them and the caller; with http.Client's Timeout it starts a
// timer for each request too. On this 2-core VM (where a wake-up between
// threads costs the hypervisor) that cost the clients 0.8–1.0 CPU-ms a
// password login (two requests), on the same two cores the server hashes
// on, so the benchmark took from the server what no client of a deployed
// server takes. The load tools this is compared with (wrk, k6's
// connection reuse) send from the sending thread too.
//
// A connTransport is used by one goroutine at a time (each client is one
// goroutine), and a response's body must be read or closed before the
// next request, as http.Client's callers here do.
type connTransport struct {
	addr string // host:port
	xff  string // X-Forwarded-For for every request, if not empty
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	open *connBody // the last response's body
}

// requestTimeout bounds one request (it was http.Client's Timeout).
const requestTimeout = 60 * time.Second

func (t *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.xff != "" {
		// The requests are this program's own, made for this call, so
		// setting a header on them is safe.
		req.Header.Set("X-Forwarded-For", t.xff)
	}
	if t.open != nil {
		t.open.Close() // read to its end, so the next response can be read
		t.open = nil
	}
	for attempt := 0; ; attempt++ {
		reused := t.c != nil
		if !reused {
			c, err := net.DialTimeout("tcp", t.addr, requestTimeout)
			if err != nil {
				return nil, err
			}
			t.c, t.br, t.bw = c, bufio.NewReaderSize(c, 16<<10), bufio.NewWriterSize(c, 8<<10)
		}
		t.c.SetDeadline(time.Now().Add(requestTimeout))
		err := req.Write(t.bw)
		if err == nil {
			err = t.bw.Flush()
		}
		var resp *http.Response
		if err == nil {
			resp, err = http.ReadResponse(t.br, req)
		}
		if err == nil {
			t.open = &connBody{t: t, body: resp.Body, close: resp.Close}
			resp.Body = t.open
			return resp, nil
		}
		t.drop()
		// A kept connection the server has closed meanwhile (its idle
		// timeout between cells) fails at once: send again, once, on a
		// new one, if the body can be read again.
		if !reused || attempt > 0 || (req.Body != nil && req.GetBody == nil) {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
		if req.GetBody != nil {
			b, gerr := req.GetBody()
			if gerr != nil {
				return nil, gerr
			}
			req.Body = b
		}
	}
}

func (t *connTransport) drop() {
	if t.c != nil {
		t.c.Close()
	}
	t.c, t.br, t.bw = nil, nil, nil
}

// connBody reads a response's body; Close drains what is left, so that
// the connection can carry the next request, or drops the connection if
// the server said it closes it or the body could not be read to its end.
type connBody struct {
	t     *connTransport
	body  io.ReadCloser
	close bool
	done  bool
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errors.New("read after close")
	}
	return b.body.Read(p)
}

func (b *connBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	_, err := io.Copy(io.Discard, b.body)
	b.body.Close()
	if err != nil || b.close {
		b.t.drop()
	}
	return nil
}
