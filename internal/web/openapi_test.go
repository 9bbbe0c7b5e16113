package web_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/portvakt/portvakt/internal/problem"
	"github.com/portvakt/portvakt/internal/web"
	"github.com/portvakt/portvakt/internal/web/openapi"
	"github.com/portvakt/portvakt/internal/web/openapi/openapitest"
)

// The OpenAPI document (internal/web/openapi/openapi.yaml) is a contract:
// TestOpenAPIRoutes holds it to the route table, TestOpenAPIProblemKeys
// and TestOpenAPIProblemTypes to the problems the code can produce, and
// validateAPI (wrapped around newEnv's server) holds every /api/ response
// the tests of this package receive to it.

// openAPIDoc is the document, loaded and validated once.
func openAPIDoc(tb testing.TB) *openapi3.T { return openapitest.Doc(tb) }

// validateAPI wraps the server's handler: every response to an /api/
// request is checked against the document (openapitest.Handler).
func validateAPI(tb testing.TB, h http.Handler) http.Handler { return openapitest.Handler(tb, h) }

// checkResponse validates one response against the document.
var checkResponse = openapitest.Check

// The validator itself: a response that breaks the document is caught.
func TestOpenAPIValidatorCatchesDrift(t *testing.T) {
	doc := openAPIDoc(t)
	get := httptest.NewRequest("GET", "/api/v1/session", nil)
	problem := []byte(`{"type":"urn:portvakt:problem:unauthorized","title":"t","status":401,"request_id":"r","errors":[{"key":"session.required","message":"m"}]}`)
	pj := http.Header{"Content-Type": {"application/problem+json"}}
	js := http.Header{"Content-Type": {"application/json"}}
	session := []byte(`{"id":"s","account_id":"a","auth_time":"2026-11-21T12:00:00Z","expires_at":"2026-11-21T13:00:00Z","amr":["pwd"],"level":1}`)
	for _, tt := range []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   []byte
		ok     bool
	}{
		{"a documented problem", get, 401, pj, problem, true},
		{"a session", get, 200, js, session, true},
		{"an unknown problem key", get, 401, pj, bytes.Replace(problem, []byte("session.required"), []byte("session.no_such_key"), 1), false},
		{"an unknown problem type", get, 401, pj, bytes.Replace(problem, []byte(":unauthorized"), []byte(":teapot"), 1), false},
		{"an undocumented field", get, 200, js, bytes.Replace(session, []byte(`"level":1`), []byte(`"level":1,"token":"x"`), 1), false},
		{"a missing field", get, 200, js, bytes.Replace(session, []byte(`,"level":1`), nil, 1), false},
		{"an HTML error", get, 404, http.Header{"Content-Type": {"text/html; charset=utf-8"}}, []byte("<p>no</p>"), false},
		{"an undocumented status", get, 201, js, session, false},
		{"an undocumented route", httptest.NewRequest("POST", "/api/v1/nothing", nil), 200, js, []byte(`{}`), false},
		{"the catch-all's 404", httptest.NewRequest("POST", "/api/v1/nothing", nil), 404, pj, bytes.Replace(problem, []byte(":unauthorized"), []byte(":not-found"), 1), true},
	} {
		err := checkResponse(doc, tt.req, tt.status, tt.header, tt.body)
		if (err == nil) != tt.ok {
			t.Errorf("%s: validation error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// The document is served, parses, and is the embedded one.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do(t, "GET", "/api/openapi.yaml", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/yaml" || body != string(openapi.Document) {
		t.Fatalf("GET /api/openapi.yaml = %d %s, want the embedded document", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := openapi3.NewLoader().LoadFromData([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if v := openAPIDoc(t).OpenAPI; v != "3.1.0" {
		t.Errorf("openapi: %s, want 3.1.0", v)
	}
}

// registeredAPIRoutes reads package web's source for the route table: the
// pattern of every mux.Handle or mux.HandleFunc call whose path starts
// with /api/, as "METHOD /path". A pattern must be a string literal, a
// string constant, or a range variable over a list of those, or the test
// cannot read it and fails.
func registeredAPIRoutes(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	files := parseDir(t, fset, ".")
	consts := stringConsts(files)
	routes := map[string]string{}
	for _, f := range files {
		// Range variables over literal lists: for _, p := range []string{...}.
		ranged := map[*ast.Object][]ast.Expr{}
		ast.Inspect(f, func(n ast.Node) bool {
			if rs, ok := n.(*ast.RangeStmt); ok {
				if id, ok := rs.Value.(*ast.Ident); ok && id.Obj != nil {
					if cl, ok := rs.X.(*ast.CompositeLit); ok {
						ranged[id.Obj] = cl.Elts
					}
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			pos := fset.Position(call.Pos())
			exprs := []ast.Expr{call.Args[0]}
			if id, ok := call.Args[0].(*ast.Ident); ok && ranged[id.Obj] != nil {
				exprs = ranged[id.Obj]
			}
			for _, x := range exprs {
				pattern, ok := stringValue(x, consts)
				if !ok {
					if _, isSel := x.(*ast.SelectorExpr); isSel {
						continue // another package's constant (op.PathToken): never under /api/
					}
					t.Errorf("%s: cannot read the route pattern; use a string literal or constant", pos)
					continue
				}
				method, path, hasMethod := strings.Cut(pattern, " ")
				if !hasMethod {
					method, path = "", pattern
				}
				if !strings.HasPrefix(path, "/api/") {
					continue
				}
				if path == "/api/" && method == "" {
					continue // the catch-all 404
				}
				if method == "" {
					t.Errorf("%s: API route %q names no method", pos, pattern)
					continue
				}
				routes[method+" "+strings.TrimSuffix(path, "{$}")] = pos.String()
			}
			return true
		})
	}
	if len(routes) < 40 {
		t.Fatalf("read only %d API routes from package web's source; the reader is broken", len(routes))
	}
	return routes
}

func parseDir(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// stringConsts are the package's top-level string constants.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringValue(vs.Values[i], nil); ok {
							out[name.Name] = s
						}
					}
				}
			}
		}
	}
	return out
}

// stringValue evaluates a string literal, a known constant, or a
// concatenation of those.
func stringValue(x ast.Expr, consts map[string]string) (string, bool) {
	switch x := x.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[x.Name]
		return s, ok
	case *ast.ParenExpr:
		return stringValue(x.X, consts)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringValue(x.X, consts)
		b, ok2 := stringValue(x.Y, consts)
		return a + b, ok1 && ok2
	}
	return "", false
}

// servedBy returns the registered pattern that serves the documented
// operation op ("METHOD /path/{param}"), as the mux would choose it: same
// method, each literal segment equal or taken by a {wildcard}, the most
// literal segments winning. A documented {param} is served only by a
// wildcard. "" when none serves it.
func servedBy(op string, routes map[string]string) string {
	method, path, _ := strings.Cut(op, " ")
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for r := range routes {
		rm, rp, _ := strings.Cut(r, " ")
		rs := strings.Split(rp, "/")
		if rm != method || len(rs) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, s := range rs {
			switch {
			case strings.HasPrefix(s, "{"):
			case s == segs[i]:
				literals++
			default:
				ok = false
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = r, literals
		}
	}
	return best
}

// Every /api/ route registered in package web is in the document, and
// every operation in the document is a registered route. A route with a
// wildcard ("POST /api/admin/v1/accounts/{id}/{action}") may be
// documented as itself or by the operations it serves, one per action
// ("…/{id}/support-code"), which lets each have its own answer.
func TestOpenAPIRoutes(t *testing.T) {
	doc := openAPIDoc(t)
	routes := registeredAPIRoutes(t)
	covered := map[string]bool{}
	var missing, stale []string
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			op := method + " " + p
			if r := servedBy(op, routes); r != "" {
				covered[r] = true
			} else {
				stale = append(stale, op)
			}
		}
	}
	for r, pos := range routes {
		if !covered[r] {
			missing = append(missing, r+" (registered at "+pos+")")
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, r := range missing {
		t.Errorf("route %s is not in internal/web/openapi/openapi.yaml (its header says how to add it)", r)
	}
	for _, r := range stale {
		t.Errorf("openapi.yaml describes %s, which no route of package web serves", r)
	}
}

// The route matching of TestOpenAPIRoutes.
func TestServedBy(t *testing.T) {
	routes := map[string]string{
		"POST /api/admin/v1/accounts/{id}/{action}": "", "POST /api/admin/v1/accounts/{id}/unlock": "",
		"GET /api/v1/account": "", "DELETE /api/admin/v1/clients/{id}": "",
	}
	for op, want := range map[string]string{
		"POST /api/admin/v1/accounts/{id}/support-code": "POST /api/admin/v1/accounts/{id}/{action}",
		"POST /api/admin/v1/accounts/{id}/unlock":       "POST /api/admin/v1/accounts/{id}/unlock",
		"POST /api/admin/v1/accounts/{id}/{action}":     "POST /api/admin/v1/accounts/{id}/{action}",
		"DELETE /api/admin/v1/clients/{client_id}":      "DELETE /api/admin/v1/clients/{id}",
		"GET /api/v1/account":                           "GET /api/v1/account",
		"POST /api/v1/account":                          "",
		"GET /api/v1/account/{id}":                      "",
		"DELETE /api/admin/v1/clients/web":              "DELETE /api/admin/v1/clients/{id}",
	} {
		if got := servedBy(op, routes); got != want {
			t.Errorf("servedBy(%q) = %q, want %q", op, got, want)
		}
	}
}

// docEnum reads an enum of components/schemas from the raw YAML.
func docEnum(t *testing.T, schema string) []string {
	t.Helper()
	var raw struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openapi.Document, &raw); err != nil {
		t.Fatal(err)
	}
	return raw.Components.Schemas[schema].Enum
}

// diffLists reports what want has that got lacks, and the reverse.
func diffLists(got, want []string) (add, remove []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			add = append(add, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			remove = append(remove, g)
		}
	}
	return add, remove
}

// The problem types in the document are exactly the kinds the code has:
// problem.Kind's names, and the three the adapters write themselves.
func TestOpenAPIProblemTypes(t *testing.T) {
	kinds := map[string]bool{}
	for k := problem.Kind(1); k < 64; k++ {
		if k.String() == "invalid" && k != problem.Invalid {
			continue
		}
		kinds[k.String()] = true
	}
	for _, k := range web.AdapterProblemKinds {
		kinds[k] = true
	}
	var want []string
	for k := range kinds {
		want = append(want, "urn:portvakt:problem:"+k)
	}
	add, remove := diffLists(docEnum(t, "ProblemType"), want)
	if len(add)+len(remove) > 0 {
		t.Errorf("components/schemas/ProblemType: add %q, remove %q", add, remove)
	}
}

// The problem keys in the document are exactly the keys the code can put
// in a problem (problemKeys reads them from the source), and each is a
// message in the English catalog.
func TestOpenAPIProblemKeys(t *testing.T) {
	catalog := englishKeys(t)
	keys := problemKeys(t, catalog)
	doc := docEnum(t, "ProblemKey")
	if !slices.IsSorted(doc) {
		t.Errorf("components/schemas/ProblemKey's enum is not sorted")
	}
	add, remove := diffLists(doc, keys)
	if len(add) > 0 {
		t.Errorf("components/schemas/ProblemKey's enum lacks keys the code produces; add:\n        - %s", strings.Join(add, "\n        - "))
	}
	if len(remove) > 0 {
		t.Errorf("components/schemas/ProblemKey's enum has keys no code produces; remove: %q", remove)
	}
	for _, k := range keys {
		if !catalog[k] {
			t.Errorf("problem key %q has no English message", k)
		}
	}
}

// englishKeys are the message keys of internal/i18n/locales/*en.json.
func englishKeys(t *testing.T) map[string]bool {
	t.Helper()
	names, _ := filepath.Glob("../i18n/locales/*.json")
	keys := map[string]bool{}
	for _, name := range names {
		if !strings.HasSuffix(name, "en.json") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k := range m {
			keys[k] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("read only %d English message keys", len(keys))
	}
	return keys
}
