package config

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/portvakt/portvakt/internal/web/ui"
)

// Branding is the operator's look: a logo, a favicon, colours, a
// stylesheet and page templates. Everything is read once at start and
// served by Portvakt itself (/branding/…), so the pages' Content Security
// Policy stays as strict as without it.
type Branding struct {
	// Logo is a PNG, SVG, JPEG or WebP file shown in the header instead
	// of service_name (which becomes its alt text); at most 512 KiB.
	Logo string `yaml:"logo"`
	// Favicon is a PNG, SVG, ICO, JPEG or WebP file; at most 128 KiB.
	Favicon string `yaml:"favicon"`
	// Colors are #rgb or #rrggbb; empty keeps Portvakt's own.
	Colors Colors `yaml:"colors"`
	// CSS is a stylesheet served after Portvakt's; at most 256 KiB.
	CSS string `yaml:"css"`
	// Templates is a directory whose *.html files replace the built-in
	// page templates of the same name (see internal/web/ui/templates).
	Templates string `yaml:"templates"`
}

// Colors are the theme's colours, as CSS custom properties.
type Colors struct {
	// Primary colours buttons, links and notices.
	Primary string `yaml:"primary"`
	// PrimaryText is the text on a primary button.
	PrimaryText string `yaml:"primary_text"`
	Background  string `yaml:"background"`
	Text        string `yaml:"text"`
	// Error colours mistakes on forms.
	Error string `yaml:"error"`
}

// Size caps of the branding files.
const (
	MaxLogoSize    = 512 << 10
	MaxFaviconSize = 128 << 10
	MaxCSSSize     = 256 << 10
)

var hexColor = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`) })

// Asset is one branding file as served.
type Asset struct {
	Data []byte
	// Type is its Content-Type.
	Type string
}

// BrandingAssets is the branding read from disk: what the web package
// serves and the renderer links.
type BrandingAssets struct {
	// Logo and Favicon are nil when not configured.
	Logo, Favicon *Asset
	// Theme is the generated stylesheet (colours as custom properties,
	// then branding.css); nil when neither is set.
	Theme []byte
	// Templates is branding.templates, or "".
	Templates string
}

// CSSVars maps each colour to the custom property style.css uses.
func (c Colors) CSSVars() [][2]string {
	var out [][2]string
	for _, v := range [][2]string{{"--accent", c.Primary}, {"--on-accent", c.PrimaryText}, {"--bg", c.Background}, {"--fg", c.Text}, {"--err", c.Error}} {
		if v[1] != "" {
			out = append(out, v)
		}
	}
	return out
}

// Load reads and checks the branding files (each read bounded by
// its cap) and parses the override templates. Errors carry their key's
// path, like Validate's.
func (b Branding) Load() (BrandingAssets, Errors) {
	var (
		out BrandingAssets
		es  Errors
	)
	add := func(path, format string, args ...any) {
		es = append(es, Error{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for _, c := range []struct{ path, v string }{
		{"branding.colors.primary", b.Colors.Primary}, {"branding.colors.primary_text", b.Colors.PrimaryText},
		{"branding.colors.background", b.Colors.Background}, {"branding.colors.text", b.Colors.Text},
		{"branding.colors.error", b.Colors.Error},
	} {
		if c.v != "" && !hexColor().MatchString(c.v) {
			add(c.path, "must be a colour such as #0b5cad or #fff, but is %q", c.v)
		}
	}
	image := func(path, file string, max int64, favicon bool) *Asset {
		if file == "" {
			return nil
		}
		data, err := readCapped(file, max)
		if err != nil {
			add(path, "%v", err)
			return nil
		}
		typ := imageType(file, data, favicon)
		if typ == "" {
			kinds := "PNG, SVG, JPEG or WebP"
			if favicon {
				kinds = "PNG, SVG, ICO, JPEG or WebP"
			}
			add(path, "%s is not a %s image", file, kinds)
			return nil
		}
		return &Asset{Data: data, Type: typ}
	}
	out.Logo = image("branding.logo", b.Logo, MaxLogoSize, false)
	out.Favicon = image("branding.favicon", b.Favicon, MaxFaviconSize, true)
	var css []byte
	if b.CSS != "" {
		var err error
		if css, err = readCapped(b.CSS, MaxCSSSize); err != nil {
			add("branding.css", "%v", err)
		}
	}
	if vars := b.Colors.CSSVars(); len(vars) > 0 || b.CSS != "" {
		var buf bytes.Buffer
		buf.WriteString("/* Portvakt branding: branding.colors, then branding.css */\n")
		if len(vars) > 0 {
			buf.WriteString(":root {")
			for _, v := range vars {
				if hexColor().MatchString(v[1]) {
					fmt.Fprintf(&buf, " %s:%s;", v[0], strings.ToLower(v[1]))
				}
			}
			buf.WriteString(" }\n")
		}
		buf.Write(css)
		out.Theme = buf.Bytes()
	}
	if b.Templates != "" {
		if st, err := os.Stat(b.Templates); err != nil || !st.IsDir() {
			add("branding.templates", "%s is not a directory", b.Templates)
		} else if _, err := ui.New(os.DirFS(b.Templates)); err != nil {
			add("branding.templates", "%s", strings.TrimPrefix(err.Error(), "branding.templates: "))
		} else {
			out.Templates = b.Templates
		}
	}
	return out, es
}

// readCapped reads file, failing if it is missing, not a regular file or
// larger than max.
func readCapped(file string, max int64) ([]byte, error) {
	// Stat first: opening a FIFO or a device could block or never end.
	st, err := os.Stat(file)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s does not exist", file)
		}
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", file)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d KiB", file, max>>10)
	}
	return data, nil
}

// imageType returns the Content-Type of an image we serve, from its
// bytes (an SVG also by its name), or "" for anything else.
func imageType(file string, data []byte, favicon bool) string {
	switch t := http.DetectContentType(data); t {
	case "image/png", "image/jpeg", "image/webp":
		return t
	case "image/x-icon", "image/vnd.microsoft.icon":
		if favicon {
			return "image/x-icon"
		}
		return ""
	}
	if strings.EqualFold(filepath.Ext(file), ".svg") {
		head := data[:min(len(data), 4096)]
		if bytes.Contains(bytes.ToLower(head), []byte("<svg")) {
			return "image/svg+xml"
		}
	}
	return ""
}
