// Package i18n holds Portvakt's message catalogs (English, Norwegian Bokmål
// and Swedish), chooses a language for a request, and translates message
// keys with named arguments.
//
// Catalogs live in locales/ as flat JSON maps from a stable key
// (namespaced by area: "login.email.label", "password.too_short") to a
// go-i18n message. Placeholders are named, {{.min}}, so translators may
// reorder words; a message with a count has "one" and "other" forms and is
// given the count as the argument "count".
//
// A key missing in nb or sv falls back to English and is logged at warn
// level; a key missing everywhere renders as the key itself and is logged
// at error level. A test checks that all three catalogs hold the same keys
// with the same placeholders, so neither happens in a release.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFS embed.FS

// Default is the language used when nothing else matches.
const Default = "en"

// Languages are the supported languages, the default first.
var Languages = []string{"en", "nb", "sv"}

var tags = []language.Tag{language.English, language.MustParse("nb"), language.Swedish}

// Catalog translates message keys. It is safe for concurrent use.
//
// Each language's catalog is parsed when that language first translates
// something, not in New: a server that has only answered health checks
// holds no catalog, and one that has served only English never parses
// Swedish (issue 12: idle RSS; the three catalogs are about 1.4 MB of heap
// and the parsing code is a good part of a start's page faults). The
// embedded catalogs are checked by this package's tests, so a language
// that fails to parse cannot ship; should one anyway, its T logs the error
// and returns the key.
type Catalog struct {
	matcher language.Matcher
	log     *slog.Logger
	files   map[string][]string // language → its catalog files
	langs   map[string]*Lang    // fixed after New
}

// New returns the embedded catalogs, to be parsed on first use. The
// logger receives missing-key reports and parse failures; nil discards
// them.
func New(logger *slog.Logger) (*Catalog, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	files, err := CatalogFiles()
	if err != nil {
		return nil, err
	}
	c := &Catalog{matcher: language.NewMatcher(tags), log: logger, files: files, langs: map[string]*Lang{}}
	for _, l := range Languages {
		c.langs[l] = &Lang{tag: l, cat: c}
	}
	return c, nil
}

// Load parses the catalogs of langs (every language when none is given)
// now, and returns the first error. Tests and checks use it; serving does
// not need it, as each language is parsed on first use.
func (c *Catalog) Load(langs ...string) error {
	if len(langs) == 0 {
		langs = Languages
	}
	for _, l := range langs {
		if _, err := c.Lang(l).load(); err != nil {
			return err
		}
	}
	return nil
}

// Loaded reports whether lang's catalog has been parsed.
func (c *Catalog) Loaded(lang string) bool {
	l, ok := c.langs[lang]
	return ok && l.loaded.Load()
}

// parseLang parses one language's catalog files into a bundle of its own,
// and returns the bundle with the set of keys it defines. The files are
// parsed on all cores (a language is about 20 files, 140 KB of JSON);
// adding the messages to the bundle stays in a fixed order.
func (c *Catalog) parseLang(lang string) (*goi18n.Bundle, map[string]struct{}, error) {
	files := c.files[lang]
	parsed := make([]*goi18n.MessageFile, len(files))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	unmarshal := map[string]goi18n.UnmarshalFunc{"json": json.Unmarshal}
	for i, f := range files {
		g.Go(func() error {
			buf, err := fs.ReadFile(localeFS, f)
			if err == nil {
				parsed[i], err = goi18n.ParseMessageFileBytes(buf, f, unmarshal)
			}
			if err != nil {
				return fmt.Errorf("load catalog %s: %w", f, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	b := goi18n.NewBundle(tags[slices.Index(Languages, lang)])
	keys := map[string]struct{}{}
	for i, mf := range parsed {
		if err := b.AddMessages(mf.Tag, mf.Messages...); err != nil {
			return nil, nil, fmt.Errorf("load catalog %s: %w", files[i], err)
		}
		for _, m := range mf.Messages {
			if _, dup := keys[m.ID]; dup {
				return nil, nil, fmt.Errorf("load catalog %s: key %q is defined twice", files[i], m.ID)
			}
			keys[m.ID] = struct{}{}
		}
	}
	return b, keys, nil
}

// Lang returns the translator for a supported language tag ("en", "nb",
// "sv"); any other value gives the default language.
//
// It parses nothing: the catalog is parsed by the first T.
func (c *Catalog) Lang(tag string) *Lang {
	if l, ok := c.langs[tag]; ok {
		return l
	}
	return c.langs[Default]
}

// Has reports whether key exists in the English catalog (parsing it, if
// this is its first use).
func (c *Catalog) Has(key string) bool {
	p, _ := c.langs[Default].load()
	_, ok := p.keys[key]
	return ok
}

// Name returns a supported language's name in that language ("Norsk
// bokmål"), as its catalog's lang.name says (a test checks), for the
// language switcher: a page shows every language's name, and that should
// not parse every catalog.
func Name(tag string) string { return names[tag] }

var names = map[string]string{"en": "English", "nb": "Norsk bokmål", "sv": "Svenska"}

// Bounds on what a request can make the language negotiation read. They
// keep it linear and small whatever a browser or attacker sends: x/text's
// parser is quadratic in the number of variants and extensions of one tag
// (an 880 KB cookie cost about a second of CPU on every route).
const (
	// MaxTagLen is the longest tag considered; longer ones are skipped.
	// RFC 5646 §4.4.1 asks for room for 35 characters; 64 leaves space
	// for a script, a region, a variant and a -u- extension.
	MaxTagLen = 64
	// MaxTags is how many space-separated ui_locales entries are read.
	MaxTags = 16
	// MaxAcceptLanguageLen is how much of Accept-Language is read (cut
	// at the last comma before it).
	MaxAcceptLanguageLen = 1024
)

// Supported returns the supported language that tag (a BCP 47 tag such as
// "nb-NO", "no", "sv-FI") maps to, or "" if it maps to none. A tag longer
// than MaxTagLen maps to none.
func (c *Catalog) Supported(tag string) string {
	tag = strings.TrimSpace(tag)
	if tag == "" || len(tag) > MaxTagLen {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return ""
	}
	_, idx, conf := c.matcher.Match(t)
	if conf == language.No {
		return ""
	}
	return Languages[idx]
}

// Negotiate picks the language for a request, in this order: the OIDC
// ui_locales parameter (space-separated tags, first supported wins), the
// account's preference, the language cookie, the Accept-Language header,
// and finally Default. Empty or unsupported values are skipped. The work
// is bounded whatever the inputs' size: at most MaxTags ui_locales entries
// and MaxAcceptLanguageLen bytes of Accept-Language are read, and no tag
// longer than MaxTagLen is parsed.
func (c *Catalog) Negotiate(uiLocales, account, cookie, acceptLanguage, fallback string) string {
	n := 0
	for t := range strings.FieldsSeq(uiLocales) {
		if l := c.Supported(t); l != "" {
			return l
		}
		if n++; n == MaxTags {
			break
		}
	}
	for _, t := range []string{account, cookie} {
		if l := c.Supported(t); l != "" {
			return l
		}
	}
	if len(acceptLanguage) > MaxAcceptLanguageLen {
		acceptLanguage = acceptLanguage[:MaxAcceptLanguageLen]
		if i := strings.LastIndexByte(acceptLanguage, ','); i >= 0 {
			acceptLanguage = acceptLanguage[:i]
		} else {
			acceptLanguage = ""
		}
	}
	if acceptLanguage != "" {
		prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil {
			for _, p := range prefs {
				if l := c.Supported(p.String()); l != "" {
					return l
				}
			}
		}
	}
	if l := c.Supported(fallback); l != "" {
		return l
	}
	return Default
}

// Keys returns every key of the English catalog, sorted.
func (c *Catalog) Keys() []string {
	p, _ := c.langs[Default].load()
	out := make([]string, 0, len(p.keys))
	for k := range p.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lang translates into one language. It is safe for concurrent use.
type Lang struct {
	tag string
	cat *Catalog

	once   sync.Once
	loaded atomic.Bool
	p      parsed
	err    error
}

// parsed is one language's catalog.
type parsed struct {
	loc  *goi18n.Localizer
	keys map[string]struct{}
}

// load parses the language's catalog on first use and returns it; a
// failure is logged once and returned every time.
func (l *Lang) load() (parsed, error) {
	l.once.Do(func() {
		b, keys, err := l.cat.parseLang(l.tag)
		if err != nil {
			l.err = err
			l.cat.log.Error("i18n catalog does not load", "lang", l.tag, "err", err)
			return
		}
		l.p = parsed{loc: goi18n.NewLocalizer(b, l.tag), keys: keys}
		l.loaded.Store(true)
	})
	return l.p, l.err
}

// Tag returns the language tag ("en", "nb" or "sv").
func (l *Lang) Tag() string { return l.tag }

// T translates key. Arguments come either as one map[string]any (such as
// problem.Args) or as alternating name, value pairs:
//
//	l.T("password.too_short", "min", 8)
//
// A count for plural forms is passed as "count".
func (l *Lang) T(key string, args ...any) string {
	data := map[string]any{}
	if len(args) == 1 {
		switch m := args[0].(type) {
		case map[string]any:
			data = m
		default:
			if mm, ok := toMap(args[0]); ok {
				data = mm
			}
		}
	} else {
		for i := 0; i+1 < len(args); i += 2 {
			if name, ok := args[i].(string); ok {
				data[name] = args[i+1]
			}
		}
	}
	copied := false
	for k, v := range data {
		if ref, ok := v.(interface{ MessageKey() string }); ok {
			if !copied {
				data, copied = copyMap(data), true
			}
			data[k] = l.T(ref.MessageKey())
		}
	}
	p, err := l.load()
	if err != nil {
		return key
	}
	if _, ok := p.keys[key]; !ok {
		// Not in this language: English, if it has the key (a test keeps
		// the catalogs in step, so this does not happen in a release).
		if l.tag != Default {
			if en := l.cat.Lang(Default); en.Has(key) {
				l.cat.log.Warn("i18n key missing, fell back to English", "key", key, "lang", l.tag)
				return en.T(key, data)
			}
		}
		l.cat.log.Error("missing i18n key", "key", key, "lang", l.tag)
		return key
	}
	cfg := &goi18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if n, ok := data["count"]; ok {
		cfg.PluralCount = n
	}
	s, err := p.loc.Localize(cfg)
	if err != nil {
		l.cat.log.Error("i18n render failed", "key", key, "lang", l.tag, "err", err)
		if s == "" {
			return key
		}
	}
	return s
}

// Has reports whether key exists in this language's catalog.
func (l *Lang) Has(key string) bool {
	p, _ := l.load()
	_, ok := p.keys[key]
	return ok
}

// copyMap returns a shallow copy so that translating a Ref argument never
// changes the caller's map.
func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// toMap converts named map types with string keys (problem.Args) to
// map[string]any.
func toMap(v any) (map[string]any, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// CatalogFiles returns the catalog files of each language. A language's
// catalog is split by area into files named <area>.<lang>.json beside the
// core <lang>.json (password.nb.json, mfa.sv.json), so that areas can be
// translated and reviewed apart.
func CatalogFiles() (map[string][]string, error) {
	names, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, n := range names {
		base := strings.TrimSuffix(n[len("locales/"):], ".json")
		lang := base[strings.LastIndexByte(base, '.')+1:]
		if !slices.Contains(Languages, lang) {
			return nil, fmt.Errorf("catalog %s: %q is not a supported language", n, lang)
		}
		out[lang] = append(out[lang], n)
	}
	return out, nil
}

// FS exposes the embedded catalogs for tests.
func FS() fs.FS { return localeFS }
