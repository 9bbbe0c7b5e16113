package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// Branding is the operator's logo, favicon and theme (config branding.*),
// read once at start and served from memory under /branding/. A nil field
// is not served.
type Branding struct {
	Logo, Favicon *BrandAsset
	// Theme is the generated stylesheet: the colours as custom
	// properties, then the operator's CSS.
	Theme []byte
}

// BrandAsset is one file and its Content-Type.
type BrandAsset struct {
	Data []byte
	Type string
}

// Version is a digest of every file, put in the URLs the layout links so
// a changed file is fetched anew although they are cached.
func (b Branding) Version() string {
	h := sha256.New()
	for _, a := range []*BrandAsset{b.Logo, b.Favicon, {Data: b.Theme, Type: "text/css"}} {
		if a != nil {
			h.Write([]byte(a.Type))
			h.Write([]byte{0})
			h.Write(a.Data)
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// brandingCSP is the policy of a served logo or favicon: an SVG opened
// by itself runs no script, loads nothing and is sandboxed; its own
// presentation styles may apply.
const brandingCSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// brandingRoutes mounts /branding/logo, /branding/favicon and
// /branding/theme.css for what is configured.
func (s *Server) brandingRoutes(mux *http.ServeMux) {
	version := s.Branding.Version()
	serve := func(a *BrandAsset) http.Handler {
		etag := `"` + version + `"`
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", a.Type)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "public, max-age=86400")
			h.Set("ETag", etag)
			h.Del("Vary")
			if a.Type != "text/css; charset=utf-8" {
				h.Set("Content-Security-Policy", brandingCSP)
				h.Set("Content-Disposition", "inline")
			}
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.Data))
		})
	}
	if s.Branding.Logo != nil {
		mux.Handle("GET /branding/logo", serve(s.Branding.Logo))
	}
	if s.Branding.Favicon != nil {
		mux.Handle("GET /branding/favicon", serve(s.Branding.Favicon))
		mux.Handle("GET /favicon.ico", http.RedirectHandler("/branding/favicon?v="+version, http.StatusFound))
	}
	if s.Branding.Theme != nil {
		mux.Handle("GET /branding/theme.css", serve(&BrandAsset{Data: s.Branding.Theme, Type: "text/css; charset=utf-8"}))
	}
}
