package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"text/template"
	"time"
)

// HTTPGateway sends each message as one HTTP request to a provider's API,
// the body rendered from BodyTemplate. Any 2xx answer means accepted;
// anything else is a *ProviderError with the status (the response body is
// not read into it, since gateways echo the number and the text).
// Transport errors and timeouts are wrapped errors that name the host.
//
// Make one with NewHTTPGateway; the zero value and a struct literal do
// not send. An HTTPGateway is safe for concurrent use.
type HTTPGateway struct {
	// URL is the endpoint: https, or http only to a loopback host.
	// Required. It is not a template; the number and the text go in the
	// body.
	URL string
	// Method is POST (the default), PUT or PATCH.
	Method string
	// Header is sent with every request, e.g. {"Authorization": "Bearer …"}.
	// Content-Type is set through ContentType instead.
	Header map[string]string
	// BodyTemplate is a text/template rendered with .To (E.164) and .Text,
	// and the functions json (a value as JSON, strings quoted and escaped)
	// and urlquery (built in; for form bodies). Required.
	//
	//	{"to": {{json .To}}, "message": {{json .Text}}}
	//	to={{urlquery .To}}&text={{urlquery .Text}}
	BodyTemplate string
	// ContentType defaults to application/json. With a JSON type,
	// NewHTTPGateway checks that the template makes valid JSON of a text
	// full of quotes and newlines.
	ContentType string
	// Client defaults to one that does not follow redirects (a redirect is
	// an error).
	Client *http.Client
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration

	header http.Header
	body   *template.Template
}

// templateData is dot in BodyTemplate.
type templateData struct {
	To   string
	Text string
}

// sampleData is rendered once by NewHTTPGateway to catch template mistakes
// that only show when executing, and JSON that breaks on a real text.
var sampleData = templateData{
	To:   "+4791234567",
	Text: "Code \"123456\" for <Portvakt> & ✓\n\\ tab\there",
}

var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// headers the gateway sets itself or that net/http owns.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection"}

// NewHTTPGateway checks cfg and returns a gateway with its defaults filled
// in. The error is a *ConfigError listing every mistake; header values
// (which hold secrets) are never repeated in it.
func NewHTTPGateway(cfg HTTPGateway) (*HTTPGateway, error) {
	g := HTTPGateway{
		URL:          cfg.URL,
		Method:       strings.ToUpper(cfg.Method),
		BodyTemplate: cfg.BodyTemplate,
		ContentType:  cfg.ContentType,
		Client:       cfg.Client,
		Timeout:      cfg.Timeout,
		header:       http.Header{},
	}
	c := configErrors{sender: "http gateway"}
	checkEndpoint(&c, "url", g.URL, "header (e.g. Authorization)")
	switch g.Method {
	case "":
		g.Method = http.MethodPost
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		c.add("method", "must be one of POST, PUT, PATCH, but is %q", cfg.Method)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Header)) {
		value, path := cfg.Header[name], "header."+name
		switch {
		case !isToken(name):
			c.add(path, "is not a valid header name")
		case containsFold(reservedHeaders, name):
			c.add(path, "cannot be set here; it is set by the gateway (use content_type for Content-Type)")
		case strings.ContainsFunc(value, func(r rune) bool { return (r < ' ' && r != '\t') || r == 0x7f }):
			c.add(path, "contains a control character (a line break?)")
		default:
			g.header.Set(name, value)
		}
	}
	if g.Timeout < 0 {
		c.add("timeout", "must not be negative, but is %s", g.Timeout)
	}
	g.Timeout = orDefault(g.Timeout)

	if g.ContentType == "" {
		g.ContentType = "application/json"
	}
	mediaType, _, err := mime.ParseMediaType(g.ContentType)
	if err != nil {
		c.add("content_type", "%q is not a media type, such as application/json", g.ContentType)
	}
	isJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")

	if strings.TrimSpace(g.BodyTemplate) == "" {
		c.add("body_template", "is required, e.g. {\"to\": {{json .To}}, \"message\": {{json .Text}}}")
	} else if t, err := template.New("body").Funcs(templateFuncs).Parse(g.BodyTemplate); err != nil {
		c.add("body_template", "%v", err)
	} else {
		var buf bytes.Buffer
		switch err := t.Execute(&buf, sampleData); {
		case err != nil:
			c.add("body_template", "%v (the template sees .To and .Text)", err)
		case isJSON && !json.Valid(buf.Bytes()):
			c.add("body_template", "does not make valid JSON of a text with quotes and a line break; write {{json .Text}}, not \"{{.Text}}\"")
		default:
			g.body = t
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return &g, nil
}

// Send implements Sender: it renders the body and sends one request.
func (g *HTTPGateway) Send(ctx context.Context, to, text string) error {
	if g.body == nil {
		return errors.New("sms: HTTPGateway must be made by NewHTTPGateway")
	}
	if err := checkMessage(to, text); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := g.body.Execute(&buf, templateData{To: to, Text: text}); err != nil {
		// Unreachable after NewHTTPGateway's trial run, but an error
		// must not carry the data it failed on.
		return errors.New("sms http gateway: rendering the body failed")
	}
	req, err := http.NewRequestWithContext(ctx, g.Method, g.URL, &buf)
	if err != nil {
		return fmt.Errorf("sms http gateway: %w", err)
	}
	req.Header = g.header.Clone()
	req.Header.Set("Content-Type", g.ContentType)
	status, _, err := roundTrip(ctx, g.Client, g.Timeout, "http gateway", req)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return &ProviderError{Provider: "http gateway", StatusCode: status}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token, the syntax of a header
// name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
