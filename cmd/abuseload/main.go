// Command abuseload measures Portvakt under the attacks of issue 10 and
// prints the figures; it asserts nothing. It starts the server in-process
// on loopback (SQLite in a temporary directory, the default configuration
// with username sign-in on), and plays the attacker from 127.0.1.1 and
// legitimate users from 127.0.0.1 (two /24 networks of the loopback /8, so
// no proxy is needed). Every scenario is bounded by its request count.
//
//	go run ./cmd/abuseload [-flood 3000] [-concurrency 400] [-users 20]
//
// Scenarios:
//
//   - guessing: one account's password guessed from one address, then
//     200 accounts × 1 guess from one address: guesses evaluated (answered
//     "wrong") before the stop, and hashes spent;
//   - codes: 40 reset flows × 5 code guesses for one account from one
//     address: mails queued and guesses evaluated;
//   - flood: -flood sign-ins of unknown accounts from one address,
//     -concurrency at a time, while -users sign-ins of a real account from
//     another network run one after another: the users' latency, and how
//     the flood was answered;
//   - mail: 200 reset requests for one victim: mails queued.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portvakt/portvakt/internal/app"
	"github.com/portvakt/portvakt/internal/authn/password"
	"github.com/portvakt/portvakt/internal/config"
	"github.com/portvakt/portvakt/internal/flow"
	"github.com/portvakt/portvakt/internal/store"
)

var (
	flagFlood       = flag.Int("flood", 3000, "sign-in requests in the hash flood")
	flagConcurrency = flag.Int("concurrency", 400, "flood requests in flight at once")
	flagUsers       = flag.Int("users", 20, "legitimate sign-ins during the flood")
)

const userPassword = "a long passphrase for kari at the fjord"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "abuseload:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "abuseload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(dir, "portvakt.db")
	cfg.Login.Methods = []string{"email", "username"}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	for _, u := range []flow.NewAccount{
		{Username: "kari", Name: "Kari", Email: "kari@example.no", Password: userPassword},
		{Username: "victim", Name: "Victim", Email: "victim@example.no", Password: userPassword},
	} {
		if _, err := a.Flows.CreateAccount(ctx, u); err != nil {
			return err
		}
	}
	h := a.Flows.Hasher
	fmt.Printf("abuseload: server on %s, hash pool of %d slots (%s)\n\n", base, h.Concurrency(), time.Now().UTC().Format(time.RFC3339))

	// Guessing one account, then many accounts, from one address.
	attacker := clientFrom("127.0.1.1", *flagConcurrency)
	out, hashes := tally(h, func(i int) int {
		return post(attacker, base+"/login/username", url.Values{"username": {"victim"}, "password": {fmt.Sprintf("guess %d", i)}})
	}, 300, 1)
	fmt.Printf("guessing one account's password, 300 tries from one address: %s; %d hashes\n", out, hashes)
	attacker2 := clientFrom("127.0.2.1", *flagConcurrency)
	out, hashes = tally(h, func(i int) int {
		return post(attacker2, base+"/login/username", url.Values{"username": {fmt.Sprintf("user%d", i)}, "password": {"Summer2026!"}})
	}, 200, 1)
	fmt.Printf("200 accounts × 1 try from one address: %s; %d hashes\n", out, hashes)

	// Emailed codes.
	codes := clientFrom("127.0.3.1", 8)
	guesses := map[int]int{}
	for f := range 40 {
		jar := newJarClient(codes)
		st, loc := postLoc(jar, base+"/recover", url.Values{"email": {"victim@example.no"}, "method": {"code"}})
		lu, _ := url.Parse(loc)
		if st != http.StatusSeeOther || lu == nil || lu.Query().Get("flow") == "" {
			guesses[st]++
			continue
		}
		for g := range 5 {
			guesses[post(jar, base+"/recover/code", url.Values{"flow": {lu.Query().Get("flow")}, "code": {fmt.Sprintf("%06d", 1000*f+g)}})]++
		}
	}
	fmt.Printf("40 reset flows × 5 code guesses for one account from one address: guesses answered by status %v (422/410 = checked and wrong; 429 = refused unchecked); %d mails queued for the victim\n",
		guesses, countMails(a, "victim@example.no"))

	// Hash flood with legitimate users alongside.
	flooder := clientFrom("127.0.4.1", *flagConcurrency)
	user := clientFrom("127.0.0.1", 4)
	var lat []time.Duration
	var userStatus = map[int]int{}
	var wg sync.WaitGroup
	floodDone := make(chan struct{})
	var floodOut string
	wg.Go(func() {
		floodOut, _ = tally(h, func(i int) int {
			return post(flooder, base+"/login/username", url.Values{"username": {fmt.Sprintf("flood%d", i)}, "password": {"flood guess"}})
		}, *flagFlood, *flagConcurrency)
		close(floodDone)
	})
	time.Sleep(200 * time.Millisecond) // let the flood build up
	for range *flagUsers {
		start := time.Now()
		st := post(user, base+"/login/username", url.Values{"username": {"kari"}, "password": {userPassword}})
		lat = append(lat, time.Since(start))
		userStatus[st]++
		select {
		case <-floodDone:
		default:
			time.Sleep(100 * time.Millisecond)
		}
	}
	wg.Wait()
	slices.Sort(lat)
	fmt.Printf("hash flood of %d sign-ins from one address (%d in flight): %s\n", *flagFlood, *flagConcurrency, floodOut)
	fmt.Printf("legitimate sign-ins from another network during the flood: %d, by status %v; latency p50 %s, max %s\n",
		len(lat), userStatus, lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))

	// Mail bombing.
	bomber := clientFrom("127.0.5.1", 8)
	before := countMails(a, "kari@example.no")
	statuses := map[int]int{}
	for range 200 {
		statuses[post(bomber, base+"/recover", url.Values{"email": {"kari@example.no"}, "method": {"link"}})]++
	}
	fmt.Printf("200 reset requests for one victim: answered by status %v; %d mails queued for the victim\n",
		statuses, countMails(a, "kari@example.no")-before)
	return nil
}

// tally runs n requests, at most conc at once, and counts their statuses
// and the hashes the pool did meanwhile.
func tally(h *password.Hasher, do func(i int) int, n, conc int) (string, int64) {
	before := h.Stats().Verifications
	var mu sync.Mutex
	got := map[int]int{}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			st := do(i)
			mu.Lock()
			got[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	var parts []string
	for _, st := range []int{200, 303, 401, 422, 429, 503, 0} {
		if got[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d× %s", got[st], statusName(st)))
		}
	}
	return fmt.Sprintf("%s in %s", strings.Join(parts, ", "), time.Since(start).Round(time.Millisecond)), h.Stats().Verifications - before
}

func statusName(st int) string {
	switch st {
	case 0:
		return "transport error"
	case 401:
		return "401 (evaluated: wrong)"
	case 429:
		return "429 (refused unchecked)"
	case 503:
		return "503 (hash pool busy)"
	}
	return fmt.Sprint(st, " ", http.StatusText(st))
}

func clientFrom(ip string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: conns},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       2 * time.Minute,
	}
}

func newJarClient(c *http.Client) *http.Client {
	jar, _ := cookiejar.New(nil)
	cp := *c
	cp.Jar = jar
	return &cp
}

func post(c *http.Client, u string, form url.Values) int {
	st, _ := postLoc(c, u, form)
	return st
}

func postLoc(c *http.Client, u string, form url.Values) (int, string) {
	resp, err := c.PostForm(u, form)
	if err != nil {
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func countMails(a *app.App, to string) int {
	msgs, err := a.DB.ListMessages(context.Background(), store.MessageFilter{To: to})
	if err != nil {
		return -1
	}
	return len(msgs)
}
