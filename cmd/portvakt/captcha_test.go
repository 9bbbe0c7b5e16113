package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// The Visma Connect profile asks the proof-of-work challenge at "forgot
// password" (as its seed shows), and not at sign-up.
func TestVismaConnectAsksTheChallengeAtForgotPassword(t *testing.T) {
	t.Chdir(t.TempDir())
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	stderr := new(syncBuffer)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--profile", "visma-connect", "--listen", addr}, nil, nil, io.Discard, stderr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, stderr.String())
		}
	}()
	if code, body := waitGet(t, "http://"+addr+"/recover", stderr); code != 200 || !strings.Contains(body, "data-captcha") || !strings.Contains(body, "/static/altcha/altcha.min.js") {
		t.Errorf("GET /recover = %d without the challenge:\n%s", code, body)
	}
	if _, body := waitGet(t, "http://"+addr+"/signup", stderr); strings.Contains(body, "data-captcha") {
		t.Errorf("the sign-up page asks the challenge too")
	}
	if code, body := waitGet(t, "http://"+addr+"/api/v1/challenge", stderr); code != 200 || !strings.Contains(body, `"algorithm":"SHA-256"`) {
		t.Errorf("GET /api/v1/challenge = %d %s", code, body)
	}
}
