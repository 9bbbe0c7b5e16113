package ui

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/portvakt/portvakt/internal/i18n"
)

func TestOverrides(t *testing.T) {
	overrides := fstest.MapFS{
		"layout.html": {Data: []byte(`<!doctype html><title>{{template "title" .}}</title><div class="own-layout">{{with brand}}<img src="/branding/logo?v={{.Version}}" alt="{{$.ServiceName}}">{{end}}{{template "main" .}}</div>`)},
		"notes.txt":   {Data: []byte("not a template")},
	}
	r, err := New(overrides)
	if err != nil {
		t.Fatal(err)
	}
	r.SetBrand(Brand{Logo: true, Version: "abc"})
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.Render(&out, "error", &ErrorPage{Base: Base{Lang: cat.Lang("en"), ServiceName: "UDI <Min side>"}, Status: 404}); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, `<div class="own-layout"><img src="/branding/logo?v=abc" alt="UDI &lt;Min side&gt;">`) {
		t.Errorf("the override layout is not used, or not escaped:\n%s", s)
	}

	for name, fsys := range map[string]fstest.MapFS{
		"unknown name": {"start.html": {Data: []byte("x")}},
		"too big":      {"home.html": {Data: bytes.Repeat([]byte("x"), MaxTemplateSize+1)}},
		"parse error":  {"layout.html": {Data: []byte("{{end}}")}},
	} {
		if _, err := New(fsys); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
