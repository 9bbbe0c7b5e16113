// Command resource-server is an example API protected by Portvakt: it
// checks each request's bearer token by introspection (RFC 7662) and lets
// an operation through only when the token carries the right it needs,
// answering 403 with the missing right named otherwise (docs/systems.md).
//
//	go run ./examples/resource-server -issuer http://localhost:8080 \
//	    -client-id altinn-api -client-secret "$SECRET" -listen 127.0.0.1:8090
//
// POST /submit needs altinn:submit and GET /download needs
// altinn:download; the answer names the person (sub) and, for a token
// issued through an end-user system, the system (act.sub).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// operations maps each operation to the right it needs.
var operations = map[string]struct{ right, name string }{
	"POST /submit":  {"altinn:submit", "submit a form"},
	"GET /download": {"altinn:download", "download a form"},
}

type introspection struct {
	Active bool   `json:"active"`
	Sub    string `json:"sub"`
	Scope  string `json:"scope"`
	Act    *struct {
		Sub string `json:"sub"`
	} `json:"act"`
}

func main() {
	issuer := flag.String("issuer", "http://localhost:8080", "Portvakt's public URL")
	id := flag.String("client-id", "altinn-api", "this API's client ID at Portvakt")
	secret := flag.String("client-secret", "", "this API's client secret")
	listen := flag.String("listen", "127.0.0.1:8090", "address to serve")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr()) // the journey test reads this line
	client := &http.Client{Timeout: 10 * time.Second}
	check := func(w http.ResponseWriter, r *http.Request, op string) {
		need := operations[op]
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		var in introspection
		if ok && token != "" {
			req, _ := http.NewRequest("POST", strings.TrimRight(*issuer, "/")+"/oauth/introspect",
				strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(*id), url.QueryEscape(*secret))
			resp, err := client.Do(req)
			if err != nil {
				answer(w, http.StatusBadGateway, map[string]any{"error": "introspection failed"})
				return
			}
			json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&in)
			resp.Body.Close()
		}
		if !in.Active {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			answer(w, http.StatusUnauthorized, map[string]any{"error": "invalid_token", "detail": "the token is missing, expired or revoked"})
			return
		}
		if !slices.Contains(strings.Fields(in.Scope), need.right) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, need.right))
			answer(w, http.StatusForbidden, map[string]any{"error": "insufficient_scope", "key": "rights.missing",
				"right": need.right, "operation": need.name,
				"detail": fmt.Sprintf("the right %q is needed to %s, and the token does not carry it", need.right, need.name)})
			return
		}
		out := map[string]any{"ok": true, "operation": need.name, "sub": in.Sub}
		if in.Act != nil {
			out["act"] = in.Act.Sub
		}
		answer(w, http.StatusOK, out)
	}
	mux := http.NewServeMux()
	for op := range operations {
		mux.HandleFunc(op, func(w http.ResponseWriter, r *http.Request) { check(w, r, op) })
	}
	log.Fatal(http.Serve(ln, mux))
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
