package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"

	"github.com/portvakt/portvakt/internal/argon2"
	"github.com/portvakt/portvakt/internal/authn/password"
)

// The floor server answers the password login's two requests doing
// nothing but what any server must: read the JSON, and for the second
// request hash the password with argon2id at the defaults (in kept memory,
// at most one hash per core, as Portvakt's pool) and compare it in
// constant time. No database, no flow, no session, no audit.
//
// It runs as its own process, driven by the same clients as Portvakt, so
// that its row in the report is the least a password login over this API
// costs on this machine: the HTTP round trips, the Go runtime and the
// VM's price for each system call and wake-up (on the 2-core VM of
// docs/benchmarks.md a system call costs several microseconds, and the
// hash runs slower beside request handling and the clients than alone).
// Portvakt's "beyond hash" less the floor's is what Portvakt itself adds.

// floorServe serves the floor server on addr until killed.
func floorServe(addr string) {
	p := password.DefaultArgon2Params()
	salt := make([]byte, p.SaltLen)
	want := argon2.IDKey(nil, []byte(benchPassword), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	mems := make(chan *argon2.Memory, runtime.GOMAXPROCS(0))
	for range cap(mems) {
		mems <- new(argon2.Memory)
	}
	readJSON := func(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
		var in map[string]string
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return nil, false
		}
		return in, true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := readJSON(w, r); !ok {
			return
		}
		id := make([]byte, 16)
		rand.Read(id)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"flow_id": hex.EncodeToString(id[:8]), "flow_token": hex.EncodeToString(id[8:])})
	})
	mux.HandleFunc("POST /api/v1/login/password", func(w http.ResponseWriter, r *http.Request) {
		in, ok := readJSON(w, r)
		if !ok {
			return
		}
		mem := <-mems
		got := argon2.IDKey(mem, []byte(in["password"]), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		mems <- mem
		if subtle.ConstantTimeCompare(got, want) != 1 {
			http.Error(w, `{"type":"login.wrong_credentials"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"next": ""})
	})
	l, err := net.Listen("tcp", addr)
	check(err)
	check(http.Serve(l, mux))
}

// startFloor starts this program as the floor server on a free loopback
// port, as startServer starts Portvakt.
func startFloor() *server {
	self, err := os.Executable()
	check(err)
	s := &server{addr: freeAddr()}
	s.base = "http://" + s.addr
	s.cmd = exec.Command(self, "-floor-serve", s.addr)
	s.cmd.Stderr = os.Stderr
	check(s.cmd.Start())
	if !s.waitHealthy() {
		check(fmt.Errorf("the floor server did not answer"))
	}
	return s
}

// runFloor runs the password login at each client count against the
// floor server.
func runFloor(clients []int) []row {
	srv := startFloor()
	defer srv.stop()
	e := &env{base: srv.base, accounts: 1}
	var rows []row
	for _, s := range scenarios {
		if s.name != "password login" {
			continue
		}
		for _, n := range clients {
			r := runCell(e, srv, 0, s, n)
			r.db = "floor"
			r.scenario = "password login (HTTP + hash only)"
			fmt.Fprintf(os.Stderr, "%-8s %-18s %3d clients: %5d ops %7.1f/s p50 %6.1fms p99 %6.1fms cpu %.2fms rss %d MiB errors %d %s\n",
				r.db, r.scenario, n, r.ops, r.opsPerSec, ms(r.p50), ms(r.p99), r.cpuMS, r.peakRSS/1024, r.errs, r.firstErr)
			rows = append(rows, r)
		}
	}
	return rows
}
