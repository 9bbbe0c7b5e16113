package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// problemKeys reads, from the source of every non-test package of the
// module (internal/... and cmd/..., test helper packages left out), the
// message keys a problem can carry:
//
//   - problem.New(kind, field, KEY, args), p.Add(field, KEY, args),
//     problem.Detail{Key: KEY} and p.Details[i].Key = KEY;
//   - KEY a string literal or constant: that key; a concatenation with
//     something else ("nationalid." + kind + ".required"): every catalog
//     key it can match;
//   - KEY a variable: what is assigned to it, or for a parameter, what
//     the function's callers pass; a call: what the function returns;
//     a struct field (ch.msg): the catalog keys written as literals in
//     the enclosing function.
//
// A key expression it cannot follow fails the test: write the key as a
// literal, or teach this reader.
func problemKeys(t *testing.T, catalog map[string]bool) []string {
	t.Helper()
	m := &keyReader{t: t, fset: token.NewFileSet(), catalog: catalog, pkgs: map[string]*srcPkg{}, keys: map[string]bool{}}
	root := filepath.Join("..", "..")
	for _, top := range []string{"internal", "cmd"} {
		filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if d.IsDir() && (d.Name() == "testdata" || (strings.HasSuffix(d.Name(), "test") && d.Name() != "test")) {
				return filepath.SkipDir
			}
			if d.IsDir() {
				if p := m.pkg(path); p != nil {
					m.scan(p)
				}
			}
			return nil
		})
	}
	var out []string
	for k := range m.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) < 50 {
		t.Fatalf("read only %d problem keys from the source; the reader is broken", len(out))
	}
	return out
}

const modulePath = "github.com/portvakt/portvakt"

type srcPkg struct {
	dir    string
	files  []*ast.File
	consts map[string]string
	funcs  map[string][]*ast.FuncDecl // by name; methods too
}

type keyReader struct {
	t       *testing.T
	fset    *token.FileSet
	catalog map[string]bool
	pkgs    map[string]*srcPkg
	keys    map[string]bool
}

// pkg parses the non-test Go files of dir (nil when there are none).
func (m *keyReader) pkg(dir string) *srcPkg {
	dir = filepath.Clean(dir)
	if p, ok := m.pkgs[dir]; ok {
		return p
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	p := &srcPkg{dir: dir, consts: map[string]string{}, funcs: map[string][]*ast.FuncDecl{}}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(m.fset, name, nil, 0)
		if err != nil {
			m.t.Fatal(err)
		}
		p.files = append(p.files, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				p.funcs[fd.Name.Name] = append(p.funcs[fd.Name.Name], fd)
			}
		}
	}
	if len(p.files) == 0 {
		p = nil
	} else {
		for k, v := range stringConsts(p.files) {
			p.consts[k] = v
		}
	}
	m.pkgs[dir] = p
	return p
}

// imported returns the package an identifier of f names, if it is an
// import of this module.
func (m *keyReader) imported(f *ast.File, name string) *srcPkg {
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := filepath.Base(path)
		if imp.Name != nil {
			local = imp.Name.Name
		}
		if local != name || !strings.HasPrefix(path, modulePath+"/") {
			continue
		}
		return m.pkg(filepath.Join("..", "..", strings.TrimPrefix(path, modulePath+"/")))
	}
	return nil
}

// scan finds every key expression in p.
func (m *keyReader) scan(p *srcPkg) {
	if filepath.Base(p.dir) == "problem" {
		return // the constructors themselves
	}
	for _, f := range p.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "problem" && sel.Sel.Name == "New" && len(n.Args) == 4 {
					m.add(p, f, n.Args[2])
				} else if sel.Sel.Name == "Add" && len(n.Args) == 3 {
					m.add(p, f, n.Args[1])
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Detail" {
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Key" {
								m.add(p, f, kv.Value)
							}
						}
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					sel, ok := l.(*ast.SelectorExpr)
					if !ok || sel.Sel.Name != "Key" || i >= len(n.Rhs) {
						continue
					}
					if ix, ok := sel.X.(*ast.IndexExpr); ok {
						if ds, ok := ix.X.(*ast.SelectorExpr); ok && ds.Sel.Name == "Details" {
							m.add(p, f, n.Rhs[i])
						}
					}
				}
			}
			return true
		})
	}
}

func (m *keyReader) add(p *srcPkg, f *ast.File, x ast.Expr) {
	keys := m.resolve(p, f, x, 0)
	if len(keys) == 0 {
		m.t.Errorf("%s: cannot tell which problem key %s is; write it as a literal", m.fset.Position(x.Pos()), exprString(x))
	}
	for _, k := range keys {
		if k != "" { // "no problem", e.g. a check's "" when nothing matched
			m.keys[k] = true
		}
	}
}

// resolve returns the keys x can be.
func (m *keyReader) resolve(p *srcPkg, f *ast.File, x ast.Expr, depth int) []string {
	if depth > 6 {
		return nil
	}
	if s, ok := stringValue(x, p.consts); ok {
		return []string{s}
	}
	switch x := x.(type) {
	case *ast.BinaryExpr:
		if re, ok := m.pattern(p, x); ok {
			var out []string
			for k := range m.catalog {
				if re.MatchString(k) {
					out = append(out, k)
				}
			}
			return out
		}
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			if q := m.imported(f, id.Name); q != nil {
				if s, ok := q.consts[x.Sel.Name]; ok {
					return []string{s}
				}
			}
		}
		return m.literalsAround(f, x.Pos())
	case *ast.CallExpr:
		return m.returns(p, f, x, 0, depth)
	case *ast.Ident:
		if x.Obj == nil || x.Obj.Kind != ast.Var {
			return nil
		}
		var out []string
		switch d := x.Obj.Decl.(type) {
		case *ast.Field:
			out = append(out, m.fromCallers(p, f, x, d, depth)...)
		case *ast.ValueSpec:
			for i, n := range d.Names {
				if n.Obj == x.Obj && i < len(d.Values) {
					out = append(out, m.resolve(p, f, d.Values[i], depth+1)...)
				}
			}
		}
		// Every assignment to the variable.
		ast.Inspect(f, func(n ast.Node) bool {
			as, ok := n.(*ast.AssignStmt)
			if !ok {
				return true
			}
			for i, l := range as.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Obj == x.Obj {
					if len(as.Lhs) == len(as.Rhs) {
						out = append(out, m.resolve(p, f, as.Rhs[i], depth+1)...)
					} else if call, ok := as.Rhs[0].(*ast.CallExpr); ok {
						out = append(out, m.returns(p, f, call, i, depth)...)
					}
				}
			}
			return true
		})
		return out
	}
	return nil
}

// pattern turns a concatenation into a regular expression over keys: the
// constant parts literally, anything else as one or more characters.
func (m *keyReader) pattern(p *srcPkg, x ast.Expr) (*regexp.Regexp, bool) {
	var parts []string
	var walk func(ast.Expr) bool
	walk = func(x ast.Expr) bool {
		if s, ok := stringValue(x, p.consts); ok {
			parts = append(parts, regexp.QuoteMeta(s))
			return true
		}
		if b, ok := x.(*ast.BinaryExpr); ok {
			if b.Op != token.ADD {
				return false
			}
			return walk(b.X) && walk(b.Y)
		}
		parts = append(parts, ".+")
		return true
	}
	if !walk(x) {
		return nil, false
	}
	return regexp.MustCompile("^" + strings.Join(parts, "") + "$"), true
}

// returns resolves the i-th result of every return statement of the
// function call calls (in this module).
func (m *keyReader) returns(p *srcPkg, f *ast.File, call *ast.CallExpr, i, depth int) []string {
	var decls []*ast.FuncDecl
	q := p
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		decls = p.funcs[fn.Name]
	case *ast.SelectorExpr:
		if id, ok := fn.X.(*ast.Ident); ok {
			if imp := m.imported(f, id.Name); imp != nil {
				q = imp
			}
		}
		decls = q.funcs[fn.Sel.Name]
	}
	var out []string
	for _, d := range decls {
		if d.Body == nil {
			continue
		}
		df := m.fileOf(q, d.Pos())
		ast.Inspect(d.Body, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			if r, ok := n.(*ast.ReturnStmt); ok && i < len(r.Results) {
				out = append(out, m.resolve(q, df, r.Results[i], depth+1)...)
			}
			return true
		})
	}
	return out
}

// fromCallers resolves a parameter by what the callers of its function
// (a named function or method of the package) pass for it.
func (m *keyReader) fromCallers(p *srcPkg, f *ast.File, x *ast.Ident, field *ast.Field, depth int) []string {
	fd := m.enclosingFunc(f, x.Pos())
	if fd == nil {
		return nil
	}
	idx, n := -1, 0
	for _, fl := range fd.Type.Params.List {
		for _, name := range fl.Names {
			if name.Obj == x.Obj {
				idx = n
			}
			n++
		}
	}
	if idx < 0 {
		return nil
	}
	var out []string
	for _, cf := range p.files {
		ast.Inspect(cf, func(nd ast.Node) bool {
			call, ok := nd.(*ast.CallExpr)
			if !ok || idx >= len(call.Args) {
				return true
			}
			name := ""
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			if name == fd.Name.Name {
				out = append(out, m.resolve(p, cf, call.Args[idx], depth+1)...)
			}
			return true
		})
	}
	return out
}

// literalsAround are the catalog keys written as string literals in the
// function declaration around pos.
func (m *keyReader) literalsAround(f *ast.File, pos token.Pos) []string {
	fd := m.enclosingFunc(f, pos)
	if fd == nil {
		return nil
	}
	var out []string
	ast.Inspect(fd, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && m.catalog[s] {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

func (m *keyReader) enclosingFunc(f *ast.File, pos token.Pos) *ast.FuncDecl {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos < fd.End() {
			return fd
		}
	}
	return nil
}

func (m *keyReader) fileOf(p *srcPkg, pos token.Pos) *ast.File {
	for _, f := range p.files {
		if f.Pos() <= pos && pos < f.End() {
			return f
		}
	}
	return p.files[0]
}

func exprString(x ast.Expr) string { return types.ExprString(x) }
